//! The picture: a title band, the loss panel and the score panel, each with the training and
//! validation curves, round ticks ([`super::ticks`]) and a marker at the kept epoch. Label
//! areas are sized from the measured width of their labels, so no label is cut off whatever
//! the values' magnitude.

use std::ops::Range;

use anyhow::anyhow;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::FAMILY;
use super::ticks::{self, Ticks};
use super::{Curves, Score, HEIGHT, WIDTH};

const TRAIN: RGBColor = RGBColor(31, 119, 180);
const VAL: RGBColor = RGBColor(255, 127, 14);
const KEPT: RGBColor = RGBColor(44, 160, 44);
const GRID: RGBColor = RGBColor(228, 228, 228);
const GREY: RGBColor = RGBColor(90, 90, 90);
/// Font size of tick labels, legends and axis descriptions (plotters' size: pixels × 1.24).
const LABEL: u32 = 16;
/// Height of the title band (title, subtitle, legend).
const HEADER: u32 = 100;
/// Curves with at most this many epochs also get a dot per epoch.
const DOTS_UP_TO: usize = 25;

type AreaError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;

/// One axis: its range in drawing coordinates, its ticks and its description.
struct Axis {
    range: Range<f64>,
    ticks: Ticks,
    desc: &'static str,
    /// Values are drawn at log10(value).
    log: bool,
}

impl Axis {
    fn ranged(&self) -> Ticked {
        Ticked {
            range: self.range.clone(),
            ticks: self.ticks.positions.clone(),
        }
    }

    fn at(&self, value: f64) -> f64 {
        if self.log {
            value.log10()
        } else {
            value
        }
    }
}

/// A linear coordinate whose grid lines and labels are exactly the given ticks (plotters'
/// own `f64` ranges choose their own).
struct Ticked {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let fraction = (value - self.range.start) / span;
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // No light grid lines between the ticks.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// One panel's curves.
struct Panel<'a> {
    y: Axis,
    train: &'a [(f64, f64)],
    val: &'a [(f64, f64)],
}

/// Draws the whole picture of `curves` on `root`.
pub fn picture<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    curves: &Curves<'_>,
) -> anyhow::Result<()> {
    let err = |e: AreaError<DB>| anyhow!("{e}");
    root.fill(&WHITE).map_err(err)?;
    let (band, body) = root.split_vertically(HEADER);
    header(&band, curves).map_err(err)?;
    let x = epoch_axis(curves.history.len());
    let (train_loss, val_loss) = curves.losses();
    let losses = Panel {
        y: loss_axis(train_loss.iter().chain(&val_loss).map(|p| p.1)),
        train: &train_loss,
        val: &val_loss,
    };
    let (train_score, val_score) = curves.scores();
    if train_score.is_empty() && val_score.is_empty() {
        let room = label_room(&[&losses]);
        return panel(&body, &x, &losses, curves.kept_epoch, room).map_err(err);
    }
    let (top, bottom) = body.split_vertically((HEIGHT - HEADER) * 11 / 20);
    let scores = Panel {
        y: score_axis(
            curves.score,
            train_score.iter().chain(&val_score).map(|p| p.1),
        ),
        train: &train_score,
        val: &val_score,
    };
    // One width for both panels' label areas, so that their epochs line up.
    let room = label_room(&[&losses, &scores]);
    panel(&top, &x, &losses, curves.kept_epoch, room).map_err(err)?;
    panel(&bottom, &x, &scores, curves.kept_epoch, room).map_err(err)
}

/// The width of the value axis's label area: the widest tick label of `panels`, the tick
/// marks and the axis description.
fn label_room(panels: &[&Panel<'_>]) -> u32 {
    let widest = panels
        .iter()
        .flat_map(|p| &p.y.ticks.labels)
        .map(|l| width(l, LABEL))
        .max();
    widest.unwrap_or(0) + 44
}

/// The title and the line under it, centred, shrunk to fit the width.
fn header<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &Curves<'_>,
) -> Result<(), AreaError<DB>> {
    let centre = WIDTH as i32 / 2;
    let top = Pos::new(HPos::Center, VPos::Top);
    // Measured with the regular face: an SVG viewer's bold is up to a tenth wider.
    let (title, size) = fitted_text(&curves.title, 28, (WIDTH - 30) * 10 / 11);
    let style = (FAMILY, size).into_font().style(FontStyle::Bold);
    area.draw(&Text::new(
        title,
        (centre, 12),
        style.color(&BLACK).pos(top),
    ))?;
    let (subtitle, size) = fitted_text(&curves.subtitle, 18, WIDTH - 30);
    let style = (FAMILY, size).into_font().color(&GREY).pos(top);
    area.draw(&Text::new(subtitle, (centre, 46), style))?;
    legend(area, curves, 82)
}

/// One legend for both panels, centred on the row `y`: the training and validation lines (the
/// latter only with validation data) and the kept epoch's ring.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &Curves<'_>,
    y: i32,
) -> Result<(), AreaError<DB>> {
    const SWATCH: i32 = 24;
    const GAP: i32 = 28;
    let validation = curves.history.iter().any(|h| h.val_loss.is_some());
    let mut items = vec![(TRAIN, "train".to_string(), false)];
    if validation {
        items.push((VAL, "validation".to_string(), false));
    }
    if let Some(kept) = curves.kept_epoch {
        items.push((KEPT, format!("kept epoch {kept}"), true));
    }
    let widths: Vec<i32> = items
        .iter()
        .map(|(_, label, _)| SWATCH + 8 + width(label, LABEL) as i32)
        .collect();
    let aside = "(train loss includes the L2 penalty)";
    let aside_width = if curves.penalized {
        GAP + width(aside, LABEL) as i32
    } else {
        0
    };
    let total = widths.iter().sum::<i32>() + GAP * (items.len() as i32 - 1) + aside_width;
    let mut x = (WIDTH as i32 - total) / 2;
    let left = Pos::new(HPos::Left, VPos::Center);
    for ((color, label, ring), w) in items.iter().zip(&widths) {
        if *ring {
            area.draw(&Circle::new((x + SWATCH / 2, y), 6, color.stroke_width(2)))?;
        } else {
            area.draw(&PathElement::new(
                [(x, y), (x + SWATCH, y)],
                color.stroke_width(3),
            ))?;
        }
        let style = (FAMILY, LABEL).into_font().color(&BLACK).pos(left);
        area.draw(&Text::new(label.clone(), (x + SWATCH + 8, y), style))?;
        x += w + GAP;
    }
    if curves.penalized {
        let style = (FAMILY, LABEL).into_font().color(&GREY).pos(left);
        area.draw(&Text::new(aside, (x, y), style))?;
    }
    Ok(())
}

/// One panel: frame, ticks, curves, kept-epoch marker and legend.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &Axis,
    panel: &Panel<'_>,
    kept: Option<usize>,
    label_room: u32,
) -> Result<(), AreaError<DB>> {
    let y = &panel.y;
    let mut chart = ChartBuilder::on(area)
        .margin_top(10)
        .margin_bottom(6)
        .margin_left(12)
        .margin_right(28)
        .x_label_area_size(48)
        .y_label_area_size(label_room)
        .build_cartesian_2d(x.ranged(), y.ranged())?;
    let x_label = |v: &f64| x.ticks.label_at(*v);
    let y_label = |v: &f64| y.ticks.label_at(*v);
    chart
        .configure_mesh()
        .x_desc(x.desc)
        .y_desc(y.desc)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style((FAMILY, LABEL))
        .axis_desc_style((FAMILY, LABEL))
        .bold_line_style(GRID)
        .draw()?;
    if let Some(kept) = kept {
        let k = kept as f64;
        let line = [(k, y.range.start), (k, y.range.end)];
        chart.draw_series(DashedLineSeries::new(line, 6, 5, KEPT.stroke_width(1)))?;
    }
    for (points, color) in [(panel.train, TRAIN), (panel.val, VAL)] {
        if points.is_empty() {
            continue;
        }
        let drawn: Vec<(f64, f64)> = points.iter().map(|&(e, v)| (e, y.at(v))).collect();
        chart.draw_series(LineSeries::new(drawn.clone(), color.stroke_width(2)))?;
        if drawn.len() <= DOTS_UP_TO {
            chart.draw_series(drawn.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        }
    }
    if let Some(kept) = kept {
        let k = kept as f64;
        let rings: Vec<(f64, f64)> = [panel.train, panel.val]
            .iter()
            .filter_map(|points| points.iter().find(|p| p.0 == k))
            .map(|&(e, v)| (e, y.at(v)))
            .collect();
        chart.draw_series(
            rings
                .into_iter()
                .map(|p| Circle::new(p, 6, KEPT.stroke_width(2))),
        )?;
    }
    Ok(())
}

/// Epochs `1..=epochs` with a little room at both ends.
fn epoch_axis(epochs: usize) -> Axis {
    let n = epochs.max(1) as f64;
    let pad = if epochs <= 1 { 0.5 } else { (n - 1.0) * 0.02 };
    Axis {
        range: (1.0 - pad)..(n + pad),
        ticks: ticks::epoch_ticks(epochs),
        desc: "epoch",
        log: false,
    }
}

/// A log axis when the loss spans more than a decade (and stays above 0), else a linear one
/// fitted to the values.
fn loss_axis(values: impl Iterator<Item = f64>) -> Axis {
    let (min, max) = min_max(values).unwrap_or((0.0, 1.0));
    if min > 0.0 && max / min > 10.0 {
        let (lo, hi) = (min.log10(), max.log10());
        let pad = (hi - lo) * 0.05;
        let range = (lo - pad)..(hi + pad);
        Axis {
            ticks: ticks::log_ticks(10f64.powf(range.start), 10f64.powf(range.end)),
            range,
            desc: "loss (log scale)",
            log: true,
        }
    } else {
        fitted(min, max, "loss", min >= 0.0)
    }
}

/// Accuracy or R² on an axis fitted to the values (accuracy ticks stop at 1).
fn score_axis(score: Score, values: impl Iterator<Item = f64>) -> Axis {
    let (min, max) = min_max(values).unwrap_or((0.0, 1.0));
    match score {
        Score::Accuracy => {
            let mut axis = fitted(min, max, "accuracy", true);
            keep_ticks(&mut axis.ticks, |p| p <= 1.0 + 1e-9);
            axis
        }
        Score::R2 => fitted(min, max, "R²", false),
    }
}

/// A linear axis over `min..=max` with a margin, not below 0 when `non_negative`.
fn fitted(min: f64, max: f64, desc: &'static str, non_negative: bool) -> Axis {
    let span = max - min;
    let pad = if span > 0.0 {
        span * 0.08
    } else if max != 0.0 {
        max.abs() * 0.05
    } else {
        0.05
    };
    let mut low = min - pad;
    if non_negative && min >= 0.0 {
        low = low.max(0.0);
    }
    let high = max + pad;
    Axis {
        ticks: ticks::linear_ticks(low, high),
        range: low..high,
        desc,
        log: false,
    }
}

fn keep_ticks(ticks: &mut Ticks, keep: impl Fn(f64) -> bool) {
    let (positions, labels) = ticks
        .positions
        .iter()
        .zip(&ticks.labels)
        .filter(|(p, _)| keep(**p))
        .map(|(p, l)| (*p, l.clone()))
        .unzip();
    ticks.positions = positions;
    ticks.labels = labels;
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// The width of `text` in pixels at `size`, measured with the built-in font.
fn width(text: &str, size: u32) -> u32 {
    (FAMILY, size)
        .into_font()
        .box_size(text)
        .map_or(text.chars().count() as u32 * size * 3 / 5, |(w, _)| w)
}

/// `text` at the largest size from `size` down to 12 that fits in `room` pixels, cut at the
/// front (`…` first, keeping the end: the file name and the optimizer) if even 12 is too wide.
fn fitted_text(text: &str, size: u32, room: u32) -> (String, u32) {
    for size in (12..=size).rev() {
        if width(text, size) <= room {
            return (text.to_string(), size);
        }
    }
    let chars: Vec<char> = text.chars().collect();
    for start in 1..chars.len() {
        let cut = format!("…{}", chars[start..].iter().collect::<String>());
        if width(&cut, 12) <= room {
            return (cut, 12);
        }
    }
    (String::new(), 12)
}

#[cfg(test)]
mod tests {
    use backprop::train::EpochInfo;

    use super::*;

    fn epoch(epoch: usize, loss: f64, r2: Option<f64>) -> EpochInfo {
        EpochInfo {
            epoch,
            epochs: 5,
            train_loss: loss,
            train_accuracy: None,
            val_loss: Some(loss * 1.1),
            val_accuracy: None,
            val_r2: r2,
            lr: 1e-3,
            seconds: 0.1,
            samples_per_second: 1000.0,
        }
    }

    fn svg(history: &[EpochInfo], train_r2: &[Option<f64>]) -> String {
        super::super::font::register().unwrap();
        let curves = Curves {
            title: "t.csv · 2-8-1 relu · adam".into(),
            subtitle: "5 epochs".into(),
            history,
            score: Score::R2,
            train_r2,
            kept_epoch: history.last().map(|h| h.epoch),
            penalized: false,
        };
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
            picture(&root, &curves).unwrap();
            root.present().unwrap();
        }
        out
    }

    #[test]
    fn no_epoch_one_epoch_and_odd_values_still_draw() {
        assert!(svg(&[], &[]).contains("t.csv"));
        assert!(svg(&[epoch(1, 0.5, Some(0.2))], &[Some(0.1)]).contains(">\n1\n<"));
        let wild = [
            epoch(1, f64::NAN, Some(-3e6)),
            epoch(2, f64::INFINITY, None),
            epoch(3, 2e18, Some(0.5)),
            epoch(4, 0.0, Some(1.0)),
        ];
        let text = svg(&wild, &[None, Some(-1e9), None, Some(0.99)]);
        assert!(text.contains("R²") && text.contains("-1e9"), "{text:.2000}");
    }
}
