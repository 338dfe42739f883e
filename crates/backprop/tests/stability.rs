//! Numerical stability and determinism of the forward and backward passes: extreme logits,
//! softmax normalization, batch-size independence and thread-count independence.

mod common;

use backprop::{
    Activation, Architecture, Init, Loss, Network, OutputActivation, Real, Rng, Workspace,
};
use common::{
    assert_same_bits, every_loss, one_at_a_time, random_inputs, targets, with_task_count,
};

/// Targets that fit `loss`: classes, probabilities, or values.
fn targets_for<T: Real>(loss: &Loss, rows: usize, outputs: usize, seed: u64) -> (Vec<T>, Vec<u32>) {
    let mut rng = Rng::new(seed);
    let classes = (0..rows).map(|_| rng.below(outputs) as u32).collect();
    let values = (0..rows * outputs)
        .map(|_| match loss {
            Loss::Bce => T::from_f64(rng.uniform()),
            _ => T::from_f64(rng.uniform_in(-3.0, 3.0)),
        })
        .collect();
    (values, classes)
}

/// A network whose logits reach ±1e4: its last layer is scaled up until they do.
fn extreme_network<T: Real>(loss: &Loss, x: &[T], rows: usize) -> Network<T> {
    let arch = Architecture::new(6, &[8], Activation::Tanh, 4, loss.output_activation());
    let mut net = Network::<T>::new(arch.clone(), Init::PytorchDefault, 3).unwrap();
    let mut ws = Workspace::for_inference(&arch, rows);
    net.forward(x, rows, &mut ws, false);
    let largest = ws
        .logits(rows)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.as_f64().abs()));
    let factor = T::from_f64(2e4 / largest);
    let last = arch.parameter_count() - (8 * 4 + 4);
    net.parameters_mut()[last..]
        .iter_mut()
        .for_each(|p| *p *= factor);
    net.forward(x, rows, &mut ws, false);
    let largest = ws
        .logits(rows)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.as_f64().abs()));
    assert!(largest >= 1e4, "logits only reach {largest}");
    net
}

fn extreme_logits_stay_finite<T: Real>() {
    let rows = 12;
    let x = random_inputs::<T>(rows, 6, 1);
    for loss in every_loss(vec![0.5, 2.0, 1.0, 1.5]) {
        let net = extreme_network::<T>(&loss, &x, rows);
        let (values, classes) = targets_for::<T>(&loss, rows, 4, 2);
        let targets = targets(&loss, &values, &classes);
        let mut ws = Workspace::new(net.architecture(), rows);
        let value = net.loss_and_gradient(&x, rows, targets, &loss, &mut ws);
        assert!(value.is_finite(), "{} {loss:?}: loss {value}", T::NAME);
        assert!(
            ws.gradients().iter().all(|g| g.is_finite()),
            "{} {loss:?}: non-finite gradient",
            T::NAME
        );
        let predictions = net.predict_proba(&x);
        assert!(predictions.iter().all(|p| p.is_finite()), "{loss:?}");
        if loss.output_activation() == OutputActivation::Softmax {
            for row in predictions.chunks(4) {
                let sum: f64 = row.iter().map(|p| p.as_f64()).sum();
                assert!(
                    (sum - 1.0).abs() <= 1e-6,
                    "{} softmax row sums to {sum}",
                    T::NAME
                );
            }
        }
    }
}

#[test]
fn extreme_logits_give_finite_loss_and_gradients_f32() {
    let _serial = one_at_a_time();
    extreme_logits_stay_finite::<f32>();
}

#[test]
fn extreme_logits_give_finite_loss_and_gradients_f64() {
    let _serial = one_at_a_time();
    extreme_logits_stay_finite::<f64>();
}

#[test]
fn softmax_rows_sum_to_one() {
    let _serial = one_at_a_time();
    let arch = Architecture::new(5, &[16, 8], Activation::Relu, 7, OutputActivation::Softmax);
    let net = Network::<f32>::new(arch, Init::Auto, 11).unwrap();
    let x = random_inputs::<f32>(200, 5, 4);
    let scaled: Vec<f32> = x.iter().map(|v| v * 300.0).collect();
    for inputs in [&x, &scaled] {
        let p = net.predict(inputs);
        for row in p.chunks(7) {
            assert!(row.iter().all(|&v| (0.0..=1.0).contains(&v)), "{row:?}");
            let sum: f32 = row.iter().sum();
            assert!((sum - 1.0).abs() <= 1e-6, "row sums to {sum}: {row:?}");
        }
    }
}

fn predictions_independent_of_batch_size<T: Real>() {
    let rows = 45;
    let arch = Architecture::new(9, &[33, 17], Activation::Gelu, 5, OutputActivation::Softmax);
    let net = Network::<T>::new(arch.clone(), Init::Auto, 5).unwrap();
    let x = random_inputs::<T>(rows, 9, 6);
    let all = net.predict(&x);

    let mut one = Workspace::for_inference(&arch, 1);
    let mut single = vec![T::zero(); rows * 5];
    for (x_row, out) in x.chunks(9).zip(single.chunks_mut(5)) {
        net.predict_into(x_row, 1, &mut one, out);
    }
    let mut seven = Workspace::for_inference(&arch, 7);
    let mut blocks = vec![T::zero(); rows * 5];
    for (x_block, out) in x.chunks(7 * 9).zip(blocks.chunks_mut(7 * 5)) {
        net.predict_into(x_block, x_block.len() / 9, &mut seven, out);
    }
    for (i, ((&a, &s), &b)) in all.iter().zip(&single).zip(&blocks).enumerate() {
        let a = a.as_f64();
        for other in [s.as_f64(), b.as_f64()] {
            assert!(
                (a - other).abs() <= 1e-6 * a.abs().max(1.0),
                "{} prediction {i}: {a} (all rows) vs {other}",
                T::NAME
            );
        }
    }
}

#[test]
fn predictions_do_not_depend_on_batch_size() {
    let _serial = one_at_a_time();
    predictions_independent_of_batch_size::<f32>();
    predictions_independent_of_batch_size::<f64>();
}

/// Loss and gradients computed inside a rayon pool of `threads` threads, and the number of
/// tasks handed to the pool. 300 rows through 96 → 160 → 130: every product is cut into
/// several column blocks on 2 or 3 threads, and the forward pass also into row blocks.
fn gradients_with_threads<T: Real>(threads: usize, loss: &Loss) -> ((f64, Vec<T>), usize) {
    let rows = 300;
    let arch = Architecture::new(
        96,
        &[160, 130],
        Activation::Silu,
        4,
        loss.output_activation(),
    );
    let net = Network::<T>::new(arch.clone(), Init::Auto, 9).unwrap();
    let x = random_inputs::<T>(rows, 96, 10);
    let (values, classes) = targets_for::<T>(loss, rows, 4, 12);
    let targets = targets(loss, &values, &classes);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    with_task_count(|| {
        pool.install(|| {
            let mut ws = Workspace::new(&arch, rows);
            let value = net.loss_and_gradient(&x, rows, targets, loss, &mut ws);
            (value, ws.gradients().to_vec())
        })
    })
}

fn bit_identical_across_threads<T: Real>() {
    for loss in [Loss::Mse, Loss::cross_entropy()] {
        let ((loss_1, grads_1), _) = gradients_with_threads::<T>(1, &loss);
        assert!(grads_1.iter().any(|g| *g != T::zero()));
        for threads in [2, 3] {
            let ((loss_n, grads_n), tasks) = gradients_with_threads::<T>(threads, &loss);
            assert!(
                tasks > 1,
                "{threads} threads ran {tasks} tasks: nothing was split"
            );
            let what = format!("{} {loss:?}, {threads} threads", T::NAME);
            assert_eq!(loss_1.to_bits(), loss_n.to_bits(), "{what}");
            assert_same_bits(&grads_1, &grads_n, &what);
        }
    }
}

#[test]
fn gradients_are_bit_identical_for_any_thread_count() {
    let _serial = one_at_a_time();
    bit_identical_across_threads::<f32>();
    bit_identical_across_threads::<f64>();
}
