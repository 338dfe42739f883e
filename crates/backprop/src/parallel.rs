//! How work is split across threads without changing a single bit of the result.
//!
//! Every parallel loop in the engine splits its output into chunks of a *fixed* size
//! ([`ROW_CHUNK`] rows of a batch, or [`OUT_CHUNK`] output neurons of a weight gradient) that
//! depends only on the shapes, never on the number of threads. Each chunk is computed by one
//! single-threaded call with a fixed summation order, and each output element belongs to
//! exactly one chunk. Threads only decide *who* computes a chunk, so results are bit-identical
//! for any thread count.

use rayon::prelude::*;

/// Rows of a batch per chunk in the forward pass and in passing δ back.
pub(crate) const ROW_CHUNK: usize = 16;

/// Output neurons per chunk when forming `∂L/∂W = δᵀ·a`.
pub(crate) const OUT_CHUNK: usize = 16;

/// Below this many multiply-adds a loop runs on the calling thread: handing it to other
/// threads would cost more than it saves. (Same chunks either way, so same result.)
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// Calls `f(chunk_index, a_chunk, b_chunk)` for the matching chunks of `a` and `b`, in
/// parallel on the current rayon pool when `work` (multiply-adds) is large enough.
///
/// The chunk count is `a.len().div_ceil(a_chunk)`; `b` must split into at least as many chunks,
/// or be empty when there is no partner: then every call gets an empty `b` chunk. (Zipping
/// with the chunks of an empty `b` would silently skip every chunk of `a`.)
pub(crate) fn for_each_chunk_pair<A, B, F>(
    a: &mut [A],
    a_chunk: usize,
    b: &mut [B],
    b_chunk: usize,
    work: usize,
    f: F,
) where
    A: Send,
    B: Send,
    F: Fn(usize, &mut [A], &mut [B]) + Sync + Send,
{
    let chunks = a.len().div_ceil(a_chunk.max(1));
    if b.is_empty() {
        let f = |i: usize, x: &mut [A]| f(i, x, &mut []);
        if chunks <= 1 || work < PARALLEL_MIN_WORK || rayon::current_num_threads() == 1 {
            a.chunks_mut(a_chunk.max(1))
                .enumerate()
                .for_each(|(i, x)| f(i, x));
        } else {
            a.par_chunks_mut(a_chunk.max(1))
                .enumerate()
                .for_each(|(i, x)| f(i, x));
        }
        return;
    }
    if chunks <= 1 || work < PARALLEL_MIN_WORK || rayon::current_num_threads() == 1 {
        for (i, (x, y)) in a
            .chunks_mut(a_chunk.max(1))
            .zip(b.chunks_mut(b_chunk.max(1)))
            .enumerate()
        {
            f(i, x, y);
        }
    } else {
        a.par_chunks_mut(a_chunk)
            .zip(b.par_chunks_mut(b_chunk.max(1)))
            .enumerate()
            .for_each(|(i, (x, y))| f(i, x, y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_is_visited_with_and_without_a_partner() {
        for work in [0, PARALLEL_MIN_WORK] {
            let mut a = vec![0u32; 10];
            let mut b = vec![0u32; 5];
            for_each_chunk_pair(&mut a, 4, &mut b, 2, work, |i, x, y| {
                x.iter_mut().for_each(|v| *v = i as u32 + 1);
                y.iter_mut().for_each(|v| *v = i as u32 + 1);
            });
            assert_eq!(a, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]);
            assert_eq!(b, [1, 1, 2, 2, 3]);

            let mut a = vec![0u32; 10];
            let mut none: [u32; 0] = [];
            for_each_chunk_pair(&mut a, 4, &mut none, 4, work, |i, x, y| {
                assert!(y.is_empty());
                x.iter_mut().for_each(|v| *v = i as u32 + 1);
            });
            assert_eq!(a, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3], "work {work}");
        }
    }
}
