//! The settings of a playground run, as the page's query string spells them (the same keys
//! as the page's URL, so a link reproduces a run), checked and turned into the engine's data,
//! network and training configuration.

use backprop::datasets::{self, Synthetic};
use backprop::optim::OptimizerConfig;
use backprop::train::{EarlyStopping, TrainConfig, Validation};
use backprop::{Activation, Architecture, Loss, OutputActivation};
use backprop_data::plane::PlaneFeature;
use serde::Deserialize;

/// The most points a playground dataset may have.
pub const MAX_POINTS: usize = 5_000;
/// The most epochs a playground run may ask for.
pub const MAX_EPOCHS: usize = 100_000;
/// The most hidden layers, and units in one (TensorFlow Playground: 6 of 8).
pub const MAX_LAYERS: usize = 6;
/// The most units in a hidden layer.
pub const MAX_UNITS: usize = 64;

/// A playground run's settings; every key has a default.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `xor`, `moons`, `circles`, `spirals` or `regression`.
    pub dataset: String,
    /// Number of points.
    pub points: usize,
    /// The generator's noise.
    pub noise: f64,
    /// Share of the points that train (the others validate), in (0, 1).
    pub train: f64,
    /// Input features, comma-separated (`x,y,x2,y2,xy,sinx,siny,cosx,cosy`).
    pub features: String,
    /// Hidden layer widths, comma-separated (empty: none).
    pub layers: String,
    /// Hidden activation: `tanh`, `relu`, `sigmoid`, `identity`, ...
    pub activation: String,
    /// Optimizer: `sgd`, `momentum`, `adam`, ...
    pub optimizer: String,
    /// Learning rate.
    pub lr: f64,
    /// Batch size.
    pub batch: usize,
    /// L2 penalty.
    pub l2: f64,
    /// Dropout rate of the hidden layers.
    pub dropout: f64,
    /// Seed of the data, the split, the initial weights and the shuffling.
    pub seed: u64,
    /// Epochs to run (the run can be paused or stopped before).
    pub epochs: usize,
    /// The most epochs a second, so that a run can be watched (0: as fast as it goes). Not
    /// a training setting: the bits are the same at any speed.
    pub speed: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dataset: "spirals".to_string(),
            points: 500,
            noise: 0.1,
            train: 0.5,
            features: "x,y".to_string(),
            layers: "8,8".to_string(),
            activation: "tanh".to_string(),
            optimizer: "adam".to_string(),
            lr: 0.03,
            batch: 10,
            l2: 0.0,
            dropout: 0.0,
            seed: 1,
            epochs: 2_000,
            speed: 30.0,
        }
    }
}

/// A run, ready to train.
pub struct Plan {
    /// The generated points (pairs `x, y`) and their targets.
    pub data: Synthetic,
    /// The input features of each point.
    pub features: Vec<PlaneFeature>,
    /// The network's shape.
    pub architecture: Architecture,
    /// The loss.
    pub loss: Loss,
    /// How it trains.
    pub config: TrainConfig,
    /// The share of the points that train.
    pub train_share: f64,
    /// The least time between two epochs (none: as fast as they go).
    pub pace: Option<std::time::Duration>,
}

impl Settings {
    /// Checks the settings and makes the run's data, network shape and configuration; the
    /// error names the setting and its value.
    pub fn plan(&self) -> Result<Plan, String> {
        if !(2..=MAX_POINTS).contains(&self.points) {
            return Err(format!("points={}: give 2 to {MAX_POINTS}", self.points));
        }
        if !(0.0..=10.0).contains(&self.noise) {
            return Err(format!("noise={}: give a number from 0 to 10", self.noise));
        }
        if !(self.train > 0.0 && self.train < 1.0) {
            return Err(format!(
                "train={}: give a share strictly between 0 and 1",
                self.train
            ));
        }
        let n = self.points;
        let data = match self.dataset.as_str() {
            "xor" => datasets::xor(n, self.noise, self.seed),
            "moons" => datasets::moons(n, self.noise, self.seed),
            "circles" => datasets::circles(n, self.noise, 0.5, self.seed),
            "spirals" => datasets::spirals(n.div_ceil(2), 2, self.noise, self.seed),
            "regression" => datasets::regression(n, 2, self.noise, self.seed),
            other => {
                return Err(format!(
                    "dataset={other:?}: give xor, moons, circles, spirals or regression"
                ))
            }
        };
        let features = self
            .features
            .split(',')
            .filter(|f| !f.trim().is_empty())
            .map(|f| f.trim().parse::<PlaneFeature>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("features={:?}: {e}", self.features))?;
        if features.is_empty() {
            return Err("features=\"\": give at least one input feature".to_string());
        }
        let layers = self
            .layers
            .split(',')
            .filter(|w| !w.trim().is_empty())
            .map(|w| {
                w.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|u| (1..=MAX_UNITS).contains(u))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                format!(
                    "layers={:?}: give widths of 1 to {MAX_UNITS}, comma-separated",
                    self.layers
                )
            })?;
        if layers.len() > MAX_LAYERS {
            return Err(format!(
                "layers={:?}: at most {MAX_LAYERS} hidden layers",
                self.layers
            ));
        }
        let activation: Activation = self
            .activation
            .parse()
            .map_err(|e| format!("activation={:?}: {e}", self.activation))?;
        let optimizer = OptimizerConfig::by_name(&self.optimizer)
            .map_err(|e| format!("optimizer={:?}: {e}", self.optimizer))?;
        if !(self.lr > 0.0 && self.lr <= 10.0) {
            return Err(format!("lr={}: give a rate above 0, at most 10", self.lr));
        }
        if !(0.0..=100_000.0).contains(&self.speed) {
            return Err(format!(
                "speed={}: give 0 (no limit) to 100000 epochs a second",
                self.speed
            ));
        }
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return Err(format!("epochs={}: give 1 to {MAX_EPOCHS}", self.epochs));
        }
        let (outputs, output, loss) = match &data.targets {
            datasets::SyntheticTargets::Classes { classes, .. } => {
                (*classes, OutputActivation::Softmax, Loss::cross_entropy())
            }
            datasets::SyntheticTargets::Values { outputs, .. } => {
                (*outputs, OutputActivation::Identity, Loss::Mse)
            }
        };
        let architecture = Architecture::new(features.len(), &layers, activation, outputs, output);
        architecture
            .validate()
            .map_err(|e| format!("layers={:?}: {e}", self.layers))?;
        let config = TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch,
            optimizer: optimizer.with_lr(self.lr),
            seed: self.seed,
            validation: Validation::None,
            early_stopping: None::<EarlyStopping>,
            dropout: self.dropout,
            l2_penalty: self.l2,
            // One thread: a playground network is far too small to split, and the bits are
            // the same on any number anyway.
            threads: Some(1),
            ..TrainConfig::default()
        };
        config.validate().map_err(|e| e.to_string())?;
        Ok(Plan {
            data,
            features,
            architecture,
            loss,
            config,
            train_share: self.train,
            pace: (self.speed > 0.0).then(|| std::time::Duration::from_secs_f64(1.0 / self.speed)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(query: &str) -> Result<Plan, String> {
        let settings: Settings = serde_urlencoded::from_str(query).map_err(|e| e.to_string())?;
        settings.plan()
    }

    #[test]
    fn defaults_plan_a_spirals_run() {
        let plan = Settings::default().plan().unwrap();
        assert_eq!(plan.data.rows(), 500);
        assert_eq!(plan.architecture.inputs, 2);
        assert_eq!(plan.architecture.outputs, 2);
        assert_eq!(plan.architecture.hidden.len(), 2);
    }

    #[test]
    fn bad_settings_name_the_key_and_value() {
        for (query, start) in [
            ("dataset=gauss", "dataset=\"gauss\": give xor"),
            (
                "features=x,zz",
                "features=\"x,zz\": unknown input feature \"zz\"",
            ),
            ("layers=8,0", "layers=\"8,0\": give widths of 1 to 64"),
            (
                "layers=1,1,1,1,1,1,1",
                "layers=\"1,1,1,1,1,1,1\": at most 6",
            ),
            ("activation=swish2", "activation=\"swish2\": "),
            ("lr=0", "lr=0: give a rate above 0"),
            ("points=1", "points=1: give 2 to 5000"),
            ("train=1", "train=1: give a share strictly between 0 and 1"),
            ("epochs=0", "epochs=0: give 1 to 100000"),
            ("speed=-1", "speed=-1: give 0 (no limit)"),
        ] {
            let err = with(query).err().unwrap_or_default();
            assert!(err.starts_with(start), "{query}: {err}");
        }
        assert!(with("layers=&features=x2,y2,xy&dataset=circles").is_ok());
    }
}
