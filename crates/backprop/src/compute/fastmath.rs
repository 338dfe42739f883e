//! Vectorizable `tanh` and logistic sigmoid for slices of `f32`.
//!
//! The C library's `tanhf` and `expf` work one value at a time; on a small network they are
//! most of a training step. Here each `f32` is widened to `f64`, the function is evaluated
//! with a branch-free exponential (range reduction by powers of two, then a Taylor
//! polynomial) that the compiler turns into SIMD code, and the result is rounded back once.
//! The `f64` result is within about `1e-12` relative of the true value, so the `f32` answer is
//! the correctly rounded one except in rare near-ties (then one unit in the last place off).
//!
//! The same code is compiled for the baseline target, with AVX2 and with AVX-512 (the widest
//! the CPU has is selected at run time, see `super::simd`). None fuses multiply-adds, so all
//! give the same bits.

use super::simd;

/// `out[i] = tanh(z[i])`.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn tanh_f32(z: &[f32], out: &mut [f32]) {
    assert_eq!(z.len(), out.len(), "tanh: slice lengths differ");
    simd::widest(z.len(), || tanh_body(z, out))
}

/// `out[i] = 1 / (1 + e^{-z[i]})`.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn sigmoid_f32(z: &[f32], out: &mut [f32]) {
    assert_eq!(z.len(), out.len(), "sigmoid: slice lengths differ");
    simd::widest(z.len(), || sigmoid_body(z, out))
}

#[inline(always)]
fn tanh_body(z: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(z) {
        *o = tanh_one(x as f64) as f32;
    }
}

#[inline(always)]
fn sigmoid_body(z: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(z) {
        // exp(-x) overflows past |x| ≈ 709; clamping there changes no f32 result
        // (σ is already 0 or 1 in f32 beyond |x| ≈ 104).
        let e = exp_reduced((-(x as f64)).clamp(-700.0, 700.0));
        let s = 1.0 / (1.0 + e);
        // NaN in, NaN out (the clamp above would have turned it into a number).
        *o = if x.is_nan() { x } else { s as f32 };
    }
}

/// `tanh(y)` in `f64`, branch-free: an odd Taylor polynomial near zero, where `1 − e` would
/// cancel, and `(1 − e)/(1 + e)` with `e = exp(−2|y|)` elsewhere.
#[inline(always)]
fn tanh_one(y: f64) -> f64 {
    let ay = y.abs();
    // tanh(y) = y − y³/3 + 2y⁵/15 − 17y⁷/315 + 62y⁹/2835 − …; below 1/16 the next term is
    // under 1e-14 of the sum.
    let y2 = y * y;
    let series = y
        * (1.0
            + y2 * (-1.0 / 3.0 + y2 * (2.0 / 15.0 + y2 * (-17.0 / 315.0 + y2 * (62.0 / 2835.0)))));
    // tanh is 1 in f64 beyond |y| = 20.
    let e = exp_reduced(-2.0 * ay.min(20.0));
    let large = ((1.0 - e) / (1.0 + e)).copysign(y);
    if ay < 0.0625 || y.is_nan() {
        series
    } else {
        large
    }
}

/// `e^v` for `v` in `[-700, 700]`: `v = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` by its Taylor
/// series to `r¹¹` (relative error below 2e-13), times `2ⁿ` built from the exponent bits.
#[inline(always)]
fn exp_reduced(v: f64) -> f64 {
    // Adding 1.5·2⁵² rounds to an integer and leaves it in the low bits of the mantissa.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let shifted = v * std::f64::consts::LOG2_E + SHIFTER;
    let n = shifted - SHIFTER;
    let r = (v - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 39_916_800.0; // 1/11!
    for k in (1..=10).rev() {
        p = p * r + INVERSE_FACTORIALS[k];
    }
    let e_r = p * r + 1.0;
    let n_bits = shifted.to_bits().wrapping_sub(SHIFTER.to_bits());
    let two_to_n = f64::from_bits(n_bits.wrapping_add(1023) << 52);
    e_r * two_to_n
}

/// `1/k!` for `k = 0..=10`.
const INVERSE_FACTORIALS: [f64; 11] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Values spread over every magnitude that matters, with both signs and the edges.
    fn inputs() -> Vec<f32> {
        let mut values = vec![0.0, -0.0, 1e-30, -1e-30, 1e-8, 0.0625, -0.0625, 20.0, 100.0];
        let mut x = 1e-6f32;
        while x < 120.0 {
            values.push(x);
            values.push(-x);
            values.push(f32::from_bits(x.to_bits() + 1));
            x *= 1.0007;
        }
        values
    }

    /// Distance in units in the last place between two finite `f32`s of the same sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn tanh_is_within_one_ulp_of_the_exact_value() {
        let z = inputs();
        let mut out = vec![0.0; z.len()];
        tanh_f32(&z, &mut out);
        for (&x, &t) in z.iter().zip(&out) {
            let exact = (x as f64).tanh() as f32;
            assert!(ulps(t, exact) <= 1, "tanh({x}) = {t}, expected {exact}");
        }
    }

    #[test]
    fn sigmoid_is_within_one_ulp_of_the_exact_value() {
        let z = inputs();
        let mut out = vec![0.0; z.len()];
        sigmoid_f32(&z, &mut out);
        for (&x, &s) in z.iter().zip(&out) {
            let exact = (1.0 / (1.0 + (-(x as f64)).exp())) as f32;
            assert!(ulps(s, exact) <= 1, "sigmoid({x}) = {s}, expected {exact}");
        }
    }

    #[test]
    fn special_values() {
        let z = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0];
        let mut out = [0.0; 4];
        tanh_f32(&z, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(&out[1..3], &[1.0, -1.0]);
        assert!(out[3] == 0.0 && out[3].is_sign_negative());
        sigmoid_f32(&z, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(&out[1..], &[1.0, 0.0, 0.5]);
    }

    #[test]
    fn every_vector_width_and_baseline_agree_to_the_bit() {
        let z = inputs();
        let (mut a, mut b) = (vec![0.0; z.len()], vec![0.0; z.len()]);
        tanh_body(&z, &mut b);
        for width in simd::supported() {
            simd::at(width, || tanh_body(&z, &mut a));
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{width:?}"
            );
        }
        sigmoid_body(&z, &mut b);
        for width in simd::supported() {
            simd::at(width, || sigmoid_body(&z, &mut a));
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{width:?}"
            );
        }
    }
}
