//! `backprop config --example`: a commented TOML file with every setting of `train`, written
//! from the clap definition of [`TrainArgs`] (the key, its `--help` text and accepted values),
//! so it cannot drift from the flags. Settings with a fixed default are written out with it;
//! those whose default follows from the data (the loss, dropout, L2, the learning rate) or
//! that have none (the target, the test file) are written commented out.

use backprop_data::FitOptions;
use clap::{ArgAction, Args};

use crate::train_args::{
    TrainArgs, DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_LAYERS, DEFAULT_PATIENCE, DEFAULT_SAVE,
    DEFAULT_VAL_FRACTION,
};

/// Width of the comment lines.
const WIDTH: usize = 92;

/// The TOML values of the settings with a fixed default (switches are `false` and need no
/// entry). `resolve` reads its defaults from the same constants; a test checks that this
/// file, read back, resolves to exactly the defaults.
fn fixed_default(key: &str) -> Option<String> {
    let quoted = |text: &str| format!("{text:?}");
    Some(match key {
        "layers" => format!("[{}]", DEFAULT_LAYERS.replace(',', ", ")),
        "activation" => quoted("relu"),
        "optimizer" => quoted("adam"),
        "batch_size" => DEFAULT_BATCH_SIZE.to_string(),
        "epochs" => DEFAULT_EPOCHS.to_string(),
        "patience" => DEFAULT_PATIENCE.to_string(),
        "val_fraction" => format!("{DEFAULT_VAL_FRACTION:?}"),
        "min_delta" => "0.0".to_string(),
        "seed" => "0".to_string(),
        "save" => quoted(DEFAULT_SAVE),
        "scale" => quoted("auto"),
        "scale_target" => quoted("standard"),
        "missing" => quoted("impute"),
        "max_categories" => FitOptions::default().max_categories.to_string(),
        _ => return None,
    })
}

/// The example file.
pub fn text() -> String {
    let command = TrainArgs::augment_args(clap::Command::new("train"));
    let mut out = String::from(
        "# Settings for `backprop train --config FILE.toml` (also `cv` and `tune`), written by\n\
         # `backprop config --example`. Keys are the flags' names with `_` for `-`; a flag given\n\
         # on the command line wins over the file. Lines starting with `# key =` have no fixed\n\
         # default (it follows from the data, or there is none): remove the `#` to set them.\n",
    );
    for arg in command.get_arguments() {
        let key = arg.get_id().as_str();
        if matches!(key, "config" | "help") {
            continue;
        }
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        out.push('\n');
        wrap(&mut out, &help);
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| match v.get_help() {
                Some(help) => format!(
                    "{} ({})",
                    v.get_name(),
                    help.to_string().trim_end_matches('.')
                ),
                None => v.get_name().to_string(),
            })
            .collect();
        let switch = matches!(arg.get_action(), ArgAction::SetTrue);
        if !values.is_empty() && !switch {
            wrap(&mut out, &format!("One of: {}.", values.join("; ")));
        }
        match (switch, fixed_default(key)) {
            (true, _) => out.push_str(&format!("{key} = false\n")),
            (false, Some(value)) => out.push_str(&format!("{key} = {value}\n")),
            (false, None) => {
                let placeholder = arg
                    .get_value_names()
                    .and_then(|names| names.first())
                    .map_or_else(|| key.to_uppercase(), |n| n.to_string());
                out.push_str(&format!("# {key} = \"{placeholder}\"\n"));
            }
        }
    }
    out
}

/// Appends `text` as `# ` comment lines of at most [`WIDTH`] characters.
fn wrap(out: &mut String, text: &str) {
    for paragraph in text.lines() {
        let mut line = String::from("#");
        for word in paragraph.split_whitespace() {
            if line.len() + 1 + word.len() > WIDTH && line.len() > 1 {
                out.push_str(&line);
                out.push('\n');
                line = String::from("#");
            }
            line.push(' ');
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example, read back as `--config` reads it, resolves to the defaults.
    #[test]
    fn the_example_reads_back_as_the_defaults() {
        let example = text();
        let file: TrainArgs = toml::from_str(&example).expect("the example is valid TOML");
        let cli = TrainArgs {
            data: Some("a.csv".into()),
            ..TrainArgs::default()
        };
        let from_file = cli.clone().over(file).resolve().expect("it resolves");
        let defaults = cli.resolve().expect("defaults resolve");
        assert_eq!(format!("{from_file:?}"), format!("{defaults:?}"));
    }

    /// Every flag of `train` is in the example, with its help text; every fixed default names
    /// a real key.
    #[test]
    fn every_key_is_there() {
        let example = text();
        let command = TrainArgs::augment_args(clap::Command::new("train"));
        let keys: Vec<&str> = command
            .get_arguments()
            .map(|a| a.get_id().as_str())
            .filter(|k| !matches!(*k, "config" | "help"))
            .collect();
        assert!(keys.len() >= 39, "{keys:?}");
        for key in &keys {
            assert!(
                example.contains(&format!("\n{key} = "))
                    || example.contains(&format!("\n# {key} = ")),
                "{key} missing"
            );
        }
        for key in [
            "layers",
            "activation",
            "optimizer",
            "batch_size",
            "epochs",
            "patience",
            "val_fraction",
            "min_delta",
            "seed",
            "save",
            "scale",
            "scale_target",
            "missing",
            "max_categories",
        ] {
            assert!(fixed_default(key).is_some() && keys.contains(&key), "{key}");
            assert!(example.contains(&format!("\n{key} = ")), "{key} is set");
        }
        assert!(example.contains("layers = [256, 128]"), "{example}");
    }
}
