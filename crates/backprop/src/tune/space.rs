//! A search space of settings and its seeded sampling.
//!
//! A space is a list of named dimensions, each a [`Domain`]: a list of values to choose from,
//! a uniform range, or a log-uniform range, the last two either real or integer. The engine
//! knows nothing of what the names mean: a front end maps a sampled [`Point`] onto its own
//! settings (the `backprop` command onto the flags of `train`).

use std::fmt;

use crate::error::{Error, Result};
use crate::rng::Rng;

/// One setting's value: an integer, a real number, a text or a switch.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An integer (a batch size, a patience).
    Int(i64),
    /// A real number (a learning rate, a dropout probability).
    Float(f64),
    /// A text (layer widths `128,64`, an activation or optimizer name).
    Text(String),
    /// On or off.
    Bool(bool),
}

impl fmt::Display for Value {
    /// Integers and texts as they are, reals in their shortest exact form (`0.001`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Text(v) => f.write_str(v),
            Value::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// Where a dimension's values come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// One of these values, each as likely.
    Choice(Vec<Value>),
    /// Uniform in `[low, high)`; with `integer`, a whole number in `low..=high`, each as likely.
    Uniform {
        /// The lowest value.
        low: f64,
        /// The highest value (excluded for reals).
        high: f64,
        /// Whole numbers only.
        integer: bool,
    },
    /// `exp(u)` for `u` uniform in `[ln low, ln high)`, so every factor of ten between `low`
    /// and `high` is as likely; with `integer`, rounded down to a whole number in `low..=high`.
    LogUniform {
        /// The lowest value (positive).
        low: f64,
        /// The highest value.
        high: f64,
        /// Whole numbers only.
        integer: bool,
    },
}

impl Domain {
    /// Checks the domain: a list must not be empty, a range must have `low < high` (`low ≤
    /// high` for integers) with finite ends, a log range a positive `low`, and integer ranges
    /// whole ends.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| Err(Error::InvalidConfig(message));
        match *self {
            Domain::Choice(ref values) if values.is_empty() => bad("an empty list".into()),
            Domain::Choice(_) => Ok(()),
            Domain::Uniform { low, high, integer } | Domain::LogUniform { low, high, integer } => {
                let log = matches!(self, Domain::LogUniform { .. });
                if !(low.is_finite() && high.is_finite()) {
                    return bad(format!(
                        "the range [{low}, {high}] has an end that is not finite"
                    ));
                }
                if integer && (low.fract() != 0.0 || high.fract() != 0.0) {
                    return bad(format!(
                        "the integer range [{low}, {high}] has an end that is not whole"
                    ));
                }
                if (integer && low > high) || (!integer && low >= high) {
                    return bad(format!(
                        "the range [{low}, {high}] is empty: give [low, high] with low < high"
                    ));
                }
                if log && low <= 0.0 {
                    return bad(format!("the log range [{low}, {high}] must start above 0"));
                }
                Ok(())
            }
        }
    }

    /// Draws one value (the domain must be valid).
    pub fn sample(&self, rng: &mut Rng) -> Value {
        match *self {
            Domain::Choice(ref values) => values[rng.below(values.len())].clone(),
            Domain::Uniform {
                low,
                high,
                integer: false,
            } => Value::Float(rng.uniform_in(low, high)),
            Domain::Uniform {
                low,
                high,
                integer: true,
            } => {
                let count = (high - low) as usize + 1;
                Value::Int(low as i64 + rng.below(count) as i64)
            }
            Domain::LogUniform { low, high, integer } => {
                // libm, not the platform's `ln`/`exp`, so a seed gives the same draws everywhere.
                let top = if integer { high + 1.0 } else { high };
                let x = libm::exp(rng.uniform_in(libm::log(low), libm::log(top)));
                if integer {
                    Value::Int((x.floor() as i64).clamp(low as i64, high as i64))
                } else {
                    Value::Float(x.clamp(low, high))
                }
            }
        }
    }
}

impl fmt::Display for Domain {
    /// `[a, b, c]`, `range [0, 0.5]`, `log range [0.0001, 0.01]` (`integer` ranges say so).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Choice(values) => {
                let items: Vec<String> = values.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Domain::Uniform { low, high, integer } => {
                let kind = if *integer { "integer range" } else { "range" };
                write!(f, "{kind} [{low}, {high}]")
            }
            Domain::LogUniform { low, high, integer } => {
                let kind = if *integer {
                    "integer log range"
                } else {
                    "log range"
                };
                write!(f, "{kind} [{low}, {high}]")
            }
        }
    }
}

/// A sampled setting for every dimension of a space, in the space's order.
pub type Point = Vec<(String, Value)>;

/// Named dimensions to sample settings from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchSpace {
    dimensions: Vec<(String, Domain)>,
}

impl SearchSpace {
    /// A space of these dimensions, sampled in this order.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming a dimension whose domain is invalid (see
    /// [`Domain::validate`]) or that appears twice.
    pub fn new(dimensions: Vec<(String, Domain)>) -> Result<Self> {
        for (i, (name, domain)) in dimensions.iter().enumerate() {
            if dimensions[..i].iter().any(|(other, _)| other == name) {
                return Err(Error::InvalidConfig(format!(
                    "{name} appears twice in the search space"
                )));
            }
            domain.validate().map_err(|e| match e {
                Error::InvalidConfig(message) => Error::InvalidConfig(format!("{name}: {message}")),
                other => other,
            })?;
        }
        Ok(Self { dimensions })
    }

    /// The dimensions, in sampling order.
    pub fn dimensions(&self) -> &[(String, Domain)] {
        &self.dimensions
    }

    /// The dimensions' names, in sampling order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.dimensions.iter().map(|(name, _)| name.as_str())
    }

    /// Whether the space has no dimensions (every trial then has the same settings).
    pub fn is_empty(&self) -> bool {
        self.dimensions.is_empty()
    }

    /// The space without the dimension `name` (unchanged if it has none).
    pub fn without(mut self, name: &str) -> Self {
        self.dimensions.retain(|(n, _)| n != name);
        self
    }

    /// Draws a value for every dimension, in order.
    pub fn sample(&self, rng: &mut Rng) -> Point {
        self.dimensions
            .iter()
            .map(|(name, domain)| (name.clone(), domain.sample(rng)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> SearchSpace {
        SearchSpace::new(vec![
            (
                "layers".into(),
                Domain::Choice(vec![Value::Text("8".into()), Value::Text("16,8".into())]),
            ),
            (
                "dropout".into(),
                Domain::Uniform {
                    low: 0.0,
                    high: 0.5,
                    integer: false,
                },
            ),
            (
                "lr".into(),
                Domain::LogUniform {
                    low: 1e-4,
                    high: 1e-1,
                    integer: false,
                },
            ),
            (
                "batch_size".into(),
                Domain::LogUniform {
                    low: 16.0,
                    high: 256.0,
                    integer: true,
                },
            ),
            (
                "patience".into(),
                Domain::Uniform {
                    low: 2.0,
                    high: 4.0,
                    integer: true,
                },
            ),
        ])
        .unwrap()
    }

    #[test]
    fn samples_stay_in_their_domains_and_follow_the_seed() {
        let space = space();
        let mut rng = Rng::new(5);
        let points: Vec<Point> = (0..500).map(|_| space.sample(&mut rng)).collect();
        let mut decades = [0usize; 3];
        let mut patience_seen = [false; 3];
        for point in &points {
            let names: Vec<&str> = point.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["layers", "dropout", "lr", "batch_size", "patience"]);
            match &point[1].1 {
                Value::Float(d) => assert!((0.0..0.5).contains(d)),
                other => panic!("dropout {other:?}"),
            }
            match &point[2].1 {
                Value::Float(lr) => {
                    assert!((1e-4..=1e-1).contains(lr));
                    decades[(libm::log10(*lr) + 4.0).floor().min(2.0) as usize] += 1;
                }
                other => panic!("lr {other:?}"),
            }
            match &point[3].1 {
                Value::Int(b) => assert!((16..=256).contains(b)),
                other => panic!("batch {other:?}"),
            }
            match &point[4].1 {
                Value::Int(p) => patience_seen[(*p - 2) as usize] = true,
                other => panic!("patience {other:?}"),
            }
        }
        // Log-uniform: each decade of the learning rate gets about a third of the draws.
        assert!(
            decades.iter().all(|&n| (120..215).contains(&n)),
            "{decades:?}"
        );
        assert_eq!(
            patience_seen, [true; 3],
            "both ends of an integer range are drawn"
        );
        let mut again = Rng::new(5);
        assert_eq!(space.sample(&mut again), points[0]);
        assert_ne!(space.sample(&mut Rng::new(6)), points[0]);
    }

    #[test]
    fn bad_domains_are_named() {
        let bad = |domain: Domain| {
            SearchSpace::new(vec![("lr".into(), domain)])
                .unwrap_err()
                .to_string()
        };
        assert!(bad(Domain::Choice(vec![])).contains("lr: an empty list"));
        assert!(bad(Domain::Uniform {
            low: 1.0,
            high: 1.0,
            integer: false
        })
        .contains("empty"));
        assert!(bad(Domain::LogUniform {
            low: 0.0,
            high: 1.0,
            integer: false
        })
        .contains("above 0"));
        assert!(bad(Domain::Uniform {
            low: 0.5,
            high: 3.0,
            integer: true
        })
        .contains("whole"));
        let twice = vec![
            ("lr".into(), Domain::Choice(vec![Value::Float(0.1)])),
            ("lr".into(), Domain::Choice(vec![Value::Float(0.2)])),
        ];
        assert!(SearchSpace::new(twice)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        assert_eq!(space().without("lr").names().collect::<Vec<_>>().len(), 4);
    }
}
