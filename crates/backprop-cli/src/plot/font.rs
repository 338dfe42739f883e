//! The font of the plot's text, built into the binary so that every machine draws it, also
//! one without any installed fonts (a bare CI container): a 22 KB subset of DejaVu Sans
//! (Latin-1 and the few symbols the plot writes: `·`, `→`, `²`, `−`, `×`), under the
//! Bitstream Vera licence (`fonts/LICENSE-DejaVu.txt`).

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

/// The family name the plot asks for.
pub const FAMILY: &str = "sans-serif";

/// The subset of DejaVu Sans (made with fontTools' `pyftsubset`, see the licence file).
const DEJAVU_SANS: &[u8] = include_bytes!("../../fonts/DejaVuSans-subset.ttf");

/// Registers the built-in font for [`FAMILY`] (once; later calls return the first result).
pub fn register() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
                .and_then(|()| register_font(FAMILY, FontStyle::Bold, DEJAVU_SANS))
                .map_err(|_| "the built-in plot font cannot be read".to_string())
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use plotters::style::IntoFont;

    use super::*;

    #[test]
    fn the_built_in_font_measures_text() {
        register().unwrap();
        let (w, h) = (FAMILY, 14).into_font().box_size("epoch 1e9 · R²").unwrap();
        assert!(w > 50 && h > 5, "{w}x{h}");
    }
}
