//! `train --plot`: the SVG of real runs, parsed: every text inside the picture, whole-epoch
//! ticks, a log loss axis at powers of ten when the loss spans decades, compact labels for a
//! target of the order of 1e9, the kept-epoch marker, the title and the early-stop note.

mod common;

use common::Dir;

/// One `<text>` element of the SVG.
#[derive(Debug)]
struct Text {
    x: f64,
    y: f64,
    size: f64,
    anchor: String,
    /// The SVG `dy`: `0.76em` hangs the text below `y`, `0.5ex` centres it, `-0.5ex` sets it
    /// on `y`.
    dy: String,
    rotated: bool,
    bold: bool,
    content: String,
}

impl Text {
    /// An upper estimate of the width in pixels (DejaVu Sans: digits are 0.64 em, most
    /// letters less; bold a little wider).
    fn width(&self) -> f64 {
        let em = if self.bold { 0.72 } else { 0.66 };
        self.content.chars().count() as f64 * self.size * em
    }

    /// The box `(left, top, right, bottom)` the text covers, generously.
    fn bounds(&self) -> (f64, f64, f64, f64) {
        let w = self.width();
        let before = match self.anchor.as_str() {
            "middle" => w / 2.0,
            "end" => w,
            _ => 0.0,
        };
        // How far the glyphs reach on the side `dy` moves away from: a hanging text
        // (`0.76em`) has nothing above `y`, a baseline text (`-0.5ex`) everything.
        let above = match self.dy.as_str() {
            "0.76em" => 0.0,
            "-0.5ex" => self.size,
            _ => self.size / 2.0,
        };
        if self.rotated {
            // rotate(270): the text runs upwards from its anchor, "below" is to the right.
            (
                self.x - above,
                self.y - (w - before),
                self.x - above + self.size * 1.2,
                self.y + before,
            )
        } else {
            (
                self.x - before,
                self.y - above,
                self.x + (w - before),
                self.y - above + self.size * 1.2,
            )
        }
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_string())
}

/// The picture's size and its texts.
fn parse(svg: &str) -> ((f64, f64), Vec<Text>) {
    let head = &svg[svg.find("<svg").expect("an svg element")..];
    let head = &head[..head.find('>').unwrap()];
    let number = |tag: &str, name: &str| -> f64 {
        attribute(tag, name)
            .unwrap_or_else(|| panic!("{name} in {tag}"))
            .trim_end_matches("px")
            .parse()
            .unwrap_or_else(|e| panic!("{name} in {tag}: {e}"))
    };
    let size = (number(head, "width"), number(head, "height"));
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        let tag_end = start + rest[start..].find('>').unwrap();
        let tag = &rest[start..tag_end];
        let close = tag_end + rest[tag_end..].find("</text>").unwrap();
        let content = rest[tag_end + 1..close]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        texts.push(Text {
            x: number(tag, "x"),
            y: number(tag, "y"),
            size: number(tag, "font-size"),
            anchor: attribute(tag, "text-anchor").unwrap_or_default(),
            dy: attribute(tag, "dy").unwrap_or_default(),
            rotated: attribute(tag, "transform").is_some_and(|t| t.starts_with("rotate(270")),
            bold: attribute(tag, "font-weight").is_some_and(|w| w == "bold"),
            content,
        });
        rest = &rest[close..];
    }
    (size, texts)
}

/// Every text lies inside the picture.
fn check_inside(size: (f64, f64), texts: &[Text]) {
    assert!(texts.len() >= 10, "{texts:?}");
    for text in texts {
        let (left, top, right, bottom) = text.bounds();
        assert!(
            left >= 0.0 && top >= 0.0 && right <= size.0 && bottom <= size.1,
            "{text:?} ({left:.0}, {top:.0})-({right:.0}, {bottom:.0}) leaves the {}x{} picture",
            size.0,
            size.1
        );
    }
}

/// Tick labels: numbers centred under the axis (epochs) or right-aligned beside it (values).
fn ticks<'a>(texts: &'a [Text], anchor: &str) -> Vec<&'a str> {
    texts
        .iter()
        .filter(|t| t.anchor == anchor && !t.rotated)
        .map(|t| t.content.as_str())
        .filter(|c| c.parse::<f64>().is_ok())
        .collect()
}

fn plot(dir: &Dir, args: &[&str]) -> ((f64, f64), Vec<Text>) {
    dir.ok(&[args, &["--plot", "curves.svg"]].concat());
    parse(&String::from_utf8(dir.read("curves.svg")).unwrap())
}

fn has(texts: &[Text], wanted: impl Fn(&str) -> bool) -> bool {
    texts.iter().any(|t| wanted(&t.content))
}

#[test]
fn a_classification_plot_has_its_title_ticks_marker_and_early_stop() {
    let dir = Dir::new();
    let (size, texts) = plot(
        &dir,
        &[
            "train",
            "builtin:spirals",
            "--layers",
            "16",
            "--epochs",
            "400",
            "--val-fraction",
            "0.2",
            "--patience",
            "5",
            "--lr",
            "0.01",
        ],
    );
    check_inside(size, &texts);
    assert!(
        has(&texts, |t| t == "builtin:spirals · 2-16-3 relu · adam"),
        "{texts:?}"
    );
    assert!(
        has(&texts, |t| t.contains("stopped early")
            && t.contains("patience")),
        "{texts:?}"
    );
    assert!(has(&texts, |t| t.starts_with("kept epoch ")), "{texts:?}");
    assert!(has(&texts, |t| t == "accuracy"), "{texts:?}");
    assert!(has(&texts, |t| t == "validation"), "{texts:?}");
    let epochs = ticks(&texts, "middle");
    assert!(epochs.len() >= 6, "{epochs:?}");
    for label in &epochs {
        assert!(label.parse::<u64>().is_ok(), "epoch tick {label:?}");
    }
    assert!(epochs.contains(&"1"), "{epochs:?}");
}

#[test]
fn three_epochs_have_three_whole_ticks() {
    let dir = Dir::new();
    let (size, texts) = plot(
        &dir,
        &["train", "builtin:moons", "--epochs", "3", "--patience", "0"],
    );
    check_inside(size, &texts);
    let mut epochs = ticks(&texts, "middle");
    epochs.sort();
    epochs.dedup();
    assert_eq!(epochs, ["1", "2", "3"]);
    assert!(
        has(&texts, |t| t.starts_with("builtin:moons · 2-")),
        "{texts:?}"
    );
}

/// 400 rows of a smooth function whose values are around 1.2e9, with a spread of 4e8.
fn billions_csv() -> String {
    let mut text = String::from("a,b,price\n");
    for i in 0..400 {
        let a = ((i * 37) % 101) as f64 / 25.0 - 2.0;
        let b = ((i * 53) % 89) as f64 / 22.0 - 2.0;
        let price = 1.2e9 + 4e8 * a.sin() + 1e8 * b * b;
        text += &format!("{a:.3},{b:.3},{price:.0}\n");
    }
    text
}

#[test]
fn a_billion_scale_regression_has_compact_labels_inside_the_picture() {
    let dir = Dir::new();
    dir.write("prices.csv", &billions_csv());
    // Learned in the target's own units: the loss is of the order of 1e18.
    let (size, texts) = plot(
        &dir,
        &[
            "train",
            "prices.csv",
            "--layers",
            "16",
            "--epochs",
            "20",
            "--val-fraction",
            "0.2",
            "--scale-target",
            "none",
        ],
    );
    check_inside(size, &texts);
    let values = ticks(&texts, "end");
    assert!(values.len() >= 4, "{texts:?}");
    for label in &values {
        assert!(label.len() <= 8, "long tick label {label:?}");
    }
    assert!(
        values
            .iter()
            .any(|l| l.contains("e18") || l.contains("e17")),
        "{values:?}"
    );
    assert!(has(&texts, |t| t == "R²"), "{texts:?}");

    // Standardized, the loss falls by decades: a log axis with ticks at powers of ten.
    let (size, texts) = plot(
        &dir,
        &[
            "train",
            "prices.csv",
            "--layers",
            "16",
            "--epochs",
            "60",
            "--val-fraction",
            "0.2",
            "--lr",
            "0.01",
        ],
    );
    check_inside(size, &texts);
    assert!(has(&texts, |t| t == "loss (log scale)"), "{texts:?}");
    // The loss panel's labels (the upper part of the picture; the R² panel is below).
    let values: Vec<&str> = texts
        .iter()
        .filter(|t| t.anchor == "end" && t.y < size.1 * 0.6)
        .map(|t| t.content.as_str())
        .collect();
    let powers = values
        .iter()
        .filter(|l| ["0.001", "0.01", "0.1", "1", "10"].contains(l))
        .count();
    assert!(powers >= 2, "{values:?}");
    assert!(
        has(&texts, |t| t.starts_with("prices.csv · 2-16-1 relu")),
        "{texts:?}"
    );
    assert!(has(&texts, |t| t.starts_with("kept epoch ")), "{texts:?}");
}
