//! The search space of `backprop tune`: read from TOML (the keys of `--config`, each a list,
//! a range or a log range) into the engine's [`SearchSpace`], and a sampled point turned
//! back into the settings of `train` through the same serde merge `--config` uses.

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use backprop::optim::OptimizerConfig;
use backprop::tune::{Domain, Point, SearchSpace, Value};
use clap::ValueEnum;
use serde_json::{Map, Value as Json};

use crate::train_args::{OptimizerName, TrainArgs};

/// The space searched when `--space` is not given (the same TOML a `--space` file holds):
/// depth and widths, activation, learning rate, batch size, dropout, weight decay, and the
/// optimizer, where sgd comes with Nesterov momentum 0.9 (`momentum` and `nesterov` are
/// left out for optimizers that have none).
pub const DEFAULT_SPACE: &str = r#"layers = ["32", "64", "128", "256", "512", "64,32", "128,64", "256,128", "512,256", "128,128,64", "256,128,64"]
activation = ["relu", "tanh", "gelu", "leaky_relu(0.01)"]
lr = { log_range = [1e-4, 3e-2] }
batch_size = [32, 64, 128, 256]
dropout = { range = [0.0, 0.5] }
weight_decay = { log_range = [1e-6, 1e-2] }
optimizer = ["adam", "adamw", "sgd"]
momentum = [0.9]
nesterov = [true]
"#;

/// Keys of `train` that a search cannot vary, and why.
const FIXED_KEYS: &[(&[&str], &str)] = &[
    (
        &[
            "data",
            "target",
            "task",
            "drop",
            "features",
            "keep",
            "id",
            "na_values",
            "delimiter",
            "decimal",
            "max_decompressed",
            "test",
        ],
        "every trial reads the same data",
    ),
    (
        &["val_fraction", "seed", "loss"],
        "every trial is scored with the same validation split and loss",
    ),
    (
        &["epochs"],
        "epochs are what the search hands out: --epochs sets the most a trial gets",
    ),
    (
        &[
            "threads",
            "init",
            "save",
            "checkpoint",
            "resume",
            "json",
            "plot",
        ],
        "it is not a setting of the model",
    ),
];

/// Reads a `--space` file (or [`DEFAULT_SPACE`] when `path` is `None`); every key is checked
/// against the settings of `train`, every value against its key.
pub fn read_space(path: Option<&Path>) -> anyhow::Result<SearchSpace> {
    let (name, text) = match path {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the search space {}", path.display()))?,
        ),
        None => (
            "the default search space".to_string(),
            DEFAULT_SPACE.to_string(),
        ),
    };
    parse_space(&text).map_err(|e| anyhow!("{name}: {e:#}"))
}

/// Parses the TOML text of a search space.
pub fn parse_space(text: &str) -> anyhow::Result<SearchSpace> {
    let table: toml::Table = toml::from_str(text)
        .map_err(|e| anyhow!("{}", e.to_string().trim_end().replace('\n', " ")))?;
    let known = setting_names();
    let mut dimensions = Vec::new();
    for (key, value) in table {
        if let Some((_, why)) = FIXED_KEYS
            .iter()
            .find(|(keys, _)| keys.contains(&key.as_str()))
        {
            bail!("{key} cannot be searched: {why}");
        }
        if !known.iter().any(|k| k == &key) {
            bail!(
                "{key} is not a setting of train (the keys are those of --config: {})",
                searchable(&known).join(", ")
            );
        }
        let domain = domain(&key, &value).with_context(|| key.clone())?;
        dimensions.push((key, domain));
    }
    Ok(SearchSpace::new(dimensions)?)
}

/// The keys a space may hold.
fn searchable(known: &[String]) -> Vec<&str> {
    known
        .iter()
        .map(String::as_str)
        .filter(|k| !FIXED_KEYS.iter().any(|(keys, _)| keys.contains(k)))
        .collect()
}

/// The names of `train`'s settings (the fields `--config` takes).
fn setting_names() -> Vec<String> {
    match serde_json::to_value(TrainArgs::default()) {
        Ok(Json::Object(fields)) => fields.keys().cloned().collect(),
        _ => unreachable!("settings serialize to an object"),
    }
}

/// `[a, b]`, `{ range = [low, high] }` or `{ log_range = [low, high] }`, checked against `key`.
fn domain(key: &str, value: &toml::Value) -> anyhow::Result<Domain> {
    let domain = match value {
        toml::Value::Array(items) => Domain::Choice(items.iter().map(item).collect::<anyhow::Result<_>>()?),
        toml::Value::Table(table) if table.len() == 1 => {
            let (kind, ends) = table.iter().next().expect("one entry");
            let ends = match ends.as_array().map(|a| a.as_slice()) {
                Some([low, high]) => [number(low)?, number(high)?],
                _ => bail!("{kind} takes two numbers, [low, high]"),
            };
            let integer = is_integer_setting(key);
            match kind.as_str() {
                "range" => Domain::Uniform { low: ends[0], high: ends[1], integer },
                "log_range" => Domain::LogUniform { low: ends[0], high: ends[1], integer },
                other => bail!("unknown kind {other:?}: give range or log_range"),
            }
        }
        _ => bail!(
            "give a list (lr = [0.001, 0.01]), a range (dropout = {{ range = [0.0, 0.5] }}) or a log \
             range (lr = {{ log_range = [1e-4, 1e-2] }})"
        ),
    };
    domain.validate()?;
    for value in examples(&domain) {
        check_value(key, &value)?;
    }
    Ok(domain)
}

fn item(value: &toml::Value) -> anyhow::Result<Value> {
    Ok(match value {
        toml::Value::Integer(v) => Value::Int(*v),
        toml::Value::Float(v) => Value::Float(*v),
        toml::Value::String(v) => Value::Text(v.clone()),
        toml::Value::Boolean(v) => Value::Bool(*v),
        other => bail!("{other} is not a setting's value (a number, a text or true/false)"),
    })
}

fn number(value: &toml::Value) -> anyhow::Result<f64> {
    match value {
        toml::Value::Integer(v) => Ok(*v as f64),
        toml::Value::Float(v) => Ok(*v),
        other => bail!("{other} is not a number"),
    }
}

/// The values a domain can give that are checked against the key: every item of a list, the
/// ends of an integer range and the low end of a real one (the high end is never drawn).
fn examples(domain: &Domain) -> Vec<Value> {
    match domain {
        Domain::Choice(values) => values.clone(),
        Domain::Uniform {
            low,
            high,
            integer: true,
        }
        | Domain::LogUniform {
            low,
            high,
            integer: true,
        } => {
            vec![Value::Int(*low as i64), Value::Int(*high as i64)]
        }
        Domain::Uniform { low, .. } | Domain::LogUniform { low, .. } => vec![Value::Float(*low)],
    }
}

/// Whether `key` takes whole numbers: it refuses 0.5 and takes 1.
fn is_integer_setting(key: &str) -> bool {
    let with = |value: Json| {
        serde_json::from_value::<TrainArgs>(Json::Object(Map::from_iter([(
            key.to_string(),
            value,
        )])))
    };
    with(0.5.into()).is_err() && with(1.into()).is_ok()
}

/// Checks one value of `key` the way `train` would: its type, then its range (an optimizer
/// option is checked with sgd, which has them all, and Nesterov momentum with momentum 0.9).
fn check_value(key: &str, value: &Value) -> anyhow::Result<()> {
    let mut object = Map::from_iter([(key.to_string(), json(value))]);
    object.insert("data".into(), "-".into());
    if matches!(key, "momentum" | "nesterov" | "weight_decay") {
        object.insert("optimizer".into(), "sgd".into());
    }
    if key == "nesterov" {
        object.insert("momentum".into(), 0.9.into());
    }
    let args: TrainArgs =
        serde_json::from_value(Json::Object(object)).map_err(|e| anyhow!("{value}: {e}"))?;
    args.resolve().map_err(|e| anyhow!("{value}: {e:#}"))?;
    Ok(())
}

/// A value as JSON, for the serde merge.
pub fn json(value: &Value) -> Json {
    match value {
        Value::Int(v) => (*v).into(),
        Value::Float(v) => serde_json::Number::from_f64(*v).map_or(Json::Null, Json::Number),
        Value::Text(v) => v.clone().into(),
        Value::Bool(v) => (*v).into(),
    }
}

/// The settings `base` gives (on the command line or in `--config`): the keys the search
/// leaves alone.
pub fn given_keys(base: &TrainArgs) -> Vec<String> {
    match serde_json::to_value(base) {
        Ok(Json::Object(fields)) => fields
            .into_iter()
            .filter(|(_, v)| !matches!(v, Json::Null | Json::Bool(false)))
            .map(|(k, _)| k)
            .collect(),
        _ => unreachable!("settings serialize to an object"),
    }
}

/// A trial's settings: `point` over `base`, with the optimizer options that the trial's
/// optimizer does not have (momentum for adam, say) left out. Returns them with the point as
/// applied (those options removed).
pub fn trial_args(base: &TrainArgs, point: &Point) -> anyhow::Result<(TrainArgs, Point)> {
    let object: Map<String, Json> = point.iter().map(|(k, v)| (k.clone(), json(v))).collect();
    let sampled: TrainArgs =
        serde_json::from_value(Json::Object(object)).context("a sampled point")?;
    let mut args = sampled.over(base.clone());
    let name = args.optimizer.unwrap_or(OptimizerName::Adam);
    let name = name.to_possible_value().expect("no skipped names");
    let optimizer = OptimizerConfig::by_name(name.get_name())?;
    let mut applied = point.clone();
    let mut leave_out = |key: &str, args: &mut TrainArgs| {
        if point.iter().any(|(k, _)| k == key) {
            applied.retain(|(k, _)| k != key);
            match key {
                "momentum" => args.momentum = None,
                "nesterov" => args.nesterov = false,
                _ => args.weight_decay = None,
            }
        }
    };
    if optimizer.clone().with_momentum(0.0).is_err() {
        leave_out("momentum", &mut args);
    }
    if optimizer.clone().with_nesterov(true).is_err() {
        leave_out("nesterov", &mut args);
    }
    if optimizer.with_weight_decay(0.0).is_err() {
        leave_out("weight_decay", &mut args);
    }
    Ok((args, applied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::Rng;

    #[test]
    fn the_default_space_reads() {
        let space = read_space(None).unwrap();
        let names: Vec<&str> = space.names().collect();
        for key in [
            "layers",
            "activation",
            "lr",
            "batch_size",
            "dropout",
            "weight_decay",
            "optimizer",
        ] {
            assert!(names.contains(&key), "{key} in {names:?}");
        }
    }

    #[test]
    fn lists_ranges_and_log_ranges_with_integer_keys() {
        let space = parse_space(
            "layers = [\"64\", \"128,64\"]\ndropout = { range = [0.0, 0.5] }\n\
             lr = { log_range = [1e-4, 1e-2] }\nbatch_size = { range = [16, 64] }\nnesterov = [true, false]",
        )
        .unwrap();
        let domain = |name: &str| {
            space
                .dimensions()
                .iter()
                .find(|(n, _)| n == name)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(
            domain("layers"),
            Domain::Choice(vec![Value::Text("64".into()), Value::Text("128,64".into())])
        );
        assert_eq!(
            domain("dropout"),
            Domain::Uniform {
                low: 0.0,
                high: 0.5,
                integer: false
            }
        );
        assert_eq!(
            domain("lr"),
            Domain::LogUniform {
                low: 1e-4,
                high: 1e-2,
                integer: false
            }
        );
        assert_eq!(
            domain("batch_size"),
            Domain::Uniform {
                low: 16.0,
                high: 64.0,
                integer: true
            }
        );
        let point = space.sample(&mut Rng::new(0));
        assert!(point
            .iter()
            .any(|(k, v)| k == "batch_size" && matches!(v, Value::Int(16..=64))));
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        let err = |text: &str| format!("{:#}", parse_space(text).unwrap_err());
        assert!(
            err("lrr = [0.1]").contains("lrr is not a setting of train"),
            "{}",
            err("lrr = [0.1]")
        );
        assert!(err("epochs = [5, 10]").contains("epochs cannot be searched"));
        assert!(err("seed = [1, 2]").contains("same validation split"));
        assert!(
            err("layers = [64]").contains("layers: 64"),
            "{}",
            err("layers = [64]")
        );
        assert!(err("activation = [\"relu\", \"bogus\"]").contains("activation: bogus"));
        assert!(err("dropout = { range = [0.5, 0.1] }").contains("dropout"));
        assert!(err("lr = { log_range = [0, 0.1] }").contains("above 0"));
        assert!(err("batch_size = { range = [0.5, 8] }").contains("whole"));
        assert!(err("lr = { between = [1, 2] }").contains("range or log_range"));
        assert!(err("lr = 0.1").contains("give a list"));
    }

    #[test]
    fn points_become_settings_and_options_follow_the_optimizer() {
        let base = TrainArgs {
            data: Some("a.csv".into()),
            epochs: Some(7),
            ..TrainArgs::default()
        };
        let point = |optimizer: &str| -> Point {
            vec![
                ("optimizer".into(), Value::Text(optimizer.into())),
                ("lr".into(), Value::Float(0.05)),
                ("momentum".into(), Value::Float(0.9)),
                ("nesterov".into(), Value::Bool(true)),
                ("batch_size".into(), Value::Int(16)),
            ]
        };
        let (args, applied) = trial_args(&base, &point("sgd")).unwrap();
        let plan = args.resolve().unwrap();
        assert_eq!(
            plan.config.optimizer,
            OptimizerConfig::sgd(0.05)
                .with_momentum(0.9)
                .unwrap()
                .with_nesterov(true)
                .unwrap()
        );
        assert_eq!(
            (plan.config.epochs, plan.config.batch_size, applied.len()),
            (7, 16, 5)
        );
        let (args, applied) = trial_args(&base, &point("adam")).unwrap();
        assert_eq!(
            (args.momentum, args.nesterov, applied.len()),
            (None, false, 3)
        );
        args.resolve().unwrap();
        assert_eq!(given_keys(&base), ["data", "epochs"]);
    }
}
