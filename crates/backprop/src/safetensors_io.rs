//! Networks to and from the bytes of a [safetensors] file, validated strictly.
//!
//! A safetensors file is an 8-byte little-endian header length `n`, a JSON header of `n`
//! bytes, then the tensor data. The header maps each tensor name to
//! `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data section)
//! and may hold a string → string `"__metadata__"` map. A network is written as f32 tensors
//! `layers.{i}.weight` `[out, in]` and `layers.{i}.bias` `[out]` in layer order.
//!
//! Only bytes here: reading and writing files is the caller's business.
//!
//! # Reading a backprop file in PyTorch
//!
//! backprop's `layers.{i}` is module `2i` of an `nn.Sequential` that alternates `nn.Linear`
//! and activation modules:
//!
//! ```python
//! import torch
//! from safetensors.torch import load_file
//!
//! state = load_file("model.safetensors")
//! state = {
//!     f"{2 * int(name.split('.')[1])}.{name.split('.')[2]}": value
//!     for name, value in state.items()
//! }
//! net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
//! net.load_state_dict(state)
//! ```
//!
//! The output activation (sigmoid, softmax) is not a module: backprop fuses it with the loss,
//! so the PyTorch network above returns logits.
//!
//! # Reading a PyTorch file in backprop
//!
//! [`read_safetensors`] the bytes of `safetensors.torch.save_file(net.state_dict(), ...)`,
//! map its names with [`normalize_tensor_names`], infer the widths with
//! [`architecture_from_shapes`] and build the network with [`network_from_tensors`].
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::activation::Activation;
use crate::architecture::{Architecture, HiddenLayer};
use crate::error::{Error, Result};
use crate::loss::OutputActivation;
use crate::network::Network;
use crate::real::Real;

/// The largest JSON header accepted, in bytes (the reference implementation's limit).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// The header key of the string → string metadata map.
const METADATA_KEY: &str = "__metadata__";

/// One tensor read from a file, converted to f64.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedTensor {
    /// The tensor's name in the file.
    pub name: String,
    /// Its dimensions (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f64>,
}

/// The contents of a safetensors file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorFile {
    /// The tensors, in the order of their data in the file.
    pub tensors: Vec<LoadedTensor>,
    /// The `__metadata__` map (empty when the file has none).
    pub metadata: BTreeMap<String, String>,
}

/// The bytes of a safetensors file holding `net`'s parameters as f32 tensors
/// `layers.{i}.weight` `[out, in]` and `layers.{i}.bias` `[out]`, in layer order, with
/// `metadata` as `__metadata__` (left out when empty).
///
/// The header is padded with spaces to a multiple of 8 bytes, as the reference writer does,
/// so the data is aligned.
pub fn to_safetensors<T: Real>(net: &Network<T>, metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let tensors = net.named_tensors();
    let mut entries = Vec::with_capacity(tensors.len() + 1);
    if !metadata.is_empty() {
        entries.push(format!("{}:{}", json(METADATA_KEY), json(metadata)));
    }
    let mut offset = 0usize;
    for tensor in &tensors {
        let end = offset + tensor.data.len() * 4;
        entries.push(format!(
            "{}:{{\"dtype\":\"F32\",\"shape\":{},\"data_offsets\":[{offset},{end}]}}",
            json(&tensor.name),
            json(&tensor.shape)
        ));
        offset = end;
    }
    let mut header = format!("{{{}}}", entries.join(","));
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = Vec::with_capacity(8 + header.len() + offset);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for tensor in &tensors {
        for value in tensor.data {
            bytes.extend_from_slice(&(value.as_f64() as f32).to_le_bytes());
        }
    }
    bytes
}

/// JSON text of a value that always serializes (strings, shapes, string maps).
fn json<S: serde::Serialize + ?Sized>(value: &S) -> String {
    serde_json::to_string(value).expect("strings, integers and string maps serialize")
}

/// Parses and validates the bytes of a safetensors file.
///
/// Accepts F32, F64, F16 and BF16 tensors (converted to f64). Rejects, with an
/// [`Error::InvalidModel`] that says why: a file shorter than 8 bytes, a header length beyond
/// the file or [`MAX_HEADER_BYTES`], a header that is not a JSON object, a tensor name or
/// metadata key given twice, another dtype, `data_offsets` that are reversed, out of range,
/// overlapping or leave gaps, a byte length that is not `shape × dtype size`, bytes after the
/// last tensor, and metadata values that are not strings.
pub fn read_safetensors(bytes: &[u8]) -> Result<TensorFile> {
    let invalid = |message: String| Error::InvalidModel(message);
    if bytes.len() < 8 {
        return Err(invalid(format!(
            "the file is {} bytes long, too short for the 8-byte header length of a \
             safetensors file",
            bytes.len()
        )));
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len > MAX_HEADER_BYTES {
        return Err(invalid(format!(
            "the header length {header_len} exceeds the limit of {MAX_HEADER_BYTES} bytes \
             (is this a safetensors file?)"
        )));
    }
    let rest = &bytes[8..];
    if header_len > rest.len() as u64 {
        return Err(invalid(format!(
            "the header length {header_len} is larger than the {} bytes that follow it \
             (truncated file, or not a safetensors file)",
            rest.len()
        )));
    }
    let (header_bytes, data) = rest.split_at(header_len as usize);
    let header: RawHeader = serde_json::from_slice(header_bytes)
        .map_err(|e| invalid(format!("the header is not valid: {e}")))?;

    let mut entries = header
        .tensors
        .into_iter()
        .map(|(name, value)| TensorEntry::parse(name, value, data.len()))
        .collect::<Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| (entry.begin, entry.end));
    let mut expected_begin = 0;
    for entry in &entries {
        if entry.begin < expected_begin {
            return Err(invalid(format!(
                "tensor {:?} (bytes {}..{}) overlaps the previous tensor, which ends at {}",
                entry.name, entry.begin, entry.end, expected_begin
            )));
        }
        if entry.begin > expected_begin {
            return Err(invalid(format!(
                "tensor {:?} begins at byte {} but the previous tensor ends at {}: the data \
                 is not contiguous",
                entry.name, entry.begin, expected_begin
            )));
        }
        expected_begin = entry.end;
    }
    if expected_begin != data.len() {
        return Err(invalid(format!(
            "{} trailing bytes after the last tensor",
            data.len() - expected_begin
        )));
    }
    let tensors = entries
        .into_iter()
        .map(|entry| LoadedTensor {
            values: entry.dtype.decode(&data[entry.begin..entry.end]),
            name: entry.name,
            shape: entry.shape,
        })
        .collect();
    Ok(TensorFile {
        tensors,
        metadata: header.metadata,
    })
}

/// The floating-point dtypes a network can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dtype {
    F16,
    Bf16,
    F32,
    F64,
}

impl Dtype {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "F16" => Some(Dtype::F16),
            "BF16" => Some(Dtype::Bf16),
            "F32" => Some(Dtype::F32),
            "F64" => Some(Dtype::F64),
            _ => None,
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// Little-endian bytes (a whole number of elements) to f64, exactly.
    fn decode(self, bytes: &[u8]) -> Vec<f64> {
        let chunks = bytes.chunks_exact(self.size());
        match self {
            Dtype::F16 => chunks
                .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            Dtype::Bf16 => chunks
                .map(|c| {
                    f64::from(f32::from_bits(
                        u32::from(u16::from_le_bytes([c[0], c[1]])) << 16,
                    ))
                })
                .collect(),
            Dtype::F32 => chunks
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                .collect(),
            Dtype::F64 => chunks
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        }
    }
}

/// IEEE 754 half precision to f64 (exact: every f16 is an f64).
fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
    }
}

/// One tensor's header entry, checked against the data section's length.
struct TensorEntry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

/// The header entry as written; unknown fields are ignored, as the reference reader does.
#[derive(Deserialize)]
struct RawEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

impl TensorEntry {
    fn parse(name: String, value: Value, data_len: usize) -> Result<Self> {
        let invalid = |message: String| Error::InvalidModel(format!("tensor {name:?}: {message}"));
        let raw: RawEntry = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        let dtype = Dtype::parse(&raw.dtype).ok_or_else(|| {
            invalid(format!(
                "dtype {} is not supported; only F32, F64, F16 and BF16 tensors can be read",
                raw.dtype
            ))
        })?;
        let (begin, end) = raw.data_offsets;
        if begin > end {
            return Err(invalid(format!(
                "data_offsets [{begin}, {end}] are reversed"
            )));
        }
        if end > data_len {
            return Err(invalid(format!(
                "data_offsets [{begin}, {end}] reach beyond the {data_len} bytes of data"
            )));
        }
        let expected = raw
            .shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
        if expected != Some(end - begin) {
            let shown = expected.map_or_else(|| "too many".to_string(), |n| n.to_string());
            return Err(invalid(format!(
                "shape {:?} of {} needs {shown} bytes but data_offsets [{begin}, {end}] hold {}",
                raw.shape,
                raw.dtype,
                end - begin
            )));
        }
        Ok(TensorEntry {
            name,
            dtype,
            shape: raw.shape,
            begin,
            end,
        })
    }
}

/// The header with its entries in file order; duplicates are errors, not silently dropped.
struct RawHeader {
    metadata: BTreeMap<String, String>,
    tensors: Vec<(String, Value)>,
}

impl<'de> Deserialize<'de> for RawHeader {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = RawHeader;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object mapping tensor names to their dtype, shape and data_offsets")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeader, A::Error> {
        let mut metadata = None;
        let mut tensors = Vec::new();
        let mut names = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == METADATA_KEY {
                if metadata.is_some() {
                    return Err(de::Error::custom("\"__metadata__\" appears twice"));
                }
                metadata = Some(map.next_value::<MetadataMap>()?.0);
            } else {
                if !names.insert(key.clone()) {
                    return Err(de::Error::custom(format!("tensor {key:?} appears twice")));
                }
                tensors.push((key, map.next_value::<Value>()?));
            }
        }
        Ok(RawHeader {
            metadata: metadata.unwrap_or_default(),
            tensors,
        })
    }
}

/// `__metadata__`: string keys, each once, string values.
struct MetadataMap(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for MetadataMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MetadataVisitor)
    }
}

struct MetadataVisitor;

impl<'de> Visitor<'de> for MetadataVisitor {
    type Value = MetadataMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"__metadata__\" as an object of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetadataMap, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = match map.next_value::<Value>()? {
                Value::String(s) => s,
                other => {
                    return Err(de::Error::custom(format!(
                        "metadata value of {key:?} must be a string, not {}",
                        json_kind(&other)
                    )))
                }
            };
            if entries.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format!(
                    "metadata key {key:?} appears twice"
                )));
            }
        }
        Ok(MetadataMap(entries))
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Maps the parameter names of a PyTorch `nn.Sequential` state dict to backprop's.
///
/// Every name must be `{prefix}{index}.weight` or `{prefix}{index}.bias`, with one prefix
/// shared by all (empty, `model.`, `net.`, `layers.`, ...). The module indices, in ascending
/// order, become `layers.0`, `layers.1`, ...: `0.weight, 2.weight` (a `Linear, ReLU, Linear`
/// stack, whose activation modules hold no parameters) become `layers.0.weight`,
/// `layers.1.weight`. backprop's own `layers.{i}` names map to themselves. Each module must
/// have a 2-D weight and a 1-D bias. The result is in layer order, weight before bias.
///
/// # Errors
/// [`Error::InvalidModel`] naming the tensor: a name of another form (a batch norm's
/// `running_mean`, say), a second prefix, a module without a bias, a weight that is not 2-D.
pub fn normalize_tensor_names(tensors: Vec<LoadedTensor>) -> Result<Vec<LoadedTensor>> {
    let mut prefix: Option<String> = None;
    // module index → (weight, bias)
    let mut modules: BTreeMap<usize, (Option<LoadedTensor>, Option<LoadedTensor>)> =
        BTreeMap::new();
    for tensor in tensors {
        let Some((this_prefix, index, is_bias)) = split_parameter_name(&tensor.name) else {
            return Err(Error::InvalidModel(format!(
                "tensor {:?} is not a dense layer's weight or bias: expected names like \
                 \"0.weight\", \"model.2.bias\" (an nn.Sequential of nn.Linear and \
                 activation modules) or \"layers.0.weight\"",
                tensor.name
            )));
        };
        match &prefix {
            None => prefix = Some(this_prefix.to_string()),
            Some(p) if p != this_prefix => {
                return Err(Error::InvalidModel(format!(
                    "tensor {:?} has the prefix {this_prefix:?} but others have {p:?}: \
                     expected the parameters of one nn.Sequential",
                    tensor.name
                )))
            }
            Some(_) => {}
        }
        let (expected_rank, kind) = if is_bias { (1, "bias") } else { (2, "weight") };
        if tensor.shape.len() != expected_rank {
            return Err(Error::InvalidModel(format!(
                "tensor {:?} has shape {:?}: a dense layer's {kind} has {expected_rank} \
                 dimension(s)",
                tensor.name, tensor.shape
            )));
        }
        let slot = modules.entry(index).or_default();
        let place = if is_bias { &mut slot.1 } else { &mut slot.0 };
        if place.is_some() {
            return Err(Error::InvalidModel(format!(
                "tensor {:?} appears twice",
                tensor.name
            )));
        }
        *place = Some(tensor);
    }
    let mut out = Vec::with_capacity(modules.len() * 2);
    for (layer, (weight, bias)) in modules.into_values().enumerate() {
        let (weight, bias) = match (weight, bias) {
            (Some(w), Some(b)) => (w, b),
            (Some(w), None) => {
                return Err(Error::InvalidModel(format!(
                    "tensor {:?} has no matching bias: layers without a bias \
                     (nn.Linear(..., bias=False)) are not supported",
                    w.name
                )))
            }
            (None, Some(b)) => {
                return Err(Error::InvalidModel(format!(
                    "tensor {:?} has no matching weight",
                    b.name
                )))
            }
            (None, None) => unreachable!("a module entry is created with a tensor"),
        };
        out.push(LoadedTensor {
            name: format!("layers.{layer}.weight"),
            ..weight
        });
        out.push(LoadedTensor {
            name: format!("layers.{layer}.bias"),
            ..bias
        });
    }
    Ok(out)
}

/// `model.2.weight` → `("model.", 2, false)`; `0.bias` → `("", 0, true)`.
fn split_parameter_name(name: &str) -> Option<(&str, usize, bool)> {
    let (rest, kind) = name.rsplit_once('.')?;
    let is_bias = match kind {
        "weight" => false,
        "bias" => true,
        _ => return None,
    };
    let (prefix, index) = match rest.rfind('.') {
        Some(dot) => (&rest[..=dot], &rest[dot + 1..]),
        None => ("", rest),
    };
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((prefix, index.parse().ok()?, is_bias))
}

/// The architecture whose layers have the shapes of `tensors` (named `layers.{i}.weight`
/// `[out, in]` and `layers.{i}.bias` `[out]`, as [`normalize_tensor_names`] returns them).
///
/// `hidden_activations` gives one activation per hidden layer, or a single one shared by all
/// (it may then be ignored if there are no hidden layers); `output` is the output activation.
///
/// # Errors
/// [`Error::InvalidModel`] if a layer's weight is missing or not 2-D, or consecutive layers do
/// not chain (the input width of layer `i + 1` must be the output width of layer `i`);
/// [`Error::InvalidArchitecture`] if the number of activations fits neither rule or the result
/// is not a valid architecture.
pub fn architecture_from_shapes(
    tensors: &[LoadedTensor],
    hidden_activations: &[Activation],
    output: OutputActivation,
) -> Result<Architecture> {
    let mut weights: BTreeMap<usize, &LoadedTensor> = BTreeMap::new();
    for tensor in tensors {
        let layer = tensor
            .name
            .strip_prefix("layers.")
            .and_then(|rest| rest.strip_suffix(".weight"))
            .and_then(|index| index.parse::<usize>().ok());
        if let Some(layer) = layer {
            if tensor.shape.len() != 2 {
                return Err(Error::InvalidModel(format!(
                    "tensor {:?} has shape {:?}: a weight is [out, in]",
                    tensor.name, tensor.shape
                )));
            }
            weights.insert(layer, tensor);
        }
    }
    if weights.is_empty() {
        return Err(Error::InvalidModel(
            "no layer weights (\"layers.{i}.weight\") found".into(),
        ));
    }
    if let Some((position, (&layer, _))) = weights
        .iter()
        .enumerate()
        .find(|(position, (&layer, _))| *position != layer)
    {
        return Err(Error::InvalidModel(format!(
            "missing tensor \"layers.{position}.weight\" (found layers.{layer}.weight)"
        )));
    }
    let shapes: Vec<(usize, usize)> = weights.values().map(|t| (t.shape[0], t.shape[1])).collect();
    for (i, pair) in shapes.windows(2).enumerate() {
        let ((out, _), (_, next_in)) = (pair[0], pair[1]);
        if out != next_in {
            return Err(Error::InvalidModel(format!(
                "layers do not chain: layers.{i}.weight has {out} outputs but \
                 layers.{}.weight takes {next_in} inputs",
                i + 1
            )));
        }
    }
    let hidden_count = shapes.len() - 1;
    let activation_of = |i: usize| match hidden_activations {
        [one] => Ok(*one),
        all if all.len() == hidden_count => Ok(all[i]),
        all => Err(Error::InvalidArchitecture(format!(
            "{} hidden activation(s) given for {hidden_count} hidden layer(s): give one per \
             hidden layer, or one for all",
            all.len()
        ))),
    };
    let hidden = (0..hidden_count)
        .map(|i| {
            Ok(HiddenLayer {
                units: shapes[i].0,
                activation: activation_of(i)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let arch = Architecture {
        inputs: shapes[0].1,
        hidden,
        outputs: shapes[hidden_count].0,
        output,
    };
    arch.validate()?;
    Ok(arch)
}

/// A network of architecture `arch` from tensors named `layers.{i}.weight` and
/// `layers.{i}.bias` (see [`Network::from_named_tensors`] for the checks).
pub fn network_from_tensors<T: Real>(
    arch: Architecture,
    tensors: Vec<LoadedTensor>,
) -> Result<Network<T>> {
    let (labels, values): (Vec<_>, Vec<_>) = tensors
        .into_iter()
        .map(|t| ((t.name, t.shape), t.values))
        .unzip();
    Network::from_named_tensors(
        arch,
        labels
            .iter()
            .zip(values)
            .map(|((name, shape), values)| (name.as_str(), shape.as_slice(), values)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Init;

    /// A file from a header text and data bytes, the header unpadded.
    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    fn error_of(bytes: &[u8]) -> String {
        match read_safetensors(bytes) {
            Err(Error::InvalidModel(message)) => message,
            other => panic!("expected InvalidModel, got {other:?}"),
        }
    }

    fn net() -> Network<f32> {
        let arch = Architecture::new(3, &[5, 4], Activation::Tanh, 2, OutputActivation::Softmax);
        Network::new(arch, Init::Auto, 7).unwrap()
    }

    fn tensor(name: &str, shape: &[usize]) -> LoadedTensor {
        let count = shape.iter().product::<usize>();
        LoadedTensor {
            name: name.into(),
            shape: shape.to_vec(),
            values: (0..count).map(|i| i as f64 * 0.25 - 1.0).collect(),
        }
    }

    fn names(tensors: &[LoadedTensor]) -> Vec<&str> {
        tensors.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn round_trip_keeps_every_parameter_and_the_metadata() {
        let net = net();
        let metadata = BTreeMap::from([
            ("backprop".to_string(), "{\"a\": [1, \"é\"]}".to_string()),
            ("note".to_string(), "quote \" and newline \n".to_string()),
        ]);
        let bytes = to_safetensors(&net, &metadata);
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        assert_eq!(header_len % 8, 0, "the data section starts aligned");
        let file = read_safetensors(&bytes).unwrap();
        assert_eq!(file.metadata, metadata);
        let expected: Vec<_> = net.named_tensors();
        assert_eq!(file.tensors.len(), expected.len());
        for (got, want) in file.tensors.iter().zip(&expected) {
            assert_eq!(got.name, want.name);
            assert_eq!(got.shape, want.shape);
            let want: Vec<f64> = want.data.iter().map(|&v| f64::from(v)).collect();
            assert_eq!(got.values, want);
        }
        let back: Network<f32> =
            network_from_tensors(net.architecture().clone(), file.tensors).unwrap();
        assert_eq!(back, net);
    }

    #[test]
    fn written_files_pass_the_reference_reader() {
        let net = net();
        let metadata = BTreeMap::from([("k".to_string(), "v".to_string())]);
        let bytes = to_safetensors(&net, &metadata);
        let (_, reference_meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(
            reference_meta
                .metadata()
                .as_ref()
                .unwrap()
                .get("k")
                .unwrap(),
            "v"
        );
        let reference = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let view = reference.tensor("layers.1.weight").unwrap();
        assert_eq!(view.dtype(), safetensors::Dtype::F32);
        assert_eq!(view.shape(), [4, 5]);
        let first = f32::from_le_bytes(view.data()[..4].try_into().unwrap());
        assert_eq!(first, *net.weight(1).get(0, 0));
        // Empty metadata is left out rather than written as `{}`.
        let bare = to_safetensors(&net, &BTreeMap::new());
        assert!(!String::from_utf8_lossy(&bare).contains("__metadata__"));
        assert!(read_safetensors(&bare).unwrap().metadata.is_empty());
    }

    #[test]
    fn rejects_a_file_shorter_than_the_length_prefix() {
        assert!(error_of(&[1, 0, 0, 0, 0, 0, 0]).contains("7 bytes long"));
        assert!(error_of(&[]).contains("0 bytes long"));
    }

    #[test]
    fn rejects_a_header_length_beyond_the_limit_or_the_file() {
        let mut huge = (MAX_HEADER_BYTES + 1).to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(error_of(&huge).contains("exceeds the limit"));
        let mut beyond = 100u64.to_le_bytes().to_vec();
        beyond.extend_from_slice(b"{}");
        assert!(error_of(&beyond).contains("larger than the 2 bytes"));
    }

    #[test]
    fn rejects_a_header_that_is_not_a_json_object() {
        assert!(error_of(&file("{\"a\": ", &[])).contains("header is not valid"));
        assert!(error_of(&file("\u{0}\u{1}", &[])).contains("header is not valid"));
        assert!(error_of(&file("[1, 2]", &[])).contains("expected a JSON object"));
        assert!(error_of(&file("\"text\"", &[])).contains("expected a JSON object"));
        let bad_utf8 = {
            let mut bytes = 2u64.to_le_bytes().to_vec();
            bytes.extend_from_slice(&[0xff, 0xfe]);
            bytes
        };
        assert!(error_of(&bad_utf8).contains("header is not valid"));
    }

    #[test]
    fn an_empty_header_is_an_empty_file() {
        let file = read_safetensors(&file("{}      ", &[])).unwrap();
        assert!(file.tensors.is_empty() && file.metadata.is_empty());
    }

    #[test]
    fn rejects_duplicate_tensor_names() {
        let header = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                         "a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
        assert!(error_of(&file(header, &[0; 8])).contains("tensor \"a\" appears twice"));
    }

    #[test]
    fn rejects_duplicate_metadata() {
        let twice = r#"{"__metadata__":{"a":"1"},"__metadata__":{"b":"2"}}"#;
        assert!(error_of(&file(twice, &[])).contains("\"__metadata__\" appears twice"));
        let key_twice = r#"{"__metadata__":{"a":"1","a":"2"}}"#;
        assert!(error_of(&file(key_twice, &[])).contains("metadata key \"a\" appears twice"));
    }

    #[test]
    fn rejects_metadata_values_that_are_not_strings() {
        let number = r#"{"__metadata__":{"version":1}}"#;
        let message = error_of(&file(number, &[]));
        assert!(
            message.contains("metadata value of \"version\" must be a string, not a number"),
            "{message}"
        );
        let nested = r#"{"__metadata__":{"x":{"y":"z"}}}"#;
        assert!(error_of(&file(nested, &[])).contains("not an object"));
        let not_map = r#"{"__metadata__":["a"]}"#;
        assert!(error_of(&file(not_map, &[])).contains("object of strings"));
    }

    #[test]
    fn rejects_unsupported_dtypes_by_name() {
        for dtype in ["I64", "U8", "BOOL", "F8_E4M3", "float32"] {
            let header =
                format!(r#"{{"t":{{"dtype":"{dtype}","shape":[1],"data_offsets":[0,8]}}}}"#);
            let message = error_of(&file(&header, &[0; 8]));
            assert!(
                message.contains(&format!("tensor \"t\": dtype {dtype} is not supported")),
                "{message}"
            );
        }
    }

    #[test]
    fn rejects_malformed_entries() {
        let missing = r#"{"t":{"shape":[1],"data_offsets":[0,4]}}"#;
        assert!(error_of(&file(missing, &[0; 4])).contains("missing field `dtype`"));
        let negative = r#"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#;
        assert!(error_of(&file(negative, &[0; 4])).starts_with("tensor \"t\""));
        let not_object = r#"{"t":[1]}"#;
        assert!(error_of(&file(not_object, &[])).starts_with("tensor \"t\""));
    }

    #[test]
    fn rejects_offsets_out_of_range_or_reversed() {
        let beyond = r#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        assert!(error_of(&file(beyond, &[0; 4])).contains("beyond the 4 bytes of data"));
        let reversed = r#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#;
        assert!(error_of(&file(reversed, &[0; 4])).contains("reversed"));
    }

    #[test]
    fn rejects_overlapping_or_non_contiguous_offsets() {
        let overlap = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                          "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
        assert!(error_of(&file(overlap, &[0; 12])).contains("overlaps"));
        let gap = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                      "b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#;
        assert!(error_of(&file(gap, &[0; 12])).contains("not contiguous"));
        let late_start = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#;
        assert!(error_of(&file(late_start, &[0; 8])).contains("begins at byte 4"));
    }

    #[test]
    fn rejects_a_byte_length_that_does_not_match_the_shape() {
        let header = r#"{"t":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#;
        let message = error_of(&file(header, &[0; 20]));
        assert!(message.contains("needs 24 bytes"), "{message}");
        let overflow = format!(
            r#"{{"t":{{"dtype":"F64","shape":[{},{}],"data_offsets":[0,8]}}}}"#,
            usize::MAX,
            usize::MAX
        );
        assert!(error_of(&file(&overflow, &[0; 8])).contains("needs too many bytes"));
    }

    #[test]
    fn rejects_trailing_bytes() {
        let header = r#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        assert!(error_of(&file(header, &[0; 6])).contains("2 trailing bytes"));
        assert!(error_of(&file("{}", &[0; 3])).contains("3 trailing bytes"));
    }

    #[test]
    fn reads_every_float_dtype_and_orders_by_offset() {
        let header = r#"{"d":{"dtype":"F64","shape":[1],"data_offsets":[12,20]},
                         "h":{"dtype":"F16","shape":[2,3],"data_offsets":[20,32]},
                         "b":{"dtype":"BF16","shape":[2],"data_offsets":[32,36]},
                         "f":{"dtype":"F32","shape":[],"data_offsets":[8,12]},
                         "e":{"dtype":"F32","shape":[0,4],"data_offsets":[8,8]},
                         "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let mut data = Vec::new();
        data.extend_from_slice(&1.5f32.to_le_bytes());
        data.extend_from_slice(&(-2.0f32).to_le_bytes());
        data.extend_from_slice(&0.1f32.to_le_bytes());
        data.extend_from_slice(&0.1f64.to_le_bytes());
        for half in [0x3c00u16, 0xc000, 0x3800, 0x0001, 0x7bff, 0xfc00] {
            data.extend_from_slice(&half.to_le_bytes());
        }
        for bf16 in [0x3f80u16, 0xc040] {
            data.extend_from_slice(&bf16.to_le_bytes());
        }
        let file = read_safetensors(&file(header, &data)).unwrap();
        assert_eq!(names(&file.tensors), ["a", "e", "f", "d", "h", "b"]);
        assert_eq!(file.tensors[0].values, [1.5, -2.0]);
        assert!(file.tensors[1].values.is_empty());
        assert_eq!(file.tensors[2].values, [f64::from(0.1f32)]);
        assert_eq!(file.tensors[3].values, [0.1]);
        assert_eq!(
            file.tensors[4].values,
            [1.0, -2.0, 0.5, 2f64.powi(-24), 65504.0, f64::NEG_INFINITY]
        );
        assert_eq!(file.tensors[5].values, [1.0, -3.0]);
        assert!(f16_to_f64(0x7e00).is_nan());
    }

    #[test]
    fn normalizes_pytorch_sequential_names() {
        let torch = vec![
            tensor("model.0.weight", &[8, 4]),
            tensor("model.0.bias", &[8]),
            tensor("model.12.bias", &[3]),
            tensor("model.12.weight", &[3, 6]),
            tensor("model.2.weight", &[6, 8]),
            tensor("model.2.bias", &[6]),
        ];
        let layers = normalize_tensor_names(torch.clone()).unwrap();
        assert_eq!(
            names(&layers),
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias",
                "layers.2.weight",
                "layers.2.bias"
            ]
        );
        // Module 12 sorts after module 2 (numerically, not as text).
        assert_eq!(layers[4].values, torch[3].values);
        assert_eq!(layers[2].shape, [6, 8]);
        let unprefixed = vec![tensor("0.weight", &[2, 3]), tensor("0.bias", &[2])];
        assert_eq!(
            names(&normalize_tensor_names(unprefixed).unwrap()),
            ["layers.0.weight", "layers.0.bias"]
        );
        // A module attribute named `layers` holding a Sequential: indices 0, 2 → 0, 1.
        let attribute = vec![
            tensor("layers.2.weight", &[1, 2]),
            tensor("layers.2.bias", &[1]),
            tensor("layers.0.weight", &[2, 3]),
            tensor("layers.0.bias", &[2]),
        ];
        assert_eq!(
            names(&normalize_tensor_names(attribute).unwrap()),
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias"
            ]
        );
    }

    #[test]
    fn backprop_names_pass_through() {
        let net = net();
        let tensors = read_safetensors(&to_safetensors(&net, &BTreeMap::new()))
            .unwrap()
            .tensors;
        assert_eq!(normalize_tensor_names(tensors.clone()).unwrap(), tensors);
    }

    #[test]
    fn normalizing_rejects_what_is_not_a_linear_stack() {
        let message = |tensors: Vec<LoadedTensor>| match normalize_tensor_names(tensors) {
            Err(Error::InvalidModel(message)) => message,
            other => panic!("expected InvalidModel, got {other:?}"),
        };
        let batch_norm = vec![
            tensor("0.weight", &[2, 3]),
            tensor("0.bias", &[2]),
            tensor("1.running_mean", &[2]),
        ];
        assert!(message(batch_norm).contains("\"1.running_mean\" is not a dense layer"));
        let mixed = vec![
            tensor("net.0.weight", &[2, 3]),
            tensor("net.0.bias", &[2]),
            tensor("head.0.weight", &[1, 2]),
        ];
        assert!(message(mixed).contains("\"head.0.weight\" has the prefix \"head.\""));
        let no_bias = vec![tensor("0.weight", &[2, 3])];
        assert!(message(no_bias).contains("\"0.weight\" has no matching bias"));
        let no_weight = vec![tensor("0.bias", &[2])];
        assert!(message(no_weight).contains("\"0.bias\" has no matching weight"));
        let conv = vec![tensor("0.weight", &[2, 3, 3, 3]), tensor("0.bias", &[2])];
        assert!(message(conv).contains("\"0.weight\" has shape [2, 3, 3, 3]"));
        let named = vec![tensor("fc1.weight", &[2, 3])];
        assert!(message(named).contains("\"fc1.weight\" is not a dense layer"));
    }

    #[test]
    fn infers_the_architecture_from_shapes() {
        let tensors = vec![
            tensor("layers.0.weight", &[8, 4]),
            tensor("layers.0.bias", &[8]),
            tensor("layers.1.weight", &[6, 8]),
            tensor("layers.1.bias", &[6]),
            tensor("layers.2.weight", &[3, 6]),
            tensor("layers.2.bias", &[3]),
        ];
        let arch =
            architecture_from_shapes(&tensors, &[Activation::Relu], OutputActivation::Softmax)
                .unwrap();
        assert_eq!(
            arch,
            Architecture::new(4, &[8, 6], Activation::Relu, 3, OutputActivation::Softmax)
        );
        let mixed = architecture_from_shapes(
            &tensors,
            &[Activation::Tanh, Activation::Gelu],
            OutputActivation::Identity,
        )
        .unwrap();
        assert_eq!(mixed.hidden[0].activation, Activation::Tanh);
        assert_eq!(mixed.hidden[1].activation, Activation::Gelu);
        let net: Network<f64> = network_from_tensors(arch, tensors.clone()).unwrap();
        assert_eq!(net.bias(1)[0], tensors[3].values[0]);

        let wrong_count = architecture_from_shapes(
            &tensors,
            &[Activation::Tanh, Activation::Gelu, Activation::Relu],
            OutputActivation::Identity,
        );
        assert!(matches!(wrong_count, Err(Error::InvalidArchitecture(_))));
        let linear = architecture_from_shapes(&tensors[4..], &[], OutputActivation::Sigmoid);
        assert!(matches!(linear, Err(Error::InvalidModel(m)) if m.contains("layers.0.weight")));
    }

    #[test]
    fn shapes_must_chain() {
        let tensors = vec![
            tensor("layers.0.weight", &[8, 4]),
            tensor("layers.0.bias", &[8]),
            tensor("layers.1.weight", &[3, 7]),
            tensor("layers.1.bias", &[3]),
        ];
        let err =
            architecture_from_shapes(&tensors, &[Activation::Relu], OutputActivation::Softmax);
        assert!(
            matches!(&err, Err(Error::InvalidModel(m))
                if m.contains("layers.0.weight has 8 outputs but layers.1.weight takes 7 inputs")),
            "{err:?}"
        );
        let single =
            architecture_from_shapes(&tensors[..2], &[], OutputActivation::Identity).unwrap();
        assert_eq!(single.widths(), [4, 8]);
        assert!(architecture_from_shapes(&[], &[], OutputActivation::Identity).is_err());
    }
}
