//! Which kernels the products run: the best the CPU supports, detected once, or one that a
//! test or a benchmark forces.
//!
//! Results differ between paths in the last bits (AVX-512 and AVX2 fuse their multiply-adds,
//! the portable path does not, and their tiles differ), but within one path every output
//! element is summed in an order that depends only on the product's shape.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// A set of matrix kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelPath {
    /// Plain Rust for the baseline target: any CPU.
    Portable,
    /// AVX2 and FMA: 6 × 16 `f32` tiles in 256-bit registers.
    Avx2,
    /// AVX-512F (with AVX2 and FMA): 6 × 32 `f32` tiles in 512-bit registers.
    Avx512,
}

impl KernelPath {
    /// The path's name, as benchmarks print it: `portable`, `avx2+fma`, `avx512f`.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Portable => "portable",
            KernelPath::Avx2 => "avx2+fma",
            KernelPath::Avx512 => "avx512f",
        }
    }

    fn code(path: Option<KernelPath>) -> u8 {
        match path {
            None => 0,
            Some(KernelPath::Portable) => 1,
            Some(KernelPath::Avx2) => 2,
            Some(KernelPath::Avx512) => 3,
        }
    }

    fn from_code(code: u8) -> Option<KernelPath> {
        match code {
            1 => Some(KernelPath::Portable),
            2 => Some(KernelPath::Avx2),
            3 => Some(KernelPath::Avx512),
            _ => None,
        }
    }
}

/// The best path this CPU supports; detected once.
fn detected() -> KernelPath {
    static DETECTED: OnceLock<KernelPath> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") {
                return if has!("avx512f") {
                    KernelPath::Avx512
                } else {
                    KernelPath::Avx2
                };
            }
        }
        KernelPath::Portable
    })
}

/// Every path this CPU can run, the portable one first.
pub fn supported_kernel_paths() -> Vec<KernelPath> {
    let all = [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512];
    let best = all.iter().position(|&p| p == detected()).unwrap_or(0);
    all[..=best].to_vec()
}

/// Set by [`force_kernel_path`]: 0 for none, else [`KernelPath::code`].
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Makes every product of the process, on every thread, run `path` (`None`: the best the CPU
/// supports, the default): for tests and benchmarks of the paths a CPU does not select by
/// itself. Returns `false`, and changes nothing, when the CPU cannot run `path`.
///
/// Switch it only while no product runs: a product started on one path may finish on another.
pub fn force_kernel_path(path: Option<KernelPath>) -> bool {
    if path.is_some_and(|p| !supported_kernel_paths().contains(&p)) {
        return false;
    }
    FORCED.store(KernelPath::code(path), Ordering::Relaxed);
    true
}

#[cfg(test)]
thread_local! {
    /// Set by unit tests to run one path on the calling thread only.
    static FORCED_HERE: std::cell::Cell<Option<KernelPath>> = const { std::cell::Cell::new(None) };
}

/// Makes the calling thread's products run `path` (`None`: back to the process's path); the
/// caller checks that the CPU supports it.
#[cfg(test)]
pub(crate) fn force_here(path: Option<KernelPath>) {
    FORCED_HERE.with(|f| f.set(path));
}

/// The path products take now.
pub(crate) fn current() -> KernelPath {
    #[cfg(test)]
    if let Some(path) = FORCED_HERE.with(|f| f.get()) {
        return path;
    }
    KernelPath::from_code(FORCED.load(Ordering::Relaxed)).unwrap_or_else(detected)
}

/// The name of the path products take now (see [`KernelPath::name`]).
pub fn kernel_path() -> &'static str {
    current().name()
}
