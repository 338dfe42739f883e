//! `backprop tune`: random search with asynchronous successive halving (ASHA), then the best
//! settings retrained on all the training rows (train + validation) and saved.
//!
//! The table is read and the preprocessing fitted once; every trial trains on the same rows
//! and is scored on the same validation split (from `--val-fraction` and `--seed`): the
//! validation loss of the epoch it keeps. The engine's [`search`] decides which trial runs
//! next on a virtual clock, so with `--trials` the result does not depend on `--threads`.

use std::cell::RefCell;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use backprop::train::{NoObserver, TrainConfig, TrainReport, Validation};
use backprop::tune::{search, Point, SearchPlan, SearchSummary};
use backprop::{Init, Network};
use backprop_data::records::write_records;
use backprop_data::{load, load_encoded, EncodeOptions, Model, ModelMetadata};
use serde_json::{json, Map, Value};

use crate::commands::train::{check_save_folder, reading_note, test_scores, test_text};
use crate::fitting::Prepared;
use crate::interrupt;
use crate::progress::{number, SearchProgress};
use crate::tune_args::{TuneArgs, TunePlan};
use crate::tune_report::{settings_json, TrialLog};
use crate::tune_space::trial_args;
use crate::tune_trial::{TrialData, TrialRunner};

/// Runs `backprop tune`.
pub fn run(args: TuneArgs) -> anyhow::Result<ExitCode> {
    let tune = args.resolve()?;
    let plan = &tune.plan;
    check_save_folder(&plan.save)?;
    let table = load(&plan.data, &plan.load)?;
    let prepared = Prepared::new(plan, &table)?;
    let pre = &prepared.metadata.preprocessing;
    let classify = pre.target.classes().is_some();
    let mut notes = prepared.notes.clone();
    let test = match &plan.test {
        Some(spec) => {
            let test = load_encoded(spec, pre, &plan.load, &EncodeOptions::default())?;
            notes.extend(test.notes.iter().map(|n| format!("{spec}: {n}")));
            Some(test)
        }
        None => None,
    };
    let keys: Vec<String> = tune.space.names().map(str::to_string).collect();
    let log = RefCell::new(TrialLog::new(keys, classify));
    // Fails now, not after the first trial, if the table cannot be written.
    write_records(&tune.log, &log.borrow().csv_header(), &[])?;
    let progress = SearchProgress::new(if plan.json { None } else { tune.trials });
    let say = |line: &str| progress.println(line);
    if plan.json {
        notes.iter().for_each(|note| crate::style::note(note));
    } else {
        say(&header(&tune, &table, &prepared, &notes));
        say(&log.borrow().line_header());
    }

    let data = TrialData::new(&table, plan, prepared);
    let threads = tune.threads.min(tune.concurrency);
    let start = Instant::now();
    let deadline = tune.time.map(|t| start + t);
    let runner = TrialRunner {
        data: &data,
        base: &tune.base,
        threads_per_job: (tune.threads / threads).max(1),
        last_rung: *tune.rungs.epochs().last().expect("a rung"),
        deadline,
    };
    let search_plan = SearchPlan {
        space: tune.space.clone(),
        rungs: tune.rungs.clone(),
        max_trials: tune.trials,
        workers: tune.concurrency,
        threads,
        seed: plan.config.seed,
    };
    let failure = RefCell::new(None::<anyhow::Error>);
    interrupt::install()?;
    let summary = search(
        &search_plan,
        |point| runner.weight(point),
        |job, point, state| runner.run(job, point, state),
        || {
            failure.borrow().is_none()
                && deadline.is_none_or(|d| Instant::now() < d)
                && !interrupt::requested()
        },
        |result| {
            let mut log = log.borrow_mut();
            log.record(&result.job, result.outcome, &result.record, || {
                trial_args(&tune.base, result.point)
                    .map_or_else(|_| result.point.clone(), |(_, applied)| applied)
            });
            let trial = result.job.trial;
            if plan.json {
                say(&log.event(trial, result.scheduler).to_string());
            } else {
                say(&log.line(trial));
            }
            let best = result
                .scheduler
                .best()
                .and_then(|b| result.scheduler.trials()[b].score);
            progress.update(result.scheduler.trials().len(), best);
            let rows = log.csv_rows(result.scheduler, false);
            if let Err(e) = write_records(&tune.log, &log.csv_header(), &rows) {
                failure.borrow_mut().get_or_insert(e.into());
            }
        },
    );
    progress.finish();
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    let search_seconds = start.elapsed().as_secs_f64();
    let interrupted = interrupt::requested();
    let log = log.into_inner();
    write_records(
        &tune.log,
        &log.csv_header(),
        &log.csv_rows(&summary.scheduler, true),
    )?;
    let Some(best) = summary.scheduler.best().filter(|&b| {
        log.row(b)
            .is_some_and(|r| r.last.val_loss.is_some_and(f64::is_finite))
    }) else {
        if interrupted {
            eprintln!(
                "interrupted before a trial was scored: nothing saved; the log is {}",
                tune.log.display()
            );
            return Ok(ExitCode::from(interrupt::EXIT_STATUS));
        }
        let why = log.trials().find_map(|(_, r)| r.last.error.clone());
        bail!(
            "no trial gave a validation score{}",
            why.map_or(String::new(), |w| format!(" (first failure: {w})"))
        );
    };
    if !plan.json {
        say(&format!(
            "\nleaderboard\n{}",
            log.leaderboard(&summary.scheduler)
        ));
    }

    let best_row = log.row(best).context("the best trial has a result")?;
    let epochs = best_row
        .last
        .kept_epoch
        .context("the best trial kept no epoch")?;
    let retrain_start = Instant::now();
    let Retrained {
        prepared,
        network,
        mut metadata,
        report,
        config,
    } = retrain(&tune, &data, &summary.points[best], epochs)?;
    let retrain_seconds = retrain_start.elapsed().as_secs_f64();
    if !plan.json {
        say(&format!(
            "best       trial {best}: val loss {:.4} at epoch {epochs} of {}\nretrain    on all {} rows for {epochs} epochs ({:.1}s)",
            best_row.last.val_loss.unwrap_or(f64::NAN),
            best_row.last.epochs,
            prepared.rows,
            retrain_seconds
        ));
    }

    let test_metrics = match (&plan.test, test) {
        (Some(spec), Some(base_test)) => {
            let encoded = if Arc::ptr_eq(&prepared, &data.base()) {
                base_test
            } else {
                load_encoded(
                    spec,
                    &metadata.preprocessing,
                    &plan.load,
                    &EncodeOptions::default(),
                )?
            };
            let metrics = test_scores(&network, &metadata.loss, &metadata, &encoded, spec)?;
            if !plan.json {
                say(&test_text(&metrics, encoded.rows));
            }
            Some(metrics)
        }
        _ => None,
    };
    let seconds = start.elapsed().as_secs_f64();
    let search = search_json(&tune, &summary, &log, best, search_seconds);
    metadata.training = json!({
        "data": plan.data,
        "test_data": plan.test,
        "epochs": report.history.len(),
        "final_train_loss": report.final_train_loss,
        "test": test_metrics,
        "seconds": seconds,
        "optimizer": config.optimizer,
        "batch_size": config.batch_size,
        "dropout": config.dropout,
        "shuffle": config.shuffle,
        "seed": config.seed,
        "settings": settings_json(&best_row.settings),
        "tune": search,
    });
    if interrupted {
        metadata.training["stop_reason"] = "interrupted".into();
    }
    Model::new(metadata, network)?.save(&plan.save)?;
    if plan.json {
        let mut event = Map::new();
        event.insert("event".into(), "summary".into());
        if let Value::Object(search) = search_json(&tune, &summary, &log, best, search_seconds) {
            event.extend(search);
        }
        event.extend(test_metrics.unwrap_or_default());
        event.insert("model".into(), plan.save.display().to_string().into());
        event.insert("seconds".into(), number(seconds).unwrap_or(Value::Null));
        if interrupted {
            event.insert("stop_reason".into(), "interrupted".into());
        }
        progress.result(&Value::Object(event).to_string());
    } else {
        say(&format!("log        {}", tune.log.display()));
        if crate::verbosity::verbose() {
            say(&format!(
                "time       search {search_seconds:.2}s, retrain {retrain_seconds:.2}s, test and \
                 saving {:.2}s",
                (seconds - search_seconds - retrain_seconds).max(0.0)
            ));
        }
        progress.result(&format!(
            "saved      {} ({seconds:.1}s)",
            plan.save.display()
        ));
    }
    if interrupted {
        eprintln!(
            "interrupted after {} trials: saved the best settings (trial {best}, retrained for \
             {epochs} epochs) to {}",
            summary.points.len(),
            plan.save.display()
        );
        return Ok(ExitCode::from(interrupt::EXIT_STATUS));
    }
    Ok(ExitCode::SUCCESS)
}

/// The best settings trained on every row.
struct Retrained {
    prepared: Arc<Prepared>,
    network: Network<f32>,
    metadata: ModelMetadata,
    report: TrainReport,
    config: TrainConfig,
}

/// Trains the settings of `point` on all the rows, training and validation, for `epochs`
/// epochs (the epoch at which the trial was best) from a fresh network.
fn retrain(
    tune: &TunePlan,
    data: &TrialData<'_>,
    point: &Point,
    epochs: usize,
) -> anyhow::Result<Retrained> {
    let (args, _) = trial_args(&tune.base, point)?;
    let plan = args.resolve()?;
    let prepared = data.prepared(&plan)?;
    let task = prepared.metadata.preprocessing.target.task();
    let (mut config, _) = plan.settled(&plan.config, prepared.rows, task);
    config.epochs = epochs;
    config.validation = Validation::None;
    config.early_stopping = None;
    config.threads = Some(tune.threads);
    let arch = prepared.architecture_for(&plan)?;
    let mut network = Network::new(arch.clone(), Init::Auto, config.seed)?;
    let report = prepared.train(&mut network, &config, None, &mut NoObserver)?;
    let mut metadata = prepared.metadata.clone();
    metadata.architecture = arch;
    Ok(Retrained {
        prepared,
        network,
        metadata,
        report,
        config,
    })
}

/// The search's summary: the best trial and its settings, the trials and jobs run, the rungs.
fn search_json(
    tune: &TunePlan,
    summary: &SearchSummary,
    log: &TrialLog,
    best: usize,
    seconds: f64,
) -> Value {
    let space: Map<String, Value> = tune
        .space
        .dimensions()
        .iter()
        .map(|(name, domain)| (name.clone(), domain.to_string().into()))
        .collect();
    json!({
        "best": log.summary(best),
        "trials": summary.points.len(),
        "jobs": summary.jobs,
        "epochs_run": log.trials().map(|(_, r)| r.last.epochs).sum::<usize>(),
        "rungs": tune.rungs.epochs(),
        "concurrency": tune.concurrency,
        "threads": tune.threads,
        "peak_concurrency": summary.peak_concurrency,
        "space": space,
        "fixed": tune.fixed,
        "time_budget": tune.time.map(|t| t.as_secs_f64()),
        "search_seconds": seconds,
        "log": tune.log.display().to_string(),
    })
}

/// What is searched, over what data.
fn header(
    tune: &TunePlan,
    table: &backprop_data::Table,
    prepared: &Prepared,
    notes: &[String],
) -> String {
    let plan = &tune.plan;
    let pre = &prepared.metadata.preprocessing;
    let mut out = format!(
        "data       {}{}: {} rows, {} feature columns → {} inputs, target {:?}\n",
        plan.data,
        reading_note(table).map_or(String::new(), |r| format!(" ({r})")),
        prepared.rows,
        pre.features.len(),
        pre.inputs(),
        pre.target.name()
    );
    for note in notes {
        out += &format!("note       {note}\n");
    }
    let limit = match (tune.trials, tune.time) {
        (Some(n), Some(t)) => format!("{n} trials or {}s, whichever ends first", t.as_secs_f64()),
        (Some(n), None) => format!("{n} trials"),
        (None, Some(t)) => format!("{}s", t.as_secs_f64()),
        (None, None) => unreachable!("a trial limit or a time budget"),
    };
    let rungs: Vec<String> = tune
        .rungs
        .epochs()
        .iter()
        .map(ToString::to_string)
        .collect();
    let validation = match plan.config.validation {
        Validation::Fraction(f) => f * 100.0,
        Validation::None => 0.0,
    };
    out += &format!(
        "search     {limit}, rungs at {} epochs, {} at a time on {} threads, seed {}, validation {validation}%\n",
        rungs.join(", "),
        tune.concurrency,
        tune.threads.min(tune.concurrency),
        plan.config.seed,
    );
    for (name, domain) in tune.space.dimensions() {
        out += &format!("space      {name} {domain}\n");
    }
    if !tune.fixed.is_empty() {
        out += &format!(
            "fixed      {} (set by a flag or --config, not searched)\n",
            tune.fixed.join(", ")
        );
    }
    out.trim_end().to_string()
}
