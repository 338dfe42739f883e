//! Forward propagation and backpropagation over a batch, as matrix products.
//!
//! A batch is row-major `rows × features`, so the seeds' column-vector equations appear
//! transposed: `Zˡ = Aˡ⁻¹·(Wˡ)ᵀ + bˡ` computes `zˡ = Wˡ aˡ⁻¹ + bˡ` for every row at once.

use crate::compute::matmul::MatRef;
use crate::compute::parallel::{matmul_in_blocks, Split};
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
    /// The output layer's `z` (the logits) is left in [`Workspace::logits`]. Without dropout,
    /// a row's values do not depend on the other rows of the batch or on the thread count.
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
        ws.dropout_applied = dropout;
        for (l, slot) in self.slots().iter().enumerate() {
            let fan_in = slot.fan_in;
            let (bias, activation) = (self.bias(l), self.architecture().layer_activation(l));
            let (previous, current) = ws.a.split_at_mut(l);
            let input = if l == 0 {
                x
            } else {
                &previous[l - 1][..rows * fan_in]
            };
            // The output layer has no `a` buffer.
            let a = current.first_mut().filter(|_| activation.is_some());
            let mask = ws.masks.get(l).filter(|_| dropout);
            // zˡ = Wˡ aˡ⁻¹ + bˡ, then aˡ = σ(zˡ) (⊙ maskˡ) on each tile while it is in cache.
            matmul_in_blocks(
                Split::Tiles,
                &mut ws.z[l],
                a.map(Vec::as_mut_slice),
                MatRef::row_major(input, rows, fan_in),
                self.weight_t(l),
                |mut tile| {
                    let bias = &bias[tile.columns()];
                    for r in 0..tile.rows() {
                        let span = tile.span(r);
                        let (z, a) = tile.row_and_extra(r);
                        z.iter_mut().zip(bias).for_each(|(z, &b)| *z += b);
                        if let (Some(a), Some(activation)) = (a, activation) {
                            activation.apply(z, a);
                            if let Some(mask) = mask {
                                a.iter_mut().zip(&mask[span]).for_each(|(a, &m)| *a *= m);
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
    /// - passing back: `δˡ = ((Wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ'(zˡ)`, and `⊙ maskˡ` when that forward pass
    ///   applied dropout (whatever masks the workspace holds otherwise).
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
            let input = if l == 0 {
                x
            } else {
                &ws.a[l - 1][..rows * fan_in]
            };
            let (lower, upper) = ws.delta.split_at_mut(l);
            let delta = MatRef::row_major(&upper[0][..rows * fan_out], rows, fan_out);

            // ∂L/∂Wˡ = δˡ (aˡ⁻¹)ᵀ and ∂L/∂bˡ = δˡ, summed over the rows of the batch.
            let (weight_grad, bias_grad) =
                ws.grads[slot.weight.start..slot.bias.end].split_at_mut(slot.weight.len());
            bias_grad.fill(T::zero());
            for row in upper[0][..rows * fan_out].chunks_exact(fan_out) {
                bias_grad.iter_mut().zip(row).for_each(|(b, &d)| *b += d);
            }
            let input = MatRef::row_major(input, rows, fan_in);
            matmul_in_blocks(
                Split::ColumnBlocks,
                weight_grad,
                None,
                delta.t(),
                input.into(),
                |_| {},
            );

            if l == 0 {
                break;
            }
            // δˡ⁻¹ = ((Wˡ)ᵀ δˡ) ⊙ maskˡ⁻¹ ⊙ σ'(zˡ⁻¹), column block by column block.
            let z_previous = &ws.z[l - 1];
            let mask = ws.masks.get(l - 1).filter(|_| ws.dropout_applied);
            let activation = self
                .architecture()
                .layer_activation(l - 1)
                .expect("hidden layer");
            matmul_in_blocks(
                Split::ColumnBlocks,
                &mut lower[l - 1],
                None,
                delta,
                self.weight(l).into(),
                |mut block| {
                    for r in 0..block.rows() {
                        let span = block.span(r);
                        let g = block.row(r);
                        if let Some(mask) = mask {
                            g.iter_mut()
                                .zip(&mask[span.clone()])
                                .for_each(|(g, &m)| *g *= m);
                        }
                        activation.multiply_by_derivative(&z_previous[span], g);
                    }
                },
            );
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
    /// regression, probabilities for classification (softmax rows sum to 1). Allocation-free
    /// after the first call, which packs the weights for inference (until they change).
    ///
    /// Each row's outputs are the same to the bit whatever the batch it is in and whatever
    /// the number of threads: every element is summed in one order that depends only on the
    /// layer's shape (and on the kernel path the CPU selects).
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
        self.pack_weights();
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
