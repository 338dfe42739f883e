//! `backprop cv`: k-fold cross-validation of the `train` settings.
//!
//! The table is read once and the rows without a target are left out (with the note `train`
//! gives). The engine cuts the rest into folds ([`KFold`]: stratified by class for a class
//! target, plain shuffled k-fold for a numeric one, `--repeats` times), and every fold is
//! trained as `train` would train on the fold's training rows alone: the preprocessing is
//! fitted on them ([`fit_table`]), the fold's own validation split and early stopping follow
//! the train flags, and the held-out rows are then encoded with that preprocessing (values
//! it never saw become unknown, with a note, or an error with `--strict`) and scored. The folds run side by side
//! ([`run_concurrently`]): `--threads` is shared among them, and since training gives the same
//! bits for any thread count, so does every score here.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use backprop::metrics::MeanStd;
use backprop::train::{run_concurrently, Concurrent, Fold, KFold, ThreadShare};
use backprop_data::{load, EncodeOptions, Note, Table, TargetSchema, Task};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};

use super::train::{print_header, reading_note};
use crate::cli::CvArgs;
use crate::fitting::fit_table;
use crate::progress::{number, Progress};
use crate::scoring::{score, Metrics};
use crate::train_args::{TrainArgs, TrainPlan};

/// The scores of a fold, in the order they are printed.
const CLASSIFICATION_SCORES: [&str; 3] = ["accuracy", "log_loss", "macro_f1"];
/// The scores of a fold of a regression, in the order they are printed.
const REGRESSION_SCORES: [&str; 3] = ["rmse", "mae", "r2"];

/// What one fold gave.
struct FoldResult {
    train_rows: usize,
    test_rows: usize,
    /// Epochs run, and the one whose weights were kept.
    epochs: usize,
    best_epoch: Option<usize>,
    /// The scores named by [`CLASSIFICATION_SCORES`] or [`REGRESSION_SCORES`], in that order.
    scores: [f64; 3],
    /// What encoding the held-out rows decided (values the fold's training rows never had).
    notes: Vec<String>,
}

/// Runs `backprop cv`.
pub fn run(args: CvArgs) -> anyhow::Result<ExitCode> {
    let kfold = KFold {
        folds: args.folds,
        repeats: args.repeats,
        seed: 0,
    };
    kfold.validate()?;
    let (plan, mut notes) = resolve(args.train)?;
    let kfold = KFold {
        seed: plan.config.seed,
        ..kfold
    };

    let table = load(&plan.data, &plan.load)?;
    let (_, _, target_notes) = TargetSchema::fit(&table, plan.fit.task, &plan.fit.na_values)?;
    if let Some(Note::RareClass { class, .. }) = target_notes
        .iter()
        .find(|note| matches!(note, Note::RareClass { .. }))
    {
        bail!(
            "the class {class:?} has a single row: every fold trains on the other folds' rows, \
             so one fold would never see it; give it more rows, or leave its row out"
        );
    }
    // Every setting is checked on the whole table before a fold trains; what the
    // preprocessing decides there is what the header says.
    let prepared = crate::fitting::Prepared::new(&plan, &table)?;
    let metadata = prepared.metadata.clone();
    notes.extend(prepared.notes.iter().cloned());
    drop(prepared);
    let pre = &metadata.preprocessing;
    let mut plan = plan;
    // The task is decided once, on every row, so that no fold decides it otherwise.
    plan.fit.task = Some(pre.target.task());
    let (targets, with_target, _) = pre.target.encode(&table, &pre.na_values)?;
    let reading = reading_note(&table);
    let table = if with_target.len() < table.rows {
        table.select_rows(&with_target)
    } else {
        table
    };
    let folds = kfold.split(table.rows, targets.as_targets())?;
    drop(targets);
    let share = ThreadShare::new(plan.config.threads, folds.len())?;
    let mut fold_plan = plan.clone();
    fold_plan.config.threads = Some(share.threads_per_run);

    let task = pre.target.task();
    if plan.json {
        notes.iter().for_each(|note| eprintln!("note: {note}"));
    } else {
        let progress = Progress::text_only();
        print_header(
            &progress,
            &plan,
            table.rows,
            &metadata,
            reading.as_deref(),
            &notes,
        );
        progress.println(&cv_line(&kfold, task, &folds, share));
    }
    let encode = EncodeOptions {
        strict: args.strict,
        ..EncodeOptions::default()
    };
    let bar = fold_bar(folds.len());
    let start = Instant::now();
    let done = run_concurrently(share, folds.len(), |i| {
        let result = run_fold(&fold_plan, &table, &folds[i], encode);
        bar.inc(1);
        result.with_context(|| format!("fold {}", fold_label(&folds[i], kfold.repeats)))
    });
    bar.finish_and_clear();
    let done = done?;
    let seconds = start.elapsed().as_secs_f64();

    let names = match task {
        Task::Classify => CLASSIFICATION_SCORES,
        Task::Regress => REGRESSION_SCORES,
    };
    let summaries: Vec<MeanStd> = (0..names.len())
        .map(|s| {
            MeanStd::of(
                &done
                    .runs
                    .iter()
                    .map(|r| r.output.scores[s])
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    if plan.json {
        for (fold, run) in folds.iter().zip(&done.runs) {
            run.output
                .notes
                .iter()
                .for_each(|n| eprintln!("note: fold {}: {n}", fold_label(fold, kfold.repeats)));
            println!(
                "{}",
                fold_json(fold, &run.output, &names, run.worker, run.seconds)
            );
        }
        println!(
            "{}",
            summary_json(&kfold, task, table.rows, &names, &summaries, &done, seconds)
        );
    } else {
        print_text(&kfold, &folds, &done, &names, &summaries, seconds);
    }
    Ok(ExitCode::SUCCESS)
}

/// The train settings merged with `--config`, resolved, with what cv refuses refused: the
/// plan and the notes about settings of the config file that cv does not use.
fn resolve(flags: TrainArgs) -> anyhow::Result<(TrainPlan, Vec<String>)> {
    if let Some((name, why)) = train_only(&flags).first() {
        bail!("--{name} is not a cv option: {why}");
    }
    let mut merged = flags.with_config_file()?;
    let from_file = train_only(&merged);
    let config = merged.config.clone().unwrap_or_default();
    if let Some((name, why)) = from_file
        .iter()
        .find(|(name, _)| matches!(*name, "init" | "resume"))
    {
        bail!("{}: `{name}` is not a cv setting: {why}", config.display());
    }
    let mut notes = Vec::new();
    if !from_file.is_empty() {
        let keys: Vec<String> = from_file
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        notes.push(format!(
            "{}: {} only apply to `backprop train`; cv leaves them alone",
            config.display(),
            keys.join(", ")
        ));
        merged.save = None;
        merged.test = None;
        merged.checkpoint = None;
        merged.plot = None;
    }
    Ok((merged.resolve()?, notes))
}

/// The `train` settings given that cross-validation has no use for, with why.
fn train_only(args: &TrainArgs) -> Vec<(&'static str, &'static str)> {
    [
        (
            args.save.is_some(),
            "save",
            "cv trains one network per fold and keeps none; `backprop train` with the same \
             settings saves one",
        ),
        (
            args.test.is_some(),
            "test",
            "cv scores every fold on its held-out rows; `backprop train --test` or `backprop \
             eval` scores a model on other data",
        ),
        (
            args.checkpoint.is_some(),
            "checkpoint",
            "the folds are trained from scratch and not checkpointed",
        ),
        (
            args.resume.is_some(),
            "resume",
            "every fold is trained from scratch",
        ),
        (
            args.plot.is_some(),
            "plot",
            "cv draws no curves; `backprop train --plot` does",
        ),
        (
            args.init.is_some(),
            "init",
            "every fold starts from freshly initialized weights, so that the folds are alike",
        ),
    ]
    .into_iter()
    .filter(|(given, ..)| *given)
    .map(|(_, name, why)| (name, why))
    .collect()
}

/// Trains on the fold's training rows and scores its held-out rows.
fn run_fold(
    plan: &TrainPlan,
    table: &Table,
    fold: &Fold,
    encode: EncodeOptions,
) -> anyhow::Result<FoldResult> {
    let training = table.select_rows(&fold.train);
    let fitted = fit_table(plan, &plan.config, &training)?;
    drop(training);
    let pre = &fitted.metadata.preprocessing;
    let held_out = pre.encode_with(&table.select_rows(&fold.test), &encode)?;
    let scores = score(
        &fitted.network,
        &fitted.metadata.loss,
        pre,
        &held_out,
        &plan.data,
    )?;
    let scores = match &scores.metrics {
        Metrics::Classification(m) => [m.accuracy, scores.log_loss.unwrap_or(f64::NAN), m.macro_f1],
        Metrics::Regression(m) => [m.rmse, m.mae, m.r2],
    };
    Ok(FoldResult {
        train_rows: fold.train.len(),
        test_rows: fold.test.len(),
        epochs: fitted.report.history.len(),
        best_epoch: fitted.report.kept_epoch(),
        scores,
        notes: held_out.notes.iter().map(ToString::to_string).collect(),
    })
}

/// `3`, or `2.3` (repeat 2, fold 3) when there are several repeats.
fn fold_label(fold: &Fold, repeats: usize) -> String {
    if repeats > 1 {
        format!("{}.{}", fold.repeat + 1, fold.index + 1)
    } else {
        (fold.index + 1).to_string()
    }
}

/// A bar over the folds on a terminal; hidden otherwise.
fn fold_bar(folds: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
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

/// `cv         5 folds × 1 repeat, stratified by class, seed 0; 2 folds at a time, 1 thread each`.
fn cv_line(kfold: &KFold, task: Task, folds: &[Fold], share: ThreadShare) -> String {
    let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
    let (least, most) = (
        sizes.iter().min().copied().unwrap_or(0),
        sizes.iter().max().copied().unwrap_or(0),
    );
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

/// The per-fold table, then `name  mean ± std` lines.
fn print_text(
    kfold: &KFold,
    folds: &[Fold],
    done: &Concurrent<FoldResult>,
    names: &[&str; 3],
    summaries: &[MeanStd],
    seconds: f64,
) {
    for (fold, run) in folds.iter().zip(&done.runs) {
        for note in &run.output.notes {
            println!(
                "note       fold {}: {note}",
                fold_label(fold, kfold.repeats)
            );
        }
    }
    let mut rows: Vec<Vec<String>> = vec![["fold", "train", "test", "epochs", "kept"]
        .iter()
        .map(ToString::to_string)
        .chain(names.iter().map(ToString::to_string))
        .collect()];
    for (fold, run) in folds.iter().zip(&done.runs) {
        let r = &run.output;
        let mut row = vec![
            fold_label(fold, kfold.repeats),
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
        "mean ± std over {} folds (std with ddof 0, as numpy.std)",
        folds.len()
    );
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    for (name, s) in names.iter().zip(summaries) {
        println!("{name:<width$}  {} ± {}", figure(s.mean), figure(s.std));
    }
    let share = done.share;
    println!(
        "ran        {seconds:.1}s on {}, {} each; at most {} at once",
        count(share.workers, "worker"),
        count(share.threads_per_run, "thread"),
        count(done.peak_concurrent, "fold"),
    );
}

/// `{"event": "fold", "repeat": 1, "fold": 3, ...}`.
fn fold_json(
    fold: &Fold,
    result: &FoldResult,
    names: &[&str; 3],
    worker: usize,
    seconds: f64,
) -> Value {
    let mut line = Map::new();
    line.insert("event".into(), "fold".into());
    line.insert("repeat".into(), (fold.repeat + 1).into());
    line.insert("fold".into(), (fold.index + 1).into());
    line.insert("train_rows".into(), result.train_rows.into());
    line.insert("test_rows".into(), result.test_rows.into());
    line.insert("epochs".into(), result.epochs.into());
    line.insert("best_epoch".into(), result.best_epoch.into());
    for (name, &value) in names.iter().zip(&result.scores) {
        line.insert((*name).into(), json_number(value));
    }
    line.insert("worker".into(), worker.into());
    line.insert("seconds".into(), json_number(seconds));
    Value::Object(line)
}

/// The last line: `cv_<score>_mean` and `cv_<score>_std` for every score, and how the folds
/// were run.
fn summary_json(
    kfold: &KFold,
    task: Task,
    rows: usize,
    names: &[&str; 3],
    summaries: &[MeanStd],
    done: &Concurrent<FoldResult>,
    seconds: f64,
) -> Value {
    let mut line = Map::new();
    line.insert("event".into(), "summary".into());
    line.insert("task".into(), task.to_string().into());
    line.insert("rows".into(), rows.into());
    line.insert("folds".into(), kfold.folds.into());
    line.insert("repeats".into(), kfold.repeats.into());
    line.insert("seed".into(), kfold.seed.into());
    for (name, s) in names.iter().zip(summaries) {
        line.insert(format!("cv_{name}_mean"), json_number(s.mean));
        line.insert(format!("cv_{name}_std"), json_number(s.std));
    }
    line.insert("workers".into(), done.share.workers.into());
    line.insert(
        "threads_per_worker".into(),
        done.share.threads_per_run.into(),
    );
    line.insert("peak_concurrent_folds".into(), done.peak_concurrent.into());
    line.insert("seconds".into(), json_number(seconds));
    Value::Object(line)
}

fn json_number(x: f64) -> Value {
    number(x).unwrap_or(Value::Null)
}
