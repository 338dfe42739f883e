//! What `backprop cv` prints: the line that describes the folds, a bar while they train, then
//! a table of the folds' scores and their mean ± standard deviation, or JSON lines.

use std::io::IsTerminal;

use backprop::metrics::MeanStd;
use backprop::train::{Concurrent, Fold, KFold, ThreadShare};
use backprop_data::Task;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};

use super::{fold_label, FoldResult};
use crate::progress::number;
use crate::{style, verbosity};

/// The names of [`FoldResult::scores`], as printed and as JSON keys.
pub(super) fn score_names(task: Task) -> [&'static str; 3] {
    match task {
        Task::Classify => ["accuracy", "log_loss", "macro_f1"],
        Task::Regress => ["rmse", "mae", "r2"],
    }
}

/// A bar over the folds on a terminal; hidden otherwise.
pub(super) fn fold_bar(folds: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() || verbosity::quiet() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(folds as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("folds [{bar:30}] {pos}/{len} {elapsed}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.tick();
    bar
}

/// `cv         5 folds × 1 repeat, stratified by class, seed 0: 30 rows held out per fold;
/// 2 folds at a time, 1 thread each`.
pub(super) fn cv_line(kfold: &KFold, task: Task, folds: &[Fold], share: ThreadShare) -> String {
    let sizes = folds.iter().map(|f| f.test.len());
    let (least, most) = (sizes.clone().min().unwrap_or(0), sizes.max().unwrap_or(0));
    let held_out = if least == most {
        format!("{least}")
    } else {
        format!("{least}-{most}")
    };
    format!(
        "cv         {} × {}, {}, seed {}: {held_out} rows held out per fold; {} at a time, {} \
         each",
        count(kfold.folds, "fold"),
        count(kfold.repeats, "repeat"),
        match task {
            Task::Classify => "stratified by class",
            Task::Regress => "shuffled",
        },
        kfold.seed,
        count(share.workers, "fold"),
        count(share.threads_per_run, "thread"),
    )
}

/// A finished cross-validation, to print.
pub(super) struct Outcome<'a> {
    /// How the folds were cut.
    pub kfold: &'a KFold,
    /// Classification or regression.
    pub task: Task,
    /// The rows cut into folds.
    pub rows: usize,
    /// The folds, in order.
    pub folds: &'a [Fold],
    /// Their results, in the same order, and how they ran.
    pub done: &'a Concurrent<FoldResult>,
    /// Wall-clock time of all folds.
    pub seconds: f64,
    /// The number of folds planned, when a signal stopped the run before all of them were
    /// done (`folds` then holds only those done).
    pub planned: Option<usize>,
}

impl Outcome<'_> {
    /// The mean and standard deviation of each score over the folds, in
    /// [`score_names`] order.
    fn summaries(&self) -> Vec<MeanStd> {
        (0..3)
            .map(|s| {
                let values: Vec<f64> = self.done.runs.iter().map(|r| r.output.scores[s]).collect();
                MeanStd::of(&values)
            })
            .collect()
    }

    fn label(&self, fold: &Fold) -> String {
        fold_label(fold, self.kfold.repeats)
    }

    /// The fold notes, the per-fold table, then `score  mean ± std` lines; under `--quiet`
    /// only those scores, on one line (and a warning on stderr).
    pub fn print_text(&self) {
        let names = score_names(self.task);
        if verbosity::quiet() {
            if let Some(warning) = self.not_converged() {
                style::warning(&warning);
            }
            let scores: Vec<String> = names
                .iter()
                .zip(self.summaries())
                .map(|(name, s)| format!("{name} {} ± {}", figure(s.mean), figure(s.std)))
                .collect();
            anstream::println!("{}", scores.join("  "));
            return;
        }
        for (fold, run) in self.folds.iter().zip(&self.done.runs) {
            for note in &run.output.notes {
                anstream::println!(
                    "{}fold {}: {note}",
                    style::label("note", 11),
                    self.label(fold)
                );
            }
        }
        let mut rows: Vec<Vec<String>> = vec![["fold", "train", "test", "epochs", "kept"]
            .iter()
            .chain(&names)
            .map(ToString::to_string)
            .collect()];
        for (fold, run) in self.folds.iter().zip(&self.done.runs) {
            let r = &run.output;
            let mut row = vec![
                self.label(fold),
                r.train_rows.to_string(),
                r.test_rows.to_string(),
                r.epochs.to_string(),
                r.best_epoch.map_or("-".into(), |e| e.to_string()),
            ];
            row.extend(r.scores.iter().map(|&s| figure(s)));
            rows.push(row);
        }
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|c| {
                rows.iter()
                    .map(|row| row[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &width)| format!("{cell:>width$}"))
                .collect();
            println!("{}", cells.join("  "));
        }
        println!(
            "mean ± std over {} (std with ddof 0, as numpy.std)",
            count(self.folds.len(), "fold")
        );
        let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
        for (name, s) in names.iter().zip(self.summaries()) {
            println!("{name:<width$}  {} ± {}", figure(s.mean), figure(s.std));
        }
        if let Some(warning) = self.not_converged() {
            anstream::println!("{}{warning}", style::label("warning", 11));
        }
        if verbosity::verbose() {
            for (fold, run) in self.folds.iter().zip(&self.done.runs) {
                println!(
                    "time       fold {}: {:.2}s on worker {}",
                    self.label(fold),
                    run.seconds,
                    run.worker
                );
            }
        }
        let share = self.done.share;
        println!(
            "ran        {:.1}s on {}, {} each; at most {} at once",
            self.seconds,
            count(share.workers, "worker"),
            count(share.threads_per_run, "thread"),
            count(self.done.peak_concurrent, "fold"),
        );
    }

    /// The folds that ran out of epochs while still improving, and what to do, if any did.
    fn not_converged(&self) -> Option<String> {
        let folds: Vec<String> = self
            .folds
            .iter()
            .zip(&self.done.runs)
            .filter(|(_, run)| !run.output.converged)
            .map(|(fold, _)| self.label(fold))
            .collect();
        (!folds.is_empty()).then(|| {
            format!(
                "not converged in {} {}: the monitored loss was still falling when the epochs \
                 ran out; raise --epochs (or --lr)",
                if folds.len() == 1 { "fold" } else { "folds" },
                folds.join(", ")
            )
        })
    }

    /// One `"event": "fold"` line per fold, then the `"event": "summary"` line; the fold
    /// notes on stderr.
    pub fn print_json(&self) {
        let names = score_names(self.task);
        for (fold, run) in self.folds.iter().zip(&self.done.runs) {
            for note in &run.output.notes {
                style::note(&format!("fold {}: {note}", self.label(fold)));
            }
            let r = &run.output;
            let mut line = Map::new();
            line.insert("event".into(), "fold".into());
            line.insert("repeat".into(), (fold.repeat + 1).into());
            line.insert("fold".into(), (fold.index + 1).into());
            line.insert("train_rows".into(), r.train_rows.into());
            line.insert("test_rows".into(), r.test_rows.into());
            line.insert("epochs".into(), r.epochs.into());
            line.insert("best_epoch".into(), r.best_epoch.into());
            line.insert("converged".into(), r.converged.into());
            for (name, &value) in names.iter().zip(&r.scores) {
                line.insert((*name).into(), json_number(value));
            }
            line.insert("worker".into(), run.worker.into());
            line.insert("seconds".into(), json_number(run.seconds));
            verbosity::info(&Value::Object(line).to_string());
        }
        if let Some(warning) = self.not_converged() {
            style::warning(&warning);
        }
        anstream::println!("{}", self.summary_json());
    }

    /// `cv_<score>_mean` and `cv_<score>_std` for every score, what was cut, whether every
    /// fold converged, and how the folds ran.
    fn summary_json(&self) -> Value {
        let mut line = Map::new();
        line.insert("event".into(), "summary".into());
        line.insert("task".into(), self.task.to_string().into());
        line.insert("rows".into(), self.rows.into());
        line.insert("folds".into(), self.kfold.folds.into());
        line.insert("repeats".into(), self.kfold.repeats.into());
        line.insert("seed".into(), self.kfold.seed.into());
        if let Some(planned) = self.planned {
            line.insert("stop_reason".into(), "interrupted".into());
            line.insert("folds_done".into(), self.folds.len().into());
            line.insert("folds_planned".into(), planned.into());
        }
        for (name, s) in score_names(self.task).iter().zip(self.summaries()) {
            line.insert(format!("cv_{name}_mean"), json_number(s.mean));
            line.insert(format!("cv_{name}_std"), json_number(s.std));
        }
        let converged = self.done.runs.iter().all(|run| run.output.converged);
        line.insert("converged".into(), converged.into());
        let share = self.done.share;
        line.insert("workers".into(), share.workers.into());
        line.insert("threads_per_worker".into(), share.threads_per_run.into());
        line.insert(
            "peak_concurrent_folds".into(),
            self.done.peak_concurrent.into(),
        );
        line.insert("seconds".into(), json_number(self.seconds));
        Value::Object(line)
    }
}

/// `1 fold`, `2 folds`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// A score for the table: 4 decimals, or scientific notation when that would be too wide.
fn figure(x: f64) -> String {
    if x.is_finite() && x.abs() >= 1e6 {
        format!("{x:.4e}")
    } else {
        format!("{x:.4}")
    }
}

fn json_number(x: f64) -> Value {
    number(x).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_counted_and_figures_stay_narrow() {
        assert_eq!(count(1, "fold"), "1 fold");
        assert_eq!(count(5, "fold"), "5 folds");
        assert_eq!(figure(0.123456), "0.1235");
        assert_eq!(figure(12345.678), "12345.6780");
        assert_eq!(figure(1.5e7), "1.5000e7");
        assert_eq!(figure(f64::NAN), "NaN");
    }
}
