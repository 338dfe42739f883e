//! The AVX-512 `f32` micro-kernel: a 6 × 32 tile of `C` in twelve 512-bit registers.
//!
//! Same scheme as the AVX2 kernel (see `kernel`): for each `p` of the `k` block in order,
//! broadcast `A[i][p]` and multiply-add the 32 values of row `p` of the `B` panel, then write
//! the tile once (`C = acc` on the first block, `C += acc` after). Each element is therefore
//! summed exactly as the few-rows kernel sums it on the same 32-wide panels. The last tiles of
//! a product compute only the rows and the 16-wide halves they keep.

use super::kernel::{Tile, MR};

/// The kernel on a packed panel of `A` (value `(i, p)` at `ap[p·MR + i]`).
///
/// # Safety
/// `ap` and `bp` must be valid for reads of `kc × MR` and `kc × 32` values, the tile's
/// `rows × cols` corner for writes (and reads unless `first`), and the CPU must support
/// AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn micro_packed(kc: usize, ap: *const f32, bp: *const f32, tile: Tile<f32>) {
    // SAFETY: value `(i, p)` of the packed panel, `p < kc`, `i < MR`, inside it.
    let a_at = |p: usize, i: usize| unsafe { ap.add(p * MR + i) };
    // SAFETY: this function's contract.
    unsafe { micro_with(kc, a_at, bp, tile) }
}

/// The kernel on `MR` rows of `A` read in place: row `i` starts at `rows + i·row_stride`, its
/// `kc` values contiguous.
///
/// # Safety
/// `T` must be `f32`; the `MR` rows must be valid for reads of `kc` values; `bp` and the tile
/// as [`micro_packed`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn micro_rows<T>(
    kc: usize,
    rows: *const T,
    row_stride: usize,
    bp: *const T,
    tile: Tile<T>,
) {
    let rows = rows as *const f32;
    // SAFETY: the first value of each of the `MR` rows.
    let starts: [*const f32; MR] = std::array::from_fn(|i| unsafe { rows.add(i * row_stride) });
    // SAFETY: value `p < kc` of row `i < MR`.
    let a_at = |p: usize, i: usize| unsafe { starts[i].add(p) };
    // SAFETY: this function's contract.
    unsafe { micro_with(kc, a_at, bp as *const f32, tile.cast::<f32>()) }
}

/// Never called off x86_64 (the AVX-512 path is never selected there).
///
/// # Safety
/// None needed: it panics.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) unsafe fn micro_packed(_: usize, _: *const f32, _: *const f32, _: Tile<f32>) {
    unreachable!("the AVX-512 micro-kernel exists on x86_64 only")
}

/// Never called off x86_64 (the AVX-512 path is never selected there).
///
/// # Safety
/// None needed: it panics.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) unsafe fn micro_rows<T>(_: usize, _: *const T, _: usize, _: *const T, _: Tile<T>) {
    unreachable!("the AVX-512 micro-kernel exists on x86_64 only")
}

/// The 6 × 32 tile kernel; `a_at(p, i)` is where `A[i][p]` is. The last tiles of a product
/// compute only what they keep: the left half of the panel when at most 16 columns are left
/// (a layer of 100 units, 10 outputs), and only the rows that are left (a batch of 32 is five
/// tiles of 6 rows and one of 2). Each kept element goes through the same operations, so the
/// bits are the same, for less work.
///
/// # Safety
/// `a_at(p, i)` must be valid for reads for `p < kc`, `i < MR`; `bp` and the tile as
/// [`micro_packed`].
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn micro_with(
    kc: usize,
    a_at: impl Fn(usize, usize) -> *const f32,
    bp: *const f32,
    tile: Tile<f32>,
) {
    /// `micro_tile::<H, R>` for the tile's halves `H` and rows `R`.
    macro_rules! dispatch {
        ($h:literal) => {
            match tile.rows {
                1 => micro_tile::<$h, 1>(kc, a_at, bp, tile),
                2 => micro_tile::<$h, 2>(kc, a_at, bp, tile),
                3 => micro_tile::<$h, 3>(kc, a_at, bp, tile),
                4 => micro_tile::<$h, 4>(kc, a_at, bp, tile),
                5 => micro_tile::<$h, 5>(kc, a_at, bp, tile),
                _ => micro_tile::<$h, MR>(kc, a_at, bp, tile),
            }
        };
    }
    // SAFETY: this function's contract; a tile of fewer rows or of at most 16 columns reads
    // and writes a part of what the full one does.
    unsafe {
        if tile.cols <= 16 {
            dispatch!(1)
        } else {
            dispatch!(2)
        }
    }
}

/// [`micro_with`] on the first `R` rows of `A` and the first `H` 16-wide halves of each
/// 32-wide panel row (`H` is 1 or 2, `R` at most [`MR`]).
///
/// # Safety
/// As [`micro_with`], with `tile.rows ≤ R` and `tile.cols ≤ 16·H`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn micro_tile<const H: usize, const R: usize>(
    kc: usize,
    a_at: impl Fn(usize, usize) -> *const f32,
    bp: *const f32,
    tile: Tile<f32>,
) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm512_setzero_ps(); H]; R];
    for i in 0..tile.rows {
        // SAFETY: the first element of row `i` of the tile; a prefetch reads nothing.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(tile.c.add(i * tile.c_rs) as *const i8) };
    }
    let step = |p: usize, acc: &mut [[__m512; H]; R]| {
        // SAFETY: half `h < H ≤ 2` of row `p < kc` of the 32-wide `B` panel.
        let b: [__m512; H] =
            std::array::from_fn(|h| unsafe { _mm512_loadu_ps(bp.add(p * 32 + h * 16)) });
        for (i, acc) in acc.iter_mut().enumerate() {
            // SAFETY: `A[i][p]`, `i < R ≤ MR`, valid by the contract on `a_at`.
            let a = _mm512_set1_ps(unsafe { *a_at(p, i) });
            for (acc, &b) in acc.iter_mut().zip(&b) {
                *acc = _mm512_fmadd_ps(a, b, *acc);
            }
        }
    };
    let unrolled = kc - kc % 4;
    let mut p = 0;
    while p < unrolled {
        step(p, &mut acc);
        step(p + 1, &mut acc);
        step(p + 2, &mut acc);
        step(p + 3, &mut acc);
        p += 4;
    }
    while p < kc {
        step(p, &mut acc);
        p += 1;
    }
    if tile.rows == R && tile.cols == 16 * H && tile.c_cs == 1 {
        for (i, acc) in acc.iter().enumerate() {
            for (h, &acc) in acc.iter().enumerate() {
                // SAFETY: half `h` of row `i` of a full tile: 16 contiguous elements of `C`
                // (column stride 1).
                unsafe {
                    let out = tile.c.add(i * tile.c_rs + h * 16);
                    if tile.first {
                        _mm512_storeu_ps(out, acc);
                    } else {
                        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc));
                    }
                }
            }
        }
        return;
    }
    let mut spill = [[0.0f32; 32]; R];
    for (row, acc) in spill.iter_mut().zip(&acc) {
        for (h, &acc) in acc.iter().enumerate() {
            // SAFETY: 16 of the 32 values of a local row.
            unsafe { _mm512_storeu_ps(row.as_mut_ptr().add(h * 16), acc) };
        }
    }
    for (i, row) in spill.iter().enumerate().take(tile.rows) {
        for (j, &v) in row.iter().enumerate().take(tile.cols) {
            // SAFETY: element `(i, j)` of the tile's valid corner.
            unsafe {
                let slot = tile.c.add(i * tile.c_rs + j * tile.c_cs);
                *slot = if tile.first { v } else { *slot + v };
            }
        }
    }
}

/// One row of a few-rows product on `G` 32-wide panels (see `few_rows`):
/// `out[g][j] = Σₚ x[p·x_step]·panel_g[p·32 + j]`, each sum sequential in `p` from zero, fused.
///
/// # Safety
/// `x` must be valid for reads at `p·x_step`, and each panel start for reads of `kc × 32`
/// values, for `p < kc`; the CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn row_on_panels<const G: usize>(
    kc: usize,
    x: *const f32,
    x_step: usize,
    starts: [*const f32; G],
) -> [[f32; 32]; G] {
    use std::arch::x86_64::*;
    let mut acc = [[_mm512_setzero_ps(); 2]; G];
    for p in 0..kc {
        // SAFETY: value `p < kc` of the row.
        let a = _mm512_set1_ps(unsafe { *x.add(p * x_step) });
        for (acc, start) in acc.iter_mut().zip(&starts) {
            // SAFETY: row `p < kc` of a 32-wide panel.
            let (b0, b1) = unsafe {
                (
                    _mm512_loadu_ps(start.add(p * 32)),
                    _mm512_loadu_ps(start.add(p * 32 + 16)),
                )
            };
            acc[0] = _mm512_fmadd_ps(a, b0, acc[0]);
            acc[1] = _mm512_fmadd_ps(a, b1, acc[1]);
        }
    }
    let mut out = [[0.0f32; 32]; G];
    for (out, acc) in out.iter_mut().zip(&acc) {
        // SAFETY: the 32 values of a local row.
        unsafe {
            _mm512_storeu_ps(out.as_mut_ptr(), acc[0]);
            _mm512_storeu_ps(out.as_mut_ptr().add(16), acc[1]);
        }
    }
    out
}
