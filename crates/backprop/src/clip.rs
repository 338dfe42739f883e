//! Gradient clipping by total norm (`torch.nn.utils.clip_grad_norm_`).

use crate::real::Real;

/// Rescales `grads` so that their Euclidean norm is at most `max_norm`, and returns the norm
/// before clipping.
///
/// As in PyTorch: `‖g‖₂` over all entries, `c = max_norm / (‖g‖₂ + 1e-6)` clamped at 1, and
/// `g ← c·g`. The sum of squares is accumulated in `f64` (deterministic and accurate) and the
/// norm rounded to `T`; `c` is computed in `T`. A non-finite norm propagates into the
/// gradients, as in PyTorch with `error_if_nonfinite=False`. `max_norm` should be positive
/// (validate it with the rest of the training settings).
pub fn clip_grad_norm<T: Real>(grads: &mut [T], max_norm: f64) -> f64 {
    let squares: f64 = grads
        .iter()
        .map(|g| {
            let g = g.as_f64();
            g * g
        })
        .sum();
    let total_norm = T::from_f64(squares.sqrt());
    let coefficient = T::from_f64(max_norm) / (total_norm + T::from_f64(1e-6));
    // torch.clamp(c, max=1.0) keeps NaN.
    let coefficient = if coefficient > T::one() {
        T::one()
    } else {
        coefficient
    };
    // Multiplying by exactly 1 changes nothing: skip the pass.
    if coefficient != T::one() {
        for g in grads.iter_mut() {
            *g *= coefficient;
        }
    }
    total_norm.as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_to_max_norm_and_returns_original_norm() {
        let mut grads = vec![3.0f64, 4.0];
        let norm = clip_grad_norm(&mut grads, 1.0);
        assert_eq!(norm, 5.0);
        let coefficient = 1.0 / (5.0 + 1e-6);
        assert_eq!(grads, vec![3.0 * coefficient, 4.0 * coefficient]);
    }

    #[test]
    fn leaves_small_gradients_alone() {
        let mut grads = vec![0.3f32, -0.4];
        let norm = clip_grad_norm(&mut grads, 1.0);
        assert!((norm - 0.5).abs() < 1e-7);
        assert_eq!(grads, vec![0.3f32, -0.4]);
    }

    #[test]
    fn non_finite_norm_propagates() {
        let mut grads = vec![f64::NAN, 1.0];
        assert!(clip_grad_norm(&mut grads, 1.0).is_nan());
        assert!(grads[1].is_nan());
    }
}
