//! Turning command-line words into engine settings.

use anyhow::{bail, Context};
use backprop::Loss;

use crate::cli::LossName;

/// Parses comma-separated widths like `256,128` (empty text gives no widths).
pub fn parse_widths(text: &str) -> anyhow::Result<Vec<usize>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| {
            let width: usize = part
                .trim()
                .parse()
                .with_context(|| format!("{part:?} is not a layer width (a positive integer)"))?;
            if width == 0 {
                bail!("a layer width must be at least 1");
            }
            Ok(width)
        })
        .collect()
}

/// The engine loss for a command-line name (`outputs` is the output width).
pub fn loss_from_name(name: LossName, _outputs: usize) -> Loss {
    match name {
        LossName::Mse => Loss::Mse,
        LossName::L1 => Loss::L1,
        LossName::Huber => Loss::Huber { delta: 1.0 },
        LossName::Bce => Loss::Bce,
        LossName::Ce => Loss::cross_entropy(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_parse_and_reject_nonsense() {
        assert_eq!(parse_widths("256, 128").unwrap(), vec![256, 128]);
        assert_eq!(parse_widths("").unwrap(), Vec::<usize>::new());
        assert!(parse_widths("12,x").is_err());
        assert!(parse_widths("0").is_err());
    }
}
