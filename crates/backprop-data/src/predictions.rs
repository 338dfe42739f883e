//! A model's predictions as CSV: one row per input row, the identifier column first when the
//! model has one, the predicted class (or value) in the column `prediction` (a regressor of
//! several outputs: `prediction_0`, `prediction_1`, ...), and with probabilities one
//! `p_CLASS` column per class. Numbers are written with 6 significant digits
//! by default (`0.000123457`, `1.5e-14`), or in full: the shortest text that reads back as the
//! same `f32`.

use std::io::Write;

use backprop::prediction::{argmax, class_probabilities};

use crate::model_file::Model;

/// The model's answers for the encoded rows `x` (row-major, `model`'s inputs per row): for a
/// classifier one probability per class and row (a single sigmoid output becomes two
/// columns), for a regressor the outputs in the target's own units.
///
/// # Panics
/// If `x` is not a whole number of rows.
pub fn outputs(model: &Model, x: &[f32]) -> Vec<f32> {
    let target = &model.metadata.preprocessing.target;
    let mut outputs = model.network.predict(x);
    match target.classes() {
        Some(_) => class_probabilities(model.network.architecture(), outputs),
        None => {
            target.restore_outputs(&mut outputs);
            outputs
        }
    }
}

/// The number of values [`outputs`] gives per row.
pub fn width(model: &Model) -> usize {
    match model.metadata.preprocessing.target.classes() {
        Some(classes) => classes.len(),
        None => model.network.architecture().outputs,
    }
}

/// The most probable class of each row of `probabilities` (one value per class and row).
///
/// # Panics
/// If `classes` is empty or `probabilities` is not a whole number of rows of them.
pub fn labels<'c>(classes: &'c [String], probabilities: &[f32]) -> Vec<&'c str> {
    probabilities
        .chunks_exact(classes.len())
        .map(|row| classes[argmax(row)].as_str())
        .collect()
}

/// What to write besides the outputs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Format<'a> {
    /// The class names, for a classifier (the outputs are then one probability per class).
    pub classes: Option<&'a [String]>,
    /// Write the class probabilities too.
    pub proba: bool,
    /// Significant digits, or `None` for the shortest round-trip text.
    pub precision: Option<usize>,
    /// The identifier column's name and cells, written first.
    pub ids: Option<(&'a str, &'a [String])>,
    /// A regressor's values per row ([`width`]; 0 is read as 1); a classifier's come from
    /// `classes`.
    pub outputs: usize,
}

/// Writes `outputs` as CSV to `out`: for a classifier (`format.classes` given) `outputs` holds
/// one probability per class and row, and each row gets the most probable class, then its
/// probabilities when `format.proba` is set; for a regressor each `format.outputs` values are
/// a row, one column each.
///
/// # Errors
/// What writing to `out` fails with.
///
/// # Panics
/// If `classes` is empty, `outputs` is not a whole number of rows of them, or there are not as
/// many identifiers as rows.
pub fn write_csv(out: impl Write, outputs: &[f32], format: &Format<'_>) -> std::io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    let number = |v: f32| match format.precision {
        Some(digits) => significant(f64::from(v), digits),
        None => v.to_string(),
    };
    let width = format
        .classes
        .map_or(format.outputs.max(1), <[String]>::len);
    assert!(
        width > 0 && outputs.len().is_multiple_of(width),
        "predictions: {} outputs are not rows of {width}",
        outputs.len()
    );
    let rows = outputs.len() / width;
    if let Some((_, ids)) = format.ids {
        assert_eq!(ids.len(), rows, "predictions: one identifier per row");
    }
    let mut header: Vec<String> = format
        .ids
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    match (format.classes, width) {
        (None, 2..) => header.extend((0..width).map(|j| format!("prediction_{j}"))),
        _ => header.push("prediction".to_string()),
    }
    if let (Some(classes), true) = (format.classes, format.proba) {
        header.extend(classes.iter().map(|c| format!("p_{c}")));
    }
    writer.write_record(&header)?;
    for (i, row) in outputs.chunks_exact(width).enumerate() {
        let mut record: Vec<String> = format.ids.iter().map(|(_, ids)| ids[i].clone()).collect();
        match format.classes {
            Some(classes) => {
                record.push(classes[argmax(row)].clone());
                if format.proba {
                    record.extend(row.iter().map(|&p| number(p)));
                }
            }
            None => record.extend(row.iter().map(|&v| number(v))),
        }
        writer.write_record(&record)?;
    }
    writer.flush()
}

/// `value` with `digits` significant digits, without trailing zeros: fixed notation for
/// magnitudes from 1e-5 to below 10^digits, scientific otherwise (as C's `%g`).
pub fn significant(value: f64, digits: usize) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let digits = digits.max(1);
    let exponent = value.abs().log10().floor() as i32;
    let scientific = format!("{value:.*e}", digits - 1);
    // Rounding may carry into the next power of ten (9.99999 → 1.00000e1): read it back.
    let exponent = scientific
        .split_once('e')
        .and_then(|(_, e)| e.parse::<i32>().ok())
        .unwrap_or(exponent);
    if (-5..digits as i32).contains(&exponent) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        trim_zeros(&format!("{value:.decimals$}"))
    } else {
        let (mantissa, exponent) = scientific.split_once('e').expect("scientific notation");
        format!("{}e{exponent}", trim_zeros(mantissa))
    }
}

/// `1.500` → `1.5`, `2.000` → `2`.
fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_prediction_and_probability_columns() {
        let classes = vec!["cat".to_string(), "dog".to_string()];
        let mut out = Vec::new();
        let format = Format {
            classes: Some(&classes),
            proba: true,
            ..Format::default()
        };
        write_csv(&mut out, &[0.25, 0.75, 0.9, 0.1], &format).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "prediction,p_cat,p_dog\ndog,0.25,0.75\ncat,0.9,0.1\n"
        );
        let ids = vec!["a7".to_string(), "b9".to_string()];
        let mut out = Vec::new();
        let format = Format {
            precision: Some(3),
            ids: Some(("key", &ids)),
            ..Format::default()
        };
        write_csv(&mut out, &[1.23456, -2.0], &format).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "key,prediction\na7,1.23\nb9,-2\n"
        );
        let mut out = Vec::new();
        let format = Format {
            outputs: 3,
            ..Format::default()
        };
        write_csv(&mut out, &[1.5, -2.0, 0.25, 4.0, 5.0, 6.0], &format).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "prediction_0,prediction_1,prediction_2\n1.5,-2,0.25\n4,5,6\n"
        );
    }

    #[test]
    fn six_significant_digits_read_well() {
        assert_eq!(significant(8.653066e-14, 6), "8.65307e-14");
        assert_eq!(significant(0.25, 6), "0.25");
        assert_eq!(significant(0.000123456789, 6), "0.000123457");
        assert_eq!(significant(123456.7, 6), "123457");
        assert_eq!(significant(1234567.0, 6), "1.23457e6");
        assert_eq!(significant(9.999999, 6), "10");
        assert_eq!(significant(-0.5, 6), "-0.5");
        assert_eq!(significant(0.0, 6), "0");
        assert_eq!(significant(1.0, 1), "1");
    }
}
