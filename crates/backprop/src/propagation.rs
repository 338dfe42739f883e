//! Forward propagation and backpropagation over a batch, as matrix products.
//!
//! A batch is row-major `rows × features`, so the seeds' column-vector equations appear
//! transposed: `Zˡ = Aˡ⁻¹·(Wˡ)ᵀ + bˡ` computes `zˡ = Wˡ aˡ⁻¹ + bˡ` for every row at once.

use crate::compute::matmul::{matmul, Accum, MatRef};
use crate::compute::parallel::{for_each_column_block, for_each_tile, Columns};
use crate::loss::{Loss, Targets};
use crate::network::Network;
use crate::prediction::argmax_rows;
use crate::real::Real;
use crate::workspace::Workspace;

impl<T: Real> Network<T> {
    /// Forward pass of `rows` rows of `x` (row-major `rows × inputs`), storing every layer's
    /// `z` and `a` in `ws`:
    ///
    /// `zˡ = Wˡ aˡ⁻¹ + bˡ`,  `aˡ = σ(zˡ)`  (and `aˡ ← aˡ ⊙ maskˡ` when `dropout` is true).
    ///
    /// The output layer's `z` (the logits) is left in [`Workspace::logits`].
    ///
    /// # Panics
    /// If `rows` exceeds the workspace's capacity, `x` is not `rows × inputs`, or `dropout`
    /// is true but [`Workspace::sample_dropout`] was never called.
    #[track_caller]
    pub fn forward(&self, x: &[T], rows: usize, ws: &mut Workspace<T>, dropout: bool) {
        let inputs = self.architecture().inputs;
        assert!(
            rows <= ws.capacity,
            "forward: {rows} rows exceed the workspace's {}",
            ws.capacity
        );
        assert_eq!(
            x.len(),
            rows * inputs,
            "forward: x must be {rows} × {inputs}"
        );
        assert!(
            !dropout || ws.masks.len() == ws.a.len(),
            "forward: dropout masks were not sampled"
        );
        for (l, slot) in self.slots().iter().enumerate() {
            let (fan_in, fan_out) = (slot.fan_in, slot.fan_out);
            let weights = &self.parameters()[slot.weight.clone()];
            let bias = self.bias(l);
            let activation = self.architecture().layer_activation(l);
            let (previous, current) = ws.a.split_at_mut(l);
            let input: &[T] = if l == 0 {
                x
            } else {
                &previous[l - 1][..rows * fan_in]
            };
            let z = Columns::new(&mut ws.z[l], rows, fan_out);
            // The output layer has no `a` buffer.
            let a = match current.first_mut() {
                Some(a) if activation.is_some() => Some(Columns::new(a, rows, fan_out)),
                _ => None,
            };
            let mask = if dropout {
                ws.masks.get(l).map(|m| &m[..rows * fan_out])
            } else {
                None
            };
            for_each_tile(
                rows,
                fan_out,
                rows * fan_in * fan_out,
                |top, height, first, width| {
                    // SAFETY: each call touches only its own tile of `z` and `a`.
                    let mut z = unsafe { z.tile(top, height, first, width) };
                    matmul(
                        z.reborrow(),
                        Accum::Replace,
                        MatRef::row_major(
                            &input[top * fan_in..(top + height) * fan_in],
                            height,
                            fan_in,
                        ),
                        MatRef::row_major(
                            &weights[first * fan_in..(first + width) * fan_in],
                            width,
                            fan_in,
                        )
                        .t(),
                    );
                    // Bias and activation in the same pass over each row, while it is in cache.
                    let bias = &bias[first..first + width];
                    let mut a = a
                        .as_ref()
                        .map(|a| unsafe { a.tile(top, height, first, width) });
                    for r in 0..height {
                        let z_row = z.row_mut(r);
                        z_row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
                        if let (Some(a), Some(activation)) = (a.as_mut(), activation) {
                            let a_row = a.row_mut(r);
                            activation.apply(z_row, a_row);
                            if let Some(mask) = mask {
                                let start = (top + r) * fan_out + first;
                                a_row
                                    .iter_mut()
                                    .zip(&mask[start..start + width])
                                    .for_each(|(v, &m)| *v *= m);
                            }
                        }
                    }
                },
            );
        }
    }

    /// Backpropagation after [`Network::forward`] on the same `x` and `rows`: returns the
    /// mean loss and leaves `∂L/∂θ` in [`Workspace::gradients`] (overwritten, not accumulated).
    ///
    /// The seeds' recursion, batched:
    /// - output error: `δᴸ = ∇ₐL ⊙ σ'(zᴸ)`, fused with the loss as `∂L/∂zᴸ`;
    /// - weights and biases: `∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ` and `∂L/∂bˡ = δˡ`, summed over the batch;
    /// - passing back: `δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ'(zˡ)` (⊙ the dropout mask when training).
    ///
    /// # Panics
    /// If the workspace has no gradient buffers ([`Workspace::for_inference`]), or the targets
    /// do not fit the loss and `rows`.
    #[track_caller]
    pub fn backward(
        &self,
        x: &[T],
        rows: usize,
        targets: Targets<'_, T>,
        loss: &Loss,
        ws: &mut Workspace<T>,
    ) -> f64 {
        assert_eq!(
            ws.grads.len(),
            self.parameters().len(),
            "backward: workspace is inference-only"
        );
        let layers = self.layer_count();
        let outputs = self.architecture().outputs;
        assert_eq!(
            targets.rows(outputs),
            rows,
            "backward: targets must have {rows} rows"
        );
        let loss_value = loss.value_and_gradient(
            &ws.z[layers - 1][..rows * outputs],
            outputs,
            targets,
            &mut ws.delta[layers - 1][..rows * outputs],
        );
        for l in (0..layers).rev() {
            let slot = &self.slots()[l];
            let (fan_in, fan_out) = (slot.fan_in, slot.fan_out);
            let input: &[T] = if l == 0 {
                x
            } else {
                &ws.a[l - 1][..rows * fan_in]
            };
            let (lower, upper) = ws.delta.split_at_mut(l);
            let delta = &upper[0][..rows * fan_out];
            let work = rows * fan_in * fan_out;

            // ∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ and ∂L/∂bˡ = δˡ, summed over the rows of the batch.
            let (weight_grad, bias_grad) =
                ws.grads[slot.weight.start..slot.bias.end].split_at_mut(slot.weight.len());
            bias_grad.fill(T::zero());
            for row in delta.chunks_exact(fan_out) {
                bias_grad.iter_mut().zip(row).for_each(|(b, &d)| *b += d);
            }
            let weight_grad = Columns::new(weight_grad, fan_out, fan_in);
            for_each_column_block(fan_in, work, |first, width| {
                matmul(
                    // SAFETY: each call touches only its own columns.
                    unsafe { weight_grad.block(first, width) },
                    Accum::Replace,
                    MatRef::with_strides(delta, fan_out, rows, 1, fan_out),
                    MatRef::with_strides(&input[first..], rows, width, fan_in, 1),
                );
            });

            if l == 0 {
                break;
            }
            // δˡ⁻¹ = ((Wˡ)ᵀ δˡ) ⊙ maskˡ⁻¹ ⊙ σ'(zˡ⁻¹), column block by column block.
            let weights = &self.parameters()[slot.weight.clone()];
            let previous = Columns::new(&mut lower[l - 1], rows, fan_in);
            let z_previous = &ws.z[l - 1][..rows * fan_in];
            let mask = ws.masks.get(l - 1).map(|m| &m[..rows * fan_in]);
            let activation = self
                .architecture()
                .layer_activation(l - 1)
                .expect("hidden layer");
            for_each_column_block(fan_in, work, |first, width| {
                // SAFETY: each call touches only its own columns.
                let mut back = unsafe { previous.block(first, width) };
                matmul(
                    back.reborrow(),
                    Accum::Replace,
                    MatRef::row_major(delta, rows, fan_out),
                    MatRef::with_strides(&weights[first..], fan_out, width, fan_in, 1),
                );
                for r in 0..rows {
                    let span = r * fan_in + first..r * fan_in + first + width;
                    let g = back.row_mut(r);
                    if let Some(mask) = mask {
                        g.iter_mut()
                            .zip(&mask[span.clone()])
                            .for_each(|(g, &m)| *g *= m);
                    }
                    activation.multiply_by_derivative(&z_previous[span], g);
                }
            });
        }
        loss_value
    }

    /// Mean loss and gradients of a batch in one call: [`Network::forward`] then
    /// [`Network::backward`], without dropout.
    pub fn loss_and_gradient(
        &self,
        x: &[T],
        rows: usize,
        targets: Targets<'_, T>,
        loss: &Loss,
        ws: &mut Workspace<T>,
    ) -> f64 {
        self.forward(x, rows, ws, false);
        self.backward(x, rows, targets, loss, ws)
    }

    /// Predictions for `rows` rows of `x` into `out` (`rows × outputs`): raw values for
    /// regression, probabilities for classification (softmax rows sum to 1). Allocation-free.
    ///
    /// # Panics
    /// If `rows` exceeds the workspace's capacity or a slice has the wrong length.
    #[track_caller]
    pub fn predict_into(&self, x: &[T], rows: usize, ws: &mut Workspace<T>, out: &mut [T]) {
        let outputs = self.architecture().outputs;
        assert_eq!(
            out.len(),
            rows * outputs,
            "predict: out must be {rows} × {outputs}"
        );
        self.forward(x, rows, ws, false);
        out.copy_from_slice(ws.logits(rows));
        let output = self.architecture().output;
        out.chunks_exact_mut(outputs)
            .for_each(|row| output.apply_in_place(row));
    }

    /// Predictions for every row of `x` (row-major, `inputs` columns): see
    /// [`Network::predict_into`]. Works through the data in blocks of at most 256 rows.
    ///
    /// # Panics
    /// If `x.len()` is not a multiple of the input width.
    #[track_caller]
    pub fn predict(&self, x: &[T]) -> Vec<T> {
        let (inputs, outputs) = (self.architecture().inputs, self.architecture().outputs);
        assert_eq!(
            x.len() % inputs,
            0,
            "predict: x has {} values, not rows × {inputs}",
            x.len()
        );
        let rows = x.len() / inputs;
        let block = rows.clamp(1, 256);
        let mut ws = Workspace::for_inference(self.architecture(), block);
        let mut out = vec![T::zero(); rows * outputs];
        for (x_block, out_block) in x
            .chunks(block * inputs)
            .zip(out.chunks_mut(block * outputs))
        {
            self.predict_into(x_block, x_block.len() / inputs, &mut ws, out_block);
        }
        out
    }

    /// Class probabilities for every row of `x`: the softmax distribution (rows sum to 1), or
    /// the sigmoid probability of each output. The same numbers as [`Network::predict`], under
    /// the name classification users look for.
    ///
    /// # Panics
    /// If `x.len()` is not a multiple of the input width.
    #[track_caller]
    pub fn predict_proba(&self, x: &[T]) -> Vec<T> {
        self.predict(x)
    }

    /// The predicted class of each row: the arg-max output for softmax (and for several sigmoid
    /// outputs), `p ≥ 0.5` for a single sigmoid output.
    pub fn predict_classes(&self, x: &[T]) -> Vec<usize> {
        let outputs = self.architecture().outputs;
        let scores = self.predict(x);
        if outputs == 1 {
            scores
                .iter()
                .map(|&p| usize::from(p >= T::from_f64(0.5)))
                .collect()
        } else {
            argmax_rows(&scores, outputs)
        }
    }
}
