//! A model's predictions as CSV: one row per input row, the predicted class (or value) in
//! the column `prediction`, and with probabilities one `p_CLASS` column per class.

use std::io::Write;

use backprop::prediction::argmax;

/// Writes `outputs` as CSV to `out`: for a classifier (`classes` given) `outputs` holds one
/// probability per class and row (`rows × classes.len()`), and each row gets the most probable
/// class, then its probabilities when `proba` is set; for a regressor each value is a row.
///
/// # Errors
/// What writing to `out` fails with.
///
/// # Panics
/// If `classes` is empty or `outputs` is not a whole number of rows of them.
pub fn write_csv(
    out: impl Write,
    outputs: &[f32],
    classes: Option<&[String]>,
    proba: bool,
) -> std::io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    match classes {
        Some(classes) => {
            let k = classes.len();
            assert!(
                k > 0 && outputs.len().is_multiple_of(k),
                "predictions: {} outputs are not rows of {k} classes",
                outputs.len()
            );
            let mut header = vec!["prediction".to_string()];
            if proba {
                header.extend(classes.iter().map(|c| format!("p_{c}")));
            }
            writer.write_record(&header)?;
            for row in outputs.chunks_exact(k) {
                let mut record = vec![classes[argmax(row)].clone()];
                if proba {
                    record.extend(row.iter().map(|p| p.to_string()));
                }
                writer.write_record(&record)?;
            }
        }
        None => {
            writer.write_record(["prediction"])?;
            for value in outputs {
                writer.write_record([value.to_string()])?;
            }
        }
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_prediction_and_probability_columns() {
        let classes = vec!["cat".to_string(), "dog".to_string()];
        let mut out = Vec::new();
        write_csv(&mut out, &[0.25, 0.75, 0.9, 0.1], Some(&classes), true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "prediction,p_cat,p_dog\ndog,0.25,0.75\ncat,0.9,0.1\n"
        );
        let mut out = Vec::new();
        write_csv(&mut out, &[1.5, -2.0], None, false).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "prediction\n1.5\n-2\n");
    }
}
