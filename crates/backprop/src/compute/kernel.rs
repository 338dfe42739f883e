//! The GEMM kernel behind `matmul::matmul`: packed, cache-blocked, allocation-free.
//!
//! The classic Goto/BLIS scheme: `k` is cut into blocks of [`KC`], `B` is packed into panels
//! of `NR` columns and `A` into panels of [`MR`] rows, and a register-blocked micro-kernel
//! computes an `MR × NR` tile of `C` from one panel of each. Packing buffers are thread-local
//! and grow only on first use, so a steady-state training step allocates nothing.
//!
//! Every element of `C` is summed in the same order whatever `m`, `n` or the caller's split
//! of the work: over `k` blocks in order, each block a sequential sum from its first term
//! (`acc = 0; acc += a·b; …; C += acc`). The micro-kernel is one generic Rust function,
//! compiled twice: with AVX2 + FMA (selected at run time, `a·b + acc` fused) and for the
//! baseline target (`a·b` then `+ acc`), so any x86_64 (or other) CPU runs it. For `f32` with
//! AVX2 a hand-written 6 × 16 kernel (unrolled by four) does the same sums in the same order;
//! it reads rows of `A` that are contiguous in `k` in place instead of packing them, and
//! transposed `f32` weights are packed by 8 × 8 register transposes.
//!
//! Products of fewer than [`MR`] rows (single-sample inference `x·Wᵀ`) run the few-rows
//! kernel of `few_rows` on the same packed panels of `B`: it broadcasts `A[i][p]` and
//! multiply-adds rows of a panel, so each element is summed in exactly the micro-kernel's
//! order, and a row's result does not depend on the batch it is computed in. `B` may come
//! already packed ([`RhsParts::Packed`], a network's cached `Wᵀ`, see `packed`): then it is not
//! packed again, and a batch-1 product reads each weight once.

use std::cell::RefCell;

use super::avx512;
use super::few_rows::{self, FewRows};
use super::path::{self, KernelPath};
use super::real::Real;

/// Rows of `A` per micro-panel (and of the register tile).
pub(crate) const MR: usize = 6;
/// Depth of a `k` block: an `MR × KC` and a `KC × NR` panel stay in L1/L2.
const KC: usize = 256;
/// Rows of `A` packed at a time (a multiple of [`MR`]); `MC × KC` stays in L2.
const MC: usize = 96;
/// Columns of `B` packed at a time.
const NC: usize = 512;

thread_local! {
    /// Packing space for `A` and `B`, in `f64` units (8-byte aligned for both f32 and f64).
    static PACK: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// The most packing space any product of `T` needs, in `f64` words, plus room to start it
/// on a cache line.
const fn most_pack_words<T>() -> usize {
    (KC * NC + KC * MC) * std::mem::size_of::<T>() / 8 + 2 + ALIGN_WORDS
}

/// Packed panels start on a 64-byte cache line, so that no vector load of a `B` row straddles
/// two lines.
const ALIGN_WORDS: usize = 64 / 8;

/// Gives the calling thread the packing space of the largest product of `T` now, so that no
/// later product of `T` on this thread allocates.
pub(crate) fn reserve_packing_space<T>() {
    PACK.with(|pack| {
        let mut pack = pack.borrow_mut();
        if pack.len() < most_pack_words::<T>() {
            pack.resize(most_pack_words::<T>(), 0.0);
        }
    });
}

/// A strided view of a read-only matrix operand, as raw parts.
#[derive(Clone, Copy)]
pub(crate) struct Operand<T> {
    pub ptr: *const T,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// The destination `C` of a product, as raw parts, and whether the product is added to it.
#[derive(Clone, Copy)]
pub(crate) struct Output<T> {
    pub ptr: *mut T,
    pub row_stride: usize,
    pub col_stride: usize,
    pub accumulate: bool,
}

/// The right operand `B` of a product: a strided view, or panels packed beforehand.
#[derive(Clone, Copy)]
pub(crate) enum RhsParts<T> {
    /// Packed block by block by the product itself.
    Strided(Operand<T>),
    /// Already packed over the whole depth (see [`pack_panels`]).
    Packed(Panels<T>),
}

/// `B` (`depth × n`) packed into panels of [`panel_width`] columns over the whole depth:
/// value `(p, j)` at `ptr[(j / NR)·depth·NR + p·NR + j % NR]`, the last panel zero-padded.
#[derive(Clone, Copy)]
pub(crate) struct Panels<T> {
    pub ptr: *const T,
    pub depth: usize,
}

/// Columns per packed panel of `B` for `T` on the current path (the width of the register
/// tile): 32 `f32` with AVX-512, 16 otherwise, 8 `f64`.
pub(crate) fn panel_width<T>() -> usize {
    if std::mem::size_of::<T>() != 4 {
        8
    } else if path::current() == KernelPath::Avx512 {
        32
    } else {
        16
    }
}

/// Values [`pack_panels`] writes for a `k × n` matrix in panels of `nr`: whole panels.
pub(crate) const fn packed_len(k: usize, n: usize, nr: usize) -> usize {
    n.div_ceil(nr) * nr * k
}

/// Packs all of `B` (`k × n`) into panels of `nr` (8, 16 or 32) columns as [`Panels`]
/// describes.
///
/// # Safety
/// `dst` must be valid for writes of [`packed_len`]`(k, n, nr)` values, `b` for reads of its
/// `k × n` view, and `k`, `n` must be at least 1.
pub(crate) unsafe fn pack_panels<T: Real>(
    dst: *mut T,
    b: Operand<T>,
    k: usize,
    n: usize,
    nr: usize,
) {
    // SAFETY (all three): the caller's contract: `dst` holds `k × n` rounded up to panels.
    match nr {
        32 => unsafe { pack_b::<T, 32>(dst, b, 0, k, 0, n) },
        16 => unsafe { pack_b::<T, 16>(dst, b, 0, k, 0, n) },
        _ => unsafe { pack_b::<T, 8>(dst, b, 0, k, 0, n) },
    }
}

/// `C (m×n) = A (m×k) · B (k×n)` (or `+=` when `c.accumulate`).
///
/// # Safety
/// Every view must be valid for its shape and strides (`c` for writes, `a` and `b` for
/// reads; packed panels for `k` rows and `n` columns rounded up to whole panels), `c` must
/// not overlap `a` or `b`, and `m`, `n`, `k` must be at least 1.
pub(crate) unsafe fn gemm<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    c: Output<T>,
    a: Operand<T>,
    b: RhsParts<T>,
) {
    if std::mem::size_of::<T>() == 4 && path::current() == KernelPath::Avx512 {
        // SAFETY: the caller's contract is `blocked`'s.
        unsafe { blocked::<T, 32>(m, n, k, c, a, b) }
    } else if std::mem::size_of::<T>() == 4 {
        // SAFETY: as above.
        unsafe { blocked::<T, 16>(m, n, k, c, a, b) }
    } else {
        // SAFETY: as above.
        unsafe { blocked::<T, 8>(m, n, k, c, a, b) }
    }
}

/// The packed, cache-blocked product.
///
/// # Safety
/// As [`gemm`].
unsafe fn blocked<T: Real, const NR: usize>(
    m: usize,
    n: usize,
    k: usize,
    c: Output<T>,
    a: Operand<T>,
    b: RhsParts<T>,
) {
    debug_assert_eq!(NR, panel_width::<T>());
    let Output {
        ptr: c,
        row_stride: c_rs,
        col_stride: c_cs,
        accumulate,
    } = c;
    let fma = has_fma();
    // f32 rows of A that are contiguous in k feed the AVX2 micro-kernel straight from memory:
    // only a last panel of fewer than MR rows is packed.
    let direct_a = cfg!(target_arch = "x86_64")
        && fma
        && std::mem::size_of::<T>() == 4
        && (NR == 16 || NR == 32)
        && a.col_stride == 1;
    let kc_max = KC.min(k);
    let nc_max = NC.min(n).next_multiple_of(NR);
    let mc_max = MC.min(m).next_multiple_of(MR);
    let b_len = if matches!(b, RhsParts::Packed(_)) {
        0
    } else {
        kc_max * nc_max
    };
    let a_len = if m < MR { 0 } else { kc_max * mc_max };
    let words = (b_len + a_len) * std::mem::size_of::<T>() / 8 + 2 + ALIGN_WORDS;
    PACK.with(|pack| {
        let mut pack = pack.borrow_mut();
        if pack.len() < words {
            // Take the largest size any product can need at once, so each thread allocates
            // its packing space exactly once, on its first product.
            pack.resize(words.max(most_pack_words::<T>()), 0.0);
        }
        let start = pack.as_mut_ptr();
        // SAFETY: at most `ALIGN_WORDS` words into `pack`, which has `ALIGN_WORDS` to spare.
        let base = unsafe { start.add(start.align_offset(64).min(ALIGN_WORDS)) } as *mut T;
        // SAFETY: `pack` holds `b_len + a_len` values of `T` after `base` (see `words`); an
        // 8-byte-aligned `f64` buffer is aligned for `T` (f32 or f64).
        let (b_pack, a_pack) = (base, unsafe { base.add(b_len) });
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let first = pc == 0 && !accumulate;
                // The block's panels: `panel_stride` values apart, row `p` of each at `p·NR`.
                let (b_block, panel_stride) = match b {
                    RhsParts::Strided(b) => {
                        // SAFETY: `b_pack` has room for `kc_max × nc_max ≥ kc × nc` values
                        // rounded up to whole panels, and rows `pc..pc + kc`, columns
                        // `jc..jc + nc` lie in `B`.
                        unsafe { pack_b::<T, NR>(b_pack, b, pc, kc, jc, nc) };
                        (b_pack as *const T, kc * NR)
                    }
                    // SAFETY: row `pc` of panel `jc / NR` (`NC` is a multiple of `NR`), inside
                    // the packed panels of the caller's contract.
                    RhsParts::Packed(p) => unsafe {
                        (p.ptr.add(jc * p.depth + pc * NR), p.depth * NR)
                    },
                };
                if m < MR {
                    let block = FewRows {
                        m,
                        nc,
                        kc,
                        a: Operand {
                            // SAFETY: element `(0, pc)` of `A`.
                            ptr: unsafe { a.ptr.add(pc * a.col_stride) },
                            ..a
                        },
                        // SAFETY: element `(0, jc)` of `C`.
                        c: unsafe { c.add(jc * c_cs) },
                        c_rs,
                        c_cs,
                        first,
                    };
                    // SAFETY: `m × kc` values of `A` and `m × nc` of `C` inside their views,
                    // `nc` columns of `kc`-deep panels `panel_stride` apart; `fma` checked.
                    unsafe { few_rows::product::<T, NR>(block, b_block, panel_stride, fma) };
                    continue;
                }
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    let full = if direct_a { mc - mc % MR } else { 0 };
                    // SAFETY: `a_pack` has room for `kc × mc_max` values, and the panels of
                    // rows `full..mc` start `full · kc` values in; those rows lie in `A`.
                    unsafe { pack_a(a_pack.add(full * kc), a, ic + full, mc - full, pc, kc) };
                    for jr in (0..nc).step_by(NR) {
                        let cols = NR.min(nc - jr);
                        // SAFETY: panel `jr / NR` of the block of `B`.
                        let bp = unsafe { b_block.add(jr / NR * panel_stride) };
                        for ir in (0..mc).step_by(MR) {
                            let rows = MR.min(mc - ir);
                            // SAFETY: panel `ir / MR` of the packed block of `A` (used only
                            // when `ir ≥ full`, where it was packed), inside `a_pack`.
                            let ap = unsafe { a_pack.add(ir * kc) };
                            // SAFETY: element `(ic + ir, jc + jr)` of `C`, inside its view.
                            let cp = unsafe { c.add((ic + ir) * c_rs + (jc + jr) * c_cs) };
                            let tile = Tile {
                                c: cp,
                                c_rs,
                                c_cs,
                                rows,
                                cols,
                                first,
                            };
                            if ir < full {
                                // SAFETY: element `(ic + ir, pc)` of `A`, whose next `MR` rows
                                // are contiguous in `k` (`direct_a`); the CPU has AVX2 and FMA.
                                unsafe {
                                    let rows = a.ptr.add((ic + ir) * a.row_stride + pc);
                                    if NR == 32 {
                                        avx512::micro_rows(kc, rows, a.row_stride, bp, tile)
                                    } else {
                                        micro_f32_avx2_rows(kc, rows, a.row_stride, bp, tile)
                                    }
                                }
                            } else if fma {
                                // SAFETY: packed `kc`-deep panels of `A` and `B` and a tile
                                // inside `C`; `has_fma` checked the CPU.
                                unsafe { micro_fma::<T, NR>(kc, ap, bp, tile) }
                            } else {
                                // SAFETY: packed `kc`-deep panels of `A` and `B` and a tile
                                // inside `C`.
                                unsafe { micro_body::<T, NR, false>(kc, ap, bp, tile) }
                            }
                        }
                    }
                }
            }
        }
    });
}

/// Packs `B[pc..pc+kc, jc..jc+nc]` into panels of `NR` columns, `kc × NR` each (zero-padded).
///
/// Each panel is written in order, one row of `NR` values after another; full panels copy
/// fixed-size rows (no `memcpy` call per row), partial ones pad with zeros.
///
/// # Safety
/// `dst` must be valid for writes of `kc × nc` values rounded up to whole panels, and the
/// block must lie inside `b`'s view.
unsafe fn pack_b<T: Real, const NR: usize>(
    dst: *mut T,
    b: Operand<T>,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
) {
    if b.col_stride == 1 {
        // B row-major: read each row of the block once, front to back, and deal it out to
        // the panels (reading panel by panel would jump a whole row stride per value, and
        // strides of 4 KiB make every such read miss the same cache set).
        let full = nc - nc % NR;
        for p in 0..kc {
            // SAFETY: element `(pc + p, jc)` of `B`.
            let src = unsafe { b.ptr.add((pc + p) * b.row_stride + jc) };
            for jr in (0..full).step_by(NR) {
                // SAFETY: `NR` contiguous values of row `pc + p` (columns `jc + jr..`, all
                // below `jc + nc`), written to row `p` of panel `jr / NR` inside `dst`.
                unsafe {
                    let run = std::ptr::read_unaligned(src.add(jr) as *const [T; NR]);
                    std::ptr::write_unaligned(dst.add(jr * kc + p * NR) as *mut [T; NR], run);
                }
            }
            if full < nc {
                // SAFETY: row `p` of the last, partial panel, inside `dst`.
                let out = unsafe { dst.add(full * kc + p * NR) };
                for j in 0..NR {
                    // SAFETY: lane `j` of that row; column `jc + full + j` is read only when
                    // it lies in the block.
                    unsafe {
                        *out.add(j) = if full + j < nc {
                            *src.add(full + j)
                        } else {
                            T::zero()
                        };
                    }
                }
            }
        }
        return;
    }
    for jr in (0..nc).step_by(NR) {
        let cols = NR.min(nc - jr);
        // SAFETY: panel `jr / NR`, inside `dst`.
        let panel = unsafe { dst.add(jr * kc) };
        // SAFETY: element `(pc, jc + jr)` of `B`.
        let origin = unsafe { b.ptr.add(pc * b.row_stride + (jc + jr) * b.col_stride) };
        // B column-major (a transposed weight, Wᵀ): gather one value from each of the `NR`
        // columns, each read as a contiguous stream; 8 × 8 blocks at a time with AVX2 for f32.
        #[cfg(target_arch = "x86_64")]
        if cols == NR && NR >= 16 && size_of::<T>() == 4 && b.row_stride == 1 && has_fma() {
            let (panel, origin) = (panel as *mut f32, origin as *const f32);
            // SAFETY: a full panel of `NR` (16 or 32) columns of `kc` contiguous values each,
            // from a block inside `B` into a panel inside `dst`; `has_fma` checked the CPU for
            // AVX2.
            unsafe { transpose_panel_f32_avx2::<NR>(panel, origin, b.col_stride, kc) };
            continue;
        }
        // SAFETY: the panel's `cols` columns of `kc` values lie in `B`; the panel (`kc × NR`)
        // lies in `dst`.
        unsafe { gather_panel::<T, NR>(panel, origin, b.row_stride, b.col_stride, kc, cols) };
    }
}

/// Writes a `kc × W` panel in order: `panel[p·W + i] = origin[p·depth_step + i·lane_step]` for
/// the first `valid` lanes, zeros for the rest.
///
/// # Safety
/// `panel` must be valid for writes of `kc × W` values, and `origin` for reads at every
/// `p·depth_step + i·lane_step` with `p < kc`, `i < valid`.
unsafe fn gather_panel<T: Real, const W: usize>(
    panel: *mut T,
    origin: *const T,
    depth_step: usize,
    lane_step: usize,
    kc: usize,
    valid: usize,
) {
    for p in 0..kc {
        // SAFETY: the first value of step `p` on both sides (see the contract).
        let (src, out) = unsafe { (origin.add(p * depth_step), panel.add(p * W)) };
        for i in 0..W {
            // SAFETY: lane `i` of row `p` of the panel; the source is read only for the
            // `valid` lanes the contract covers.
            unsafe {
                *out.add(i) = if i < valid {
                    *src.add(i * lane_step)
                } else {
                    T::zero()
                };
            }
        }
    }
}

/// Transposes the 8 × 8 block held in `r` (row `i` in `r[i]`): lane `i` of result `q` is
/// lane `q` of `r[i]`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn transpose_8x8(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ]
}

/// Packs a full `W`-column panel (`W` a multiple of 8) of a column-major f32 `B` (column `j`
/// starts at `origin + j·col_stride`, its `kc` values contiguous): `panel[p·W + j] = column
/// j [p]`, by 8 × 8 register transposes, the last `kc mod 8` rows one value at a time.
///
/// # Safety
/// The CPU must support AVX2 and FMA, the `W` columns must be valid for reads of `kc` values,
/// and `panel` for writes of `kc × W`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn transpose_panel_f32_avx2<const W: usize>(
    panel: *mut f32,
    origin: *const f32,
    col_stride: usize,
    kc: usize,
) {
    use std::arch::x86_64::*;
    let full = kc - kc % 8;
    for p0 in (0..full).step_by(8) {
        for half in 0..W / 8 {
            // SAFETY: values `p0..p0 + 8` (below `kc`) of column `half·8 + i < W`.
            let column =
                |i: usize| unsafe { _mm256_loadu_ps(origin.add((half * 8 + i) * col_stride + p0)) };
            let rows = transpose_8x8(std::array::from_fn(column));
            for (q, row) in rows.into_iter().enumerate() {
                // SAFETY: lanes `half·8..half·8 + 8` of panel row `p0 + q < kc`.
                unsafe { _mm256_storeu_ps(panel.add((p0 + q) * W + half * 8), row) };
            }
        }
    }
    for p in full..kc {
        for j in 0..W {
            // SAFETY: value `p < kc` of column `j < W`, into lane `j` of panel row `p`.
            unsafe { *panel.add(p * W + j) = *origin.add(j * col_stride + p) };
        }
    }
}

/// Packs `A[ic..ic+mc, pc..pc+kc]` into panels of `MR` rows, `kc × MR` each (zero-padded),
/// written in order like [`pack_b`].
///
/// # Safety
/// `dst` must be valid for writes of `kc × mc` values rounded up to whole panels, and the
/// block must lie inside `a`'s view.
unsafe fn pack_a<T: Real>(dst: *mut T, a: Operand<T>, ic: usize, mc: usize, pc: usize, kc: usize) {
    for ir in (0..mc).step_by(MR) {
        let rows = MR.min(mc - ir);
        // SAFETY: panel `ir / MR`, inside `dst`.
        let panel = unsafe { dst.add(ir * kc) };
        // SAFETY: element `(ic + ir, pc)` of `A`.
        let origin = unsafe { a.ptr.add((ic + ir) * a.row_stride + pc * a.col_stride) };
        if rows == MR && a.row_stride == 1 {
            // A column-major (a transposed view, as δᵀ): each step is `MR` contiguous values.
            for p in 0..kc {
                // SAFETY: rows `ic + ir..ic + ir + MR` of column `pc + p`, contiguous (row
                // stride 1), into row `p` of the panel.
                unsafe {
                    let run =
                        std::ptr::read_unaligned(origin.add(p * a.col_stride) as *const [T; MR]);
                    std::ptr::write_unaligned(panel.add(p * MR) as *mut [T; MR], run);
                }
            }
        } else {
            // SAFETY: the panel's `rows` rows of `kc` values lie in `A`; the panel (`kc × MR`)
            // lies in `dst`.
            unsafe { gather_panel::<T, MR>(panel, origin, a.col_stride, a.row_stride, kc, rows) };
        }
    }
}

/// Where a micro-kernel writes its `MR × NR` tile: the valid `rows × cols` corner at `c`,
/// overwritten when `first`, else added to.
#[derive(Clone, Copy)]
pub(crate) struct Tile<T> {
    pub c: *mut T,
    pub c_rs: usize,
    pub c_cs: usize,
    pub rows: usize,
    pub cols: usize,
    pub first: bool,
}

/// `tile (+)= Σₚ a[p]·b[p]` for one `A` and one `B` panel, sequential in `p`: the portable
/// micro-kernel (fused multiply-add when `FUSED`).
///
/// # Safety
/// `ap` and `bp` must be valid for reads of `kc × MR` and `kc × NR` values, and the tile's
/// `rows × cols` corner for writes (and reads unless `first`).
#[inline(always)]
unsafe fn micro_body<T: Real, const NR: usize, const FUSED: bool>(
    kc: usize,
    ap: *const T,
    bp: *const T,
    tile: Tile<T>,
) {
    let mut acc = [[T::zero(); NR]; MR];
    for p in 0..kc {
        // SAFETY: row `p < kc` of each panel.
        let (a, b): ([T; MR], [T; NR]) = unsafe {
            (
                std::ptr::read_unaligned(ap.add(p * MR) as *const [T; MR]),
                std::ptr::read_unaligned(bp.add(p * NR) as *const [T; NR]),
            )
        };
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] = if FUSED {
                    a[i].mul_add(b[j], acc[i][j])
                } else {
                    acc[i][j] + a[i] * b[j]
                };
            }
        }
    }
    for (i, row) in acc.iter().enumerate().take(tile.rows) {
        for (j, &v) in row.iter().enumerate().take(tile.cols) {
            // SAFETY: element `(i, j)` of the tile's valid corner.
            unsafe {
                let slot = tile.c.add(i * tile.c_rs + j * tile.c_cs);
                *slot = if tile.first { v } else { *slot + v };
            }
        }
    }
}

/// The fused micro-kernel: hand-written AVX2 for `f32` (6 × 16 tile in 12 registers), the
/// portable one compiled with FMA otherwise. Both compute `acc = fma(a, b, acc)` in the same
/// order, so they agree to the bit.
///
/// # Safety
/// As [`micro_body`], and the CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_fma<T: Real, const NR: usize>(
    kc: usize,
    ap: *const T,
    bp: *const T,
    tile: Tile<T>,
) {
    // `Real` is implemented by f32 and f64 only: four bytes means f32.
    if std::mem::size_of::<T>() == 4 && NR == 16 {
        let tile = tile.cast::<f32>();
        // SAFETY: `T` is `f32` and the panels are 16 wide, as the AVX2 kernel takes them.
        return unsafe { micro_f32_avx2(kc, ap as *const f32, bp as *const f32, tile) };
    }
    if std::mem::size_of::<T>() == 4 && NR == 32 {
        let tile = tile.cast::<f32>();
        // SAFETY: `T` is `f32` and the panels are 32 wide: the AVX-512 path, which `gemm`
        // selects only on a CPU that has AVX-512F.
        return unsafe { avx512::micro_packed(kc, ap as *const f32, bp as *const f32, tile) };
    }
    // SAFETY: this function's contract.
    unsafe { micro_body::<T, NR, true>(kc, ap, bp, tile) }
}

/// The portable micro-kernel, where there is no AVX2 to select.
///
/// # Safety
/// As [`micro_body`].
#[cfg(not(target_arch = "x86_64"))]
unsafe fn micro_fma<T: Real, const NR: usize>(
    kc: usize,
    ap: *const T,
    bp: *const T,
    tile: Tile<T>,
) {
    // SAFETY: this function's contract.
    unsafe { micro_body::<T, NR, false>(kc, ap, bp, tile) }
}

impl<T> Tile<T> {
    /// The same tile, for the element type `U` that `T` is known to be.
    pub(crate) fn cast<U>(self) -> Tile<U> {
        Tile {
            c: self.c as *mut U,
            c_rs: self.c_rs,
            c_cs: self.c_cs,
            rows: self.rows,
            cols: self.cols,
            first: self.first,
        }
    }
}

/// The AVX2 micro-kernel on a packed panel of `A` (value `(i, p)` at `ap[p·MR + i]`).
///
/// # Safety
/// As [`micro_body`] with `NR = 16`, and the CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f32_avx2(kc: usize, ap: *const f32, bp: *const f32, tile: Tile<f32>) {
    // SAFETY: value `(i, p)` of the packed panel, `p < kc`, `i < MR`, inside it.
    let a_at = |p: usize, i: usize| unsafe { ap.add(p * MR + i) };
    // SAFETY: this function's contract.
    unsafe { micro_f32_avx2_with(kc, a_at, bp, tile) }
}

/// The AVX2 micro-kernel on `MR` rows of `A` read in place: row `i` starts at
/// `rows + i·row_stride`, its `kc` values contiguous. Same sums, same order, as on a packed
/// panel.
///
/// # Safety
/// `T` must be `f32`; the `MR` rows must be valid for reads of `kc` values; `bp` and the tile
/// as [`micro_body`] with `NR = 16`; the CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f32_avx2_rows<T>(
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
    unsafe { micro_f32_avx2_with(kc, a_at, bp as *const f32, tile.cast::<f32>()) }
}

/// Never called off x86_64 (`direct_a` is false there).
///
/// # Safety
/// None needed: it panics.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn micro_f32_avx2_rows<T>(_: usize, _: *const T, _: usize, _: *const T, _: Tile<T>) {
    unreachable!("the AVX2 micro-kernel exists on x86_64 only")
}

/// The 6 × 16 AVX2 tile kernel; `a_at(p, i)` is where `A[i][p]` is. As the AVX-512 one, the
/// last tiles of a product compute only the rows they keep and, with at most 8 columns left,
/// the left half of the panel: the same operations on each kept element, so the same bits.
///
/// # Safety
/// `a_at(p, i)` must be valid for reads for `p < kc`, `i < MR`; `bp` and the tile as
/// [`micro_body`] with `NR = 16`; the CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f32_avx2_with(
    kc: usize,
    a_at: impl Fn(usize, usize) -> *const f32,
    bp: *const f32,
    tile: Tile<f32>,
) {
    /// `micro_f32_avx2_tile::<H, R>` for the tile's halves `H` and rows `R`.
    macro_rules! dispatch {
        ($h:literal) => {
            match tile.rows {
                1 => micro_f32_avx2_tile::<$h, 1>(kc, a_at, bp, tile),
                2 => micro_f32_avx2_tile::<$h, 2>(kc, a_at, bp, tile),
                3 => micro_f32_avx2_tile::<$h, 3>(kc, a_at, bp, tile),
                4 => micro_f32_avx2_tile::<$h, 4>(kc, a_at, bp, tile),
                5 => micro_f32_avx2_tile::<$h, 5>(kc, a_at, bp, tile),
                _ => micro_f32_avx2_tile::<$h, MR>(kc, a_at, bp, tile),
            }
        };
    }
    // SAFETY: this function's contract; a tile of fewer rows or of at most 8 columns reads
    // and writes a part of what the full one does.
    unsafe {
        if tile.cols <= 8 {
            dispatch!(1)
        } else {
            dispatch!(2)
        }
    }
}

/// [`micro_f32_avx2_with`] on the first `R` rows of `A` and the first `H` 8-wide halves of
/// each 16-wide panel row (`H` is 1 or 2, `R` at most [`MR`]).
///
/// # Safety
/// As [`micro_f32_avx2_with`], with `tile.rows ≤ R` and `tile.cols ≤ 8·H`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_f32_avx2_tile<const H: usize, const R: usize>(
    kc: usize,
    a_at: impl Fn(usize, usize) -> *const f32,
    bp: *const f32,
    tile: Tile<f32>,
) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); H]; R];
    // Bring the tile of C into cache while the products run.
    for i in 0..tile.rows {
        // SAFETY: the first element of row `i` of the tile; a prefetch reads nothing.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(tile.c.add(i * tile.c_rs) as *const i8) };
    }
    let step = |p: usize, acc: &mut [[__m256; H]; R]| {
        // SAFETY: half `h < H ≤ 2` of row `p < kc` of the 16-wide `B` panel.
        let b: [__m256; H] =
            std::array::from_fn(|h| unsafe { _mm256_loadu_ps(bp.add(p * 16 + h * 8)) });
        for (i, acc) in acc.iter_mut().enumerate() {
            // SAFETY: `A[i][p]`, `i < R ≤ MR`, valid by the contract on `a_at`.
            let a = unsafe { _mm256_broadcast_ss(&*a_at(p, i)) };
            for (acc, &b) in acc.iter_mut().zip(&b) {
                *acc = _mm256_fmadd_ps(a, b, *acc);
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
    if tile.rows == R && tile.cols == 8 * H && tile.c_cs == 1 {
        for (i, acc) in acc.iter().enumerate() {
            for (h, &acc) in acc.iter().enumerate() {
                // SAFETY: half `h` of row `i` of a full tile: 8 contiguous elements of `C`
                // (column stride 1).
                unsafe {
                    let out = tile.c.add(i * tile.c_rs + h * 8);
                    if tile.first {
                        _mm256_storeu_ps(out, acc);
                    } else {
                        _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), acc));
                    }
                }
            }
        }
        return;
    }
    let mut spill = [[0.0f32; 16]; R];
    for (row, acc) in spill.iter_mut().zip(&acc) {
        for (h, &acc) in acc.iter().enumerate() {
            // SAFETY: 8 of the 16 values of a local row.
            unsafe { _mm256_storeu_ps(row.as_mut_ptr().add(h * 8), acc) };
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

/// Whether products run fused (AVX2 + FMA or AVX-512) kernels now.
pub(crate) fn has_fma() -> bool {
    path::current() != KernelPath::Portable
}
