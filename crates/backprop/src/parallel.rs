//! How work is split across threads without changing a single bit of the result.
//!
//! Every parallel loop in the engine splits the output of a matrix product into column blocks
//! of a *fixed* width ([`COL_CHUNK`]) that depends only on the shapes, never on the number of
//! threads. Each block is computed by one single-threaded call with a fixed summation order,
//! and each output element belongs to exactly one block. Threads only decide *who* computes a chunk, so results are bit-identical
//! for any thread count.

use std::marker::PhantomData;

use rayon::prelude::*;

use crate::matmul::MatMut;

/// Columns of a layer's output (`z`, `∂L/∂W` or the δ passed back) per block: every matrix
/// product of the engine is split into column blocks of this width. Splitting columns rather
/// than rows packs each weight only once per product (rows would repack it per chunk).
pub(crate) const COL_CHUNK: usize = 64;

/// Below this many multiply-adds a loop runs on the calling thread: handing it to other
/// threads would cost more than it saves. (Same chunks either way, so same result.)
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// A row-major `rows × cols` buffer shared by the calls of [`for_each_column_block`], each of
/// which takes the view of its own columns only.
pub(crate) struct Columns<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: the blocks handed out are disjoint (see `Columns::block`).
unsafe impl<T: Send> Send for Columns<'_, T> {}
unsafe impl<T: Send> Sync for Columns<'_, T> {}

impl<'a, T> Columns<'a, T> {
    /// Shares the first `rows × cols` elements of `data`.
    #[track_caller]
    pub(crate) fn new(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        assert!(rows * cols <= data.len(), "columns: buffer too short");
        Self {
            ptr: data.as_mut_ptr(),
            rows,
            cols,
            _borrow: PhantomData,
        }
    }

    /// The view of rows `top..top + height` of columns `first..first + width`.
    ///
    /// # Safety
    /// As [`Columns::block`]: no two live views may share an element.
    pub(crate) unsafe fn tile(
        &self,
        top: usize,
        height: usize,
        first: usize,
        width: usize,
    ) -> MatMut<'_, T> {
        assert!(
            top + height <= self.rows && first + width <= self.cols,
            "columns: tile out of range"
        );
        MatMut::from_raw_parts(
            self.ptr.add(top * self.cols + first),
            height,
            width,
            self.cols,
            1,
        )
    }

    /// The view of columns `first..first + width`.
    ///
    /// # Safety
    /// No two live views may share a column: call it only for the block a
    /// [`for_each_column_block`] call was given.
    pub(crate) unsafe fn block(&self, first: usize, width: usize) -> MatMut<'_, T> {
        assert!(first + width <= self.cols, "columns: block out of range");
        MatMut::from_raw_parts(self.ptr.add(first), self.rows, width, self.cols, 1)
    }
}

/// Rows per block of [`for_each_tile`] once a batch has more than this many rows.
pub(crate) const ROW_CHUNK: usize = 128;

/// Like [`for_each_column_block`], but a batch of more than [`ROW_CHUNK`] rows is also cut
/// into row blocks of [`ROW_CHUNK`] rows (so large inference batches do not repack all rows
/// for every column block): calls `f(top, height, first_column, width)`. The blocks depend
/// only on `rows` and `cols`.
pub(crate) fn for_each_tile<F>(rows: usize, cols: usize, work: usize, f: F)
where
    F: Fn(usize, usize, usize, usize) + Sync + Send,
{
    let row_chunk = if rows > ROW_CHUNK {
        ROW_CHUNK
    } else {
        rows.max(1)
    };
    let row_blocks = rows.div_ceil(row_chunk);
    let col_blocks = cols.div_ceil(COL_CHUNK);
    let run = |t: usize| {
        let (rb, cb) = (t / col_blocks, t % col_blocks);
        let (top, first) = (rb * row_chunk, cb * COL_CHUNK);
        f(
            top,
            row_chunk.min(rows - top),
            first,
            COL_CHUNK.min(cols - first),
        )
    };
    let tiles = row_blocks * col_blocks;
    if tiles <= 1 || work < PARALLEL_MIN_WORK || rayon::current_num_threads() == 1 {
        (0..tiles).for_each(run);
    } else {
        (0..tiles).into_par_iter().for_each(run);
    }
}

/// Calls `f(first_column, width)` for the column blocks `[0, COL_CHUNK)`, `[COL_CHUNK, 2·COL_CHUNK)`,
/// ... of a `cols`-wide output, in parallel on the current rayon pool when `work`
/// (multiply-adds) is large enough. The blocks depend only on `cols`.
pub(crate) fn for_each_column_block<F>(cols: usize, work: usize, f: F)
where
    F: Fn(usize, usize) + Sync + Send,
{
    let blocks = cols.div_ceil(COL_CHUNK);
    let run = |b: usize| {
        let first = b * COL_CHUNK;
        f(first, COL_CHUNK.min(cols - first))
    };
    if blocks <= 1 || work < PARALLEL_MIN_WORK || rayon::current_num_threads() == 1 {
        (0..blocks).for_each(run);
    } else {
        (0..blocks).into_par_iter().for_each(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_visited_once() {
        for (cols, work) in [
            (1, 0),
            (COL_CHUNK, PARALLEL_MIN_WORK),
            (3 * COL_CHUNK + 5, PARALLEL_MIN_WORK),
        ] {
            let rows = 3;
            let mut data = vec![0u32; rows * cols];
            let shared = Columns::new(&mut data, rows, cols);
            for_each_column_block(cols, work, |first, width| {
                let mut block = unsafe { shared.block(first, width) };
                for r in 0..rows {
                    block
                        .row_mut(r)
                        .iter_mut()
                        .for_each(|v| *v += first as u32 + 1);
                }
            });
            for (i, &v) in data.iter().enumerate() {
                let col = i % cols;
                assert_eq!(v, (col / COL_CHUNK * COL_CHUNK) as u32 + 1, "cols {cols}");
            }
        }
    }
}
