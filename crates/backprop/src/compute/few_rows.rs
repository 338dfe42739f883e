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

#[cfg(target_arch = "x86_64")]
use super::avx512;
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
/// set when the CPU supports AVX2 and FMA (and AVX-512F when `NR` is 32).
pub(crate) unsafe fn product<T: Real, const NR: usize>(
    block: FewRows<T>,
    panels: *const T,
    panel_stride: usize,
    fma: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if fma && NR == 32 {
        // SAFETY: this function's contract; 32-wide panels are the AVX-512 path's, selected
        // only on a CPU that has AVX-512F.
        return unsafe { product_avx512::<T, NR>(block, panels, panel_stride) };
    }
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

/// [`product_body`] compiled with AVX-512 (fused multiply-adds in 512-bit registers).
///
/// # Safety
/// As [`product`], and the CPU must support AVX-512F, AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn product_avx512<T: Real, const NR: usize>(
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
    #[cfg(target_arch = "x86_64")]
    if FUSED && NR == 32 && std::mem::size_of::<T>() == 4 {
        // SAFETY: `T` is `f32`, 32-wide panels are the AVX-512 path's (the CPU has AVX-512F),
        // row `i` of `A` has `kc` values `a.col_stride` apart, each panel `kc` rows of 32.
        let sums = unsafe {
            avx512::row_on_panels::<G>(
                kc,
                row as *const f32,
                a.col_stride,
                starts.map(|s| s as *const f32),
            )
        };
        for (acc, sums) in acc.iter_mut().zip(&sums) {
            for (acc, &v) in acc.iter_mut().zip(sums) {
                *acc = T::from_f64(f64::from(v));
            }
        }
    } else {
        // SAFETY: row `i` of `A` and the panels, as this function's contract.
        unsafe { sum_rows::<T, NR, G, FUSED>(kc, row, a.col_stride, &starts, &mut acc) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: row `i` of `A` and the panels, as this function's contract.
    unsafe {
        sum_rows::<T, NR, G, FUSED>(kc, row, a.col_stride, &starts, &mut acc)
    };
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

/// `acc[g][j] += Σₚ x[p·x_step]·panel_g[p·NR + j]`, sequential in `p`: the portable (or
/// compiler-vectorised) sums of [`panel_group`].
///
/// # Safety
/// As [`panel_group`]: `x` valid at `p·x_step` and each panel for `kc` rows of `NR`.
#[inline(always)]
unsafe fn sum_rows<T: Real, const NR: usize, const G: usize, const FUSED: bool>(
    kc: usize,
    x: *const T,
    x_step: usize,
    starts: &[*const T; G],
    acc: &mut [[T; NR]; G],
) {
    for p in 0..kc {
        // SAFETY: value `p < kc` of the row of `A`.
        let x = unsafe { *x.add(p * x_step) };
        for (acc, start) in acc.iter_mut().zip(starts) {
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
}
