//! The preprocessing of a model file checked as a whole, so that no file can make encoding
//! index past a row or divide by zero: every feature's encoding well formed, the widths adding
//! up to the network's inputs, categories and classes unique and sorted as the binary searches
//! need them.

use std::collections::HashSet;

use super::Preprocessor;
use crate::encoding::Encoding;
use crate::error::{quote_short, Error, Result};
use crate::target::TargetSchema;

impl Preprocessor {
    /// Checks that the preprocessing is one that encoding can apply: features with distinct
    /// names and well-formed encodings (finite offsets and fill values, non-zero finite
    /// scales, five values per date input, categories sorted and unique), widths that add up
    /// to [`Preprocessor::inputs`], and a target with unique classes (or a finite,
    /// non-zero scale).
    ///
    /// # Errors
    /// [`Error::InvalidModel`] naming the feature (`preprocessing.features[1] ("colour")`)
    /// and what is wrong with it.
    pub fn validate(&self) -> Result<()> {
        let mut names = HashSet::with_capacity(self.features.len());
        let mut width = 0usize;
        for (i, feature) in self.features.iter().enumerate() {
            let at = || {
                format!(
                    "preprocessing.features[{i}] ({})",
                    quote_short(&feature.name)
                )
            };
            if !names.insert(feature.name.as_str()) {
                return Err(Error::model(format!(
                    "{}: a second feature of that name",
                    at()
                )));
            }
            check_encoding(&feature.encoding)
                .map_err(|what| Error::model(format!("{}: {what}", at())))?;
            width = width
                .checked_add(feature.encoding.width())
                .ok_or_else(|| Error::model(format!("{}: too many inputs", at())))?;
        }
        if width != self.inputs {
            return Err(Error::model(format!(
                "the preprocessing's features encode {width} inputs, but it says {} inputs",
                self.inputs
            )));
        }
        match &self.target {
            TargetSchema::Classify {
                classes, numeric, ..
            } => {
                if classes.is_empty() {
                    return Err(Error::model("the preprocessing's target has no classes"));
                }
                if !*numeric {
                    sorted_unique(classes).map_err(|what| {
                        Error::model(format!("the preprocessing's target classes: {what}"))
                    })?;
                } else {
                    let mut seen = HashSet::with_capacity(classes.len());
                    if let Some(twice) = classes.iter().find(|c| !seen.insert(c.as_str())) {
                        return Err(Error::model(format!(
                            "the preprocessing's target classes: {} appears twice",
                            quote_short(twice)
                        )));
                    }
                }
            }
            TargetSchema::Regress { scale, .. } => {
                if let Some(scale) = scale {
                    if !scale.mean.is_finite() || !scale_ok(scale.std) {
                        return Err(Error::model(format!(
                            "the preprocessing's target scale (mean {}, std {}) needs a finite \
                             mean and a finite, non-zero std",
                            scale.mean, scale.std
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `scale` can divide: finite and not zero.
fn scale_ok(scale: f64) -> bool {
    scale.is_finite() && scale != 0.0
}

/// What is wrong with one feature's encoding, if anything.
fn check_encoding(encoding: &Encoding) -> Result<(), String> {
    match encoding {
        Encoding::Numeric {
            offset,
            scale,
            fill,
            ..
        } => {
            if !offset.is_finite() || !scale_ok(*scale) {
                return Err(format!(
                    "offset {offset} and scale {scale}: both must be finite, the scale non-zero"
                ));
            }
            if fill.is_some_and(|f| !f.is_finite()) {
                return Err(format!(
                    "the fill value {} is not finite",
                    fill.unwrap_or(0.0)
                ));
            }
        }
        Encoding::Boolean { fill, .. } => {
            if !fill.is_finite() {
                return Err(format!("the fill value {fill} is not finite"));
            }
        }
        Encoding::Date {
            offsets,
            scales,
            fill,
            ..
        } => {
            let inputs = crate::date::FEATURES.len();
            for (what, values) in [("offsets", offsets), ("scales", scales), ("fill", fill)] {
                if values.len() != inputs {
                    return Err(format!(
                        "a date has {inputs} inputs, but {what} has {} values",
                        values.len()
                    ));
                }
                if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
                    return Err(format!("{what} holds {bad}, which is not finite"));
                }
            }
            if let Some(zero) = scales.iter().position(|&s| s == 0.0) {
                return Err(format!("scales[{zero}] is 0"));
            }
        }
        Encoding::OneHot { categories, .. } => {
            sorted_unique(categories).map_err(|what| format!("categories: {what}"))?;
        }
    }
    Ok(())
}

/// Whether `names` are strictly increasing (sorted, with no name twice), as the encoder's
/// binary search needs.
fn sorted_unique(names: &[String]) -> Result<(), String> {
    for pair in names.windows(2) {
        if pair[0] == pair[1] {
            return Err(format!("{} appears twice", quote_short(&pair[0])));
        }
        if pair[0] > pair[1] {
            return Err(format!(
                "{} comes before {}, but they must be sorted",
                quote_short(&pair[0]),
                quote_short(&pair[1])
            ));
        }
    }
    Ok(())
}
