//! A small builder of ONNX graphs: nodes with fresh value names, constant initializers, and
//! the typed inputs and outputs, over the messages of [`super::proto`].

use super::proto::attribute_proto::AttributeType;
use super::proto::tensor_proto::DataType;
use super::proto::tensor_shape_proto::{dimension, Dimension};
use super::proto::{
    type_proto, AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};

/// The name of the dynamic batch dimension of every input and output.
pub const BATCH: &str = "N";

/// One dimension of a declared input or output: the batch, or a fixed size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// The dynamic batch dimension ([`BATCH`]).
    Batch,
    /// A fixed size.
    Fixed(usize),
}

/// A graph under construction.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    next: usize,
}

impl Graph {
    /// A fresh value name starting with `hint`.
    fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{hint}_{}", self.next)
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: DataType, dims: &[Dim]) -> String {
        self.inputs.push(value_info(name, elem, dims));
        name.to_string()
    }

    /// Declares a graph output (the value `name` must be produced by a node).
    pub fn output(&mut self, name: &str, elem: DataType, dims: &[Dim]) {
        self.outputs.push(value_info(name, elem, dims));
    }

    /// Adds a node of the default domain with one output, named after the operator.
    pub fn op(&mut self, op: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.op_into(op, inputs, attributes, &out);
        out
    }

    /// [`Graph::op`] writing the value `out` (a graph output's name).
    pub fn op_into(
        &mut self,
        op: &str,
        inputs: &[&str],
        attributes: Vec<AttributeProto>,
        out: &str,
    ) {
        self.node("", op, inputs, attributes, out);
    }

    /// Adds a node of the `ai.onnx.ml` domain with one output.
    pub fn ml_op(&mut self, op: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op.to_ascii_lowercase());
        self.node(super::ML_DOMAIN, op, inputs, attributes, &out);
        out
    }

    fn node(
        &mut self,
        domain: &str,
        op: &str,
        inputs: &[&str],
        attribute: Vec<AttributeProto>,
        out: &str,
    ) {
        let name = format!("{op}_{}", self.nodes.len());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.to_string()],
            name,
            op_type: op.to_string(),
            domain: domain.to_string(),
            attribute,
            doc_string: String::new(),
        });
    }

    /// A float constant of shape `dims`.
    pub fn floats(&mut self, hint: &str, dims: &[usize], values: &[f32]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(hint, DataType::Float, dims, raw, Vec::new())
    }

    /// A double constant of shape `dims`.
    pub fn doubles(&mut self, hint: &str, dims: &[usize], values: &[f64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(hint, DataType::Double, dims, raw, Vec::new())
    }

    /// An int64 constant of shape `dims`.
    pub fn int64s(&mut self, hint: &str, dims: &[usize], values: &[i64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(hint, DataType::Int64, dims, raw, Vec::new())
    }

    /// A 1-D string constant.
    pub fn strings(&mut self, hint: &str, values: &[String]) -> String {
        let data = values.iter().map(|s| s.as_bytes().to_vec()).collect();
        self.constant(hint, DataType::String, &[values.len()], Vec::new(), data)
    }

    fn constant(
        &mut self,
        hint: &str,
        elem: DataType,
        dims: &[usize],
        raw_data: Vec<u8>,
        string_data: Vec<Vec<u8>>,
    ) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: elem as i32,
            raw_data,
            string_data,
            name: name.clone(),
            ..TensorProto::default()
        });
        name
    }

    /// The finished graph.
    pub fn finish(self, name: &str, doc_string: String) -> GraphProto {
        GraphProto {
            node: self.nodes,
            name: name.to_string(),
            initializer: self.initializers,
            doc_string,
            input: self.inputs,
            output: self.outputs,
            value_info: Vec::new(),
        }
    }
}

fn value_info(name: &str, elem: DataType, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            denotation: String::new(),
            value: Some(match d {
                Dim::Batch => dimension::Value::DimParam(BATCH.to_string()),
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
            }),
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// An integer attribute.
pub fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Int as i32,
        i,
        ..AttributeProto::default()
    }
}

/// A float attribute.
pub fn float(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Float as i32,
        f,
        ..AttributeProto::default()
    }
}

/// A list-of-integers attribute.
pub fn ints(name: &str, ints: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Ints as i32,
        ints,
        ..AttributeProto::default()
    }
}

/// A list-of-floats attribute.
pub fn floats(name: &str, floats: Vec<f32>) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Floats as i32,
        floats,
        ..AttributeProto::default()
    }
}

/// A list-of-strings attribute.
pub fn strings(name: &str, strings: &[String]) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Strings as i32,
        strings: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ..AttributeProto::default()
    }
}
