//! The examples that end each command's `--help`, and the short usage bare `backprop` prints.

/// Bare `backprop`: the most common commands, then where to find everything.
pub const SHORT_USAGE: &str = "\
backprop: train, evaluate and use multilayer perceptrons from CSV, IDX and NumPy data

Usage: backprop <COMMAND> [OPTIONS]

Common commands:
  train     Train a network on a dataset and save it
  eval      Score a saved model on labelled data
  predict   Write a saved model's predictions as CSV
  inspect   Describe a saved model
  tune      Search for good training settings
  studio    Watch and steer training in the browser
  datasets  List the built-in datasets

Start with:  backprop train builtin:iris
Everything:  backprop help    (or backprop help COMMAND, backprop COMMAND --help)";

/// `backprop train --help`.
pub const TRAIN: &str = "\
Examples:
  backprop train builtin:iris
  backprop train houses.csv --target price --layers 64,32 --val-fraction 0.2 --plot loss.png
  backprop train data.csv --config settings.toml --epochs 50   (flags win over the file)
  backprop config --example > settings.toml                    (every key, its default)";

/// `backprop cv --help`.
pub const CV: &str = "\
Examples:
  backprop cv builtin:iris
  backprop cv data.csv --target label --folds 10 --repeats 3 --layers 32";

/// `backprop tune --help`.
pub const TUNE: &str = "\
Examples:
  backprop tune builtin:iris --trials 30
  backprop tune data.csv --target y --time 10m --save best.safetensors
  backprop tune data.csv --space space.toml --log trials.csv";

/// `backprop eval --help`.
pub const EVAL: &str = "\
Examples:
  backprop eval model.safetensors test.csv
  backprop eval model.safetensors test.csv --json";

/// `backprop predict --help`.
pub const PREDICT: &str = "\
Examples:
  backprop predict model.safetensors new.csv > predictions.csv
  backprop predict model.safetensors new.csv --proba -o predictions.csv
  backprop predict model.safetensors new.csv --precision full";

/// `backprop serve --help`.
pub const SERVE: &str = "\
Examples:
  backprop serve model.safetensors
  backprop serve iris=iris.safetensors houses=houses.safetensors --port 9000 --log info
  curl -d '{\"inputs\": [[5.1, 3.5, 1.4, 0.2]]}' localhost:8080/invocations";

/// `backprop studio --help`.
pub const STUDIO: &str = "\
Examples:
  backprop studio --open
  backprop studio --port 9000
  then http://127.0.0.1:8090/?dataset=spirals&features=x,y,sinx,siny&layers=8,8";

/// `backprop inspect --help`.
pub const INSPECT: &str = "\
Examples:
  backprop inspect model.safetensors
  backprop inspect model.safetensors --json";

/// `backprop export --help`.
pub const EXPORT: &str = "\
Examples:
  backprop export model.safetensors -o model.onnx
  backprop export model.safetensors -o state_dict.pt";

/// `backprop gradcheck --help`.
pub const GRADCHECK: &str = "\
Examples:
  backprop gradcheck
  backprop gradcheck --layers 4,16,16,1 --activation gelu --loss mse";

/// `backprop datasets --help`.
pub const DATASETS: &str = "\
Examples:
  backprop datasets
  backprop train builtin:mnist10k";

/// `backprop completions --help`.
pub const COMPLETIONS: &str = "\
Examples:
  source <(backprop completions bash)                       (bash, this session)
  backprop completions bash > ~/.local/share/bash-completion/completions/backprop
  backprop completions zsh > ~/.zfunc/_backprop               (with fpath+=~/.zfunc)
  backprop completions fish > ~/.config/fish/completions/backprop.fish";

/// `backprop man --help`.
pub const MAN: &str = "\
Examples:
  backprop man | man -l -
  backprop man train | man -l -
  man -l <(backprop man tune)";

/// `backprop config --help`.
pub const CONFIG: &str = "\
Examples:
  backprop config --example > settings.toml
  backprop train data.csv --config settings.toml";
