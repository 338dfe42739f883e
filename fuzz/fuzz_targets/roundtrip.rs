//! A structured round trip: an arbitrary network (widths, activations, seed from the input)
//! saved as a model file and loaded again gives the same bits.
#![no_main]

use backprop::{Activation, Architecture, HiddenLayer, Init, Loss, Network, OutputActivation};
use backprop_data::target::TargetSchema;
use backprop_data::{Model, ModelMetadata, Preprocessor};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const ACTIVATIONS: [Activation; 4] = [
    Activation::Identity,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 11 {
        return;
    }
    let inputs = usize::from(data[0] % 16) + 1;
    let outputs = usize::from(data[1] % 6) + 2;
    let depth = usize::from(data[2] % 4);
    let hidden: Vec<HiddenLayer> = (0..depth)
        .map(|i| HiddenLayer {
            units: usize::from(data[3 + i] % 32) + 1,
            activation: ACTIVATIONS[usize::from(data[3 + i] >> 6)],
        })
        .collect();
    let seed = u64::from_le_bytes(data[3..11].try_into().unwrap());
    let arch = Architecture {
        inputs,
        hidden,
        outputs,
        output: OutputActivation::Softmax,
    };
    let network = Network::<f32>::new(arch.clone(), Init::Auto, seed).unwrap();
    let names = (0..inputs).map(|i| format!("x{i}")).collect();
    let target = TargetSchema::Classify {
        name: "y".into(),
        classes: (0..outputs).map(|c| format!("c{c}")).collect(),
        numeric: false,
    };
    let metadata = ModelMetadata::new(
        arch,
        Loss::cross_entropy(),
        Preprocessor::numeric(names, target),
        json!({"seed": seed}),
    );
    let model = Model::new(metadata, network).unwrap();
    let loaded = Model::from_bytes(&model.to_bytes()).unwrap();
    let bits = |m: &Model| {
        m.network
            .parameters()
            .iter()
            .map(|p| p.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(bits(&loaded), bits(&model));
    assert_eq!(loaded.metadata, model.metadata);
});
