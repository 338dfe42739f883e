//! The one matrix product of the engine.
//!
//! Every `W·a`, `δ·W` and `δᵀ·a` in the network goes through [`matmul`], so the GEMM
//! library behind it can be swapped by measurement without touching anything else.
//! Transposes are free: a [`MatRef`] carries its strides, and [`MatRef::t`] swaps them.
//!
//! [`matmul_reference`] is the slow, obviously-right twin used by the tests to keep the fast
//! kernel honest.

use std::marker::PhantomData;

use super::kernel::{self, Operand, Output, RhsParts};
use super::packed::PackedRef;
use super::real::Real;

/// A read-only view of a matrix stored in a slice with explicit strides.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// A mutable view of a matrix stored in a slice with explicit strides.
///
/// Held as a raw pointer so that disjoint column blocks of one buffer can be handed to
/// different threads (see the engine's column-block parallelism); the lifetime ties it to the
/// borrowed buffer.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: a `MatMut` is an exclusive view, like `&mut [T]`.
unsafe impl<T: Send> Send for MatMut<'_, T> {}

/// Whether [`matmul`] overwrites its destination or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accum {
    /// `dst = lhs · rhs`
    Replace,
    /// `dst += lhs · rhs`
    Add,
}

/// Index of the last element a `rows × cols` view with these strides touches, plus one.
fn extent(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * row_stride + (cols - 1) * col_stride + 1
    }
}

impl<'a, T> MatRef<'a, T> {
    /// Views `data` as a row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// If `data` is shorter than `rows * cols`.
    #[track_caller]
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::with_strides(data, rows, cols, cols, 1)
    }

    /// Views `data` as a `rows × cols` matrix whose element `(i, j)` is
    /// `data[i * row_stride + j * col_stride]`.
    ///
    /// # Panics
    /// If the view reaches past the end of `data`.
    #[track_caller]
    pub fn with_strides(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        assert!(
            extent(rows, cols, row_stride, col_stride) <= data.len(),
            "matrix view {rows}x{cols} (strides {row_stride},{col_stride}) exceeds a slice of {}",
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// The transpose, without copying.
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// The `height × width` block whose first element is `(top, first)`, without copying.
    ///
    /// # Panics
    /// If the block reaches past the view's rows or columns.
    #[track_caller]
    pub fn submatrix(self, top: usize, height: usize, first: usize, width: usize) -> Self {
        assert!(
            top + height <= self.rows && first + width <= self.cols,
            "submatrix {height}x{width} at ({top}, {first}) exceeds a {}x{} view",
            self.rows,
            self.cols
        );
        // An empty block may start past the end of the slice.
        let offset = (top * self.row_stride + first * self.col_stride).min(self.data.len());
        Self {
            data: &self.data[offset..],
            rows: height,
            cols: width,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The view as raw parts for the kernel.
    pub(crate) fn operand(&self) -> Operand<T> {
        Operand {
            ptr: self.data.as_ptr(),
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }

    /// Element `(i, j)`.
    ///
    /// # Panics
    /// If `(i, j)` is out of bounds.
    #[track_caller]
    pub fn get(&self, i: usize, j: usize) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        &self.data[i * self.row_stride + j * self.col_stride]
    }
}

impl<'a, T> MatMut<'a, T> {
    /// Views `data` as a mutable row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// If `data` is shorter than `rows * cols`.
    #[track_caller]
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        assert!(
            rows * cols <= data.len(),
            "matrix view {rows}x{cols} exceeds a slice of {}",
            data.len()
        );
        Self {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
            _borrow: PhantomData,
        }
    }

    /// A view from raw parts.
    ///
    /// # Safety
    /// Every element `ptr + i·row_stride + j·col_stride` (`i < rows`, `j < cols`) must be valid
    /// for writes for `'a`, and no other live reference may touch those elements.
    pub(crate) unsafe fn from_raw_parts(
        ptr: *mut T,
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        Self {
            ptr,
            rows,
            cols,
            row_stride,
            col_stride,
            _borrow: PhantomData,
        }
    }

    /// A shorter-lived view of the same elements (to pass to [`matmul`] and keep this one).
    pub fn reborrow(&mut self) -> MatMut<'_, T> {
        MatMut {
            ptr: self.ptr,
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
            _borrow: PhantomData,
        }
    }

    /// Row `i` as a slice (the view's columns must be contiguous).
    ///
    /// # Panics
    /// If `i` is out of bounds or the column stride is not 1.
    #[track_caller]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        assert!(i < self.rows && self.col_stride == 1, "row_mut: row {i}");
        // SAFETY: the first element of row `i`, inside the view (checked just above).
        let start = unsafe { self.ptr.add(i * self.row_stride) };
        // SAFETY: the row's `cols` elements are contiguous (column stride 1) and valid for
        // writes, and the view is exclusive (see `MatMut::row_major`, `from_raw_parts`); the
        // slice borrows `self`, so no other access through this view can overlap it.
        unsafe { std::slice::from_raw_parts_mut(start, self.cols) }
    }

    /// Where element `(i, j)` is.
    ///
    /// # Panics
    /// If `(i, j)` is out of bounds.
    #[track_caller]
    fn element(&self, i: usize, j: usize) -> *mut T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of bounds"
        );
        // SAFETY: `(i, j)` is inside the view (checked just above), which its constructor
        // guaranteed to be valid.
        unsafe { self.ptr.add(i * self.row_stride + j * self.col_stride) }
    }

    /// Writes element `(i, j)`.
    fn set(&mut self, i: usize, j: usize, value: T) {
        // SAFETY: an element of the view, valid for writes and exclusive to it.
        unsafe { *self.element(i, j) = value }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// `dst = lhs · rhs` or `dst += lhs · rhs`, single-threaded and allocation-free (see the
/// kernel notes in `compute/kernel.rs`).
///
/// The engine parallelizes *around* this call (over blocks of output columns), never inside
/// it. Each output element is summed over `k` in an order that depends only on `k` (and on
/// the kernel path the CPU selects), not on `m`, on `n` or on which rows and columns a call
/// is given, so a result depends neither on the number of threads nor on the batch a row is
/// computed in.
///
/// # Panics
/// If the shapes do not agree: `lhs` is `m × k`, `rhs` is `k × n`, `dst` is `m × n`.
#[track_caller]
pub fn matmul<T: Real>(dst: MatMut<'_, T>, accum: Accum, lhs: MatRef<'_, T>, rhs: MatRef<'_, T>) {
    check_shapes(&dst, &lhs, rhs.rows, rhs.cols);
    product(
        dst,
        accum,
        lhs,
        RhsParts::Strided(rhs.operand()),
        rhs.rows,
        rhs.cols,
    );
}

/// [`matmul`] with a right operand packed beforehand: the same bits, without packing it again.
///
/// # Panics
/// As [`matmul`].
#[track_caller]
pub(crate) fn matmul_packed<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: PackedRef<'_, T>,
) {
    check_shapes(&dst, &lhs, rhs.rows(), rhs.cols());
    let (k, n) = (rhs.rows(), rhs.cols());
    match rhs.for_current_path() {
        Ok(rhs) => product(dst, accum, lhs, RhsParts::Packed(rhs.panels()), k, n),
        Err(plain) => product(dst, accum, lhs, RhsParts::Strided(plain.operand()), k, n),
    }
}

/// Checks that `lhs` (`m × k`), a `rhs_rows × rhs_cols` right operand and `dst` agree.
#[track_caller]
fn check_shapes<T>(dst: &MatMut<'_, T>, lhs: &MatRef<'_, T>, rhs_rows: usize, rhs_cols: usize) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs_cols);
    assert_eq!(
        rhs_rows, k,
        "matmul: lhs is {m}x{k} but rhs has {rhs_rows} rows"
    );
    assert_eq!(
        (dst.rows, dst.cols),
        (m, n),
        "matmul: destination must be {m}x{n}"
    );
}

/// The product of checked shapes: the kernel, or zeros when `k` is 0.
fn product<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: RhsParts<T>,
    k: usize,
    n: usize,
) {
    let m = lhs.rows;
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if accum == Accum::Replace {
            let mut dst = dst;
            for i in 0..m {
                for j in 0..n {
                    dst.set(i, j, T::zero());
                }
            }
        }
        return;
    }
    // SAFETY: the constructors checked that every view stays inside its slice (or, for
    // `dst`, was built from valid raw parts; a packed operand holds whole panels for its rows
    // and columns), `dst` is an exclusive view so it cannot alias `lhs` or `rhs`, and the
    // shapes were checked by the caller, with `m`, `n`, `k` at least 1.
    unsafe {
        kernel::gemm(
            m,
            n,
            k,
            Output {
                ptr: dst.ptr,
                row_stride: dst.row_stride,
                col_stride: dst.col_stride,
                accumulate: accum == Accum::Add,
            },
            lhs.operand(),
            rhs,
        );
    }
}

/// Gives every thread of the current rayon pool (see `rayon::ThreadPool::install`) the
/// scratch space of the largest [`matmul`] of `T` now, so that no such product allocates
/// afterwards.
///
/// Training calls it once per `fit`; call it yourself before timing or counting the
/// allocations of steps you run on a pool of your own. Without it, each thread takes that
/// space on its first product, which on a busy machine may be long after the first step.
pub fn reserve_thread_buffers<T: Real>() {
    rayon::broadcast(|_| kernel::reserve_packing_space::<T>());
}

/// The naive triple loop, accumulating in `f64`: the reference [`matmul`] is tested against.
#[track_caller]
pub fn matmul_reference<T: Real>(
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
) {
    assert_eq!(rhs.rows, lhs.cols);
    assert_eq!((dst.rows, dst.cols), (lhs.rows, rhs.cols));
    let mut dst = dst;
    for i in 0..lhs.rows {
        for j in 0..rhs.cols {
            let mut sum = 0.0f64;
            for p in 0..lhs.cols {
                sum += lhs.get(i, p).as_f64() * rhs.get(p, j).as_f64();
            }
            let old = match accum {
                Accum::Replace => T::zero(),
                // SAFETY: an element of the view, valid and exclusive to it.
                Accum::Add => unsafe { *dst.element(i, j) },
            };
            dst.set(i, j, old + T::from_f64(sum));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(len: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
            })
            .collect()
    }

    /// The fast kernel against the reference, in `T`, for every transpose and both modes;
    /// `tolerance` is relative to the largest possible term sum, `k/4`.
    fn check_against_reference<T: Real>(tolerance: f64) {
        // Past every block size of the kernel (k > 256, m > 96, n > 512), below MR rows, and
        // k not a multiple of 8 (the f32 transposing pack's remainder); last tiles of 1 to 5
        // rows below at least 6 (fewer rows in all go to the few-rows kernel) and of 1 to 31
        // columns, and ones of exactly 8, 16 or 32 columns written whole (the kernels' tiles
        // of fewer rows and of half width).
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 2),
            (17, 33, 9),
            (64, 70, 65),
            (2, 300, 19),
            (101, 300, 530),
            (13, 803, 40),
            (6, 7, 16),
            (12, 20, 48),
            (8, 9, 32),
            (5, 3, 16),
            (9, 20, 24),
            (15, 11, 8),
        ] {
            let cast = |v: Vec<f64>| v.into_iter().map(T::from_f64).collect::<Vec<T>>();
            let a = cast(filled(m * k, 1));
            let b = cast(filled(k * n, 2));
            for transpose_a in [false, true] {
                for transpose_b in [false, true] {
                    let lhs = if transpose_a {
                        MatRef::row_major(&a, k, m).t()
                    } else {
                        MatRef::row_major(&a, m, k)
                    };
                    let rhs = if transpose_b {
                        MatRef::row_major(&b, n, k).t()
                    } else {
                        MatRef::row_major(&b, k, n)
                    };
                    for accum in [Accum::Replace, Accum::Add] {
                        let mut fast = cast(filled(m * n, 3));
                        let mut slow = fast.clone();
                        matmul(MatMut::row_major(&mut fast, m, n), accum, lhs, rhs);
                        matmul_reference(MatMut::row_major(&mut slow, m, n), accum, lhs, rhs);
                        for (x, y) in fast.iter().zip(&slow) {
                            let error = (x.as_f64() - y.as_f64()).abs();
                            assert!(
                                error < tolerance * (k as f64 / 4.0).max(1.0),
                                "{} {m}x{k}x{n} (transposes {transpose_a} {transpose_b}): {x} vs {y}",
                                T::NAME
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn matches_reference_for_every_transpose_and_accum() {
        check_against_reference::<f64>(1e-14);
        check_against_reference::<f32>(1e-6);
    }

    #[test]
    fn every_path_the_cpu_runs_matches_reference() {
        for path in crate::compute::path::supported_kernel_paths() {
            crate::compute::path::force_here(Some(path));
            check_against_reference::<f64>(1e-14);
            check_against_reference::<f32>(1e-6);
        }
        crate::compute::path::force_here(None);
    }

    #[test]
    #[should_panic(expected = "matmul")]
    fn mismatched_shapes_panic() {
        let a = [0.0f32; 6];
        let mut c = [0.0f32; 4];
        matmul(
            MatMut::row_major(&mut c, 2, 2),
            Accum::Replace,
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&a, 2, 3),
        );
    }
}
