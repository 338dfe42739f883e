//! The floating-point element type of the engine: `f32` (the default) or `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;

/// A floating-point number the engine computes with: implemented for `f32` and `f64`.
///
/// Everything generic in the crate (networks, optimizers, losses) is generic over `Real`,
/// so the same code trains in single precision for speed and in double precision for
/// gradient checks.
pub trait Real:
    num_traits::Float
    + num_traits::FloatConst
    + num_traits::NumAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// Short name of the type (`"f32"` or `"f64"`), for messages and metadata.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn from_f64(value: f64) -> Self;

    /// Converts to `f64` exactly (named so it does not clash with `ToPrimitive::to_f64`).
    fn as_f64(self) -> f64;

    /// The error function `erf(x)`, needed by GELU.
    fn erf(self) -> Self;

    /// `out[i] = tanh(z[i])` for a whole slice (vectorized for `f32`).
    fn tanh_slice(z: &[Self], out: &mut [Self]);

    /// `out[i] = 1 / (1 + e^{-z[i]})` for a whole slice (vectorized for `f32`).
    fn sigmoid_slice(z: &[Self], out: &mut [Self]);
}

impl Real for f32 {
    const NAME: &'static str = "f32";

    #[inline]
    fn from_f64(value: f64) -> Self {
        value as f32
    }

    #[inline]
    fn as_f64(self) -> f64 {
        self as f64
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }

    fn tanh_slice(z: &[Self], out: &mut [Self]) {
        super::fastmath::tanh_f32(z, out)
    }

    fn sigmoid_slice(z: &[Self], out: &mut [Self]) {
        super::fastmath::sigmoid_f32(z, out)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";

    #[inline]
    fn from_f64(value: f64) -> Self {
        value
    }

    #[inline]
    fn as_f64(self) -> f64 {
        self
    }

    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }

    fn tanh_slice(z: &[Self], out: &mut [Self]) {
        assert_eq!(z.len(), out.len(), "tanh: slice lengths differ");
        out.iter_mut().zip(z).for_each(|(o, &x)| *o = x.tanh());
    }

    fn sigmoid_slice(z: &[Self], out: &mut [Self]) {
        assert_eq!(z.len(), out.len(), "sigmoid: slice lengths differ");
        out.iter_mut().zip(z).for_each(|(o, &x)| *o = sigmoid(x));
    }
}

/// The logistic function `1 / (1 + e^{-z})`, without overflow for any `z`.
#[inline]
pub(crate) fn sigmoid<T: Real>(z: T) -> T {
    // Both branches avoid overflow of exp for large |z|.
    if z >= T::zero() {
        T::one() / (T::one() + (-z).exp())
    } else {
        let e = z.exp();
        e / (T::one() + e)
    }
}

/// Shorthand for `T::from_f64(value)` in generic code.
#[inline]
pub(crate) fn r<T: Real>(value: f64) -> T {
    T::from_f64(value)
}
