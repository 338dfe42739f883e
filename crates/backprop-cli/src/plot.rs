//! `--plot`: training and validation loss per epoch (top panel) and validation accuracy
//! (bottom panel, classification with validation data), drawn with plotters as SVG or PNG.
//!
//! Axis labels, captions and the legend need a font. Where none can be found (a bare CI
//! machine) the chart is drawn without text: the same curves and frame, train loss in blue,
//! validation loss in orange, accuracy in green. `BACKPROP_PLOT_NO_TEXT=1` forces that mode.

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use backprop::train::EpochInfo;
use plotters::coord::Shift;
use plotters::prelude::*;

const WIDTH: u32 = 800;
const HEIGHT: u32 = 600;
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VAL: RGBColor = RGBColor(255, 127, 14);
const ACCURACY: RGBColor = RGBColor(44, 160, 44);

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

/// Draws the curves of `history` to `path` (SVG or PNG by extension).
pub fn draw(path: &Path, history: &[EpochInfo]) -> anyhow::Result<()> {
    let context = || format!("cannot draw the plot {}", path.display());
    let text = fonts_available();
    match format_of(path)? {
        PlotFormat::Svg => {
            let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            panels(&root, history, text).with_context(context)?;
            root.present()
                .map_err(|e| anyhow!("{e}"))
                .with_context(context)
        }
        PlotFormat::Png => {
            let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
            panels(&root, history, text).with_context(context)?;
            root.present()
                .map_err(|e| anyhow!("{e}"))
                .with_context(context)
        }
    }
}

/// Whether text can be drawn: a font for `sans-serif` can be found and measured.
fn fonts_available() -> bool {
    if std::env::var_os("BACKPROP_PLOT_NO_TEXT").is_some_and(|v| v != "0") {
        return false;
    }
    ("sans-serif", 14).into_font().box_size("0.5").is_ok()
}

fn panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    history: &[EpochInfo],
    text: bool,
) -> anyhow::Result<()> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e}");
    root.fill(&WHITE).map_err(err)?;
    let accuracy: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|h| h.val_accuracy.map(|a| (h.epoch as f64, a)))
        .collect();
    let train: Vec<(f64, f64)> = finite(history.iter().map(|h| (h.epoch as f64, h.train_loss)));
    let val: Vec<(f64, f64)> = finite(
        history
            .iter()
            .filter_map(|h| h.val_loss.map(|l| (h.epoch as f64, l))),
    );
    let (top, bottom) = if accuracy.is_empty() {
        (root.clone(), None)
    } else {
        let (top, bottom) = root.split_vertically(HEIGHT * 3 / 5);
        (top, Some(bottom))
    };
    let epochs = history.len().max(2) as f64;
    let x_range = 1.0..epochs;
    let high = train
        .iter()
        .chain(&val)
        .map(|p| p.1)
        .fold(0.0f64, f64::max)
        .max(1e-12)
        * 1.05;
    let mut chart = builder(&top, text, "loss per epoch")
        .build_cartesian_2d(x_range.clone(), 0.0..high)
        .map_err(err)?;
    frame(&mut chart, text, "loss").map_err(err)?;
    let series = [
        (&train, TRAIN, "train loss"),
        (&val, VAL, "validation loss"),
    ];
    for (points, color, label) in series {
        if points.is_empty() {
            continue;
        }
        let drawn = chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(err)?;
        if text {
            drawn
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
        }
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    if let Some(bottom) = bottom {
        let mut chart = builder(&bottom, text, "validation accuracy")
            .build_cartesian_2d(x_range, 0.0..1.0)
            .map_err(err)?;
        frame(&mut chart, text, "accuracy").map_err(err)?;
        chart
            .draw_series(LineSeries::new(accuracy, ACCURACY.stroke_width(2)))
            .map_err(err)?;
    }
    Ok(())
}

/// A chart builder with room for labels and a caption when text is drawn.
fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    text: bool,
    caption: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder.margin(15);
    if text {
        builder
            .caption(caption, ("sans-serif", 18))
            .x_label_area_size(35)
            .y_label_area_size(55);
    }
    builder
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Axes with labels when text is drawn; a plain frame otherwise.
fn frame<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    text: bool,
    y_desc: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if text {
        chart.configure_mesh().x_desc("epoch").y_desc(y_desc).draw()
    } else {
        let (x, y) = (chart.x_range(), chart.y_range());
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x.start, y.start), (x.end, y.end)],
                BLACK.stroke_width(1),
            )))
            .map(|_| ())
    }
}

/// The points whose values are finite (a diverged epoch is left out rather than breaking the
/// axis range).
fn finite(points: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    points.filter(|p| p.1.is_finite()).collect()
}
