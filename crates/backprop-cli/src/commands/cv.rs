//! `backprop cv`: k-fold cross-validation of the `train` settings.
//!
//! The table is read once and the rows without a target are left out (with the note `train`
//! gives). The engine cuts the rest into folds ([`KFold`]: stratified by class for a class
//! target, plain shuffled k-fold for a numeric one, `--repeats` times), and every fold is
//! trained as `train` would train on the fold's training rows alone: the preprocessing is
//! fitted on them ([`fit_table`]), the fold's own validation split and early stopping follow
//! the train flags, and the held-out rows are then encoded with that preprocessing (values
//! it never saw become unknown, with a note, or an error with `--strict`) and scored. The
//! folds run side by side ([`run_concurrently`]): `--threads` is shared among them, and since
//! training gives the same bits for any thread count, so does every score here.

mod report;

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use backprop::train::{
    run_concurrently, Concurrent, Finished, Fold, KFold, StopReason, ThreadShare,
};
use backprop_data::{load, EncodeOptions, ModelMetadata, Note, Table, TargetSchema};

use super::train::{print_header, reading_note};
use crate::cli::CvArgs;
use crate::fitting::{fit_table, Prepared};
use crate::interrupt::{self, StopOnSignal};
use crate::progress::Progress;
use crate::scoring::{score, Metrics};
use crate::train_args::{TrainArgs, TrainPlan};
use report::{cv_line, fold_bar, Outcome};

/// What one fold gave.
struct FoldResult {
    train_rows: usize,
    test_rows: usize,
    /// Epochs run.
    epochs: usize,
    /// The epoch whose weights were scored.
    best_epoch: Option<usize>,
    /// False when all epochs ran while the monitored loss was still falling.
    converged: bool,
    /// Accuracy, log-loss and macro F1, or RMSE, MAE and R² (see [`report::score_names`]).
    scores: [f64; 3],
    /// What encoding the held-out rows decided (values the fold's training rows never had).
    notes: Vec<String>,
}

/// The rows to cross-validate, and what the whole table says about them.
struct Rows {
    /// The rows that have a target, each still knowing its line in the file.
    table: Table,
    /// The preprocessing and network fitted on all of them (for the header).
    metadata: ModelMetadata,
    /// What reading them and fitting the preprocessing decided.
    notes: Vec<String>,
    /// `separated by ';'` and the like.
    reading: Option<String>,
    /// The folds.
    folds: Vec<Fold>,
}

/// Runs `backprop cv`.
pub fn run(args: CvArgs) -> anyhow::Result<ExitCode> {
    let kfold = KFold {
        folds: args.folds,
        repeats: args.repeats,
        seed: 0,
    };
    kfold.validate()?;
    let (mut plan, config_notes) = resolve(args.train)?;
    let kfold = KFold {
        seed: plan.config.seed,
        ..kfold
    };
    let mut rows = read(&mut plan, &kfold)?;
    rows.notes.splice(0..0, config_notes);
    let share = ThreadShare::new(plan.config.threads, rows.folds.len())?;
    let task = rows.metadata.preprocessing.target.task();
    if plan.json {
        rows.notes.iter().for_each(|note| crate::style::note(note));
    } else {
        let progress = Progress::text_only();
        print_header(
            &progress,
            &plan,
            rows.table.rows,
            &rows.metadata,
            rows.reading.as_deref(),
            &rows.notes,
        );
        progress.println(&cv_line(&kfold, task, &rows.folds, share));
    }

    let mut fold_plan = plan.clone();
    fold_plan.config.threads = Some(share.threads_per_run);
    let encode = EncodeOptions {
        strict: args.strict,
        ..EncodeOptions::default()
    };
    let folds = &rows.folds;
    let bar = fold_bar(folds.len());
    let start = Instant::now();
    interrupt::install()?;
    let done = run_concurrently(share, folds.len(), |i| {
        let result = run_fold(&fold_plan, &rows.table, &folds[i], encode);
        bar.inc(1);
        result.with_context(|| format!("fold {}", fold_label(&folds[i], kfold.repeats)))
    });
    bar.finish_and_clear();
    let (folds, done) = finished_folds(folds, done?);
    let interrupted = folds.len() < rows.folds.len();
    if interrupted && folds.is_empty() {
        eprintln!("interrupted before a fold finished: nothing to report");
        return Ok(ExitCode::from(interrupt::EXIT_STATUS));
    }
    let outcome = Outcome {
        kfold: &kfold,
        task,
        rows: rows.table.rows,
        folds: &folds,
        done: &done,
        seconds: start.elapsed().as_secs_f64(),
        planned: interrupted.then_some(rows.folds.len()),
    };
    if plan.json {
        outcome.print_json();
    } else {
        outcome.print_text();
    }
    if interrupted {
        eprintln!(
            "interrupted: {} of {} folds done; the scores are over those",
            folds.len(),
            rows.folds.len()
        );
        return Ok(ExitCode::from(interrupt::EXIT_STATUS));
    }
    Ok(ExitCode::SUCCESS)
}

/// The folds that ran to the end (all of them unless a signal stopped the others), and
/// their results.
fn finished_folds(
    folds: &[Fold],
    done: Concurrent<Option<FoldResult>>,
) -> (Vec<Fold>, Concurrent<FoldResult>) {
    let mut kept = Vec::new();
    let mut runs = Vec::new();
    for (fold, run) in folds.iter().zip(done.runs) {
        if let Some(output) = run.output {
            kept.push(fold.clone());
            runs.push(Finished {
                output,
                worker: run.worker,
                seconds: run.seconds,
            });
        }
    }
    let done = Concurrent {
        runs,
        share: done.share,
        peak_concurrent: done.peak_concurrent,
    };
    (kept, done)
}

/// Reads the data, checks every setting on the whole table before a fold trains, leaves out
/// the rows without a target and cuts the rest into folds. The task is decided here, once, on
/// every row (and set in `plan`), so that no fold decides it otherwise.
fn read(plan: &mut TrainPlan, kfold: &KFold) -> anyhow::Result<Rows> {
    let table = load(&plan.data, &plan.load)?;
    let (_, _, target_notes) = TargetSchema::fit(
        &table,
        plan.fit.task,
        plan.fit.target_scaler,
        &plan.fit.na_values,
    )?;
    if let Some(Note::RareClass { class, .. }) = target_notes
        .iter()
        .find(|note| matches!(note, Note::RareClass { .. }))
    {
        bail!(
            "the class {class:?} has a single row: every fold trains on the other folds' rows, \
             so one fold would never see it; give it more rows, or leave its row out"
        );
    }
    let prepared = Prepared::new(plan, &table)?;
    let (metadata, notes) = (prepared.metadata.clone(), prepared.notes.clone());
    drop(prepared);
    let target = &metadata.preprocessing.target;
    plan.fit.task = Some(target.task());
    let (targets, with_target, _) = target.encode(&table, &metadata.preprocessing.na_values)?;
    let reading = reading_note(&table);
    let table = if with_target.len() < table.rows {
        table.select_rows(&with_target)
    } else {
        table
    };
    let folds = kfold.split(table.rows, targets.as_targets())?;
    Ok(Rows {
        table,
        metadata,
        notes,
        reading,
        folds,
    })
}

/// The train settings merged with `--config`, with what cv refuses refused: the plan, and the
/// notes about settings of the config file that cv leaves alone.
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

/// Trains on the fold's training rows and scores its held-out rows; `None` when a signal
/// stopped it (or came before it started).
fn run_fold(
    plan: &TrainPlan,
    table: &Table,
    fold: &Fold,
    encode: EncodeOptions,
) -> anyhow::Result<Option<FoldResult>> {
    if interrupt::requested() {
        return Ok(None);
    }
    let training = table.select_rows(&fold.train);
    let fitted = fit_table(plan, &plan.config, &training, &mut StopOnSignal)?;
    drop(training);
    if fitted.report.stop_reason == StopReason::Observer {
        return Ok(None);
    }
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
    Ok(Some(FoldResult {
        train_rows: fold.train.len(),
        test_rows: fold.test.len(),
        epochs: fitted.report.history.len(),
        best_epoch: fitted.report.kept_epoch(),
        converged: fitted.report.converged,
        scores,
        notes: held_out.notes.iter().map(ToString::to_string).collect(),
    }))
}

/// `3`, or `2.3` (repeat 2, fold 3) when there are several repeats.
fn fold_label(fold: &Fold, repeats: usize) -> String {
    if repeats > 1 {
        format!("{}.{}", fold.repeat + 1, fold.index + 1)
    } else {
        (fold.index + 1).to_string()
    }
}
