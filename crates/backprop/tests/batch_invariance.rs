//! A row's prediction does not depend on the batch it is computed in: bit-identical outputs
//! for the row alone, in sub-batches cut anywhere and in one big batch (past the 256-row
//! blocks of inference), on 1 and 2 threads (the 2-thread run really split), in f32 and f64,
//! on every kernel path this CPU runs (the detected one and the portable one).
//!
//! The tests of this binary switch the kernel path of the whole process, so they run one at a
//! time.

mod common;

use backprop::compute::{force_kernel_path, kernel_path, supported_kernel_paths};
use backprop::{Activation, Architecture, Init, Network, OutputActivation, Real, Workspace};
use common::{assert_same_bits, one_at_a_time, random_inputs, with_task_count};
use proptest::prelude::*;

/// 300 inputs (more than one 256-deep block of the kernel), two hidden layers wide enough to
/// be cut into column blocks on two threads, 10 softmax outputs.
fn network<T: Real>() -> Network<T> {
    let arch = Architecture::new(
        300,
        &[200, 70],
        Activation::Tanh,
        10,
        OutputActivation::Softmax,
    );
    Network::new(arch, Init::Auto, 7).unwrap()
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// The rows of `x` predicted in the sub-batches that the sorted `cuts` delimit, one
/// `predict_into` call each, through one workspace.
fn predict_in_pieces<T: Real>(net: &Network<T>, x: &[T], cuts: &[usize]) -> Vec<T> {
    let (inputs, outputs) = (net.architecture().inputs, net.architecture().outputs);
    let rows = x.len() / inputs;
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().copied().filter(|&c| c > 0 && c < rows));
    bounds.push(rows);
    bounds.dedup();
    let widest = bounds.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(1);
    let mut ws = Workspace::for_inference(net.architecture(), widest.max(1));
    let mut out = vec![T::zero(); rows * outputs];
    for w in bounds.windows(2) {
        let (top, bottom) = (w[0], w[1]);
        net.predict_into(
            &x[top * inputs..bottom * inputs],
            bottom - top,
            &mut ws,
            &mut out[top * outputs..bottom * outputs],
        );
    }
    out
}

/// Every way of computing the rows of `x` gives the bits of one whole-batch prediction on one
/// thread: in pieces, row by row, on two threads (checked to split the work when the batch is
/// large), and through `forward` on a network whose weights were never packed.
fn check_invariance<T: Real>(rows: usize, cuts: &[usize], seed: u64) {
    let net = network::<T>();
    let inputs = net.architecture().inputs;
    let x: Vec<T> = random_inputs(rows, inputs, seed);
    let whole = pool(1).install(|| net.predict(&x));
    let path = kernel_path();
    let pieces = pool(1).install(|| predict_in_pieces(&net, &x, cuts));
    assert_same_bits(
        &whole,
        &pieces,
        &format!("{path}: pieces {cuts:?} of {rows}"),
    );
    let singles: Vec<usize> = (1..rows).collect();
    let alone = pool(1).install(|| predict_in_pieces(&net, &x, &singles));
    assert_same_bits(&whole, &alone, &format!("{path}: {rows} rows one by one"));
    let (two, tasks) = with_task_count(|| pool(2).install(|| predict_in_pieces(&net, &x, cuts)));
    assert_same_bits(&whole, &two, &format!("{path}: pieces {cuts:?}, 2 threads"));
    if rows >= 64 {
        assert!(
            tasks > 0,
            "{path}: the 2-thread prediction of {rows} rows split no work"
        );
    }
    // `forward` with the weights unpacked (a fresh network) sums in the same order.
    let fresh = network::<T>();
    let outputs = fresh.architecture().outputs;
    let mut ws = Workspace::for_inference(fresh.architecture(), rows);
    let mut logits = vec![T::zero(); rows * outputs];
    pool(2).install(|| fresh.forward(&x, rows, &mut ws, false));
    logits.copy_from_slice(ws.logits(rows));
    let mut packed_logits = vec![T::zero(); rows * outputs];
    let mut ws = Workspace::for_inference(net.architecture(), rows);
    net.forward(&x, rows, &mut ws, false);
    packed_logits.copy_from_slice(ws.logits(rows));
    assert_same_bits(
        &logits,
        &packed_logits,
        &format!("{path}: forward, {rows} rows"),
    );
}

/// Runs `check` on every kernel path this CPU runs (the portable one, AVX2, AVX-512).
fn on_every_path(check: impl Fn()) {
    let _serial = one_at_a_time();
    let detected = kernel_path();
    for path in supported_kernel_paths() {
        assert!(force_kernel_path(Some(path)));
        assert_eq!(kernel_path(), path.name());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&check));
        force_kernel_path(None);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
    assert_eq!(kernel_path(), detected, "the detected path is restored");
}

/// A network packed for one path and predicted on another: the bits of that other path.
#[test]
fn weights_packed_on_one_path_predict_right_on_every_path() {
    let _serial = one_at_a_time();
    let net = network::<f32>();
    let x: Vec<f32> = random_inputs(9, net.architecture().inputs, 5);
    let mut ws = Workspace::for_inference(net.architecture(), 9);
    let mut out = vec![0.0f32; 9 * net.architecture().outputs];
    net.predict_into(&x, 9, &mut ws, &mut out);
    for path in supported_kernel_paths() {
        assert!(force_kernel_path(Some(path)));
        net.predict_into(&x, 9, &mut ws, &mut out);
        let fresh = network::<f32>().predict(&x);
        force_kernel_path(None);
        assert_same_bits(&fresh, &out, path.name());
    }
}

#[test]
fn a_large_batch_in_blocks_equals_its_rows_alone() {
    // 600 rows: two full 256-row blocks and a remainder, cut at edges of the kernel's tiles
    // (6 rows) and of the row blocks.
    on_every_path(|| {
        check_invariance::<f32>(600, &[1, 5, 6, 7, 255, 256, 257, 300, 513, 599], 1);
        check_invariance::<f64>(600, &[3, 256, 260, 597], 2);
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_batch_cut_anywhere_gives_the_same_bits(
        rows in 1usize..300,
        cuts in proptest::collection::vec(0usize..300, 0..6),
        seed in 0u64..1000,
    ) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        on_every_path(|| check_invariance::<f32>(rows, &cuts, seed));
    }
}
