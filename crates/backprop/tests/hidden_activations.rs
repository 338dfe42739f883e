//! `Workspace::hidden_activations` gives each hidden neuron's value, `σ(W a + b)`, as the
//! δ recursion's forward pass computed it: checked against the formula by hand, in f64.

use backprop::{Activation, Architecture, Init, Network, OutputActivation, Workspace};

#[test]
fn hidden_activations_are_sigma_of_w_a_plus_b() {
    let arch = Architecture::new(3, &[4, 2], Activation::Tanh, 1, OutputActivation::Identity);
    let net = Network::<f64>::new(arch.clone(), Init::PytorchDefault, 7).unwrap();
    let rows = 5;
    let x: Vec<f64> = (0..rows * 3).map(|i| (i as f64 * 0.37).sin()).collect();
    let mut ws = Workspace::for_inference(&arch, rows);
    let mut out = vec![0.0; rows];
    net.predict_into(&x, rows, &mut ws, &mut out);

    let mut input: Vec<Vec<f64>> = x.chunks(3).map(<[f64]>::to_vec).collect();
    for layer in 0..2 {
        let (w, b) = (net.weight(layer), net.bias(layer));
        let expected: Vec<Vec<f64>> = input
            .iter()
            .map(|a| {
                (0..w.rows())
                    .map(|j| (b[j] + (0..w.cols()).map(|k| w.get(j, k) * a[k]).sum::<f64>()).tanh())
                    .collect()
            })
            .collect();
        let got = ws.hidden_activations(layer, rows);
        assert_eq!(got.len(), rows * w.rows());
        for (row, want) in got.chunks(w.rows()).zip(&expected) {
            for (g, e) in row.iter().zip(want) {
                assert!((g - e).abs() < 1e-12, "layer {layer}: {g} vs {e}");
            }
        }
        input = expected;
    }
}
