//! What an optimizer carries from step to step, and its checkpoint form.
//!
//! A first-order optimizer keeps a step count and per-parameter buffers in a [`Buffers`];
//! [`super::Optimizer::state`] and [`super::Optimizer::load_state`] save and restore them by
//! name, once for all optimizers. L-BFGS, whose history is a ring of pairs plus scalars,
//! writes its own [`OptimizerState`] with [`save_buffer`], [`find_buffer`] and
//! [`find_scalar`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::real::Real;

/// The state an optimizer carries between steps, for checkpoints: a step count and named
/// buffers (momentum, moment estimates, ...) stored as `f64`, which holds `f32` exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Number of steps taken.
    pub step: u64,
    /// Named per-parameter buffers.
    pub buffers: Vec<(String, Vec<f64>)>,
    /// Named scalars (for example L-BFGS bookkeeping).
    pub scalars: Vec<(String, f64)>,
}

/// The steps a first-order optimizer has taken and its per-parameter buffers, each under the
/// name its [`OptimizerState`] stores it by (a buffer that a setting turns off is empty).
#[derive(Clone, Debug)]
pub struct Buffers<T> {
    steps: u64,
    names: &'static [&'static str],
    values: Vec<Vec<T>>,
}

impl<T: Real> Buffers<T> {
    /// No steps taken yet, and buffer `names[i]` holding `values[i]`.
    pub(crate) fn new<const N: usize>(
        names: &'static [&'static str; N],
        values: [Vec<T>; N],
    ) -> Self {
        Buffers {
            steps: 0,
            names,
            values: values.into(),
        }
    }

    /// Number of steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The buffer called `name`, if the optimizer has one.
    pub fn get(&self, name: &str) -> Option<&[T]> {
        let i = self.names.iter().position(|&n| n == name)?;
        Some(&self.values[i])
    }

    /// The step count and the `N` buffers, in the order of their names, for an update.
    ///
    /// # Panics
    /// If there are not `N` buffers (a bug in the optimizer).
    pub(crate) fn split_mut<const N: usize>(&mut self) -> (&mut u64, &mut [Vec<T>; N]) {
        let values =
            <&mut [Vec<T>; N]>::try_from(&mut self.values[..]).expect("optimizer buffer count");
        (&mut self.steps, values)
    }

    /// The checkpoint form: the step count and every buffer by name, in `f64`.
    pub fn save(&self) -> OptimizerState {
        OptimizerState {
            step: self.steps,
            buffers: self
                .names
                .iter()
                .zip(&self.values)
                .map(|(name, values)| save_buffer(name, values))
                .collect(),
            scalars: Vec::new(),
        }
    }

    /// Restores [`Buffers::save`]'s form: every buffer is checked (present, of the right
    /// length) before any is overwritten, so an error leaves the optimizer as it was.
    pub fn load(&mut self, state: &OptimizerState) -> Result<()> {
        let found = self
            .names
            .iter()
            .zip(&self.values)
            .map(|(name, values)| find_buffer(state, name, values.len()))
            .collect::<Result<Vec<_>>>()?;
        for (dst, src) in self.values.iter_mut().zip(found) {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = T::from_f64(s);
            }
        }
        self.steps = state.step;
        Ok(())
    }
}

/// Copies a buffer into the `f64` form of [`OptimizerState`] (exact for `f32`).
pub(crate) fn save_buffer<T: Real>(name: &str, values: &[T]) -> (String, Vec<f64>) {
    (
        name.to_string(),
        values.iter().map(|v| v.as_f64()).collect(),
    )
}

/// Finds buffer `name` of length `len` in `state`, or explains what is wrong.
pub(crate) fn find_buffer<'a>(
    state: &'a OptimizerState,
    name: &str,
    len: usize,
) -> Result<&'a [f64]> {
    let (_, values) = state
        .buffers
        .iter()
        .find(|(key, _)| key == name)
        .ok_or_else(|| Error::InvalidConfig(format!("optimizer state lacks buffer `{name}`")))?;
    if values.len() != len {
        return Err(Error::ShapeMismatch {
            what: format!("optimizer buffer `{name}`"),
            expected: vec![len],
            got: vec![values.len()],
        });
    }
    Ok(values)
}

/// Finds scalar `name` in `state`.
pub(crate) fn find_scalar(state: &OptimizerState, name: &str) -> Result<f64> {
    state
        .scalars
        .iter()
        .find(|(key, _)| key == name)
        .map(|&(_, value)| value)
        .ok_or_else(|| Error::InvalidConfig(format!("optimizer state lacks scalar `{name}`")))
}

#[cfg(test)]
mod tests {
    use super::super::{OptimizerConfig, Solver};
    use super::*;

    /// `Σ (i + 1)·θ_i² + sin(3·θ_i)` and its gradient.
    fn loss(theta: &[f64], grad: &mut [f64]) -> f64 {
        let mut loss = 0.0;
        for (i, (&t, g)) in theta.iter().zip(grad.iter_mut()).enumerate() {
            let c = (i + 1) as f64;
            loss += c * t * t + (t * 3.0).sin();
            *g = 2.0 * c * t + 3.0 * (t * 3.0).cos();
        }
        loss
    }

    /// Two steps from `[0.5, −0.25, 1]`: the parameters after them, and the solver.
    fn two_steps(config: &OptimizerConfig) -> (Vec<f64>, Solver<f64>) {
        let mut solver = config.build::<f64>(3).unwrap();
        let mut theta = vec![0.5, -0.25, 1.0];
        let mut grad = vec![0.0; 3];
        for _ in 0..2 {
            match &mut solver {
                Solver::FirstOrder(o) => {
                    loss(&theta, &mut grad);
                    o.step(&mut theta, &grad, config.lr());
                }
                Solver::Lbfgs(l) => {
                    l.step(&mut theta, config.lr(), loss);
                }
            }
        }
        (theta, solver)
    }

    /// Per optimizer of `super::tests::WRITTEN_BEFORE`: its state after [`two_steps`] and the
    /// parameters (`{:?}`), both as the engine wrote them before the state was saved by
    /// [`Buffers`] (checkpoints hold these).
    const STATES_BEFORE: [(&str, &str); 8] = [
        (
            r#"{"step":2,"buffers":[["momentum_buffer",[2.4848308828202255,2.102035726865013,5.808890821589728]]],"scalars":[]}"#,
            "[0.4625295751217666, -0.28272102333486476, 0.9106108666821161]",
        ),
        (
            r#"{"step":2,"buffers":[["exp_avg",[0.24050785359131885,0.22128819352380064,0.5942226212448904]],["exp_avg_sq",[0.0032021695414283908,0.0027128738548811157,0.019554156123790942]],["max_exp_avg_sq",[]]],"scalars":[]}"#,
            "[0.497999862087325, -0.25199976109406796, 0.9980000404442312]",
        ),
        (
            r#"{"step":2,"buffers":[["exp_avg",[0.4503292853588948,0.4097587971537131,1.0816151636830618]],["exp_avg_sq",[0.2965720286986341,0.247944801330228,1.7167533786031641]],["max_exp_avg_sq",[0.2965720286986341,0.247944801330228,1.7167533786031641]]],"scalars":[]}"#,
            "[0.4799875884907992, -0.26996378476923805, 0.9800047692736177]",
        ),
        (
            r#"{"step":2,"buffers":[["exp_avg",[0.23102134134081276,0.2260507321365781,0.5752279181826137]],["exp_avg_sq",[0.0029544921662352395,0.0028308562925501483,0.01832404692495566]],["max_exp_avg_sq",[]]],"scalars":[]}"#,
            "[0.4979898638973503, -0.25199475932162274, 0.997980051426877]",
        ),
        (
            r#"{"step":2,"buffers":[["square_avg",[0.34054378379436223,0.2002124619873916,1.6598426458254933]],["momentum_buffer",[4.412221784083988,3.7619374542624144,4.156441128403054]],["grad_avg",[0.2534225200240696,0.19221760602864368,0.5614145765140632]]],"scalars":[]}"#,
            "[0.4225444497424251, -0.32095270694620925, 0.9251022557493367]",
        ),
        (
            r#"{"step":2,"buffers":[["sum",[3.1126661315815833,2.6222662438462203,18.08563733936097]]],"scalars":[]}"#,
            "[0.4827342549795396, -0.26674805622673514, 0.9829831802347491]",
        ),
        (
            r#"{"step":2,"buffers":[["prev",[1.2818772001607952,1.092740614036832,2.9840577955263483]],["step_size",[0.012,0.012,0.012]]],"scalars":[]}"#,
            "[0.478, -0.272, 0.978]",
        ),
        (
            r#"{"step":3,"buffers":[["d",[-0.1272301811322059,0.12753908974975187,0.06314658974931175]],["prev_flat_grad",[2.846460566577277,-4.898667825508937,-0.7143227382812196]],["old_dirs",[1.8295900816983137,-4.529480068371903,0.290744309379928,-0.19534112012414528,-1.5642543637584967,-4.035089557859811]],["old_stps",[-0.3752155145769335,-0.3699086280864568,-0.9378820089261294,-0.18058544586905337,-0.13137842696012694,-0.41984175763028353]],["ro",[1.3960254541866088,0.5168268129775102]]],"scalars":[["func_evals",8.0],["t",1.0],["h_diag",0.10310035593141814],["prev_loss",-0.3051056252669019],["history_len",2.0]]}"#,
            "[-0.18303114157819275, -0.6237479652968319, -0.29457717680710116]",
        ),
    ];

    #[test]
    fn states_are_written_and_read_as_before() {
        let configs = super::super::tests::WRITTEN_BEFORE;
        for (json, (state, theta)) in configs.iter().zip(STATES_BEFORE) {
            let config: OptimizerConfig = serde_json::from_str(json).unwrap();
            let (got_theta, solver) = two_steps(&config);
            // The same bits as before, and the same layout.
            assert_eq!(format!("{got_theta:?}"), theta, "{json}");
            assert_eq!(
                serde_json::to_string(&solver.state()).unwrap(),
                state,
                "{json}"
            );
            // A state written before loads, and holds the same.
            let mut fresh = config.build::<f64>(3).unwrap();
            fresh
                .load_state(&serde_json::from_str(state).unwrap())
                .unwrap();
            assert_eq!(fresh.state(), solver.state(), "{json}");
        }
    }

    #[test]
    fn a_state_that_does_not_fit_changes_nothing() {
        let (_, solver) = two_steps(&OptimizerConfig::adam());
        let mut state = solver.state();
        let mut fresh = OptimizerConfig::adam().build::<f64>(3).unwrap();
        let before = fresh.state();
        // Keep `exp_avg`, break `exp_avg_sq`: nothing may be copied.
        state.buffers[1].1.pop();
        let error = fresh.load_state(&state).unwrap_err();
        assert!(matches!(error, Error::ShapeMismatch { .. }), "{error}");
        assert_eq!(fresh.state(), before);
        state.buffers.remove(1);
        let error = fresh.load_state(&state).unwrap_err();
        assert!(error.to_string().contains("exp_avg_sq"), "{error}");
        assert_eq!(fresh.state(), before);
    }
}
