//! Element-wise loops compiled for the widest vector unit of the CPU, chosen at run time.
//!
//! The optimizers' updates and the vectorized math are plain Rust loops that the compiler
//! vectorizes; for the baseline `x86_64` target that means 128-bit SSE. [`widest`] runs such a
//! loop inside a function compiled with AVX-512 (or AVX2) enabled, so that the loop, inlined
//! there, uses 512-bit (256-bit) registers. Only the register width changes: Rust never fuses
//! a multiply and an add on its own, and `+ − × ÷ √` are correctly rounded at every width, so
//! every path gives the same bits as the baseline loop (the tests of the callers check it).

/// The vector units [`widest`] can compile for, widest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    /// 512-bit registers (`avx512f`).
    Avx512,
    /// 256-bit registers (`avx2`).
    Avx2,
    /// The target's baseline (SSE2 on `x86_64`).
    Baseline,
}

/// The widest unit this CPU supports (detected once).
pub(crate) fn detected() -> Width {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static WIDTH: OnceLock<Width> = OnceLock::new();
        *WIDTH.get_or_init(|| {
            if std::arch::is_x86_feature_detected!("avx512f") {
                Width::Avx512
            } else if std::arch::is_x86_feature_detected!("avx2") {
                Width::Avx2
            } else {
                Width::Baseline
            }
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    Width::Baseline
}

/// Below this many elements a loop runs with AVX2 at most: on short slices 512-bit code
/// measured slower in one run (the `tiny` benchmark of the `throughput` example, 12%).
const WIDE_MIN: usize = 4096;

/// The unit for a loop over `len` elements: the widest, but AVX2 for short loops.
fn for_len(len: usize) -> Width {
    match detected() {
        Width::Avx512 if len < WIDE_MIN => Width::Avx2,
        width => width,
    }
}

/// Runs `body`, a loop over `len` elements, compiled for the widest unit of this CPU (AVX2
/// for short loops). `body` should be a small closure, so that it is compiled inside the
/// feature-enabled function (else see [`widest_loop`]).
#[inline(always)]
pub(crate) fn widest<R>(len: usize, body: impl FnOnce() -> R) -> R {
    at(for_len(len), body)
}

/// Runs `body` compiled for `width`, which must not be wider than [`detected`] (a wider one
/// falls back to the widest supported; the tests force each path through this).
#[inline(always)]
pub(crate) fn at<R>(width: Width, body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    match (width, detected()) {
        (Width::Avx512, Width::Avx512) => {
            // SAFETY: the CPU supports AVX-512F (detected above).
            return unsafe { run_avx512(body) };
        }
        (Width::Avx512 | Width::Avx2, Width::Avx512 | Width::Avx2) => {
            // SAFETY: the CPU supports AVX2 (AVX-512F implies it).
            return unsafe { run_avx2(body) };
        }
        _ => {}
    }
    let _ = width;
    body()
}

/// A loop too large for [`widest`]'s closure to be inlined into each feature-enabled
/// function (LLVM leaves a large closure out of line, compiled for the baseline): its
/// [`Loop::run`], marked `#[inline(always)]` by the implementor, is compiled inside them.
pub(crate) trait Loop {
    /// What the loop returns.
    type Output;
    /// Runs the loop (implement with `#[inline(always)]`).
    fn run(self) -> Self::Output;
}

/// [`Loop::run`], a loop over `len` elements, compiled for the widest unit of this CPU (AVX2
/// for short loops).
pub(crate) fn widest_loop<L: Loop>(len: usize, body: L) -> L::Output {
    #[cfg(target_arch = "x86_64")]
    match for_len(len) {
        // SAFETY: the CPU supports AVX-512F (detected).
        Width::Avx512 => return unsafe { loop_avx512(body) },
        // SAFETY: the CPU supports AVX2 (detected).
        Width::Avx2 => return unsafe { loop_avx2(body) },
        Width::Baseline => {}
    }
    body.run()
}

/// [`Loop::run`] with AVX-512F enabled.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn loop_avx512<L: Loop>(body: L) -> L::Output {
    body.run()
}

/// [`Loop::run`] with AVX2 enabled.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn loop_avx2<L: Loop>(body: L) -> L::Output {
    body.run()
}

/// `body` with AVX-512F enabled.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// `body` with AVX2 enabled.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Every width this CPU can run, widest first (for the tests of the callers).
#[cfg(test)]
pub(crate) fn supported() -> Vec<Width> {
    let all = [Width::Avx512, Width::Avx2, Width::Baseline];
    let widest = all.iter().position(|&w| w == detected()).unwrap_or(2);
    all[widest..].to_vec()
}
