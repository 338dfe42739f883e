//! `--plot`: the curves of a training run, drawn with plotters as SVG or PNG: the loss per
//! epoch (top panel; on a log scale when it spans more than a decade) and the accuracy
//! (classification) or R² (regression) per epoch (bottom panel, on an axis fitted to its
//! values), each for the training and the validation rows, with a marker at the kept epoch.
//! The title names the data, the network and the optimizer; a line under it says how many
//! epochs ran, which one was kept and whether patience stopped the run early.
//!
//! The text is drawn with a font built into the binary ([`font`]), so a machine without any
//! installed fonts draws the same picture.

mod chart;
mod font;
mod ticks;

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use backprop::train::{EpochInfo, TrainReport};
use backprop::Architecture;
use plotters::prelude::*;

/// Size of the picture in pixels.
pub const WIDTH: u32 = 900;
/// Height of the picture in pixels.
pub const HEIGHT: u32 = 650;

/// The image formats `--plot` writes, told by the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotFormat {
    /// `.svg`
    Svg,
    /// `.png`
    Png,
}

/// The format for `path`, or an error for any other extension (checked before training).
pub fn format_of(path: &Path) -> anyhow::Result<PlotFormat> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("svg") => Ok(PlotFormat::Svg),
        Some("png") => Ok(PlotFormat::Png),
        _ => bail!(
            "--plot {}: the file name must end in .svg or .png",
            path.display()
        ),
    }
}

/// A curve's `(epoch, value)` points.
type Points = Vec<(f64, f64)>;

/// The score drawn in the bottom panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    /// Classification: the fraction of rows classified right.
    Accuracy,
    /// Regression: the coefficient of determination.
    R2,
}

/// What a plot shows: a run's history and what to say about it.
#[derive(Clone, Debug)]
pub struct Curves<'a> {
    /// The title: `iris.csv · 4-16-3 relu · adam`.
    pub title: String,
    /// The line under the title: epochs run, the kept epoch, an early stop.
    pub subtitle: String,
    /// The epochs, in order.
    pub history: &'a [EpochInfo],
    /// The bottom panel's score.
    pub score: Score,
    /// The training rows' R² per epoch (regression; the engine reports the training
    /// accuracy itself), aligned with `history`; empty when not measured.
    pub train_r2: &'a [Option<f64>],
    /// The epoch whose weights were kept, marked on the curves.
    pub kept_epoch: Option<usize>,
    /// Whether the training loss includes an L2 penalty (said in the legend: it lifts the
    /// training curve above the validation one).
    pub penalized: bool,
}

impl Curves<'_> {
    /// The training and validation score per epoch, as `(epoch, value)` points.
    fn scores(&self) -> (Points, Points) {
        let train = self.history.iter().enumerate().filter_map(|(i, h)| {
            let value = match self.score {
                Score::Accuracy => h.train_accuracy,
                Score::R2 => self.train_r2.get(i).copied().flatten(),
            };
            value.map(|v| (h.epoch as f64, v))
        });
        let val = self.history.iter().filter_map(|h| {
            let value = match self.score {
                Score::Accuracy => h.val_accuracy,
                Score::R2 => h.val_r2,
            };
            value.map(|v| (h.epoch as f64, v))
        });
        (finite(train), finite(val))
    }

    /// The training and validation loss per epoch.
    fn losses(&self) -> (Points, Points) {
        let train = self.history.iter().map(|h| (h.epoch as f64, h.train_loss));
        let val = self
            .history
            .iter()
            .filter_map(|h| h.val_loss.map(|l| (h.epoch as f64, l)));
        (finite(train), finite(val))
    }
}

/// The title of a run's plot: the data's file name, the layer widths with the hidden
/// activation, and the optimizer: `iris.csv · 4-16-3 relu · adam`.
pub fn title(data: &str, arch: &Architecture, optimizer: &str) -> String {
    let name = data.rsplit(['/', '\\']).next().unwrap_or(data);
    let widths: Vec<String> = std::iter::once(arch.inputs)
        .chain(arch.hidden.iter().map(|layer| layer.units))
        .chain(std::iter::once(arch.outputs))
        .map(|w| w.to_string())
        .collect();
    let activation = arch
        .hidden
        .first()
        .map_or_else(String::new, |layer| format!(" {}", layer.activation));
    format!("{name} · {}{activation} · {optimizer}", widths.join("-"))
}

/// The line under the title: `47 of 200 epochs · stopped early (patience 10) · kept epoch 37`.
pub fn subtitle(report: &TrainReport, max_epochs: usize, patience: usize) -> String {
    let ran = report.history.len();
    let mut parts = vec![if ran == max_epochs {
        format!("{ran} epochs")
    } else {
        format!("{ran} of {max_epochs} epochs")
    }];
    if report.stopped_early && report.unfinished_epoch.is_none() && patience > 0 {
        parts.push(format!("stopped early (patience {patience})"));
    }
    if report.unfinished_epoch.is_some() {
        parts.push("interrupted".to_string());
    }
    if let Some(kept) = report.kept_epoch() {
        let monitored = match report.history.last().and_then(|e| e.val_loss) {
            Some(_) => "validation",
            None => "training",
        };
        if report.restored_best {
            parts.push(format!("kept epoch {kept} (lowest {monitored} loss)"));
        } else {
            parts.push(format!("kept epoch {kept}"));
        }
    }
    parts.join(" · ")
}

/// Draws `curves` to `path` (SVG or PNG by extension).
pub fn draw(path: &Path, curves: &Curves<'_>) -> anyhow::Result<()> {
    let context = || format!("cannot draw the plot {}", path.display());
    font::register().with_context(context)?;
    match format_of(path)? {
        PlotFormat::Svg => {
            let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            chart::picture(&root, curves).with_context(context)?;
            root.present()
                .map_err(|e| anyhow!("{e}"))
                .with_context(context)
        }
        PlotFormat::Png => {
            let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            chart::picture(&root, curves).with_context(context)?;
            root.present()
                .map_err(|e| anyhow!("{e}"))
                .with_context(context)
        }
    }
}

/// The points whose values are finite (a diverged epoch is left out rather than breaking the
/// axis range).
fn finite(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    points.filter(|p| p.1.is_finite()).collect()
}
