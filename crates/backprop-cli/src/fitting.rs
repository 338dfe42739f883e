//! From a plan and a table to a trained network, with nothing printed or saved: the part of
//! `backprop train` that `cv` (one run per fold) and `tune` (one run per trial) share.

use backprop::train::{fit, Observer, TrainConfig, TrainReport, TrainState};
use backprop::{Architecture, Dataset, Init, Loss, Network};
use backprop_data::{EncodedTargets, ModelMetadata, Preprocessor, Table};
use serde_json::Value;

use crate::train_args::{choose_loss, TrainPlan};

/// A table turned into training inputs: the preprocessing fitted on it, the loss and network
/// shape the task calls for, and the encoded rows.
pub struct Prepared {
    /// The model's metadata (its `training` summary still empty).
    pub metadata: ModelMetadata,
    /// The encoded features, row-major.
    pub x: Vec<f32>,
    /// The targets in the form the loss takes them.
    pub y: EncodedTargets,
    /// Rows of `x`.
    pub rows: usize,
    /// What the preprocessing decided (filled gaps, columns left out, ...), one line each.
    pub notes: Vec<String>,
}

impl Prepared {
    /// Fits the preprocessing of `plan` on `table`, picks the loss and output layer from the
    /// task, builds the architecture and encodes the rows.
    pub fn new(plan: &TrainPlan, table: &Table) -> anyhow::Result<Self> {
        let (pre, fit_notes) = Preprocessor::fit(table, &plan.fit)?;
        let notes = fit_notes.iter().map(ToString::to_string).collect();
        let classes = pre.target.classes().map_or(0, <[String]>::len);
        let (loss, outputs) = choose_loss(pre.target.task(), classes, plan.loss)?;
        let encoded = pre.encode(table)?;
        let targets = encoded
            .targets
            .as_ref()
            .expect("a training table has its target");
        let y = pre.target.network_targets(targets, &loss)?;
        let arch = Architecture::new(
            pre.inputs(),
            &plan.layers,
            plan.activation,
            outputs,
            loss.output_activation(),
        );
        arch.validate()?;
        Ok(Self {
            metadata: ModelMetadata::new(arch, loss, pre, Value::Null),
            x: encoded.x,
            y,
            rows: encoded.rows,
            notes,
        })
    }

    /// The network's shape.
    pub fn architecture(&self) -> &Architecture {
        &self.metadata.architecture
    }

    /// The shape of a network with the hidden layers and activation of `plan` on these
    /// inputs and outputs (a `tune` trial's network on the shared data).
    pub fn architecture_for(&self, plan: &TrainPlan) -> anyhow::Result<Architecture> {
        let arch = self.architecture();
        let arch = Architecture::new(
            arch.inputs,
            &plan.layers,
            plan.activation,
            arch.outputs,
            arch.output,
        );
        arch.validate()?;
        Ok(arch)
    }

    /// The training loss.
    pub fn loss(&self) -> &Loss {
        &self.metadata.loss
    }

    /// The rows as the engine's training data.
    pub fn dataset(&self) -> anyhow::Result<Dataset<'_, f32>> {
        Ok(Dataset::new(
            &self.x,
            self.metadata.preprocessing.inputs(),
            self.y.as_targets(),
        )?)
    }

    /// A freshly initialized network of this shape, from the run's seed.
    pub fn fresh_network(&self, config: &TrainConfig) -> anyhow::Result<Network<f32>> {
        Ok(Network::new(
            self.architecture().clone(),
            Init::Auto,
            config.seed,
        )?)
    }

    /// Trains `net` on these rows with `config` (continuing from `resume` if given).
    pub fn train(
        &self,
        net: &mut Network<f32>,
        config: &TrainConfig,
        resume: Option<&TrainState>,
        observer: &mut dyn Observer<f32>,
    ) -> anyhow::Result<TrainReport> {
        let data = self.dataset()?;
        let loss = self.loss();
        Ok(match resume {
            Some(state) => {
                backprop::train::fit_resume(net, loss, data, None, config, state, observer)?
            }
            None => fit(net, loss, data, None, config, observer)?,
        })
    }
}

/// A network trained quietly on a table.
pub struct Fitted {
    /// Its metadata (preprocessing fitted on the table; `training` summary empty).
    pub metadata: ModelMetadata,
    /// The trained network.
    pub network: Network<f32>,
    /// What training did.
    pub report: TrainReport,
}

/// Fits the preprocessing of `plan` on `table` and trains a fresh network on it with
/// `config` (the plan's, or a variation of it; the settings the plan leaves to the data are
/// filled in from `table`, see [`TrainPlan::settled`]), printing nothing; `observer` may stop
/// it.
pub fn fit_table(
    plan: &TrainPlan,
    config: &TrainConfig,
    table: &Table,
    observer: &mut dyn Observer<f32>,
) -> anyhow::Result<Fitted> {
    let prepared = Prepared::new(plan, table)?;
    let task = prepared.metadata.preprocessing.target.task();
    let (config, _) = plan.settled(config, prepared.rows, task);
    let config = &config;
    let mut network = prepared.fresh_network(config)?;
    let report = prepared.train(&mut network, config, None, observer)?;
    Ok(Fitted {
        metadata: prepared.metadata,
        network,
        report,
    })
}
