//! The arithmetic under the network: matrix products, their split across threads, and
//! vectorized element-wise functions.
//!
//! - [`matmul`]: the one matrix product of the engine, behind strided views ([`matmul::MatRef`],
//!   [`matmul::MatMut`]), with a slow reference twin for the tests;
//! - `kernel`: the packed, cache-blocked GEMM behind it, with its AVX2 + FMA micro-kernels
//!   (`avx512`: the AVX-512 one; `path`: which the CPU runs, or a test forces),
//!   and `few_rows`, its kernel for products of a few rows (single-sample inference), which
//!   sums in the same order;
//! - `packed`: a right operand packed once for many products (a network's cached `Wᵀ`);
//! - `parallel`: products cut into blocks of output computed on the rayon pool, each block
//!   handed to a caller's epilogue (bias, activation, dropout, `σ'`) while it is in cache, so
//!   that the result is the same to the bit for any thread count;
//! - `fastmath`: `tanh` and the logistic sigmoid over slices of `f32`, vectorized;
//! - `simd`: element-wise loops compiled for the widest vector unit (AVX-512, AVX2), chosen at
//!   run time;
//! - [`real`]: the element type [`Real`](real::Real) (`f32` or `f64`) that the whole engine
//!   is generic over, re-exported as `backprop::real`.
//!
//! This is the bottom layer of the engine: it uses nothing outside itself, and everything
//! else builds on it.
//!
//! Every `unsafe` block and every SIMD intrinsic of the crate lives here, so that the rest of
//! the engine (the network, the δ recursion, the optimizers, training) is safe Rust and reads
//! like the notes. Each `unsafe` operation carries its own `SAFETY` note, and `unsafe fn` bodies
//! say which of their operations are unsafe (`unsafe_op_in_unsafe_fn` is denied).
#![deny(unsafe_op_in_unsafe_fn)]

mod avx512;
pub(crate) mod fastmath;
mod few_rows;
mod kernel;
pub mod matmul;
pub(crate) mod packed;
pub(crate) mod parallel;
pub(crate) mod path;
pub mod real;
pub(crate) mod simd;

pub use parallel::{on_this_thread, parallel_task_count};
pub use path::{force_kernel_path, kernel_path, supported_kernel_paths, KernelPath};
