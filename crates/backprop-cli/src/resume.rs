//! The rules of `train --resume`: every setting is either applied to the resumed run (the
//! learning rate, epochs, patience, threads) or refused with a message naming the flag and
//! the checkpoint's value (layers, activation, loss, optimizer kind; the data and the
//! preprocessing are checked by the caller).

use anyhow::bail;
use backprop::optim::OptimizerConfig;
use backprop::train::TrainState;
use backprop::{Architecture, Loss};
use backprop_data::Model;

use crate::train_args::TrainPlan;

/// The key, inside a checkpoint's `training` metadata, with the run's optimizer settings.
pub const OPTIMIZER_KEY: &str = "optimizer";

/// Checks `plan` (whose network is `arch`, trained with `loss`) against the checkpoint
/// (`model`, `state`) and applies what can be applied:
/// an explicit `--lr` becomes the rate the schedule continues from; without it the
/// checkpoint's optimizer settings are used. Returns the header's line about the resume.
///
/// # Errors
/// `nothing to train` when the checkpoint is at or past `--epochs`; a flag whose value the
/// checkpoint cannot continue with, naming both values.
pub fn apply(
    plan: &mut TrainPlan,
    arch: &Architecture,
    loss: &Loss,
    model: &Model,
    state: &mut TrainState,
) -> anyhow::Result<String> {
    let at = state.next_epoch.saturating_sub(1);
    if state.next_epoch > plan.config.epochs {
        bail!(
            "nothing to train: the checkpoint is at epoch {at} and --epochs is {}; give \
             --epochs above {at} to train more",
            plan.config.epochs
        );
    }
    let saved = &model.metadata.architecture;
    let widths = |a: &Architecture| {
        a.hidden
            .iter()
            .map(|l| l.units.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    if widths(saved) != widths(arch) {
        bail!(
            "--layers {}: the checkpoint's network has hidden layers {}; resume with --layers {}",
            widths(arch),
            widths(saved),
            widths(saved)
        );
    }
    if let Some((now, then)) = arch
        .hidden
        .iter()
        .zip(&saved.hidden)
        .find(|(now, then)| now.activation != then.activation)
    {
        bail!(
            "--activation {}: the checkpoint was trained with {}; resume with --activation {}",
            now.activation,
            then.activation,
            then.activation
        );
    }
    let saved_loss = &model.metadata.loss;
    if saved_loss != loss {
        bail!(
            "--loss {}: the checkpoint was trained with the loss {}; resume with --loss {}",
            loss.name(),
            saved_loss.name(),
            saved_loss.name()
        );
    }
    let mut applied = Vec::new();
    let saved_optimizer: Option<OptimizerConfig> = model
        .metadata
        .training
        .get(OPTIMIZER_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    if let Some(saved_optimizer) = saved_optimizer {
        let (now, then) = (plan.config.optimizer.name(), saved_optimizer.name());
        if now != then {
            bail!(
                "--optimizer {now}: the checkpoint was trained with {then}, and its state holds \
                 {then}'s buffers; resume with --optimizer {then} (or start a new run)"
            );
        }
        let lr = plan.config.optimizer.lr();
        if plan.lr_given && lr != saved_optimizer.lr() {
            state.scheduler.lr = lr;
            applied.push(format!(
                "lr {lr} (the checkpoint's was {}; the schedule continues from {lr})",
                saved_optimizer.lr()
            ));
            plan.config.optimizer = saved_optimizer.with_lr(lr);
        } else {
            plan.config.optimizer = saved_optimizer;
            applied.push(format!("the checkpoint's lr {}", state.scheduler.lr));
        }
    }
    applied.push(format!("epochs {}", plan.config.epochs));
    let patience = plan
        .config
        .early_stopping
        .as_ref()
        .map_or(0, |e| e.patience);
    applied.push(format!("patience {patience}"));
    if let Some(threads) = plan.config.threads {
        applied.push(format!("threads {threads}"));
    }
    Ok(format!(
        "resume     {} after epoch {at}: {}",
        plan.resume
            .as_ref()
            .map_or(String::new(), |d| d.display().to_string()),
        applied.join(", ")
    ))
}
