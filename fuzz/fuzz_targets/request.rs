//! Any bytes as a scoring request's body against a small model (two numeric features, a
//! text feature and a class target): the first byte picks the shape (records, split,
//! positional rows, columnar, instances, tensors, CSV), the rest is the body, parsed and
//! encoded as the server does: errors, never panics.
#![no_main]

use std::sync::OnceLock;

use backprop_data::{csv, request, FitOptions, Preprocessor, TargetSelect};
use libfuzzer_sys::fuzz_target;

/// The preprocessing of the small model, fitted once.
fn model() -> &'static Preprocessor {
    static PRE: OnceLock<Preprocessor> = OnceLock::new();
    PRE.get_or_init(|| {
        let text = "a,b,colour,y\n1,2.5,red,x\n3,0.5,blue,y\n2,1.5,red,x\n4,3.5,green,y\n";
        let table = csv::read(text.as_bytes(), b',', "model.csv", &TargetSelect::Last)
            .expect("the model's table reads");
        Preprocessor::fit(&table, &FitOptions::default())
            .expect("the model's preprocessing fits")
            .0
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&shape, body)) = data.split_first() else {
        return;
    };
    let pre = model();
    let table = if shape % 7 == 6 {
        request::csv(body, pre)
    } else {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return;
        };
        match shape % 7 {
            0 => request::records(&value, "dataframe_records", pre),
            1 => request::split(&value, "dataframe_split", pre),
            2 => request::positional(&value, "instances", pre),
            3 => request::columnar(&value, "inputs", pre),
            4 => request::instances(&value, "instances", pre),
            _ => request::tensors(&value, pre),
        }
    };
    if let Ok(table) = table {
        let _ = request::encode(pre, &table, shape & 0x80 != 0);
    }
});
