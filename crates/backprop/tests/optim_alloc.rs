//! Optimizer steps allocate nothing once built (L-BFGS: once its history is full), checked
//! with a counting global allocator.

mod common;

use backprop::clip::clip_grad_norm;
use backprop::optim::{AdamConfig, LbfgsConfig, OptimizerConfig, RmsPropConfig, SgdConfig, Solver};
use common::counting::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A convex quadratic `Σ (i + 1)·θ_i²` and its gradient.
fn quadratic(theta: &[f64], grad: &mut [f64]) -> f64 {
    let mut loss = 0.0;
    for (i, (&t, g)) in theta.iter().zip(grad.iter_mut()).enumerate() {
        let c = (i + 1) as f64;
        loss += c * t * t;
        *g = 2.0 * c * t;
    }
    loss
}

#[test]
fn steps_do_not_allocate() {
    let n = 64;
    let configs = [
        OptimizerConfig::Sgd(SgdConfig {
            lr: 0.01,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: true,
            weight_decay: 0.1,
        }),
        OptimizerConfig::Adam(AdamConfig {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.1,
            amsgrad: true,
        }),
        OptimizerConfig::adamw(),
        OptimizerConfig::RmsProp(RmsPropConfig {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.5,
            centered: true,
        }),
        OptimizerConfig::adagrad(),
        OptimizerConfig::rprop(),
    ];
    for config in configs {
        let mut solver = config.build::<f64>(n).unwrap();
        let mut theta: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut grad = vec![0.0; n];
        let Solver::FirstOrder(optimizer) = &mut solver else {
            panic!("first-order optimizer expected");
        };
        let before = allocations();
        for _ in 0..5 {
            quadratic(&theta, &mut grad);
            clip_grad_norm(&mut grad, 1.0);
            optimizer.step(&mut theta, &grad, config.lr());
        }
        let after = allocations();
        assert_eq!(after, before, "{} allocated in step", config.name());
    }

    for strong_wolfe in [false, true] {
        let config = OptimizerConfig::Lbfgs(LbfgsConfig {
            lr: 1.0,
            max_iter: 4,
            max_eval: 5,
            tolerance_grad: 0.0,
            tolerance_change: 0.0,
            history_size: 2,
            strong_wolfe,
        });
        let Solver::Lbfgs(mut lbfgs) = config.build::<f64>(n).unwrap() else {
            panic!("L-BFGS expected");
        };
        let mut theta: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        // The first step fills the two history slots.
        lbfgs.step(&mut theta, 1.0, quadratic);
        let before = allocations();
        lbfgs.step(&mut theta, 1.0, quadratic);
        lbfgs.step(&mut theta, 1.0, quadratic);
        let after = allocations();
        assert_eq!(
            after, before,
            "lbfgs (strong_wolfe {strong_wolfe}) allocated"
        );
    }
}
