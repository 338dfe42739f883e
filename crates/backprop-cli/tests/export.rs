//! `backprop export` run as a user would: ONNX graphs decoded with prost and checked node by
//! node against the model, PyTorch state dicts read back (and by `train --init`), and the
//! errors. (onnxruntime's answers are compared with `predict` in the Python tests,
//! crates/backprop-py/tests/test_onnx_export.py.)

mod common;

use std::collections::BTreeSet;

use common::Dir;

use backprop_data::onnx::proto::tensor_proto::DataType;
use backprop_data::onnx::proto::tensor_shape_proto::dimension::Value as DimValue;
use backprop_data::onnx::proto::type_proto::Value as TypeValue;
use backprop_data::onnx::proto::{GraphProto, ModelProto, TensorProto, ValueInfoProto};
use backprop_data::safetensors::from_bytes as read_safetensors;
use backprop_data::{Model, TargetSchema};
use prost::Message;

const IRIS: &str = include_str!("data/iris_train.csv");
const MIXED: &str = include_str!("data/mixed.csv");

/// Trains `data` (written as `train.csv`) with `flags` into `m.safetensors`.
fn trained(data: &str, flags: &[&str]) -> Dir {
    let dir = Dir::new();
    dir.write("train.csv", data);
    let mut args = vec!["train", "train.csv", "--epochs", "5", "--seed", "1"];
    args.extend(flags);
    args.extend(["--save", "m.safetensors"]);
    dir.ok(&args);
    dir
}

fn decode(dir: &Dir, name: &str) -> ModelProto {
    ModelProto::decode(dir.read(name).as_slice()).expect("the export decodes as onnx.ModelProto")
}

/// `(name, element type, dims)` of a declared input or output; `None` for the batch dim.
fn signature(info: &ValueInfoProto) -> (String, i32, Vec<Option<i64>>) {
    let Some(TypeValue::TensorType(tensor)) = info.r#type.as_ref().and_then(|t| t.value.clone())
    else {
        panic!("{} is not a tensor", info.name)
    };
    let dims = tensor
        .shape
        .expect("a shape")
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(DimValue::DimValue(n)) => Some(*n),
            Some(DimValue::DimParam(p)) => {
                assert_eq!(p, "N");
                None
            }
            None => panic!("a dimension without a value"),
        })
        .collect();
    (info.name.clone(), tensor.elem_type, dims)
}

fn initializer<'g>(graph: &'g GraphProto, name: &str) -> &'g TensorProto {
    graph
        .initializer
        .iter()
        .find(|t| t.name.starts_with(name))
        .unwrap_or_else(|| panic!("no initializer {name}"))
}

fn f32s(tensor: &TensorProto) -> Vec<f32> {
    assert_eq!(tensor.data_type, DataType::Float as i32);
    let values: Vec<f32> = tensor
        .raw_data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values.len() as i64, tensor.dims.iter().product::<i64>());
    values
}

/// Every value a node reads is a graph input, an initializer or an earlier node's output,
/// and every graph output is produced: the graph is complete and in topological order.
fn assert_wired(graph: &GraphProto) {
    let mut known: BTreeSet<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
    known.extend(graph.initializer.iter().map(|t| t.name.as_str()));
    for node in &graph.node {
        for input in &node.input {
            assert!(
                known.contains(input.as_str()),
                "{} reads {input} before it exists",
                node.name
            );
        }
        known.extend(node.output.iter().map(String::as_str));
    }
    for output in &graph.output {
        assert!(
            known.contains(output.name.as_str()),
            "nothing writes {}",
            output.name
        );
    }
}

fn ops(graph: &GraphProto) -> Vec<(&str, &str)> {
    graph
        .node
        .iter()
        .map(|n| (n.domain.as_str(), n.op_type.as_str()))
        .collect()
}

#[test]
fn a_numeric_classifier_is_one_input_gemms_and_softmax() {
    let dir = trained(IRIS, &["--layers", "8,6", "--activation", "tanh"]);
    let out = dir.run(&["export", "m.safetensors", "-o", "m.onnx"]);
    assert!(out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("ONNX opset 17"), "{message}");
    let model = decode(&dir, "m.onnx");
    assert_eq!(model.ir_version, 8);
    assert_eq!(model.producer_name, "backprop");
    let opsets: Vec<(&str, i64)> = model
        .opset_import
        .iter()
        .map(|o| (o.domain.as_str(), o.version))
        .collect();
    assert_eq!(opsets, [("", 17)], "numeric models need no ai.onnx.ml");
    let graph = model.graph.as_ref().unwrap();
    assert_wired(graph);
    let float = DataType::Float as i32;
    let inputs: Vec<_> = graph.input.iter().map(signature).collect();
    assert_eq!(inputs, [("input".into(), float, vec![None, Some(4)])]);
    let outputs: Vec<_> = graph.output.iter().map(signature).collect();
    assert_eq!(
        outputs,
        [
            ("label".into(), DataType::String as i32, vec![None]),
            ("probabilities".into(), float, vec![None, Some(3)]),
        ]
    );
    let ops = ops(graph);
    assert!(ops.iter().all(|(domain, _)| domain.is_empty()));
    assert_eq!(ops.iter().filter(|(_, op)| *op == "Gemm").count(), 3);
    assert_eq!(ops.iter().filter(|(_, op)| *op == "Tanh").count(), 2);
    assert!(ops.contains(&("", "Softmax")) && ops.contains(&("", "ArgMax")));

    // The weights are the model's, and the scaling its preprocessing's.
    let saved = Model::load(&dir.path("m.safetensors")).unwrap();
    for tensor in saved.network.named_tensors() {
        let stored = initializer(graph, &format!("{}_", tensor.name));
        assert_eq!(
            stored.dims,
            tensor.shape.iter().map(|&d| d as i64).collect::<Vec<_>>()
        );
        assert_eq!(f32s(stored), tensor.data, "{}", tensor.name);
    }
    let classes = initializer(graph, "classes_");
    let names: Vec<String> = classes
        .string_data
        .iter()
        .map(|s| String::from_utf8(s.clone()).unwrap())
        .collect();
    assert_eq!(names, saved.metadata.classes.clone().unwrap());
    let scale = initializer(graph, "scale_");
    assert_eq!(scale.data_type, DataType::Double as i32);
    assert_eq!(scale.raw_data.len(), 4 * 8);
}

#[test]
fn a_regressor_restores_the_targets_units() {
    let dir = Dir::new();
    let args = [
        "train",
        "builtin:regression",
        "--epochs",
        "2",
        "--layers",
        "8",
    ];
    dir.ok(&[&args[..], &["--save", "r.safetensors"]].concat());
    dir.ok(&["export", "r.safetensors", "-o", "r.onnx"]);
    let model = decode(&dir, "r.onnx");
    let graph = model.graph.as_ref().unwrap();
    assert_wired(graph);
    let outputs: Vec<_> = graph.output.iter().map(signature).collect();
    assert_eq!(
        outputs,
        [(
            "variable".into(),
            DataType::Float as i32,
            vec![None, Some(1)]
        )]
    );
    let saved = Model::load(&dir.path("r.safetensors")).unwrap();
    let TargetSchema::Regress {
        scale: Some(scale), ..
    } = saved.metadata.preprocessing.target
    else {
        panic!("a standardized regression target")
    };
    let double =
        |name| f64::from_le_bytes(initializer(graph, name).raw_data[..8].try_into().unwrap());
    assert_eq!(double("target_mean_"), scale.mean);
    assert_eq!(double("target_std_"), scale.std);
}

#[test]
fn text_columns_get_an_input_each_and_label_encoders() {
    let dir = trained(MIXED, &["--drop", "day", "--layers", "6"]);
    dir.ok(&["export", "m.safetensors", "-o", "m.onnx"]);
    let model = decode(&dir, "m.onnx");
    let graph = model.graph.as_ref().unwrap();
    assert_wired(graph);
    let inputs: Vec<_> = graph.input.iter().map(signature).collect();
    let (float, string) = (DataType::Float as i32, DataType::String as i32);
    let column = |name: &str, elem| (name.to_string(), elem, vec![None, Some(1)]);
    assert_eq!(
        inputs,
        [
            column("x", float),
            column("color", string),
            column("flag", string)
        ]
    );
    assert!(model
        .opset_import
        .iter()
        .any(|o| o.domain == "ai.onnx.ml" && o.version == 3));
    let encoders = ops(graph)
        .iter()
        .filter(|(domain, op)| *domain == "ai.onnx.ml" && *op == "LabelEncoder")
        .count();
    // colour's categories, flag's value and flag's missing indicator (mixed.csv has gaps).
    assert!(encoders >= 2, "{encoders}");
    let saved = Model::load(&dir.path("m.safetensors")).unwrap();
    let order = graph
        .initializer
        .iter()
        .find(|t| t.name.starts_with("input_order_"));
    if let Some(order) = order {
        assert_eq!(
            order.raw_data.len(),
            8 * saved.metadata.preprocessing.inputs
        );
    }
}

#[test]
fn dates_are_refused_with_the_column_named() {
    let dir = trained(MIXED, &["--layers", "4"]);
    let message = dir.fails(&["export", "m.safetensors", "-o", "m.onnx"]);
    assert!(
        message.contains("cannot export the model to ONNX"),
        "{message}"
    );
    assert!(
        message.contains("\"day\"") && message.contains("--drop"),
        "{message}"
    );
    assert!(!dir.path("m.onnx").exists());
}

#[test]
fn torch_export_is_a_sequential_state_dict_that_init_reads() {
    let dir = trained(IRIS, &["--layers", "8,6", "--activation", "relu"]);
    let snippet = dir.ok(&["export", "m.safetensors", "-o", "net.pt"]);
    for line in [
        "net = nn.Sequential(",
        "    nn.Linear(4, 8),\n    nn.ReLU(),\n    nn.Linear(8, 6),\n    nn.ReLU(),\n    nn.Linear(6, 3),\n    nn.Softmax(dim=1),",
        "net.load_state_dict(load_file(\"net.pt\"))",
        "preprocessed inputs, 4 columns",
    ] {
        assert!(snippet.contains(line), "{line:?} not in\n{snippet}");
    }
    let file = read_safetensors(&dir.read("net.pt")).unwrap();
    let names: Vec<&str> = file.tensors.iter().map(|t| t.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    );
    assert!(!file.metadata.contains_key("backprop"), "a bare state dict");
    let saved = Model::load(&dir.path("m.safetensors")).unwrap();
    for tensor in saved.network.named_tensors() {
        let layer: usize = tensor.name.split('.').nth(1).unwrap().parse().unwrap();
        let kind = tensor.name.rsplit('.').next().unwrap();
        let exported = file
            .tensors
            .iter()
            .find(|t| t.name == format!("{}.{kind}", 2 * layer))
            .unwrap();
        let values: Vec<f32> = exported.values.iter().map(|&v| v as f32).collect();
        assert_eq!(values, tensor.data);
    }
    // Round trip: training 0 steps from these weights... is one epoch at learning rate 0.
    let args = [
        "train",
        "train.csv",
        "--layers",
        "8,6",
        "--activation",
        "relu",
        "--epochs",
        "1",
    ];
    dir.ok(&[
        &args[..],
        &[
            "--lr",
            "0",
            "--init",
            "net.pt",
            "--save",
            "again.safetensors",
        ],
    ]
    .concat());
    let again = Model::load(&dir.path("again.safetensors")).unwrap();
    assert_eq!(again.network.parameters(), saved.network.parameters());
}

#[test]
fn format_flag_overrides_the_extension() {
    let dir = trained(IRIS, &["--layers", "4"]);
    dir.ok(&[
        "export",
        "m.safetensors",
        "-o",
        "graph.bin",
        "--format",
        "onnx",
    ]);
    decode(&dir, "graph.bin");
    dir.ok(&[
        "export",
        "m.safetensors",
        "-o",
        "weights.bin",
        "--format",
        "torch",
    ]);
    assert!(read_safetensors(&dir.read("weights.bin")).is_ok());
}

#[test]
fn errors_name_the_file_and_leave_nothing_behind() {
    let dir = trained(IRIS, &["--layers", "4"]);
    let missing = dir.fails(&["export", "nope.safetensors", "-o", "m.onnx"]);
    assert!(missing.contains("nope.safetensors"), "{missing}");
    let extension = dir.fails(&["export", "m.safetensors", "-o", "m.txt"]);
    assert!(
        extension.contains("m.txt") && extension.contains("--format onnx|torch"),
        "{extension}"
    );
    let unwritable = dir.fails(&["export", "m.safetensors", "-o", "no/such/dir/m.onnx"]);
    assert!(
        unwritable.contains("cannot write no/such/dir/m.onnx"),
        "{unwritable}"
    );
    let mut left: Vec<String> = std::fs::read_dir(dir.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["m.safetensors", "train.csv"]);
}
