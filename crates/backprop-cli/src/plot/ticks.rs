//! Where the ticks of the plot's axes go and how their labels read: whole epochs, round
//! values on a linear axis, powers of ten on a log axis, and numbers written compactly
//! (`0.25`, `5e8`, `1.5e-4`) so that a label of any magnitude stays short.

/// The ticks of one axis: positions in the axis's coordinates and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    /// Positions, ascending (log10 of the value on a log axis).
    pub positions: Vec<f64>,
    /// One label per position.
    pub labels: Vec<String>,
}

impl Ticks {
    /// The label of the tick nearest `position` (plotters asks for labels by position).
    pub fn label_at(&self, position: f64) -> String {
        self.positions
            .iter()
            .zip(&self.labels)
            .min_by(|a, b| (a.0 - position).abs().total_cmp(&(b.0 - position).abs()))
            .map_or_else(String::new, |(_, label)| label.clone())
    }
}

/// Whole-epoch ticks over `1..=epochs`: every epoch up to 10, otherwise multiples of a round
/// step (1, 2 or 5 × 10^k) giving at most about 10 ticks, with epoch 1 added when the step is
/// 5 or more so the axis says where it starts.
pub fn epoch_ticks(epochs: usize) -> Ticks {
    let epochs = epochs.max(1);
    let step = round_step(epochs as f64 / 10.0, &[1.0, 2.0, 5.0]).max(1.0) as usize;
    let mut ticks: Vec<usize> = (1..=epochs / step).map(|k| k * step).collect();
    if step >= 5 {
        ticks.insert(0, 1);
    }
    Ticks {
        positions: ticks.iter().map(|&e| e as f64).collect(),
        labels: ticks.iter().map(ToString::to_string).collect(),
    }
}

/// About five to eight round ticks (1, 2, 2.5 or 5 × 10^k apart) inside `low..=high`.
pub fn linear_ticks(low: f64, high: f64) -> Ticks {
    let span = (high - low).abs().max(f64::MIN_POSITIVE);
    let step = round_step(span / 6.0, &[1.0, 2.0, 2.5, 5.0]);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    let positions: Vec<f64> = (first..=last)
        .map(|k| {
            let value = k as f64 * step;
            // -0 and 1e-17 residues read as 0.
            if value.abs() < step * 1e-9 {
                0.0
            } else {
                value
            }
        })
        .collect();
    let labels = positions.iter().map(|&v| compact(v, step)).collect();
    Ticks { positions, labels }
}

/// Ticks of a log axis over `low..=high` (values, both > 0), at positions log10(value):
/// the powers of ten inside, and also 2 and 5 times them when fewer than three powers fit.
pub fn log_ticks(low: f64, high: f64) -> Ticks {
    let (lo, hi) = (low.log10(), high.log10());
    let powers: Vec<i32> = (lo.ceil() as i32..=hi.floor() as i32).collect();
    let mantissas: &[f64] = if powers.len() < 3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut values = Vec::new();
    for k in lo.floor() as i32..=hi.ceil() as i32 {
        for &m in mantissas {
            let value = m * 10f64.powi(k);
            let position = value.log10();
            if position >= lo - 1e-9 && position <= hi + 1e-9 {
                values.push(value);
            }
        }
    }
    Ticks {
        positions: values.iter().map(|v| v.log10()).collect(),
        // Powers from 1e4 up in one form: `1000, 1e4, 1e5` rather than `10000, 1e5`.
        labels: values.iter().map(|&v| written(v, v, 1e4)).collect(),
    }
}

/// The smallest `m × 10^k` (`m` one of `mantissas`, ascending, all below 10) at least `raw`.
fn round_step(raw: f64, mantissas: &[f64]) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    mantissas
        .iter()
        .map(|m| m * power)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// `value` written as briefly as a tick `step` apart from its neighbours allows: plain
/// decimals between 0.001 and 99,999 (`0.25`, `1200`), otherwise a mantissa and exponent
/// (`5e8`, `1.5e9`, `2e-4`, trailing zeros dropped).
pub fn compact(value: f64, step: f64) -> String {
    written(value, step, 1e5)
}

/// [`compact`] with plain decimals below `plain_below` (and from 0.001).
fn written(value: f64, step: f64, plain_below: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    let magnitude = value.abs();
    // Significant decimals the step needs (2.5 × 10^k needs one more than 10^k).
    let decimals_for = |step: f64| -> i32 {
        let power = step.abs().log10().floor() as i32;
        let extra = i32::from(((step.abs() / 10f64.powi(power)) * 10.0).round() as i64 % 10 != 0);
        (-power + extra).max(0)
    };
    if (1e-3..plain_below).contains(&magnitude) {
        let decimals = decimals_for(step) as usize;
        return format!("{value:.decimals$}");
    }
    let exponent = magnitude.log10().floor() as i32;
    let mantissa = value / 10f64.powi(exponent);
    // Digits of the mantissa: those the step needs at this exponent.
    let digits = decimals_for(step / 10f64.powi(exponent)).min(3) as usize;
    let text = format!("{mantissa:.digits$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    // Rounding may carry (9.96 → 10.0): write it as the next power.
    if text.trim_start_matches('-').starts_with("10") {
        let sign = if value < 0.0 { "-" } else { "" };
        return format!("{sign}1e{}", exponent + 1);
    }
    format!("{text}e{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_are_whole_numbers_in_sensible_counts() {
        assert_eq!(epoch_ticks(3).labels, ["1", "2", "3"]);
        assert_eq!(epoch_ticks(1).labels, ["1"]);
        assert_eq!(epoch_ticks(10).labels.len(), 10);
        assert_eq!(
            epoch_ticks(30).labels,
            ["1", "5", "10", "15", "20", "25", "30"]
        );
        let many = epoch_ticks(3000);
        assert_eq!(many.labels.first().map(String::as_str), Some("1"));
        assert!(many.labels.len() <= 12, "{:?}", many.labels);
        assert!(
            many.labels.contains(&"3000".to_string()),
            "{:?}",
            many.labels
        );
        for n in [2, 7, 13, 99, 200, 1234, 100_000] {
            let ticks = epoch_ticks(n);
            assert!(
                (2.min(n)..=12).contains(&ticks.labels.len()),
                "{n}: {ticks:?}"
            );
            assert!(ticks.labels.iter().all(|l| !l.contains('.')), "{ticks:?}");
            assert!(ticks.positions.iter().all(|&p| p >= 1.0 && p <= n as f64));
        }
    }

    #[test]
    fn linear_ticks_are_round_and_inside() {
        let ticks = linear_ticks(0.83, 0.97);
        assert!(ticks.positions.iter().all(|&p| (0.83..=0.97).contains(&p)));
        assert!((4..=9).contains(&ticks.labels.len()), "{ticks:?}");
        assert_eq!(ticks.labels[..2], ["0.850", "0.875"]);
        let ticks = linear_ticks(0.0, 2.1e9);
        assert_eq!(ticks.labels[..3], ["0", "5e8", "1e9"]);
        assert!(ticks.labels.contains(&"1.5e9".to_string()), "{ticks:?}");
        let ticks = linear_ticks(-1.2, 1.0);
        assert!(ticks.labels.contains(&"0".to_string()), "{ticks:?}");
        assert!(!ticks.labels.iter().any(|l| l == "-0"), "{ticks:?}");
    }

    #[test]
    fn log_ticks_sit_at_powers_of_ten() {
        let ticks = log_ticks(0.003, 2.0);
        assert_eq!(ticks.labels, ["0.01", "0.1", "1"]);
        let ticks = log_ticks(0.02, 0.9);
        assert_eq!(ticks.labels, ["0.02", "0.05", "0.1", "0.2", "0.5"]);
        let ticks = log_ticks(3e15, 2e18);
        assert_eq!(ticks.labels, ["1e16", "1e17", "1e18"]);
        assert_eq!(ticks.label_at(17.0), "1e17");
        assert_eq!(
            log_ticks(50.0, 2e6).labels,
            ["100", "1000", "1e4", "1e5", "1e6"]
        );
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(compact(0.25, 0.05), "0.25");
        assert_eq!(compact(1200.0, 200.0), "1200");
        assert_eq!(compact(5e8, 5e8), "5e8");
        assert_eq!(compact(1.5e9, 2.5e8), "1.5e9");
        assert_eq!(compact(1e9, 5e8), "1e9");
        assert_eq!(compact(2e-4, 1e-4), "2e-4");
        assert_eq!(compact(-3e6, 1e6), "-3e6");
        assert_eq!(compact(0.0, 1.0), "0");
    }
}
