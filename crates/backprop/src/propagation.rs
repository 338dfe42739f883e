//! Forward propagation and backpropagation over a batch, as matrix products.
//!
//! A batch is row-major `rows × features`, so the seeds' column-vector equations appear
//! transposed: `Zˡ = Aˡ⁻¹·(Wˡ)ᵀ + bˡ` computes `zˡ = Wˡ aˡ⁻¹ + bˡ` for every row at once.

use crate::loss::{Loss, Targets};
use crate::matmul::{matmul, Accum, MatMut, MatRef};
use crate::network::Network;
use crate::parallel::{for_each_chunk_pair, OUT_CHUNK, ROW_CHUNK};
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
            let weight = self.weight(l);
            let bias = self.bias(l);
            let activation = self.architecture().layer_activation(l);
            let (previous, current) = ws.a.split_at_mut(l);
            let input: &[T] = if l == 0 {
                x
            } else {
                &previous[l - 1][..rows * fan_in]
            };
            let z = &mut ws.z[l][..rows * fan_out];
            // The output layer has no `a` buffer: pass `z` again as a dummy partner.
            let mut no_a: [T; 0] = [];
            let a: &mut [T] = match current.first_mut() {
                Some(a) if activation.is_some() => &mut a[..rows * fan_out],
                _ => &mut no_a,
            };
            let mask = if dropout {
                ws.masks.get(l).map(|m| &m[..rows * fan_out])
            } else {
                None
            };
            let work = rows * fan_in * fan_out;
            let chunk = ROW_CHUNK * fan_out;
            for_each_chunk_pair(z, chunk, a, chunk, work, |c, z, a| {
                let first_row = c * ROW_CHUNK;
                let chunk_rows = z.len() / fan_out;
                let x_rows = &input[first_row * fan_in..(first_row + chunk_rows) * fan_in];
                matmul(
                    MatMut::row_major(z, chunk_rows, fan_out),
                    Accum::Replace,
                    MatRef::row_major(x_rows, chunk_rows, fan_in),
                    weight.t(),
                );
                for row in z.chunks_exact_mut(fan_out) {
                    row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
                }
                if let Some(activation) = activation {
                    activation.apply(z, a);
                    if let Some(mask) = mask {
                        let mask = &mask[first_row * fan_out..(first_row + chunk_rows) * fan_out];
                        a.iter_mut().zip(mask).for_each(|(v, &m)| *v *= m);
                    }
                }
            });
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

            // ∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ and ∂L/∂bˡ = δˡ, summed over the rows of the batch.
            let (weight_grad, bias_grad) =
                ws.grads[slot.weight.start..slot.bias.end].split_at_mut(slot.weight.len());
            let work = rows * fan_in * fan_out;
            for_each_chunk_pair(
                weight_grad,
                OUT_CHUNK * fan_in,
                bias_grad,
                OUT_CHUNK,
                work,
                |c, wg, bg| {
                    let first_out = c * OUT_CHUNK;
                    let chunk_outs = bg.len();
                    let delta_t =
                        MatRef::with_strides(&delta[first_out..], chunk_outs, rows, 1, fan_out);
                    matmul(
                        MatMut::row_major(wg, chunk_outs, fan_in),
                        Accum::Replace,
                        delta_t,
                        MatRef::row_major(input, rows, fan_in),
                    );
                    for (o, b) in bg.iter_mut().enumerate() {
                        *b = (0..rows)
                            .map(|r| delta[r * fan_out + first_out + o])
                            .fold(T::zero(), |s, v| s + v);
                    }
                },
            );

            if l == 0 {
                break;
            }
            // δˡ⁻¹ = ((Wˡ)ᵀ δˡ) ⊙ maskˡ⁻¹ ⊙ σ'(zˡ⁻¹), row chunk by row chunk.
            let weight = self.weight(l);
            let previous = &mut lower[l - 1][..rows * fan_in];
            let z_previous = &ws.z[l - 1][..rows * fan_in];
            let mask = ws.masks.get(l - 1).map(|m| &m[..rows * fan_in]);
            let activation = self
                .architecture()
                .layer_activation(l - 1)
                .expect("hidden layer");
            let chunk = ROW_CHUNK * fan_in;
            let mut no_partner: [T; 0] = [];
            for_each_chunk_pair(previous, chunk, &mut no_partner, 0, work, |c, back, _| {
                let first_row = c * ROW_CHUNK;
                let chunk_rows = back.len() / fan_in;
                let span = first_row * fan_in..(first_row + chunk_rows) * fan_in;
                matmul(
                    MatMut::row_major(back, chunk_rows, fan_in),
                    Accum::Replace,
                    MatRef::row_major(
                        &delta[first_row * fan_out..(first_row + chunk_rows) * fan_out],
                        chunk_rows,
                        fan_out,
                    ),
                    weight,
                );
                if let Some(mask) = mask {
                    back.iter_mut()
                        .zip(&mask[span.clone()])
                        .for_each(|(g, &m)| *g *= m);
                }
                activation.multiply_by_derivative(&z_previous[span], back);
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

    /// The predicted class of each row: the arg-max output for softmax (and for several sigmoid
    /// outputs), `p ≥ 0.5` for a single sigmoid output.
    pub fn predict_classes(&self, x: &[T]) -> Vec<usize> {
        let outputs = self.architecture().outputs;
        let scores = self.predict(x);
        scores
            .chunks_exact(outputs)
            .map(|row| {
                if outputs == 1 {
                    usize::from(row[0] >= T::from_f64(0.5))
                } else {
                    argmax(row)
                }
            })
            .collect()
    }
}

/// Index of the largest value (the first one on ties).
pub(crate) fn argmax<T: Real>(row: &[T]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}
