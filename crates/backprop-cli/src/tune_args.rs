//! The settings of `backprop tune`: every flag of `train` (they fix what is not searched) plus
//! the search's own, resolved once into a [`TunePlan`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use backprop::train::Validation;
use backprop::tune::{Rungs, SearchSpace};
use clap::Args;

use crate::train_args::{TrainArgs, TrainPlan};
use crate::tune_space::{given_keys, read_space};

/// Trials when neither `--trials` nor `--time` is given.
const DEFAULT_TRIALS: usize = 30;
/// Trials the first rung is sized for under `--time` alone (rungs at `max/81·3^k`).
const TIME_RUNG_TRIALS: usize = 81;
/// Virtual workers when `--concurrency` is not given.
const DEFAULT_CONCURRENCY: usize = 4;
/// The table of trials when `--log` is not given.
const DEFAULT_LOG: &str = "tune.csv";

/// `backprop tune`.
#[derive(Clone, Debug, Args)]
#[command(mut_arg("val_fraction", |arg| arg.help(
    "Fraction of the training data held out to score every trial, stratified and random \
     (default 0.2: trials are compared on held-out rows)"
)))]
pub struct TuneArgs {
    /// The settings of `train`; each one given fixes it for every trial (and takes it out of
    /// the search space). `--epochs` is the most epochs a trial gets.
    #[command(flatten)]
    pub train: TrainArgs,
    /// Trials to start (default 30, or no limit with --time). With --trials and no --time,
    /// the result depends only on the data and the settings, seed included, whatever
    /// --threads.
    #[arg(long, value_name = "N")]
    pub trials: Option<usize>,
    /// Time budget for the search, such as 90s, 10m or 1h30m: no job starts after it and
    /// running ones stop at their next epoch; the best trial is then retrained (on top of the
    /// budget). How far a timed search gets depends on the machine's speed, so its result
    /// may too.
    #[arg(long, value_name = "DURATION")]
    pub time: Option<String>,
    /// The search space: a TOML file with the keys of --config, each a list (layers =
    /// ["64", "128,64"]), a range (dropout = { range = [0.0, 0.5] }) or a log range (lr = {
    /// log_range = [1e-4, 1e-2] }); keys of whole numbers draw whole numbers (default: depth
    /// and widths, activation, lr, batch size, dropout, weight decay and optimizer; see the
    /// README).
    #[arg(long, value_name = "FILE.toml")]
    pub space: Option<PathBuf>,
    /// Where to write the table of trials, a CSV file rewritten after every result (default
    /// tune.csv).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Trials trained at the same time (virtual workers, default 4). It shapes the search
    /// (ASHA decides as results come in), unlike --threads, which only sets how many run on
    /// real threads at once.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Epochs of the first rung; the next rungs have 3, 9, ... times as many, up to --epochs
    /// (default: --epochs divided by the largest power of 3 not above the trials, 81 with
    /// --time alone, so that at least one trial can reach --epochs).
    #[arg(long, value_name = "N")]
    pub min_epochs: Option<usize>,
}

/// The validation share of a search when `--val-fraction` is not given (`train` holds out
/// none by default, but trials are compared on held-out rows).
pub const TUNE_VAL_FRACTION: f64 = 0.2;

/// A search, resolved.
pub struct TunePlan {
    /// The settings given (flags over `--config`), which every trial starts from.
    pub base: TrainArgs,
    /// `base` resolved: the data, how to read it, and the fixed settings.
    pub plan: TrainPlan,
    /// The space, less the keys `base` fixes.
    pub space: SearchSpace,
    /// The keys of the space that `base` fixes.
    pub fixed: Vec<String>,
    /// Trials to start (`None`: until the time runs out).
    pub trials: Option<usize>,
    /// `--time`.
    pub time: Option<Duration>,
    /// The rungs.
    pub rungs: Rungs,
    /// Virtual workers.
    pub concurrency: usize,
    /// Real threads.
    pub threads: usize,
    /// The table of trials.
    pub log: PathBuf,
}

impl TuneArgs {
    /// Reads `--config` and `--space`, fills in the defaults and checks everything before any
    /// data is read.
    pub fn resolve(self) -> anyhow::Result<TunePlan> {
        let mut base = self.train.with_config_file()?;
        // `train` trains on every row by default; a search needs rows to compare trials on.
        base.val_fraction.get_or_insert(TUNE_VAL_FRACTION);
        for (given, flag) in [
            (base.plot.is_some(), "--plot"),
            (base.checkpoint.is_some(), "--checkpoint"),
            (base.resume.is_some(), "--resume"),
            (base.init.is_some(), "--init"),
        ] {
            if given {
                bail!("{flag} is a flag of train, not of tune");
            }
        }
        let plan = base.clone().resolve()?;
        if plan.config.validation == Validation::None {
            bail!(
                "tune scores every trial on a validation split: --val-fraction must be above 0 \
                 (default {TUNE_VAL_FRACTION})"
            );
        }
        let given = given_keys(&base);
        let mut space = read_space(self.space.as_deref())?;
        let fixed: Vec<String> = space
            .names()
            .filter(|name| given.iter().any(|g| g == name))
            .map(str::to_string)
            .collect();
        for name in &fixed {
            space = space.without(name);
        }
        let time = self
            .time
            .as_deref()
            .map(parse_duration)
            .transpose()
            .context("--time")?;
        if self.trials == Some(0) {
            bail!("--trials must be at least 1");
        }
        let trials = match (self.trials, time) {
            (Some(n), _) => Some(n),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TRIALS),
        };
        let max_epochs = plan.config.epochs;
        let min_epochs = self.min_epochs.unwrap_or_else(|| {
            Rungs::min_epochs_for(trials.unwrap_or(TIME_RUNG_TRIALS), max_epochs)
        });
        let rungs = Rungs::new(min_epochs, max_epochs).context("--min-epochs")?;
        let concurrency = self.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        if concurrency == 0 {
            bail!("--concurrency must be at least 1");
        }
        let threads = plan
            .config
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Ok(TunePlan {
            base,
            plan,
            space,
            fixed,
            trials,
            time,
            rungs,
            concurrency,
            threads,
            log: self.log.unwrap_or_else(|| PathBuf::from(DEFAULT_LOG)),
        })
    }
}

/// `90s`, `10m`, `1h30m`, `1.5h` or a number of seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let bad = || anyhow::anyhow!("{text:?} is not a duration: give, say, 90s, 10m or 1h30m");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|_| bad());
    }
    let (mut seconds, mut number) = (0.0, String::new());
    for c in text.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'h' | 'm' | 's' => {
                let value: f64 = number.parse().map_err(|_| bad())?;
                seconds += value * [3600.0, 60.0, 1.0]["hms".find(c).expect("a unit")];
                number.clear();
            }
            _ => return Err(bad()),
        }
    }
    if !number.is_empty() || text.is_empty() {
        return Err(bad());
    }
    let duration = Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
    if duration.is_zero() {
        bail!("the time budget must be above 0");
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        for bad in ["", "10x", "m", "10m5", "-3m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    fn args(train: TrainArgs) -> TuneArgs {
        TuneArgs {
            train: TrainArgs {
                data: Some("a.csv".into()),
                ..train
            },
            trials: None,
            time: None,
            space: None,
            log: None,
            concurrency: None,
            min_epochs: None,
        }
    }

    #[test]
    fn flags_fix_their_keys_and_defaults_fill_in() {
        let plan = args(TrainArgs {
            lr: Some(0.01),
            epochs: Some(27),
            ..TrainArgs::default()
        })
        .resolve()
        .unwrap();
        assert_eq!(plan.fixed, ["lr"]);
        assert!(!plan.space.names().any(|n| n == "lr"));
        assert_eq!(plan.trials, Some(30));
        assert_eq!(
            plan.rungs.epochs(),
            [1, 3, 9, 27],
            "27 trials' worth of rungs for 30 trials"
        );
        assert_eq!((plan.concurrency, plan.log), (4, PathBuf::from("tune.csv")));
    }

    #[test]
    fn flags_that_make_no_sense_for_a_search_are_refused() {
        let err = |train: TrainArgs| {
            args(train)
                .resolve()
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default()
        };
        assert!(err(TrainArgs {
            val_fraction: Some(0.0),
            ..TrainArgs::default()
        })
        .contains("--val-fraction"));
        assert!(err(TrainArgs {
            plot: Some("a.svg".into()),
            ..TrainArgs::default()
        })
        .contains("--plot"));
    }

    #[test]
    fn help_gives_the_validation_share_a_search_uses() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let tune = cli.find_subcommand_mut("tune").expect("tune is a command");
        let help = tune
            .get_arguments()
            .find(|arg| arg.get_id() == "val_fraction")
            .and_then(|arg| arg.get_help())
            .map(|help| help.to_string())
            .unwrap_or_default();
        assert!(
            help.contains(&format!("default {TUNE_VAL_FRACTION}")),
            "tune --help says: {help}"
        );
    }
}
