//! How work is split across threads without changing a single bit of the result.
//!
//! Every parallel loop in the engine splits the output of a matrix product into column
//! blocks, and computes each block with one single-threaded [`super::matmul::matmul`] call.
//! The kernel sums every output element over `k` in an order that depends only on `k`, never
//! on how many columns the call was given (see the `kernel` module), and each output element
//! belongs to exactly one block. So the block width may follow the number of threads (wide
//! blocks pack each operand fewer times) while the results stay bit-identical for any thread
//! count. Row splits do change the kernel's path for a remainder of fewer than six rows, so
//! rows are cut only into fixed blocks of [`ROW_CHUNK`], which depend on the shapes alone.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::matmul::MatMut;

/// Narrowest column block worth handing to another thread: below this, packing the other
/// operand again for each block costs more than the second thread saves.
const MIN_BLOCK_WIDTH: usize = 64;

/// Column blocks per thread: a few, so that a thread slowed by other work on the machine
/// leaves the rest of its share to the others.
const BLOCKS_PER_THREAD: usize = 2;

/// Below this many multiply-adds a loop runs on the calling thread: handing it to other
/// threads would cost more than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// Width of the column blocks of a `cols`-wide output with `work` multiply-adds, on the
/// current rayon pool: all columns at once on one thread or for small work, else about
/// [`BLOCKS_PER_THREAD`] blocks per thread, a multiple of 16 columns (the kernel's tile), at
/// least [`MIN_BLOCK_WIDTH`] wide.
fn block_width(cols: usize, work: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads == 1 || work < PARALLEL_MIN_WORK {
        return cols.max(1);
    }
    cols.div_ceil(threads * BLOCKS_PER_THREAD)
        .next_multiple_of(16)
        .max(MIN_BLOCK_WIDTH)
}

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
pub(crate) const ROW_CHUNK: usize = 256;

/// Like [`for_each_column_block`], but a batch of more than [`ROW_CHUNK`] rows is also cut
/// into row blocks of [`ROW_CHUNK`] rows (so large inference batches spread over the threads
/// even when the layer is narrow): calls `f(top, height, first_column, width)`.
pub(crate) fn for_each_tile<F>(rows: usize, cols: usize, work: usize, f: F)
where
    F: Fn(usize, usize, usize, usize) + Sync + Send,
{
    // Written as `clamp`: rustc 1.95 miscompiles the equivalent
    // `if rows > ROW_CHUNK { ROW_CHUNK } else { rows.max(1) }` into `rows.max(1)` (LLVM
    // wrongly narrows the range of `rows`); `every_element_is_in_one_tile_on_any_pool` checks.
    let row_chunk = rows.clamp(1, ROW_CHUNK);
    let width = block_width(cols, work);
    let row_blocks = rows.div_ceil(row_chunk);
    let col_blocks = cols.div_ceil(width);
    let run = |t: usize| {
        let (rb, cb) = (t / col_blocks, t % col_blocks);
        let (top, first) = (rb * row_chunk, cb * width);
        f(
            top,
            row_chunk.min(rows - top),
            first,
            width.min(cols - first),
        )
    };
    run_all(row_blocks * col_blocks, work, run);
}

/// Calls `f(first_column, width)` for consecutive column blocks covering a `cols`-wide
/// output (see [`block_width`]), in parallel on the current rayon pool when `work`
/// (multiply-adds) is large enough.
pub(crate) fn for_each_column_block<F>(cols: usize, work: usize, f: F)
where
    F: Fn(usize, usize) + Sync + Send,
{
    let width = block_width(cols, work);
    let run = |b: usize| {
        let first = b * width;
        f(first, width.min(cols - first))
    };
    run_all(cols.div_ceil(width), work, run);
}

/// Tasks handed to a thread pool of more than one thread so far, in this process.
static PARALLEL_TASKS: AtomicUsize = AtomicUsize::new(0);

/// Counts `tasks` pieces of work handed to the thread pool together (see
/// [`parallel_task_count`]).
pub(crate) fn count_parallel_tasks(tasks: usize) {
    PARALLEL_TASKS.fetch_add(tasks, Ordering::Relaxed);
}

/// How many pieces of work (column blocks of a matrix product, pieces of an optimizer update)
/// this process has handed to a thread pool of more than one thread, split among its threads
/// rather than run on the calling one. A diagnostic: a test that claims "the same bits on 1
/// and 2 threads" reads it before and after the 2-thread run to prove the work was really
/// split.
pub fn parallel_task_count() -> usize {
    PARALLEL_TASKS.load(Ordering::Relaxed)
}

/// Runs `run(0)`, ..., `run(tasks - 1)`: in parallel when there is enough work to share.
fn run_all<F>(tasks: usize, work: usize, run: F)
where
    F: Fn(usize) + Sync + Send,
{
    if tasks <= 1 || work < PARALLEL_MIN_WORK || rayon::current_num_threads() == 1 {
        (0..tasks).for_each(run);
    } else {
        count_parallel_tasks(tasks);
        (0..tasks).into_par_iter().for_each(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    #[test]
    fn every_column_is_visited_once_on_any_pool() {
        for threads in [1, 2, 3] {
            for (cols, work) in [(1, 0), (64, PARALLEL_MIN_WORK), (3 * 64 + 5, 1 << 20)] {
                let rows = 3;
                let mut data = vec![0u32; rows * cols];
                let shared = Columns::new(&mut data, rows, cols);
                pool(threads).install(|| {
                    for_each_column_block(cols, work, |first, width| {
                        let mut block = unsafe { shared.block(first, width) };
                        for r in 0..rows {
                            block.row_mut(r).iter_mut().for_each(|v| *v += 1);
                        }
                    })
                });
                assert!(
                    data.iter().all(|&v| v == 1),
                    "{threads} threads, {cols} cols"
                );
            }
        }
    }

    #[test]
    fn every_element_is_in_one_tile_on_any_pool() {
        for threads in [1, 2, 3] {
            for (rows, cols) in [(1, 1), (ROW_CHUNK, 70), (3 * ROW_CHUNK + 2, 200)] {
                let mut data = vec![0u32; rows * cols];
                let shared = Columns::new(&mut data, rows, cols);
                pool(threads).install(|| {
                    for_each_tile(rows, cols, 1 << 20, |top, height, first, width| {
                        assert!(height <= ROW_CHUNK, "rows are cut in fixed blocks");
                        let mut tile = unsafe { shared.tile(top, height, first, width) };
                        for r in 0..height {
                            tile.row_mut(r).iter_mut().for_each(|v| *v += 1);
                        }
                    })
                });
                assert!(
                    data.iter().all(|&v| v == 1),
                    "{threads} threads, {rows}x{cols}"
                );
            }
        }
    }
}
