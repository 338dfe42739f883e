//! A right operand packed once for many products: a network's `Wᵀ`, kept beside its weights
//! for inference.
//!
//! The kernel packs `B` into panels of a few columns before it multiplies; for one row of
//! `A` (single-sample inference) that packing costs more than the product itself. A
//! [`PackedMatrix`] holds the panels of the whole matrix, so that a product with it reads each
//! value once and packs nothing. The sums are the kernel's, in the same order, so a product
//! with the packed matrix and one with the plain view agree to the bit.

use std::sync::OnceLock;

use super::kernel::{self, Panels};
use super::matmul::MatRef;
use super::real::Real;

/// A `k × n` matrix packed into the kernel's panels over its whole depth.
///
/// The panels are as wide as the register tile of the kernel path that packed them; a
/// product on another path (a test forcing one) reads the plain matrix instead, which the
/// view of the packed one carries.
#[derive(Clone)]
pub(crate) struct PackedMatrix<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
    nr: usize,
}

impl<T: Real> PackedMatrix<T> {
    /// Packs `b` (one pass over its values) in the current path's panels.
    pub(crate) fn new(b: MatRef<'_, T>) -> Self {
        let (rows, cols, nr) = (b.rows(), b.cols(), kernel::panel_width::<T>());
        let mut data = vec![T::zero(); kernel::packed_len(rows, cols, nr)];
        if rows > 0 && cols > 0 {
            // SAFETY: `data` holds `packed_len(rows, cols, nr)` values, and the operand is
            // the `rows × cols` view `b`, which its constructor checked against its slice.
            unsafe { kernel::pack_panels(data.as_mut_ptr(), b.operand(), rows, cols, nr) };
        }
        Self {
            data,
            rows,
            cols,
            nr,
        }
    }

    /// The whole matrix as a view for [`super::matmul::matmul_packed`]; `source` is the
    /// plain matrix it was packed from.
    ///
    /// # Panics
    /// If `source` does not have the packed matrix's shape.
    #[track_caller]
    pub(crate) fn view<'a>(&'a self, source: MatRef<'a, T>) -> PackedRef<'a, T> {
        assert_eq!(
            (source.rows(), source.cols()),
            (self.rows, self.cols),
            "packed: the source has another shape"
        );
        PackedRef {
            data: &self.data,
            rows: self.rows,
            cols: self.cols,
            nr: self.nr,
            source,
        }
    }
}

/// A block of whole panels of a [`PackedMatrix`]: all its rows, some of its columns.
#[derive(Clone, Copy)]
pub(crate) struct PackedRef<'a, T> {
    /// From the first panel of the block to the end of the matrix.
    data: &'a [T],
    rows: usize,
    cols: usize,
    /// Columns per panel.
    nr: usize,
    /// The same block of the plain matrix.
    source: MatRef<'a, T>,
}

impl<'a, T: Real> PackedRef<'a, T> {
    /// Rows (the product's depth `k`).
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub(crate) fn cols(&self) -> usize {
        self.cols
    }

    /// Columns `first..first + width`.
    ///
    /// # Panics
    /// If `first` is not at a panel boundary or the block reaches past the columns.
    #[track_caller]
    pub(crate) fn columns(self, first: usize, width: usize) -> Self {
        let nr = self.nr;
        assert!(
            first.is_multiple_of(nr) && first + width <= self.cols,
            "packed columns {first}..{} of {} (panels of {nr})",
            first + width,
            self.cols
        );
        Self {
            data: &self.data[(first * self.rows).min(self.data.len())..],
            rows: self.rows,
            cols: width,
            nr,
            source: self.source.submatrix(0, self.rows, first, width),
        }
    }

    /// The packed panels, if they suit the current kernel path (else the plain matrix).
    pub(crate) fn for_current_path(self) -> Result<Self, MatRef<'a, T>> {
        if self.nr == kernel::panel_width::<T>() {
            Ok(self)
        } else {
            Err(self.source)
        }
    }

    /// The raw panels for the kernel (valid for `rows` rows and `cols` columns rounded up to
    /// whole panels, which [`PackedMatrix::new`] and [`PackedRef::columns`] guarantee).
    pub(crate) fn panels(&self) -> Panels<T> {
        Panels {
            ptr: self.data.as_ptr(),
            depth: self.rows,
        }
    }
}

/// The right operand of a blocked product: a plain strided view or a packed matrix.
#[derive(Clone, Copy)]
pub(crate) enum Rhs<'a, T> {
    /// A strided view, packed by each product.
    Plain(MatRef<'a, T>),
    /// Packed beforehand.
    Packed(PackedRef<'a, T>),
}

impl<'a, T: Real> Rhs<'a, T> {
    /// Rows (the product's depth).
    pub(crate) fn rows(&self) -> usize {
        match self {
            Rhs::Plain(b) => b.rows(),
            Rhs::Packed(b) => b.rows(),
        }
    }

    /// Columns.
    pub(crate) fn cols(&self) -> usize {
        match self {
            Rhs::Plain(b) => b.cols(),
            Rhs::Packed(b) => b.cols(),
        }
    }

    /// Columns `first..first + width` (for a packed matrix, `first` at a panel boundary).
    #[track_caller]
    pub(crate) fn columns(self, first: usize, width: usize) -> Self {
        match self {
            Rhs::Plain(b) => Rhs::Plain(b.submatrix(0, b.rows(), first, width)),
            Rhs::Packed(b) => Rhs::Packed(b.columns(first, width)),
        }
    }
}

impl<'a, T> From<MatRef<'a, T>> for Rhs<'a, T> {
    fn from(b: MatRef<'a, T>) -> Self {
        Rhs::Plain(b)
    }
}

/// Packed right operands built on first use and dropped when their source changes: a
/// network's `Wˡᵀ` for inference, one per layer.
///
/// Two caches always compare equal and print as their state only, so that a type holding
/// one keeps its `PartialEq` and `Debug` about its own values.
#[derive(Clone, Default)]
pub(crate) struct PackedCache<T>(OnceLock<Vec<PackedMatrix<T>>>);

impl<T: Real> PackedCache<T> {
    /// The packed matrices, built by `build` on the first call since the last
    /// [`PackedCache::clear`].
    pub(crate) fn get_or_build(
        &self,
        build: impl FnOnce() -> Vec<PackedMatrix<T>>,
    ) -> &[PackedMatrix<T>] {
        self.0.get_or_init(build)
    }

    /// The packed matrices, if they are built.
    pub(crate) fn get(&self) -> Option<&[PackedMatrix<T>]> {
        self.0.get().map(Vec::as_slice)
    }

    /// Drops the packed matrices (their source is about to change).
    pub(crate) fn clear(&mut self) {
        self.0.take();
    }
}

impl<T> PartialEq for PackedCache<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for PackedCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.0.get().is_some() {
            "packed"
        } else {
            "empty"
        };
        f.write_str(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::matmul::{matmul, matmul_packed, Accum, MatMut};

    /// A product with the packed matrix equals the one with the plain view, bit for bit, for
    /// every row count (below, at and above the micro-kernel's six rows), both layouts of `B`,
    /// blocks of columns at panel boundaries, on every kernel path the CPU runs.
    #[test]
    fn packed_products_equal_plain_ones() {
        for path in crate::compute::path::supported_kernel_paths() {
            crate::compute::path::force_here(Some(path));
            let (k, n) = (300, 70);
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 37) % 101) as f32 / 17.0 - 3.0)
                .collect();
            for transpose in [false, true] {
                let view = if transpose {
                    MatRef::row_major(&b, n, k).t()
                } else {
                    MatRef::row_major(&b, k, n)
                };
                let packed = PackedMatrix::new(view);
                for m in [1, 2, 5, 6, 7, 13] {
                    let a: Vec<f32> = (0..m * k)
                        .map(|i| ((i * 11) % 23) as f32 / 7.0 - 1.5)
                        .collect();
                    let lhs = MatRef::row_major(&a, m, k);
                    for (first, width) in [(0, n), (32, 33), (64, 6)] {
                        let (mut plain, mut fast) =
                            (vec![0.5f32; m * width], vec![0.5f32; m * width]);
                        for accum in [Accum::Replace, Accum::Add] {
                            let rhs = view.submatrix(0, k, first, width);
                            matmul(MatMut::row_major(&mut plain, m, width), accum, lhs, rhs);
                            let rhs = packed.view(view).columns(first, width);
                            matmul_packed(MatMut::row_major(&mut fast, m, width), accum, lhs, rhs);
                            let same = plain
                                .iter()
                                .zip(&fast)
                                .all(|(x, y)| x.to_bits() == y.to_bits());
                            assert!(
                                same,
                                "m {m}, columns {first}+{width}, transpose {transpose}, {path:?}"
                            );
                        }
                    }
                }
            }
        }
        crate::compute::path::force_here(None);
    }
}
