//! Any bytes as a model file: an error or a model, never a panic; a model that loads must
//! encode a row without panicking (its preprocessing was validated against its network).
#![no_main]

use backprop_data::Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::from_bytes(data) {
        let pre = &model.metadata.preprocessing;
        assert_eq!(pre.inputs(), model.network.architecture().inputs);
        let _ = pre.input_names();
    }
});
