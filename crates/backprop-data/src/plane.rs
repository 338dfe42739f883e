//! Points of the plane as network inputs, for the playground of `backprop studio`: the input
//! features a point can be expanded into (x, y, x², y², xy, sines and cosines, as in
//! TensorFlow Playground), the grid of points on which a decision boundary is drawn, and the
//! shades of its cells.

use std::fmt;
use std::str::FromStr;

/// One input feature computed from a point `(x, y)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaneFeature {
    /// `x`.
    X,
    /// `y`.
    Y,
    /// `x²`.
    XSquared,
    /// `y²`.
    YSquared,
    /// `x·y`.
    XTimesY,
    /// `sin x`.
    SinX,
    /// `sin y`.
    SinY,
    /// `cos x`.
    CosX,
    /// `cos y`.
    CosY,
}

impl PlaneFeature {
    /// Every feature, in the order the playground lists them.
    pub const ALL: [PlaneFeature; 9] = [
        PlaneFeature::X,
        PlaneFeature::Y,
        PlaneFeature::XSquared,
        PlaneFeature::YSquared,
        PlaneFeature::XTimesY,
        PlaneFeature::SinX,
        PlaneFeature::SinY,
        PlaneFeature::CosX,
        PlaneFeature::CosY,
    ];

    /// The feature's name, as the playground's settings spell it.
    pub fn name(self) -> &'static str {
        match self {
            PlaneFeature::X => "x",
            PlaneFeature::Y => "y",
            PlaneFeature::XSquared => "x2",
            PlaneFeature::YSquared => "y2",
            PlaneFeature::XTimesY => "xy",
            PlaneFeature::SinX => "sinx",
            PlaneFeature::SinY => "siny",
            PlaneFeature::CosX => "cosx",
            PlaneFeature::CosY => "cosy",
        }
    }

    /// The feature of the point `(x, y)`.
    pub fn of(self, x: f64, y: f64) -> f64 {
        match self {
            PlaneFeature::X => x,
            PlaneFeature::Y => y,
            PlaneFeature::XSquared => x * x,
            PlaneFeature::YSquared => y * y,
            PlaneFeature::XTimesY => x * y,
            PlaneFeature::SinX => x.sin(),
            PlaneFeature::SinY => y.sin(),
            PlaneFeature::CosX => x.cos(),
            PlaneFeature::CosY => y.cos(),
        }
    }
}

impl fmt::Display for PlaneFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PlaneFeature {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        PlaneFeature::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                let known: Vec<&str> = PlaneFeature::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown input feature {text:?} (known: {})",
                    known.join(", ")
                )
            })
    }
}

/// The network inputs of `points` (row-major pairs `x, y`): one row per point, one column
/// per feature of `features`, in that order.
pub fn expand(points: &[f64], features: &[PlaneFeature]) -> Vec<f32> {
    points
        .chunks_exact(2)
        .flat_map(|p| features.iter().map(move |f| f.of(p[0], p[1]) as f32))
        .collect()
}

/// The half-width of the square `[−e, e]²` drawn around `points` (pairs `x, y`): the largest
/// coordinate's magnitude plus 10%, at least 1.
pub fn extent(points: &[f64]) -> f64 {
    points.iter().fold(1.0f64, |e, v| e.max(v.abs() * 1.1))
}

/// The centres of a `cells × cells` grid over `[−extent, extent]²`, row-major from the top
/// left (the highest `y` first), as pairs `x, y`.
pub fn grid(cells: usize, extent: f64) -> Vec<f64> {
    let step = 2.0 * extent / cells as f64;
    let centre = |i: usize| -extent + (i as f64 + 0.5) * step;
    (0..cells)
        .flat_map(|row| (0..cells).flat_map(move |col| [centre(col), centre(cells - 1 - row)]))
        .collect()
}

/// The smallest and largest of `values`, as the range that a regressor's shades span
/// ([`shades`]); `(0, 1)` when there are no values.
pub fn value_range(values: impl IntoIterator<Item = f64>) -> (f32, f32) {
    let (low, high) = values
        .into_iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(v), high.max(v))
        });
    if low > high {
        return (0.0, 1.0);
    }
    (low as f32, high as f32)
}

/// Each value of `values` as a shade from 0 (at or below `low`) to 255 (at or above `high`).
pub fn shades(values: &[f32], low: f32, high: f32) -> Vec<u8> {
    let span = if high > low { high - low } else { 1.0 };
    values
        .iter()
        .map(|&v| (((v - low) / span).clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect()
}

/// The shades of each unit of a layer's activations (row-major, `units` columns, one row per
/// grid cell): per unit, its values from its own smallest (0) to its largest (255), so that
/// a neuron whose values vary little still shows where on the plane it is high or low.
pub fn unit_shades(activations: &[f32], units: usize) -> Vec<Vec<u8>> {
    (0..units)
        .map(|unit| {
            let column: Vec<f32> = activations
                .iter()
                .skip(unit)
                .step_by(units)
                .copied()
                .collect();
            let (low, high) = value_range(column.iter().map(|&v| f64::from(v)));
            shades(&column, low, high)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_is_shaded_over_its_own_range() {
        // Two units over three cells: the first from -1 to 1, the second from 10 to 20.
        let shades = unit_shades(&[-1.0, 10.0, 0.0, 20.0, 1.0, 15.0], 2);
        assert_eq!(shades, vec![vec![0, 128, 255], vec![0, 255, 128]]);
    }

    #[test]
    fn the_range_of_values_is_theirs_not_zeros() {
        // All above zero and all below zero: neither end is pulled to 0.
        assert_eq!(value_range([2.0, 5.0, 3.0]), (2.0, 5.0));
        assert_eq!(value_range([-4.0, -1.5]), (-4.0, -1.5));
        assert_eq!(value_range([]), (0.0, 1.0));
    }

    #[test]
    fn features_expand_in_the_order_given() {
        let x = expand(
            &[2.0, 3.0, -1.0, 0.5],
            &[PlaneFeature::XTimesY, PlaneFeature::X],
        );
        assert_eq!(x, vec![6.0, 2.0, -0.5, -1.0]);
        for f in PlaneFeature::ALL {
            assert_eq!(f.name().parse::<PlaneFeature>().unwrap(), f);
        }
        let err = "z".parse::<PlaneFeature>().unwrap_err();
        assert!(
            err.contains("unknown input feature \"z\" (known: x, y, x2"),
            "{err}"
        );
    }

    #[test]
    fn the_grid_runs_from_the_top_left() {
        let g = grid(2, 1.0);
        assert_eq!(g, vec![-0.5, 0.5, 0.5, 0.5, -0.5, -0.5, 0.5, -0.5]);
        assert_eq!(extent(&[0.2, -3.0]), 3.0 * 1.1);
        assert_eq!(extent(&[0.2, 0.1]), 1.0);
        assert_eq!(
            shades(&[-1.0, 0.0, 0.5, 2.0], 0.0, 1.0),
            vec![0, 0, 128, 255]
        );
    }
}
