//! Networks to and from the bytes of a [safetensors] file.
//!
//! A safetensors file is an 8-byte little-endian header length `n`, a JSON header of `n`
//! bytes, then the tensor data. The header maps each tensor name to
//! `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the data section)
//! and may hold a string → string `"__metadata__"` map. A network is written as f32 tensors
//! `layers.{i}.weight` `[out, in]` and `layers.{i}.bias` `[out]`.
//!
//! The structural parsing and validation is the `safetensors` crate's, the reference
//! implementation that PyTorch's `safetensors.torch` is built on, so a file is accepted here
//! exactly when the reference reader accepts it: a header length within the file and below
//! 100 MB, a UTF-8 JSON object, `data_offsets` that are in order, contiguous and cover the
//! data section to its last byte, and byte lengths that are `shape × dtype size`. What this
//! module adds: messages that say what is wrong in words a user can act on, a check that no
//! tensor name is given twice (the reference reader would keep one of them silently), and the
//! conversion of F32, F64, F16 and BF16 tensors to `f64`; other dtypes are refused by name.
//! Reading and writing files is the caller's business: only bytes here.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use ::safetensors::tensor::{Dtype, SafeTensorError, SafeTensors, TensorView};
use backprop::{Network, Real};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::error::{Error, Result};

/// The largest JSON header accepted, in bytes (the reference implementation's limit).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

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
/// `layers.{i}.weight` `[out, in]` and `layers.{i}.bias` `[out]`, with `metadata` as
/// `__metadata__` (left out when empty). The header is padded to a multiple of 8 bytes, so
/// the data is aligned. (The reference writer orders the metadata map as a hash map does:
/// with more than one key, two writes of the same model may order them differently.)
pub fn to_bytes<T: Real>(net: &Network<T>, metadata: &BTreeMap<String, String>) -> Vec<u8> {
    to_bytes_renamed(net, metadata, str::to_string)
}

/// [`to_bytes`] with each tensor named `rename(backprop's name)` (`layers.1.weight` →
/// `2.weight` for a PyTorch `nn.Sequential`, say).
pub fn to_bytes_renamed<T: Real>(
    net: &Network<T>,
    metadata: &BTreeMap<String, String>,
    rename: impl Fn(&str) -> String,
) -> Vec<u8> {
    let tensors = net.named_tensors();
    let names: Vec<String> = tensors.iter().map(|t| rename(&t.name)).collect();
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| {
            t.data
                .iter()
                .flat_map(|v| (v.as_f64() as f32).to_le_bytes())
                .collect()
        })
        .collect();
    let views = tensors
        .iter()
        .zip(&data)
        .zip(&names)
        .map(|((tensor, bytes), name)| {
            let view = TensorView::new(Dtype::F32, tensor.shape.clone(), bytes)
                .expect("a layer's bytes are its shape times 4");
            (name.as_str(), view)
        });
    let metadata: Option<HashMap<String, String>> =
        (!metadata.is_empty()).then(|| metadata.clone().into_iter().collect());
    ::safetensors::serialize(views, metadata)
        .expect("layer names, shapes and string metadata always serialize")
}

/// Parses and validates the bytes of a safetensors file (see the module documentation for
/// what is checked), converting every tensor to `f64`.
///
/// # Errors
/// [`Error::InvalidModel`] saying what is wrong with the bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<TensorFile> {
    let (header_len, metadata) =
        SafeTensors::read_metadata(bytes).map_err(|e| structural_error(e, bytes))?;
    reject_duplicate_names(&bytes[8..8 + header_len])?;
    let data = &bytes[8 + header_len..];
    let tensors = metadata
        .offset_keys()
        .into_iter()
        .map(|name| {
            let info = metadata.info(&name).expect("an offset key names a tensor");
            let (begin, end) = info.data_offsets;
            let values = decode(info.dtype, &data[begin..end]).ok_or_else(|| {
                Error::model(format!(
                    "tensor {name:?}: dtype {} is not supported; only F32, F64, F16 and BF16 \
                     tensors can be read",
                    info.dtype
                ))
            })?;
            Ok(LoadedTensor {
                name,
                shape: info.shape.clone(),
                values,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = metadata
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    Ok(TensorFile { tensors, metadata })
}

/// The reference reader's complaint in words that say what is wrong with this file.
fn structural_error(error: SafeTensorError, bytes: &[u8]) -> Error {
    let header_len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    let following = bytes.len().saturating_sub(8);
    Error::model(match error {
        SafeTensorError::HeaderTooSmall => format!(
            "the file is {} bytes long, too short for the 8-byte header length of a \
             safetensors file",
            bytes.len()
        ),
        SafeTensorError::HeaderTooLarge => format!(
            "the header length {} exceeds the limit of {MAX_HEADER_BYTES} bytes (is this a \
             safetensors file?)",
            header_len.unwrap_or_default()
        ),
        SafeTensorError::InvalidHeaderLength => format!(
            "the header length {} is larger than the {following} bytes that follow it \
             (truncated file, or not a safetensors file)",
            header_len.unwrap_or_default()
        ),
        SafeTensorError::InvalidHeader(e) => format!("the header is not valid UTF-8 text: {e}"),
        SafeTensorError::InvalidHeaderDeserialization(e) | SafeTensorError::JsonError(e) => {
            format!(
                "the header is not valid: {e} (expected a JSON object mapping tensor names to \
                 their dtype, shape and data_offsets, and \"__metadata__\" to an object of \
                 strings)"
            )
        }
        SafeTensorError::InvalidOffset(name) => format!(
            "tensor {name:?}: its data_offsets do not start where the previous tensor ends \
             (reversed, overlapping or leaving a gap)"
        ),
        SafeTensorError::TensorInvalidInfo => {
            "a tensor's data_offsets do not hold shape × dtype size bytes".to_string()
        }
        SafeTensorError::ValidationOverflow => {
            "a tensor's shape is too large to be held in memory".to_string()
        }
        SafeTensorError::MetadataIncompleteBuffer => {
            "the tensors do not end where the file ends (a truncated file, or bytes after the \
             last tensor)"
                .to_string()
        }
        other => format!("not a valid safetensors file: {other}"),
    })
}

/// JSON objects may repeat a key, and a map keeps only one of them: refuse the file instead.
fn reject_duplicate_names(header: &[u8]) -> Result<()> {
    struct Names;
    impl<'de> Visitor<'de> for Names {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(key.clone()) {
                    return Ok(Some(key));
                }
            }
            Ok(None)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(header);
    match deserializer.deserialize_map(Names) {
        Ok(Some(name)) => Err(Error::model(format!(
            "{name:?} appears twice in the header"
        ))),
        // The reference reader has parsed this header already.
        Ok(None) | Err(_) => Ok(()),
    }
}

/// Little-endian bytes (a whole number of elements) to f64, exactly; `None` for a dtype that
/// is not a float backprop reads.
fn decode(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f64>> {
    Some(match dtype {
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|c| {
                f64::from(f32::from_bits(
                    u32::from(u16::from_le_bytes([c[0], c[1]])) << 16,
                ))
            })
            .collect(),
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        _ => return None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pytorch::network_from_tensors;
    use backprop::{Activation, Architecture, Init, OutputActivation};

    /// A file from a header text and data bytes, the header unpadded.
    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    fn error_of(bytes: &[u8]) -> String {
        match from_bytes(bytes) {
            Err(Error::InvalidModel(message)) => message,
            other => panic!("expected InvalidModel, got {other:?}"),
        }
    }

    fn net() -> Network<f32> {
        let arch = Architecture::new(3, &[5, 4], Activation::Tanh, 2, OutputActivation::Softmax);
        Network::new(arch, Init::Auto, 7).unwrap()
    }

    #[test]
    fn round_trip_keeps_every_parameter_and_the_metadata() {
        let net = net();
        let metadata = BTreeMap::from([
            ("backprop".to_string(), "{\"a\": [1, \"é\"]}".to_string()),
            ("note".to_string(), "quote \" and newline \n".to_string()),
        ]);
        let bytes = to_bytes(&net, &metadata);
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        assert_eq!(header_len % 8, 0, "the data section starts aligned");
        let file = from_bytes(&bytes).unwrap();
        assert_eq!(file.metadata, metadata);
        let mut expected: Vec<_> = net.named_tensors();
        assert_eq!(file.tensors.len(), expected.len());
        expected.sort_by(|a, b| a.name.cmp(&b.name));
        let mut got = file.tensors.clone();
        got.sort_by(|a, b| a.name.cmp(&b.name));
        for (got, want) in got.iter().zip(&expected) {
            assert_eq!(got.name, want.name);
            assert_eq!(got.shape, want.shape);
            let want: Vec<f64> = want.data.iter().map(|&v| f64::from(v)).collect();
            assert_eq!(got.values, want);
        }
        let back: Network<f32> =
            network_from_tensors(net.architecture().clone(), file.tensors).unwrap();
        assert_eq!(back, net);
        // Empty metadata is left out rather than written as `{}`.
        let bare = to_bytes(&net, &BTreeMap::new());
        assert!(!String::from_utf8_lossy(&bare).contains("__metadata__"));
        assert!(from_bytes(&bare).unwrap().metadata.is_empty());
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
        assert!(error_of(&file("[1, 2]", &[])).contains("header is not valid"));
        assert!(error_of(&file("\"text\"", &[])).contains("header is not valid"));
        let bad_utf8 = {
            let mut bytes = 2u64.to_le_bytes().to_vec();
            bytes.extend_from_slice(&[0xff, 0xfe]);
            bytes
        };
        assert!(error_of(&bad_utf8).contains("not valid UTF-8"));
    }

    #[test]
    fn an_empty_header_is_an_empty_file() {
        let file = from_bytes(&file("{}      ", &[])).unwrap();
        assert!(file.tensors.is_empty() && file.metadata.is_empty());
    }

    #[test]
    fn rejects_duplicate_tensor_names() {
        // Both entries describe the same bytes, so the reference reader alone would accept it.
        let header = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                         "a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let message = error_of(&file(header, &[0; 4]));
        assert!(message.contains("\"a\" appears twice"), "{message}");
    }

    #[test]
    fn rejects_metadata_values_that_are_not_strings() {
        let number = r#"{"__metadata__":{"version":1}}"#;
        let message = error_of(&file(number, &[]));
        assert!(message.contains("header is not valid"), "{message}");
        assert!(message.contains("object of strings"), "{message}");
    }

    #[test]
    fn rejects_unsupported_dtypes_by_name() {
        for dtype in ["I64", "U8", "F8_E4M3"] {
            let size = match dtype {
                "I64" => 8,
                _ => 1,
            };
            let header =
                format!(r#"{{"t":{{"dtype":"{dtype}","shape":[1],"data_offsets":[0,{size}]}}}}"#);
            let message = error_of(&file(&header, &vec![0; size]));
            assert!(
                message.contains(&format!("tensor \"t\": dtype {dtype} is not supported")),
                "{message}"
            );
        }
        let unknown = r#"{"t":{"dtype":"float32","shape":[1],"data_offsets":[0,4]}}"#;
        assert!(error_of(&file(unknown, &[0; 4])).contains("header is not valid"));
    }

    #[test]
    fn rejects_offsets_that_are_not_contiguous() {
        for header in [
            // reversed
            r#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#,
            // starts late
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            // overlapping
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
        ] {
            let message = error_of(&file(header, &[0; 12]));
            assert!(message.contains("do not start where"), "{message}");
        }
    }

    #[test]
    fn rejects_a_byte_length_that_does_not_match_the_shape() {
        let header = r#"{"t":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#;
        let message = error_of(&file(header, &[0; 20]));
        assert!(message.contains("shape × dtype size"), "{message}");
        let overflow = format!(
            r#"{{"t":{{"dtype":"F64","shape":[{},{}],"data_offsets":[0,8]}}}}"#,
            usize::MAX,
            usize::MAX
        );
        assert!(error_of(&file(&overflow, &[0; 8])).contains("too large"));
    }

    #[test]
    fn rejects_missing_or_trailing_bytes() {
        let header = r#"{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        assert!(error_of(&file(header, &[0; 6])).contains("do not end where the file ends"));
        assert!(error_of(&file(header, &[0; 2])).contains("do not end where the file ends"));
        assert!(error_of(&file("{}", &[0; 3])).contains("do not end where the file ends"));
    }

    #[test]
    fn reads_every_float_dtype_in_file_order() {
        let header = r#"{"d":{"dtype":"F64","shape":[1],"data_offsets":[12,20]},
                         "h":{"dtype":"F16","shape":[2,3],"data_offsets":[20,32]},
                         "b":{"dtype":"BF16","shape":[2],"data_offsets":[32,36]},
                         "f":{"dtype":"F32","shape":[],"data_offsets":[8,12]},
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
        let file = from_bytes(&file(header, &data)).unwrap();
        let names: Vec<&str> = file.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "f", "d", "h", "b"]);
        assert_eq!(file.tensors[0].values, [1.5, -2.0]);
        assert_eq!(file.tensors[1].values, [f64::from(0.1f32)]);
        assert_eq!(file.tensors[2].values, [0.1]);
        assert_eq!(
            file.tensors[3].values,
            [1.0, -2.0, 0.5, 2f64.powi(-24), 65504.0, f64::NEG_INFINITY]
        );
        assert_eq!(file.tensors[4].values, [1.0, -3.0]);
        assert!(f16_to_f64(0x7e00).is_nan());
    }
}
