//! How work is split across threads without changing a single bit of the result.
//!
//! Every parallel product of the engine goes through [`matmul_in_blocks`]: the output is cut
//! into blocks, each block is computed with one single-threaded [`matmul`] call and then
//! handed to the caller's epilogue (bias and activation, a dropout mask, `σ'`) while it is
//! still in cache. The kernel sums every output element over `k` in an order that depends
//! only on `k`, never on how many columns the call was given (see the `kernel` module), and
//! each output element belongs to exactly one block. So the block width may follow the number
//! of threads (wide blocks pack each operand fewer times) while the results stay
//! bit-identical for any thread count. Row splits do change the kernel's path for a remainder
//! of fewer than six rows, so rows are cut only into fixed blocks of [`ROW_CHUNK`], which
//! depend on the shapes alone.
//!
//! The blocks are disjoint views of one buffer shared among the threads; this module is the
//! only place that builds them, so its callers stay safe.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::matmul::{matmul, matmul_packed, Accum, MatMut, MatRef};
use super::packed::Rhs;
use super::real::Real;

/// Narrowest column block worth handing to another thread: below this, packing the other
/// operand again for each block costs more than the second thread saves.
const MIN_BLOCK_WIDTH: usize = 64;

/// Column blocks per thread: a few, so that a thread slowed by other work on the machine
/// leaves the rest of its share to the others.
const BLOCKS_PER_THREAD: usize = 2;

/// Below this many multiply-adds a loop runs on the calling thread: handing it to other
/// threads would cost more than it saves.
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// Rows per block of [`Split::Tiles`] once a product has more than this many rows.
pub(crate) const ROW_CHUNK: usize = 256;

thread_local! {
    /// Set while [`on_this_thread`] runs: products then stay on the calling thread.
    static ON_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every matrix product of the engine (forward and backward passes,
/// prediction) on the calling thread alone, whatever rayon pool it is on: no block is handed
/// to another thread, so no other thread is woken. The results are the same bits as on any
/// pool (the block split never changes a sum, see the module docs).
///
/// For a caller that already runs beside other work and whose product is small, such as a
/// server answering a lone single-row request on its network thread, where waking a pool
/// thread would cost more than the product.
pub fn on_this_thread<R>(f: impl FnOnce() -> R) -> R {
    /// Restores the previous setting, also when `f` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ON_THIS_THREAD.set(self.0);
        }
    }
    let _restore = Restore(ON_THIS_THREAD.replace(true));
    f()
}

/// Threads the products may use now: the current rayon pool's, or 1 inside
/// [`on_this_thread`].
fn pool_threads() -> usize {
    if ON_THIS_THREAD.get() {
        1
    } else {
        rayon::current_num_threads()
    }
}

/// How [`matmul_in_blocks`] cuts a product's output into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Split {
    /// Consecutive blocks of whole columns (see [`block_width`]).
    ColumnBlocks,
    /// The column blocks, each also cut into row blocks of [`ROW_CHUNK`] rows when the
    /// output has more rows than that (so that large inference batches spread over the
    /// threads even when the layer is narrow).
    Tiles,
}

/// The block of a product's output that one call of the epilogue owns: rows
/// `top..top + rows()` of columns [`Block::columns`], of the product and, when
/// [`matmul_in_blocks`] was given one, of a second output of the same shape.
pub(crate) struct Block<'a, T> {
    top: usize,
    first: usize,
    /// Columns of the whole output (its row stride).
    cols: usize,
    product: MatMut<'a, T>,
    extra: Option<MatMut<'a, T>>,
}

impl<T> Block<'_, T> {
    /// Number of rows of the block.
    pub(crate) fn rows(&self) -> usize {
        self.product.rows()
    }

    /// The block's columns of the whole output.
    pub(crate) fn columns(&self) -> Range<usize> {
        self.first..self.first + self.product.cols()
    }

    /// Where row `r` of the block lies in a row-major buffer shaped like the output: the
    /// block's part of another such buffer (a mask, the pre-activations) is `buffer[span]`.
    pub(crate) fn span(&self, r: usize) -> Range<usize> {
        let start = (self.top + r) * self.cols + self.first;
        start..start + self.product.cols()
    }

    /// Row `r` of the block of the product.
    pub(crate) fn row(&mut self, r: usize) -> &mut [T] {
        self.product.row_mut(r)
    }

    /// Row `r` of the block of the product and of the second output, if there is one.
    pub(crate) fn row_and_extra(&mut self, r: usize) -> (&mut [T], Option<&mut [T]>) {
        let extra = self.extra.as_mut().map(|e| e.row_mut(r));
        (self.product.row_mut(r), extra)
    }
}

/// `out = lhs · rhs` into the first `m × n` elements of `out` (row-major), block by block,
/// in parallel on the current rayon pool when the product is large enough, with
/// `epilogue(block)` run on each block right after its product, while it is in cache.
///
/// `rhs` is a plain view or a packed matrix (see `packed`); the blocks' first columns fall
/// on its panel boundaries (multiples of 32 columns).
///
/// `extra`, when given, is a second row-major `m × n` output cut into the same blocks and
/// handed to the epilogue with them (the activations beside the pre-activations).
///
/// # Panics
/// If the shapes do not agree, or `out` or `extra` is shorter than `m × n`.
#[track_caller]
pub(crate) fn matmul_in_blocks<T: Real, F>(
    split: Split,
    out: &mut [T],
    extra: Option<&mut [T]>,
    lhs: MatRef<'_, T>,
    rhs: Rhs<'_, T>,
    epilogue: F,
) where
    F: Fn(Block<'_, T>) + Sync,
{
    let (m, k, n) = (lhs.rows(), lhs.cols(), rhs.cols());
    assert_eq!(
        rhs.rows(),
        k,
        "matmul: lhs is {m}x{k} but rhs has {} rows",
        rhs.rows()
    );
    let out = Columns::new(out, m, n);
    let extra = extra.map(|e| Columns::new(e, m, n));
    let work = m * k * n;
    let run = |top: usize, height: usize, first: usize, width: usize| {
        // SAFETY: `for_each_tile` and `for_each_column_block` hand every element of the
        // output to exactly one call, so no two live blocks share an element.
        let mut block = unsafe { Block::new(&out, extra.as_ref(), top, height, first, width) };
        let (dst, lhs) = (block.product.reborrow(), lhs.submatrix(top, height, 0, k));
        match rhs.columns(first, width) {
            Rhs::Plain(rhs) => matmul(dst, Accum::Replace, lhs, rhs),
            Rhs::Packed(rhs) => matmul_packed(dst, Accum::Replace, lhs, rhs),
        }
        epilogue(block);
    };
    match split {
        Split::Tiles => for_each_tile(m, n, work, run),
        Split::ColumnBlocks => {
            for_each_column_block(n, work, |first, width| run(0, m, first, width))
        }
    }
}

/// Width of the column blocks of a `cols`-wide output with `work` multiply-adds, on the
/// current rayon pool: all columns at once on one thread or for small work, else about
/// [`BLOCKS_PER_THREAD`] blocks per thread, a multiple of 32 columns (the widest tile of the
/// kernels, so blocks start on panel boundaries of any path), at least [`MIN_BLOCK_WIDTH`]
/// wide.
fn block_width(cols: usize, work: usize) -> usize {
    let threads = pool_threads();
    if threads == 1 || work < PARALLEL_MIN_WORK {
        return cols.max(1);
    }
    cols.div_ceil(threads * BLOCKS_PER_THREAD)
        .next_multiple_of(32)
        .max(MIN_BLOCK_WIDTH)
}

/// A row-major `rows × cols` buffer shared by the calls of [`for_each_tile`] or
/// [`for_each_column_block`], each of which takes the view of its own block only.
struct Columns<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: a `Columns` is the exclusive borrow of a `&mut [T]`, which may move to another
// thread when `T` may.
unsafe impl<T: Send> Send for Columns<'_, T> {}
// SAFETY: sharing it only lets each thread build views of disjoint blocks (see
// `Columns::view`), so no element is reached from two threads.
unsafe impl<T: Send> Sync for Columns<'_, T> {}

impl<'a, T> Columns<'a, T> {
    /// Shares the first `rows × cols` elements of `data`.
    #[track_caller]
    fn new(data: &'a mut [T], rows: usize, cols: usize) -> Self {
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
    /// No two live views may share an element: call it only for the block a
    /// [`for_each_tile`] or [`for_each_column_block`] call was given.
    #[track_caller]
    unsafe fn view(&self, top: usize, height: usize, first: usize, width: usize) -> MatMut<'_, T> {
        assert!(
            top + height <= self.rows && first + width <= self.cols,
            "columns: block out of range"
        );
        if height == 0 || width == 0 {
            return MatMut::row_major(&mut [], 0, 0);
        }
        // SAFETY: element `(top, first)` of the buffer, in range (checked just above).
        let origin = unsafe { self.ptr.add(top * self.cols + first) };
        // SAFETY: the view stays inside the borrowed buffer (checked above), which outlives
        // it, and the caller promises that no other live view shares its elements.
        unsafe { MatMut::from_raw_parts(origin, height, width, self.cols, 1) }
    }
}

impl<'a, T> Block<'a, T> {
    /// The block of rows `top..top + height`, columns `first..first + width` of `product`
    /// (and of `extra`).
    ///
    /// # Safety
    /// As [`Columns::view`].
    unsafe fn new(
        product: &'a Columns<'_, T>,
        extra: Option<&'a Columns<'_, T>>,
        top: usize,
        height: usize,
        first: usize,
        width: usize,
    ) -> Self {
        Self {
            top,
            first,
            cols: product.cols,
            // SAFETY: the caller's promise, passed on.
            product: unsafe { product.view(top, height, first, width) },
            // SAFETY: as above.
            extra: extra.map(|e| unsafe { e.view(top, height, first, width) }),
        }
    }
}

/// Calls `f(top, height, first_column, width)` for the tiles of a `rows × cols` output: row
/// blocks of [`ROW_CHUNK`] rows once there are more rows than that, each cut into the column
/// blocks of [`for_each_column_block`] unless there are [`BLOCKS_PER_THREAD`] row blocks per
/// thread or more (then each tile has all the columns).
fn for_each_tile<F>(rows: usize, cols: usize, work: usize, f: F)
where
    F: Fn(usize, usize, usize, usize) + Sync + Send,
{
    // Written as `clamp`: rustc 1.95 miscompiles the equivalent
    // `if rows > ROW_CHUNK { ROW_CHUNK } else { rows.max(1) }` into `rows.max(1)` (LLVM
    // wrongly narrows the range of `rows`); `every_element_is_in_one_tile_on_any_pool` checks.
    let row_chunk = rows.clamp(1, ROW_CHUNK);
    let row_blocks = rows.div_ceil(row_chunk);
    // With row blocks enough for every thread, the tiles are whole rows: each then reads its
    // rows of the left operand (the larger one in a large batch) once, not once per column
    // block.
    let width = if row_blocks >= BLOCKS_PER_THREAD * pool_threads() {
        cols.max(1)
    } else {
        block_width(cols, work)
    };
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
fn for_each_column_block<F>(cols: usize, work: usize, f: F)
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

/// How many pieces of work (blocks of a matrix product, pieces of an optimizer update) this
/// process has handed to a thread pool of more than one thread, split among its threads
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
    if tasks <= 1 || work < PARALLEL_MIN_WORK || pool_threads() == 1 {
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
                        // SAFETY: each call views only its own columns.
                        let mut block = unsafe { shared.view(0, rows, first, width) };
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
                        // SAFETY: each call views only its own tile.
                        let mut tile = unsafe { shared.view(top, height, first, width) };
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

    /// Inside `on_this_thread`, a product large enough to be shared on a pool of two runs
    /// every block on the calling thread, with the bits it has when shared.
    #[test]
    fn on_this_thread_keeps_every_block_on_the_caller() {
        let (m, k, n) = (2 * ROW_CHUNK + 7, 64, 256);
        let lhs: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 / 6.0 - 1.0).collect();
        let rhs: Vec<f32> = (0..k * n).map(|i| (i % 11) as f32 / 5.0 - 1.0).collect();
        let (lhs, rhs) = (MatRef::row_major(&lhs, m, k), MatRef::row_major(&rhs, k, n));
        let product = |alone: bool| {
            let mut out = vec![0.0f32; m * n];
            let threads = std::sync::Mutex::new(Vec::new());
            pool(2).install(|| {
                let mut run = || {
                    let caller = std::thread::current().id();
                    matmul_in_blocks(Split::Tiles, &mut out, None, lhs, rhs.into(), |_| {
                        threads
                            .lock()
                            .unwrap()
                            .push(std::thread::current().id() == caller)
                    })
                };
                if alone {
                    on_this_thread(run)
                } else {
                    run()
                }
            });
            let threads = threads.into_inner().unwrap();
            assert!(threads.len() > 1, "the product was cut into blocks");
            (out, threads.iter().all(|&on_caller| on_caller))
        };
        let (shared, _) = product(false);
        let (alone, all_on_caller) = product(true);
        assert!(all_on_caller, "a block ran on another thread");
        assert!(shared
            .iter()
            .zip(&alone)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(!ON_THIS_THREAD.get(), "the setting is restored");
    }

    /// A product large enough to be cut into several blocks, its epilogue marking what it
    /// saw: the same bits on 1, 2 and 3 threads, each element seen once, the block's `span`
    /// naming its place in the whole output, and column blocks equal to one plain product.
    #[test]
    fn blocked_products_are_the_same_on_any_pool() {
        let (m, k, n) = (2 * ROW_CHUNK + 7, 33, 150);
        let lhs: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let rhs: Vec<f32> = (0..k * n)
            .map(|i| ((i * 104_729) % 97) as f32 / 48.0 - 1.0)
            .collect();
        let (lhs, rhs) = (MatRef::row_major(&lhs, m, k), MatRef::row_major(&rhs, k, n));
        let mut plain = vec![0.0f32; m * n];
        matmul(
            MatMut::row_major(&mut plain, m, n),
            Accum::Replace,
            lhs,
            rhs,
        );
        for split in [Split::ColumnBlocks, Split::Tiles] {
            let mut reference = None;
            for threads in [1, 2, 3] {
                let (mut out, mut seen) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
                pool(threads).install(|| {
                    matmul_in_blocks(
                        split,
                        &mut out,
                        Some(&mut seen),
                        lhs,
                        rhs.into(),
                        |mut block| {
                            for r in 0..block.rows() {
                                let span = block.span(r);
                                let (product, seen) = block.row_and_extra(r);
                                let seen = seen.unwrap();
                                for (s, i) in seen.iter_mut().zip(span) {
                                    *s += i as f32 + 1.0;
                                }
                                product.iter_mut().for_each(|v| *v *= 2.0);
                            }
                        },
                    )
                });
                let expected = (0..m * n).map(|i| i as f32 + 1.0);
                assert!(
                    seen.iter().copied().eq(expected),
                    "{split:?}, {threads} threads"
                );
                let bits: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
                assert_eq!(
                    reference.get_or_insert_with(|| bits.clone()),
                    &bits,
                    "{split:?}"
                );
                if split == Split::ColumnBlocks {
                    assert!(out
                        .iter()
                        .zip(&plain)
                        .all(|(o, p)| o.to_bits() == (2.0 * p).to_bits()));
                }
            }
        }
    }
}
