//! Reporting a training run as it goes: one line per epoch (text or JSON on stdout) and, when
//! stderr is a terminal, a progress bar over the steps of the current epoch; for a search,
//! a bar over its trials ([`SearchProgress`]). Under `--quiet` only [`Progress::result`]
//! prints (no bar, no epoch lines); under `-v` a line every few steps gives the batch loss
//! and learning rate. A text epoch line that lowers the monitored loss (validation, else
//! training) is coloured as the best so far (on a terminal).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use backprop::train::{EpochInfo, StepInfo};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde_json::{Map, Value};

use crate::{style, verbosity};

/// Verbose step lines per epoch, about.
const STEP_LINES_PER_EPOCH: usize = 10;

/// Epoch lines on stdout and an optional progress bar on stderr.
pub struct Progress {
    json: bool,
    bar: Option<ProgressBar>,
    /// Rows of the last step's batch, for the bar's samples/s.
    batch_rows: Arc<AtomicUsize>,
    /// The bits of the lowest monitored loss of the epochs so far (to colour a new best).
    lowest: AtomicU64,
}

impl Progress {
    /// Text lines (or JSON lines with `json`); the bar only if stderr is a terminal, so logs
    /// and pipes never fill with redraws. It stays hidden until the first step gives its
    /// length (no empty `0/0` bar), then shows the steps, samples/s, the ETA and the loss.
    pub fn new(json: bool) -> Self {
        let batch_rows = Arc::new(AtomicUsize::new(0));
        let rows = Arc::clone(&batch_rows);
        let bar = (std::io::stderr().is_terminal() && !verbosity::quiet()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} steps  {rate}  eta {eta}  loss {msg}",
                )
                .expect("a valid template")
                .with_key(
                    "rate",
                    move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                        let samples = state.per_sec() * rows.load(Ordering::Relaxed) as f64;
                        let _ = write!(out, "{} samples/s", thousands(samples));
                    },
                )
                .progress_chars("=> "),
            );
            bar
        });
        Self {
            json,
            bar,
            batch_rows,
            lowest: AtomicU64::new(f64::INFINITY.to_bits()),
        }
    }

    /// Text lines and never a bar (for text printed around a run that draws its own).
    pub fn text_only() -> Self {
        Self {
            json: false,
            bar: None,
            batch_rows: Arc::new(AtomicUsize::new(0)),
            lowest: AtomicU64::new(f64::INFINITY.to_bits()),
        }
    }

    /// Advances the bar by one step; under `-v` (text output), prints the step's batch loss
    /// and learning rate every tenth of an epoch and at its last step.
    pub fn step(&self, info: &StepInfo) {
        let every = info.steps_per_epoch.div_ceil(STEP_LINES_PER_EPOCH).max(1);
        if verbosity::verbose()
            && !self.json
            && (info.step.is_multiple_of(every) || info.step == info.steps_per_epoch)
        {
            self.println(&step_text(info));
        }
        if let Some(bar) = &self.bar {
            self.batch_rows.store(info.rows, Ordering::Relaxed);
            if info.step == 1 {
                bar.set_length(info.steps_per_epoch as u64);
                bar.set_position(0);
                bar.reset_eta();
                bar.set_prefix(format!("{}/{}", info.epoch, info.epochs));
                if bar.is_hidden() {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                }
            }
            bar.set_message(format!("{:.4}", info.loss));
            bar.inc(1);
        }
    }

    /// Prints the epoch's line (a text line that lowers the monitored loss in the best
    /// epoch's colour).
    pub fn epoch(&self, info: &EpochInfo) {
        let monitored = info.val_loss.unwrap_or(info.train_loss);
        let best = monitored < f64::from_bits(self.lowest.load(Ordering::Relaxed));
        if best {
            self.lowest.store(monitored.to_bits(), Ordering::Relaxed);
        }
        let line = if self.json {
            epoch_json(info).to_string()
        } else if best {
            style::best(&epoch_text(info))
        } else {
            epoch_text(info)
        };
        self.println(&line);
    }

    /// Prints a line above the bar (or plainly without one); nothing under `--quiet`.
    pub fn println(&self, line: &str) {
        if !verbosity::quiet() {
            self.result(line);
        }
    }

    /// Prints a line that `--quiet` keeps: the final one.
    pub fn result(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| anstream::println!("{line}")),
            None => anstream::println!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The progress of a search (`backprop tune`): lines on stdout and, when stderr is a
/// terminal, a bar over the trials started (or the time spent, under `--time`).
pub struct SearchProgress {
    bar: Option<ProgressBar>,
}

impl SearchProgress {
    /// A bar over `trials` trials, or a clock when there is no trial limit.
    pub fn new(trials: Option<usize>) -> Self {
        let bar = (std::io::stderr().is_terminal() && !verbosity::quiet()).then(|| {
            let (bar, template) = match trials {
                Some(n) => (
                    ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr()),
                    "trials [{bar:30}] {pos}/{len} {elapsed} {msg}",
                ),
                None => (
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                    "trials {pos} {elapsed} {msg}",
                ),
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(500));
            bar
        });
        Self { bar }
    }

    /// Shows the trials started and the best score so far.
    pub fn update(&self, started: usize, best: Option<f64>) {
        if let Some(bar) = &self.bar {
            bar.set_position(started as u64);
            if let Some(best) = best {
                bar.set_message(format!("best val loss {best:.4}"));
            }
        }
    }

    /// Prints a line above the bar (or plainly without one); nothing under `--quiet`.
    pub fn println(&self, line: &str) {
        if !verbosity::quiet() {
            self.result(line);
        }
    }

    /// Prints a line that `--quiet` keeps: the final one.
    pub fn result(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| anstream::println!("{line}")),
            None => anstream::println!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `  step  40/120  batch loss 0.2345  lr 1.0e-3  64 rows` (`-v`).
pub fn step_text(info: &StepInfo) -> String {
    let width = info.steps_per_epoch.to_string().len();
    format!(
        "  step {:>width$}/{}  batch loss {:.4}  lr {:.1e}  {} rows",
        info.step, info.steps_per_epoch, info.loss, info.lr, info.rows
    )
}

/// The JSON object of an epoch: `"event": "epoch"`, `epoch`, `epochs`, `train_loss`, `train_accuracy`,
/// `val_loss`, `val_accuracy`, `val_r2`, `lr`, `seconds`, `samples_per_second`; keys without a value
/// (no validation data, regression) are left out.
pub fn epoch_json(info: &EpochInfo) -> Value {
    let mut object = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            object.insert(key.to_string(), value);
        }
    };
    put("event", Some("epoch".into()));
    put("epoch", Some(info.epoch.into()));
    put("epochs", Some(info.epochs.into()));
    put("train_loss", number(info.train_loss));
    put("train_accuracy", info.train_accuracy.and_then(number));
    put("val_loss", info.val_loss.and_then(number));
    put("val_accuracy", info.val_accuracy.and_then(number));
    put("val_r2", info.val_r2.and_then(number));
    put("lr", number(info.lr));
    put("seconds", number(info.seconds));
    put("samples_per_second", number(info.samples_per_second));
    Value::Object(object)
}

/// A rate rounded to an integer with thousands separators: `12,345` (`0` for NaN).
pub fn thousands(x: f64) -> String {
    let digits = if x.is_finite() && x > 0.0 {
        format!("{:.0}", x)
    } else {
        "0".to_string()
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A JSON number (`null` for NaN or an infinity, which JSON cannot hold).
pub fn number(x: f64) -> Option<Value> {
    Some(serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number))
}

/// `epoch  3/30  train loss 0.1234  val loss 0.2345  val acc 95.10%  lr 1.0e-3  1.23s`.
pub fn epoch_text(info: &EpochInfo) -> String {
    let width = info.epochs.to_string().len();
    let mut line = format!(
        "epoch {:>width$}/{}  train loss {:.4}",
        info.epoch, info.epochs, info.train_loss
    );
    if let Some(acc) = info.train_accuracy {
        line += &format!("  train acc {:6.2}%", acc * 100.0);
    }
    if let Some(loss) = info.val_loss {
        line += &format!("  val loss {loss:.4}");
    }
    if let Some(acc) = info.val_accuracy {
        line += &format!("  val acc {:6.2}%", acc * 100.0);
    }
    if let Some(r2) = info.val_r2 {
        line += &format!("  val r2 {r2:.4}");
    }
    line += &format!("  lr {:.1e}  {:.2}s", info.lr, info.seconds);
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(val: bool) -> EpochInfo {
        EpochInfo {
            epoch: 3,
            epochs: 30,
            train_loss: 0.5,
            train_accuracy: Some(0.75),
            val_loss: val.then_some(0.25),
            val_accuracy: val.then_some(0.875),
            val_r2: None,
            lr: 1e-3,
            seconds: 1.5,
            samples_per_second: 1000.0,
        }
    }

    #[test]
    fn json_lines_carry_the_keys_and_skip_missing_values() {
        let with = epoch_json(&info(true));
        for key in [
            "event",
            "epoch",
            "train_loss",
            "val_loss",
            "val_accuracy",
            "seconds",
            "samples_per_second",
        ] {
            assert!(with.get(key).is_some(), "{key} missing from {with}");
        }
        assert_eq!(with["val_accuracy"], 0.875);
        let without = epoch_json(&info(false));
        assert!(without.get("val_loss").is_none());
        assert_eq!(number(f64::NAN), Some(Value::Null));
    }

    #[test]
    fn rates_are_integers_with_separators() {
        assert_eq!(thousands(928.5692), "929");
        assert_eq!(thousands(12_345.4), "12,345");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(0.2), "0");
        assert_eq!(thousands(f64::NAN), "0");
    }

    #[test]
    fn step_lines_read_well() {
        let info = StepInfo {
            epoch: 2,
            epochs: 5,
            step: 4,
            steps_per_epoch: 12,
            rows: 64,
            loss: 0.25,
            lr: 1e-3,
        };
        assert_eq!(
            step_text(&info),
            "  step  4/12  batch loss 0.2500  lr 1.0e-3  64 rows"
        );
    }

    #[test]
    fn text_lines_read_well() {
        assert_eq!(
            epoch_text(&info(true)),
            "epoch  3/30  train loss 0.5000  train acc  75.00%  val loss 0.2500  val acc  87.50%  lr 1.0e-3  1.50s"
        );
    }
}
