//! ONNX export: a model file as one ONNX graph, the preprocessing inside, for onnxruntime
//! (or any runtime of ONNX opset 17).
//!
//! The graph does what `backprop predict` does:
//! 1. **Inputs.** A model whose features are all numeric takes one float tensor `input`
//!    `[N, F]`, the columns in the model's feature order ([`crate::Preprocessor::features`]),
//!    NaN for a missing value. A model with text (category or boolean) columns takes one input
//!    per feature column, named as the column: float `[N, 1]` for numbers, string `[N, 1]`
//!    for text (as skl2onnx does with a `ColumnTransformer`); a missing text is one of the
//!    model's missing-value texts (`""`, `NA`, ...). `N` is dynamic.
//! 2. **Preprocessing** ([`inputs`]): missing values filled, numbers scaled, categories
//!    one-hot encoded, from the stored preprocessing.
//! 3. **The network** ([`network`]): one `Gemm` per layer and its activation, then the output
//!    activation.
//! 4. **Outputs**, named as skl2onnx's with `zipmap=False`: a classifier gives `label` `[N]`
//!    (int64 when the classes are integers, else string) and `probabilities` `[N, C]` (two
//!    columns `1 − p, p` for a binary classifier with one sigmoid output); a regressor gives
//!    `variable` `[N, outputs]` in the target's units.
//!
//! Operators: the default domain at opset [`OPSET`] (`Cast`, `IsNaN`, `Where`, `Sub`, `Div`,
//! `Gather`, `Concat`, `Equal`, `Gemm`, activations, `Softmax`, `ArgMax`), and
//! `ai.onnx.ml` ([`ML_OPSET`]) `LabelEncoder` only for text columns. Models with date columns
//! are refused ([`crate::Error::Export`]): parsing ISO-8601 text needs operators ONNX lacks.
//!
//! The protobuf messages ([`proto`]) are written with `prost`, derived by hand from the
//! vendored `proto/onnx.proto3`.
//!
//! ```
//! use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
//! use backprop_data::{onnx, Model, ModelMetadata, Preprocessor, TargetSchema};
//! use prost::Message;
//!
//! let target = TargetSchema::Regress { name: "y".into(), scale: None };
//! let pre = Preprocessor::numeric(vec!["a".into(), "b".into()], target);
//! let arch = Architecture::new(2, &[4], Activation::Relu, 1, OutputActivation::Identity);
//! let network = Network::new(arch.clone(), Init::Auto, 1)?;
//! let model = Model::new(ModelMetadata::new(arch, Loss::Mse, pre, Default::default()), network)?;
//! let bytes = onnx::to_bytes(&model)?;
//! let decoded = onnx::proto::ModelProto::decode(bytes.as_slice()).unwrap();
//! let graph = decoded.graph.unwrap();
//! assert_eq!(graph.input[0].name, "input");
//! assert_eq!(graph.output[0].name, "variable");
//! # Ok::<(), backprop_data::Error>(())
//! ```

pub mod graph;
pub mod inputs;
pub mod network;
pub mod proto;

use prost::Message;

use crate::error::Result;
use crate::model_file::Model;
use graph::Graph;
use proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto};

/// The opset of the default ONNX domain the graph is written for.
pub const OPSET: i64 = 17;
/// The domain of the ONNX-ML operators (`LabelEncoder`).
pub const ML_DOMAIN: &str = "ai.onnx.ml";
/// The opset of [`ML_DOMAIN`].
pub const ML_OPSET: i64 = 3;
/// The ONNX IR version of opset 17.
pub const IR_VERSION: i64 = 8;

/// The whole pipeline of `model` as an ONNX model (see the module documentation).
///
/// # Errors
/// [`crate::Error::Export`] for a model with a date column.
pub fn to_model_proto(model: &Model) -> Result<ModelProto> {
    let pre = &model.metadata.preprocessing;
    let mut graph = Graph::default();
    let x = inputs::encode(&mut graph, pre)?;
    let y = network::layers(&mut graph, &model.network, &x);
    network::answers(&mut graph, model, &y);
    let mut opset_import = vec![OperatorSetIdProto {
        domain: String::new(),
        version: OPSET,
    }];
    if !inputs::single_input(pre) {
        opset_import.push(OperatorSetIdProto {
            domain: ML_DOMAIN.to_string(),
            version: ML_OPSET,
        });
    }
    let doc = format!(
        "backprop model predicting {:?} ({}) from {} feature column(s): {}",
        pre.target.name(),
        pre.target.task(),
        pre.features.len(),
        pre.features
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import,
        producer_name: "backprop".to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        domain: String::new(),
        model_version: 1,
        doc_string: doc.clone(),
        graph: Some(graph.finish("backprop", doc)),
        metadata_props: vec![StringStringEntryProto {
            key: crate::model_file::METADATA_KEY.to_string(),
            value: model.metadata.to_json(),
        }],
    })
}

/// The bytes of the `.onnx` file of `model` ([`to_model_proto`] encoded).
///
/// # Errors
/// As [`to_model_proto`].
pub fn to_bytes(model: &Model) -> Result<Vec<u8>> {
    Ok(to_model_proto(model)?.encode_to_vec())
}
