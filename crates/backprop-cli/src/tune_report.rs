//! What `backprop tune` shows and writes about its trials: a line per result as they come, the
//! leaderboard, the JSON events and the table of trials (`tune.csv`).

use backprop::tune::{Asha, Job, Outcome, Point, Value};
use serde_json::{json, Map, Value as Json};

use crate::progress::number;
use crate::tune_space;
use crate::tune_trial::JobRecord;

/// Rows of the leaderboard printed at the end.
pub const LEADERBOARD_ROWS: usize = 10;

/// One trial as it stands: its settings as applied, its last result, its total time.
#[derive(Clone, Debug, Default)]
pub struct TrialRow {
    /// The settings (optimizer options its optimizer does not have left out).
    pub settings: Point,
    /// The highest rung it completed.
    pub rung: Option<usize>,
    /// What its last job did.
    pub last: JobRecord,
    /// Seconds of all its jobs.
    pub seconds: f64,
    /// Whether its last job was cut short by the time budget.
    pub interrupted: bool,
}

/// Every trial so far, for the table and the leaderboard.
pub struct TrialLog {
    /// The space's keys, the settings columns.
    keys: Vec<String>,
    /// Whether the task is classification (accuracy) or regression (R²).
    classify: bool,
    /// The trials by number (`None` until the first result of a trial comes; results come
    /// in virtual-time order, not in trial order).
    rows: Vec<Option<TrialRow>>,
}

impl TrialLog {
    /// An empty log with a column per key.
    pub fn new(keys: Vec<String>, classify: bool) -> Self {
        Self {
            keys,
            classify,
            rows: Vec::new(),
        }
    }

    /// Takes in a job's result; `settings` is the trial's point as applied.
    pub fn record(
        &mut self,
        job: &Job,
        outcome: Outcome,
        record: &JobRecord,
        settings: impl FnOnce() -> Point,
    ) {
        if job.trial >= self.rows.len() {
            self.rows.resize_with(job.trial + 1, || None);
        }
        let row = self.rows[job.trial].get_or_insert_with(|| TrialRow {
            settings: settings(),
            ..TrialRow::default()
        });
        row.seconds += record.seconds;
        match outcome {
            Outcome::Scored { .. } => {
                row.rung = Some(job.rung);
                row.last = record.clone();
            }
            Outcome::Interrupted => row.interrupted = true,
        }
    }

    /// The header of the result lines.
    pub fn line_header(&self) -> String {
        format!(
            "{:>5}  {:>4}  {:>6}  {:>9}  {:>7}  settings",
            "trial",
            "rung",
            "epochs",
            "val loss",
            self.metric_name()
        )
    }

    /// A trial with a result, by number.
    pub fn row(&self, trial: usize) -> Option<&TrialRow> {
        self.rows.get(trial).and_then(Option::as_ref)
    }

    /// The trials with a result, with their numbers.
    pub fn trials(&self) -> impl Iterator<Item = (usize, &TrialRow)> {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
    }

    /// The line of a result: the trial, the rung it reached, its epochs, its score.
    pub fn line(&self, trial: usize) -> String {
        let Some(row) = self.row(trial) else {
            return String::new();
        };
        let rung = row.rung.map_or("-".to_string(), |r| r.to_string());
        let mut line = format!(
            "{trial:>5}  {rung:>4}  {:>6}  {:>9}  {:>7}  {}",
            row.last.epochs,
            row.last.val_loss.map_or("-".into(), |l| format!("{l:.4}")),
            self.metric_text(&row.last),
            settings_text(&row.settings)
        );
        if let Some(error) = &row.last.error {
            line += &format!("  failed: {error}");
        } else if row.interrupted {
            line += "  (stopped by --time)";
        } else if row.last.early_stopped {
            line += "  (stopped early)";
        }
        line
    }

    /// The best trials, best first, as a table with their rank.
    pub fn leaderboard(&self, scheduler: &Asha) -> String {
        let mut out = format!("{:>4}  {}\n", "rank", self.line_header());
        for (rank, &trial) in scheduler
            .ranking()
            .iter()
            .take(LEADERBOARD_ROWS)
            .enumerate()
        {
            out += &format!("{:>4}  {}\n", rank + 1, self.line(trial));
        }
        out
    }

    /// A result as a JSON event: `{"event": "trial", "trial", "rung", "epochs", "val_loss",
    /// "val_accuracy" | "val_r2", "status", "settings", "seconds"}`.
    pub fn event(&self, trial: usize, scheduler: &Asha) -> Json {
        let Some(row) = self.row(trial) else {
            return Json::Null;
        };
        let mut object = Map::new();
        object.insert("event".into(), "trial".into());
        object.insert("trial".into(), trial.into());
        object.insert("rung".into(), row.rung.into());
        object.insert("epochs".into(), row.last.epochs.into());
        object.insert("best_epoch".into(), row.last.kept_epoch.into());
        object.insert("val_loss".into(), opt_number(row.last.val_loss));
        object.insert(self.metric_key().into(), opt_number(self.metric(&row.last)));
        object.insert("status".into(), self.status(trial, scheduler, false).into());
        object.insert("settings".into(), settings_json(&row.settings));
        object.insert("seconds".into(), number(row.seconds).unwrap_or(Json::Null));
        if let Some(error) = &row.last.error {
            object.insert("error".into(), error.clone().into());
        }
        Json::Object(object)
    }

    /// The columns of the table of trials.
    pub fn csv_header(&self) -> Vec<String> {
        let mut header = vec!["trial".to_string()];
        header.extend(self.keys.iter().cloned());
        for column in [
            "rung",
            "epochs",
            "best_epoch",
            "val_loss",
            self.metric_key(),
            "status",
            "seconds",
        ] {
            header.push(column.to_string());
        }
        header
    }

    /// The table of trials, one row per trial (`ended`: the search is over, so a trial that
    /// waits for a promotion is `halted`).
    pub fn csv_rows(&self, scheduler: &Asha, ended: bool) -> Vec<Vec<String>> {
        let text = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        self.trials()
            .map(|(trial, row)| {
                let mut cells = vec![trial.to_string()];
                for key in &self.keys {
                    let value = row.settings.iter().find(|(k, _)| k == key);
                    cells.push(value.map_or(String::new(), |(_, v)| v.to_string()));
                }
                cells.push(row.rung.map_or(String::new(), |r| r.to_string()));
                cells.push(row.last.epochs.to_string());
                cells.push(row.last.kept_epoch.map_or(String::new(), |e| e.to_string()));
                cells.push(text(row.last.val_loss));
                cells.push(text(self.metric(&row.last)));
                cells.push(self.status(trial, scheduler, ended).to_string());
                cells.push(format!("{:.3}", row.seconds));
                cells
            })
            .collect()
    }

    /// `completed` (reached the last rung), `halted` (not promoted further), `early_stopped`,
    /// `failed`, `interrupted` (by `--time`), or while the search runs `running` / `waiting`.
    fn status(&self, trial: usize, scheduler: &Asha, ended: bool) -> &'static str {
        let Some(row) = self.row(trial) else {
            return "running";
        };
        let status = &scheduler.trials()[trial];
        let last = scheduler.rungs().len() - 1;
        if row.last.error.is_some() {
            "failed"
        } else if row.interrupted {
            "interrupted"
        } else if row.last.early_stopped {
            "early_stopped"
        } else if status.running {
            "running"
        } else if row.rung == Some(last) {
            "completed"
        } else if ended {
            "halted"
        } else {
            "waiting"
        }
    }

    /// The trial's settings and results for the model's training summary.
    pub fn summary(&self, trial: usize) -> Json {
        let Some(row) = self.row(trial) else {
            return Json::Null;
        };
        let mut summary = json!({
            "trial": trial,
            "settings": settings_json(&row.settings),
            "rung": row.rung,
            "epochs": row.last.epochs,
            "best_epoch": row.last.kept_epoch,
            "val_loss": row.last.val_loss,
        });
        summary[self.metric_key()] = opt_number(self.metric(&row.last));
        summary
    }

    fn metric_key(&self) -> &'static str {
        if self.classify {
            "val_accuracy"
        } else {
            "val_r2"
        }
    }

    fn metric_name(&self) -> &'static str {
        if self.classify {
            "val acc"
        } else {
            "val r2"
        }
    }

    fn metric(&self, record: &JobRecord) -> Option<f64> {
        if self.classify {
            record.val_accuracy
        } else {
            record.val_r2
        }
    }

    fn metric_text(&self, record: &JobRecord) -> String {
        match (self.metric(record), self.classify) {
            (Some(acc), true) => format!("{:.2}%", acc * 100.0),
            (Some(r2), false) => format!("{r2:.4}"),
            (None, _) => "-".to_string(),
        }
    }
}

/// `activation=relu layers=128,64 lr=0.00123`: reals with 3 significant digits.
pub fn settings_text(settings: &Point) -> String {
    let parts: Vec<String> = settings
        .iter()
        .map(|(key, value)| match value {
            Value::Float(v) => format!("{key}={}", short(*v)),
            other => format!("{key}={other}"),
        })
        .collect();
    parts.join(" ")
}

/// A real with 3 significant digits, as short as it gets (`0.00123`, `0.5`, `1.2e-6`).
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let text = format!("{v:.2e}");
    let parsed: f64 = text.parse().unwrap_or(v);
    if (1e-4..1e6).contains(&parsed.abs()) {
        parsed.to_string()
    } else {
        text
    }
}

/// The settings as a JSON object.
pub fn settings_json(settings: &Point) -> Json {
    Json::Object(
        settings
            .iter()
            .map(|(k, v)| (k.clone(), tune_space::json(v)))
            .collect(),
    )
}

fn opt_number(v: Option<f64>) -> Json {
    v.and_then(number).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_short() {
        let point: Point = vec![
            ("layers".into(), Value::Text("128,64".into())),
            ("lr".into(), Value::Float(0.001234567)),
            ("dropout".into(), Value::Float(0.25)),
            ("weight_decay".into(), Value::Float(1.23456e-6)),
            ("batch_size".into(), Value::Int(64)),
        ];
        assert_eq!(
            settings_text(&point),
            "layers=128,64 lr=0.00123 dropout=0.25 weight_decay=1.23e-6 batch_size=64"
        );
    }
}
