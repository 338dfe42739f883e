//! The product of fewer than `MR` rows of `A` with packed panels of `B`, one `k` block at a
//! time: single-sample inference `x·Wᵀ` and the remainder rows of a batch cut into blocks.
//!
//! Each output element is summed exactly as the GEMM micro-kernels sum it: a fresh
//! accumulator per `k` block, `acc = a·b + acc` (fused when the CPU has FMA) for each `p` of
//! the block in order, then `C = acc` on the first block and `C += acc` on the others. A row's
//! outputs are therefore the same to the bit whether the row is computed alone, in a batch of
//! seven or in one of ten thousand. Vectorised over the outputs: `A[i][p]` is broadcast and
//! multiplied by a row of each panel, [`GROUP`] panels at a time so that the independent
//! accumulators hide the latency of the multiply-adds.

use super::kernel::Operand;
use super::real::Real;

/// Panels of `B` computed together (independent accumulator chains).
const GROUP: usize = 4;

/// One `k` block of a few-rows product: `C[0..m, 0..nc] (+)= A[0..m, 0..kc] · B-block`.
#[derive(Clone, Copy)]
pub(crate) struct FewRows<T> {
    /// Rows of `A` and `C` (fewer than the micro-kernel's `MR`).
    pub m: usize,
    /// Columns of the block of `C`.
    pub nc: usize,
    /// Depth of the `k` block.
    pub kc: usize,
    /// Element `(0, pc)` of `A` and its strides.
    pub a: Operand<T>,
    /// Element `(0, jc)` of `C`.
    pub c: *mut T,
    pub c_rs: usize,
    pub c_cs: usize,
    /// Whether `C` is overwritten (the first block of a `Replace` product) or added to.
    pub first: bool,
}

/// Runs one `k` block of a few-rows product on `nc` columns of packed panels (`NR` wide,
/// `panel_stride` values apart, row `p` of each at `p·NR`), with fused multiply-adds when
/// `fma` (the CPU has AVX2 and FMA).
///
/// # Safety
/// `block.a` must be valid for reads of `m × kc` values, `block.c` for writes (and reads
/// unless `first`) of `m × nc`, the panels for reads of `kc` rows of `NR` each, and `fma` only
/// set when the CPU supports AVX2 and FMA.
pub(crate) unsafe fn product<T: Real, const NR: usize>(
    block: FewRows<T>,
    panels: *const T,
    panel_stride: usize,
    fma: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if fma {
        // SAFETY: this function's contract, and the CPU has AVX2 and FMA.
        return unsafe { product_fma::<T, NR>(block, panels, panel_stride) };
    }
    let _ = fma;
    // SAFETY: this function's contract.
    unsafe { product_body::<T, NR, false>(block, panels, panel_stride) }
}

/// [`product_body`] compiled with AVX2 and fused multiply-adds.
///
/// # Safety
/// As [`product`], and the CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn product_fma<T: Real, const NR: usize>(
    block: FewRows<T>,
    panels: *const T,
    panel_stride: usize,
) {
    // SAFETY: this function's contract.
    unsafe { product_body::<T, NR, true>(block, panels, panel_stride) }
}

/// The few-rows product, row by row: full groups of [`GROUP`] panels, then one at a time.
///
/// # Safety
/// As [`product`].
#[inline(always)]
unsafe fn product_body<T: Real, const NR: usize, const FUSED: bool>(
    block: FewRows<T>,
    panels: *const T,
    panel_stride: usize,
) {
    let count = block.nc.div_ceil(NR);
    let grouped = count - count % GROUP;
    for i in 0..block.m {
        for q in (0..grouped).step_by(GROUP) {
            // SAFETY: panels `q..q + GROUP` of the block, row `i` of `A` and `C`.
            unsafe { panel_group::<T, NR, GROUP, FUSED>(block, i, q, panels, panel_stride) };
        }
        for q in grouped..count {
            // SAFETY: panel `q` of the block, row `i` of `A` and `C`.
            unsafe { panel_group::<T, NR, 1, FUSED>(block, i, q, panels, panel_stride) };
        }
    }
}

/// Row `i` of `C` on panels `q..q + G`: `acc[g][j] = Σₚ A[i][p]·B[p][(q + g)·NR + j]`, in order.
///
/// # Safety
/// As [`product`], with `i < m` and panels `q..q + G` among the block's.
#[inline(always)]
unsafe fn panel_group<T: Real, const NR: usize, const G: usize, const FUSED: bool>(
    block: FewRows<T>,
    i: usize,
    q: usize,
    panels: *const T,
    panel_stride: usize,
) {
    let FewRows { kc, a, c, .. } = block;
    // SAFETY: row `i < m` of the `A` block.
    let row = unsafe { a.ptr.add(i * a.row_stride) };
    // SAFETY: panel `q + g` of the block.
    let starts: [*const T; G] =
        std::array::from_fn(|g| unsafe { panels.add((q + g) * panel_stride) });
    let mut acc = [[T::zero(); NR]; G];
    for p in 0..kc {
        // SAFETY: value `(i, p)` of the block of `A`, `p < kc`.
        let x = unsafe { *row.add(p * a.col_stride) };
        for (acc, start) in acc.iter_mut().zip(&starts) {
            // SAFETY: row `p < kc` of a panel, `NR` values.
            let b = unsafe { std::ptr::read_unaligned(start.add(p * NR) as *const [T; NR]) };
            for (acc, &b) in acc.iter_mut().zip(&b) {
                *acc = if FUSED {
                    x.mul_add(b, *acc)
                } else {
                    *acc + x * b
                };
            }
        }
    }
    for (g, acc) in acc.iter().enumerate() {
        let first_col = (q + g) * NR;
        let cols = NR.min(block.nc - first_col);
        for (j, &v) in acc.iter().enumerate().take(cols) {
            // SAFETY: element `(i, first_col + j)` of the block of `C`, `first_col + j < nc`.
            unsafe {
                let slot = c.add(i * block.c_rs + (first_col + j) * block.c_cs);
                *slot = if block.first { v } else { *slot + v };
            }
        }
    }
}
