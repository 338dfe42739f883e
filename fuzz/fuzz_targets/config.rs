//! Any bytes as the TOML of `--config FILE.toml` (train, cv, tune) and of `tune --space`:
//! parsing and validation give settings or an error, never a panic. Settings that parse print
//! back to TOML that reads as the same settings, come through the merge with an empty command
//! line unchanged, and resolve (with a data file when the text names none) to a plan whose
//! engine settings still validate once the data-dependent defaults are filled in. A space
//! that parses gives sampled trials whose settings resolve or are refused, never a panic.
#![no_main]

use backprop::Rng;
use backprop_cli::train_args::{parse_config, TrainArgs};
use backprop_cli::tune_space::{parse_space, trial_args};
use backprop_data::Task;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `--config` reads the file with `read_to_string`, which refuses text that is not UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = TrainArgs {
        data: Some("fuzz.csv".into()),
        ..TrainArgs::default()
    };
    if let Ok(file) = parse_config(text, "fuzz.toml") {
        let printed = toml::to_string(&file).expect("settings print as TOML");
        let again = parse_config(&printed, "printed.toml").expect("printed settings read back");
        assert_eq!(format!("{again:?}"), format!("{file:?}"), "{printed}");
        let merged = TrainArgs::default().over(file.clone());
        assert_eq!(
            format!("{merged:?}"),
            format!("{file:?}"),
            "an empty command line changes nothing"
        );
        let args = base.clone().over(file);
        if let Ok(mut plan) = args.resolve() {
            let rows = text.len();
            let task = if rows % 2 == 0 {
                Task::Classify
            } else {
                Task::Regress
            };
            plan.settle(rows, task);
            plan.config
                .validate()
                .expect("the data-dependent defaults keep a valid plan valid");
        }
    }
    if let Ok(space) = parse_space(text) {
        let mut rng = Rng::new(data.len() as u64);
        for _ in 0..3 {
            let point = space.sample(&mut rng);
            if let Ok((args, _applied)) = trial_args(&base, &point) {
                let _ = args.resolve();
            }
        }
    }
});
