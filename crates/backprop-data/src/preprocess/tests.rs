use super::*;
use crate::{load, LoadOptions};

/// Writes `body` to `name` in a fresh temp dir and loads it for training.
fn table(dir: &tempfile::TempDir, name: &str, body: &str, options: &LoadOptions) -> Result<Table> {
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    load(path.to_str().unwrap(), options)
}

fn fit_with(body: &str, options: &FitOptions) -> Result<(Preprocessor, Vec<Note>)> {
    let dir = tempfile::tempdir().unwrap();
    let t = table(&dir, "train.csv", body, &LoadOptions::default())?;
    Preprocessor::fit(&t, options)
}

fn fit(body: &str, scaler: Scaler) -> Result<Preprocessor> {
    fit_with(body, &FitOptions::scaled(scaler)).map(|(pre, _)| pre)
}

fn fit_error(body: &str) -> String {
    fit(body, Scaler::Standard).unwrap_err().to_string()
}

/// The encoded inputs of `body` read as `name` with `pre`'s schema.
fn encode(pre: &Preprocessor, name: &str, body: &str, strict: bool) -> Result<Encoded> {
    let dir = tempfile::tempdir().unwrap();
    let t = table(&dir, name, body, &LoadOptions::for_model(pre))?;
    pre.encode_with(
        &t,
        &EncodeOptions {
            strict,
            ..EncodeOptions::default()
        },
    )
}

fn offset_scale(encoding: &Encoding) -> (f64, f64) {
    match encoding {
        Encoding::Numeric { offset, scale, .. } => (*offset, *scale),
        other => panic!("not numeric: {other:?}"),
    }
}

const TRAIN: &str =
    "age,color,height,label\n20,red,1.5,yes\n30,blue,1.7,no\n40,red,1.9,yes\n50,green,1.6,no\n";

#[test]
fn numeric_and_one_hot_layout_with_standard_scaling() {
    let pre = fit(TRAIN, Scaler::Standard).unwrap();
    assert_eq!(pre.inputs(), 5);
    assert_eq!(pre.outputs(), 2);
    assert_eq!(
        pre.input_names(),
        ["age", "color=blue", "color=green", "color=red", "height"]
    );
    let (offset, scale) = offset_scale(&pre.features[0].encoding);
    assert_eq!(offset, 35.0);
    assert!((scale - 125f64.sqrt()).abs() < 1e-12);
    let encoded = encode(&pre, "train.csv", TRAIN, true).unwrap();
    let x = &encoded.x;
    assert_eq!(x.len(), 4 * 5);
    assert!((x[0] - (-15.0 / 125f64.sqrt()) as f32).abs() < 1e-6);
    assert_eq!(&x[1..4], [0.0, 0.0, 1.0]);
    assert_eq!(&x[5 + 1..5 + 4], [1.0, 0.0, 0.0]);
    let mean_height: f32 = x.chunks(5).map(|r| r[4]).sum::<f32>() / 4.0;
    assert!(mean_height.abs() < 1e-6);
    assert_eq!(
        encoded.targets,
        Some(EncodedTargets::Classes(vec![1, 0, 1, 0]))
    );
    assert!(encoded.notes.is_empty(), "{:?}", encoded.notes);
    assert_eq!(pre.class_name(1), Some("yes"));
}

#[test]
fn unscaled_f32_matrices_are_borrowed_and_scaled_ones_copied() {
    let plain = Preprocessor::numeric(
        vec!["p".into(), "q".into()],
        TargetSchema::Regress {
            name: "y".into(),
            scale: None,
        },
    );
    let x = [1.5f32, -0.0, f32::INFINITY, 3.0e-39];
    let passed = plain.transform_numeric_f32(&x, 2).unwrap();
    assert!(matches!(passed, Cow::Borrowed(_)));
    let copied = plain.transform_numeric(&x, 2).unwrap();
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&passed), bits(&copied));
    // A NaN gets the copy's error, naming the row and feature; so does a bad shape.
    let nan = [1.0f32, 2.0, 3.0, f32::NAN];
    let message = plain
        .transform_numeric_f32(&nan, 2)
        .unwrap_err()
        .to_string();
    assert!(message.contains("row 2, feature 2"), "{message}");
    assert!(plain.transform_numeric_f32(&x[..3], 2).is_err());

    let body = "a,b,y\n1,10,0\n3,30,1\n5,20,0\n";
    let scaled = fit(body, Scaler::Standard).unwrap();
    let matrix = [1.0f32, 10.0, 3.0, 30.0, 5.0, 20.0];
    let out = scaled.transform_numeric_f32(&matrix, 3).unwrap();
    assert!(matches!(out, Cow::Owned(_)));
    assert_eq!(*out, *scaled.transform_numeric(&matrix, 3).unwrap());
}

#[test]
fn numeric_matrices_are_scaled_like_the_table() {
    let body = "a,b,y\n1,10,0\n3,30,1\n5,20,0\n";
    let pre = fit(body, Scaler::Standard).unwrap();
    assert_eq!(pre.numeric_feature_names().unwrap(), ["a", "b"]);
    let matrix = [1.0, 10.0, 3.0, 30.0, 5.0, 20.0];
    assert_eq!(
        pre.transform_numeric(&matrix, 3).unwrap(),
        encode(&pre, "t.csv", body, true).unwrap().x
    );
    let short = pre.transform_numeric(&matrix[..5], 3).unwrap_err();
    assert!(matches!(
        short,
        Error::Engine(backprop::Error::ShapeMismatch { .. })
    ));

    let plain = Preprocessor::numeric(
        vec!["p".into(), "q".into()],
        TargetSchema::Regress {
            name: "y".into(),
            scale: None,
        },
    );
    assert_eq!((plain.inputs(), plain.scaler), (2, Scaler::None));
    assert_eq!(
        plain.transform_numeric(&[1.5, -2.0], 1).unwrap(),
        [1.5, -2.0]
    );
    assert!(plain.transform_numeric(&[f64::NAN, 0.0], 1).is_err());

    let categorical = fit("a,c,y\n1,red,0\n2,blue,1\n", Scaler::None).unwrap();
    let message = categorical
        .transform_numeric(&[1.0, 0.0], 1)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("one-hot encodes the column \"c\""),
        "{message}"
    );
    assert!(categorical.numeric_feature_names().is_err());
}

#[test]
fn minmax_none_and_constant_columns() {
    let body = "a,b,y\n2,7,0.5\n4,7,1.5\n6,7,2.5\n";
    let pre = fit(body, Scaler::Minmax).unwrap();
    assert_eq!(offset_scale(&pre.features[0].encoding), (2.0, 4.0));
    assert_eq!(offset_scale(&pre.features[1].encoding), (7.0, 1.0));
    let pre = fit(body, Scaler::Standard).unwrap();
    assert_eq!(offset_scale(&pre.features[1].encoding), (7.0, 1.0));
    let pre = fit(body, Scaler::None).unwrap();
    assert_eq!(offset_scale(&pre.features[0].encoding), (0.0, 1.0));
    assert_eq!(pre.target.task(), Task::Regress);
}

#[test]
fn json_round_trip_is_exact_and_reads_version_1() {
    let pre = fit(TRAIN, Scaler::Standard).unwrap();
    let json = serde_json::to_string(&pre).unwrap();
    assert!(
        json.contains("\"kind\":\"one_hot\"") && json.contains("\"task\":\"classify\""),
        "{json}"
    );
    assert!(json.contains("\"scaler\":\"standard\"") && json.contains("\"version\":3"));
    let back: Preprocessor = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pre);
    // A model of the first layout: no fills, only the empty cell missing.
    let v1 = r#"{"version":1,"scaler":"none","features":[{"name":"a","kind":"numeric",
        "offset":0.0,"scale":1.0},{"name":"c","kind":"one_hot","categories":["NA","x"]}],
        "inputs":3,"target":{"task":"regress","name":"y"}}"#;
    let old: Preprocessor = serde_json::from_str(v1).unwrap();
    assert_eq!(old.na_values, [""]);
    let encoded = encode(&old, "new.csv", "a,c\n1,NA\n", true).unwrap();
    assert_eq!(encoded.x, [1.0, 1.0, 0.0], "NA stays the category it was");
    let gap = encode(&old, "gap.csv", "a,c\n,x\n", false)
        .unwrap_err()
        .to_string();
    assert!(
        gap.contains("gap.csv:2: column \"a\" (1) has no value"),
        "{gap}"
    );
}

#[test]
fn mixed_columns_name_the_stray_cell() {
    let msg = fit_error("age,y\n20,1\n30,0\nabc,1\n40,0\n50,1\n");
    assert!(
        msg.contains("train.csv:4: column \"age\" (1): \"abc\" is not a number, but 4 other cells"),
        "{msg}"
    );
    assert!(msg.contains("--na-values"), "{msg}");
    let msg = fit_error("x,color,y\n1,red,1\n2,7,0\n3,blue,1\n4,red,0\n");
    assert!(
        msg.contains("train.csv:3: column \"color\" (2): \"7\" is a number, but 3 other cells"),
        "{msg}"
    );
}

#[test]
fn missing_cells_are_filled_and_said() {
    let body = "a,c,y\n1,red,0\nNA,,1\n3,blue,0\n,red,1\n5,?,0\n";
    let (pre, notes) = fit_with(body, &FitOptions::scaled(Scaler::None)).unwrap();
    assert_eq!(
        pre.features[0].encoding,
        Encoding::Numeric {
            offset: 0.0,
            scale: 1.0,
            fill: Some(3.0),
            indicator: true
        }
    );
    assert_eq!(
        pre.input_names(),
        ["a", "a=(missing)", "c=blue", "c=red", "c=(missing)"]
    );
    let text: Vec<String> = notes.iter().map(|n| n.to_string()).collect();
    assert!(
        text[0].contains("column \"a\": filled 2 of 5 cells with the median 3"),
        "{text:?}"
    );
    assert!(
        text[1].contains("column \"c\": filled 2 of 5 cells with a category"),
        "{text:?}"
    );
    let x = encode(&pre, "t.csv", body, true).unwrap().x;
    assert_eq!(&x[5..10], [3.0, 1.0, 0.0, 0.0, 1.0], "row 2: both missing");
    assert_eq!(&x[..5], [1.0, 0.0, 0.0, 1.0, 0.0]);
    // Standard scaling sees the filled column, as an imputer then a scaler would.
    let pre = fit(body, Scaler::Standard).unwrap();
    let (offset, scale) = offset_scale(&pre.features[0].encoding);
    assert_eq!(offset, 3.0);
    assert!((scale - (8.0f64 / 5.0).sqrt()).abs() < 1e-12);

    let refuse = FitOptions {
        missing: Missing::Error,
        ..FitOptions::default()
    };
    let msg = fit_with(body, &refuse).unwrap_err().to_string();
    assert!(
        msg.contains("train.csv:3: column \"a\" (1) has no value (\"NA\")"),
        "{msg}"
    );
    assert!(msg.contains("--missing error"), "{msg}");
    let custom = FitOptions {
        na_values: vec!["-999".into()],
        ..FitOptions::default()
    };
    let (pre, _) = fit_with("a,y\n1,0\n-999,1\n3,0\n", &custom).unwrap();
    assert!(
        matches!(pre.features[0].encoding, Encoding::Numeric { fill: Some(f), indicator: true, .. } if f == 2.0)
    );
}

#[test]
fn infinite_cells_are_errors_and_missing_targets_skip_rows() {
    let msg = fit_error("a,b,y\n1,inf,0\n3,4,1\n");
    assert!(
        msg.contains("train.csv:2: column \"b\" (2): \"inf\" is not a finite number"),
        "{msg}"
    );
    let body = "a,y\n1,x\n2,NA\n3,y\n4,\n5,x\n6,y\n";
    let (pre, notes) = fit_with(body, &FitOptions::default()).unwrap();
    assert_eq!(pre.target.classes().unwrap(), ["x", "y"]);
    let skipped = notes
        .iter()
        .find(|n| matches!(n, Note::SkippedRows { .. }))
        .unwrap();
    assert!(skipped
        .to_string()
        .contains("2 row(s) without a value in the target \"y\""));
    let text = skipped.to_string();
    assert!(
        text.contains("train.csv:3, ") && text.ends_with("train.csv:5)"),
        "{text}"
    );
    let all = EncodeOptions {
        ignore_target: true,
        ..EncodeOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let t = table(&dir, "p.csv", body, &LoadOptions::for_model(&pre)).unwrap();
    let predicted = pre.encode_with(&t, &all).unwrap();
    assert_eq!(
        (predicted.rows, predicted.targets, predicted.notes.len()),
        (6, None, 0)
    );
    let encoded = encode(&pre, "train.csv", body, true).unwrap();
    assert_eq!(encoded.rows, 4);
    assert_eq!(
        encoded.targets,
        Some(EncodedTargets::Classes(vec![0, 1, 0, 1]))
    );
    assert_eq!(encoded.x.len(), 4);
    let (_, notes) = fit_with("a,y\n1,x\n2,x\n3,y\n", &FitOptions::default()).unwrap();
    assert!(notes
        .iter()
        .any(|n| matches!(n, Note::RareClass { class, rows: 1 } if class == "y")));
}

#[test]
fn identifiers_counters_and_named_columns_are_left_out() {
    let mut body = String::from("id,n,colour,x,y\n");
    for i in 0..30 {
        body += &format!(
            "user{i},{},{},{},{}\n",
            i + 1,
            ["a", "b"][i % 2],
            i % 7,
            i % 2
        );
    }
    let (pre, notes) = fit_with(&body, &FitOptions::default()).unwrap();
    let names: Vec<&str> = pre.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["colour", "x"]);
    let left: Vec<&str> = pre.left_out.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(left, ["id", "n"]);
    let text: Vec<String> = notes.iter().map(|n| n.to_string()).collect();
    assert!(
        text[0].contains("\"id\" is not a feature: 30 distinct values in 30 rows"),
        "{text:?}"
    );
    assert!(text[0].contains("--keep NAME"), "{text:?}");
    assert!(
        text[1].contains("\"n\" is not a feature: its integers count the rows"),
        "{text:?}"
    );

    let keep = FitOptions {
        keep: vec!["n".into()],
        id: Some("id".into()),
        drop: vec!["x".into()],
        ..FitOptions::default()
    };
    let (pre, _) = fit_with(&body, &keep).unwrap();
    let names: Vec<&str> = pre.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["n", "colour"]);
    let encoded = encode(&pre, "new.csv", "colour,id,n,x,extra\na,u9,4,1,z\n", true).unwrap();
    assert_eq!(encoded.ids, Some(vec!["u9".to_string()]));
    assert_eq!(
        encoded.notes,
        [Note::Ignored {
            columns: vec!["extra".into()]
        }]
    );

    let only = FitOptions {
        features: Some(vec!["id".into(), "x".into()]),
        ..FitOptions::default()
    };
    let (pre, _) = fit_with(&body, &only).unwrap();
    assert_eq!(
        pre.features.len(),
        2,
        "features named by the user are never left out"
    );
    let typo = FitOptions {
        drop: vec!["colr".into()],
        ..FitOptions::default()
    };
    let msg = fit_with(&body, &typo).unwrap_err().to_string();
    assert!(msg.contains("--drop names no column \"colr\""), "{msg}");
}

#[test]
fn booleans_dates_and_many_categories() {
    let mut body = String::from("ok,when,city,y\n");
    for i in 0..60 {
        let ok = if i % 3 == 0 { "Yes" } else { "no" };
        let city = format!("c{}", i % 12);
        body += &format!("{ok},2024-01-{:02},{city},{}\n", i % 28 + 1, i % 2);
    }
    let options = FitOptions {
        max_categories: 5,
        scaler: Scaler::None,
        ..FitOptions::default()
    };
    let (pre, notes) = fit_with(&body, &options).unwrap();
    assert!(
        matches!(&pre.features[0].encoding, Encoding::Boolean { words, .. } if words == "yes/no")
    );
    assert!(matches!(&pre.features[1].encoding, Encoding::Date { .. }));
    let Encoding::OneHot {
        categories,
        other: true,
        missing: false,
    } = &pre.features[2].encoding
    else {
        panic!("capped categories: {:?}", pre.features[2].encoding)
    };
    assert_eq!(categories.len(), 5);
    assert_eq!(pre.inputs(), 1 + 5 + 6);
    assert!(notes.iter().any(|n| n
        .to_string()
        .contains("12 distinct values; the 5 most frequent")));
    let x = encode(&pre, "new.csv", "ok,when,city\nYES,2024-01-02,zzz\n", true)
        .unwrap()
        .x;
    assert_eq!(x[0], 1.0);
    assert_eq!(
        &x[1..6],
        [2024.0, 1.0, 2.0, 1.0, 19724.0],
        "Tuesday 2024-01-02"
    );
    assert_eq!(x[11], 1.0, "an unknown city is other");
    let msg = encode(&pre, "bad.csv", "ok,when,city\nmaybe,2024-01-02,c1\n", true)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("bad.csv:2: column \"ok\" (1): \"maybe\" is not yes/no"),
        "{msg}"
    );
}

#[test]
fn training_needs_features_a_target_and_two_classes() {
    let msg = fit_error("y\n1\n2\n");
    assert!(
        msg.contains("no feature columns besides the target \"y\""),
        "{msg}"
    );
    let msg = fit_error("a,y\n1,same\n2,same\n");
    assert!(msg.contains("only one class (\"same\")"), "{msg}");
    let dir = tempfile::tempdir().unwrap();
    let t = table(
        &dir,
        "t.csv",
        "a,b\n1,2\n",
        &LoadOptions::for_model(&fit(TRAIN, Scaler::None).unwrap()),
    )
    .unwrap();
    let msg = Preprocessor::fit(&t, &FitOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("t.csv") && msg.contains("missing"), "{msg}");
}

#[test]
fn test_files_are_read_with_the_training_schema() {
    let pre = fit(TRAIN, Scaler::Standard).unwrap();
    // Reordered columns, no target: fine.
    let encoded = encode(&pre, "predict.csv", "height,color,age\n1.5,red,20\n", true).unwrap();
    let trained = encode(&pre, "train.csv", TRAIN, true).unwrap();
    assert_eq!(encoded.x, trained.x[..5]);
    assert_eq!(
        (encoded.rows, encoded.inputs, encoded.targets),
        (1, 5, None)
    );

    let msg = encode(&pre, "cols.csv", "age,colour,height\n1,red,2\n", false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("cols.csv: the model's feature column(s) color are missing"),
        "{msg}"
    );
    for (name, body, expected) in [
        (
            "num.csv",
            "age,color,height\n1,red,2\n1,red,tall\n",
            "num.csv:3: column \"height\" (3): \"tall\" is not a number",
        ),
        (
            "eval.csv",
            "age,color,height,label\n1,red,2,yes\n1,red,2,maybe\n",
            "eval.csv:3: column \"label\" (4): class \"maybe\" was not among the training classes (no, yes)",
        ),
    ] {
        let msg = encode(&pre, name, body, false).unwrap_err().to_string();
        assert!(msg.contains(expected), "{msg}");
    }
    // Unseen and missing categories: unknown (all zeros), said; --strict refuses them.
    let body = "age,color,height,label\n1,red,2,yes\n1,purple,2,no\n1,,2,no\n";
    let encoded = encode(&pre, "cat.csv", body, false).unwrap();
    assert_eq!(&encoded.x[5 + 1..5 + 4], [0.0, 0.0, 0.0]);
    let note = encoded.notes[0].to_string();
    assert!(
        note.contains("column \"color\": 2 cell(s) hold values not seen"),
        "{note}"
    );
    assert!(note.contains("\"purple\""), "{note}");
    let msg = encode(&pre, "cat.csv", body, true).unwrap_err().to_string();
    assert!(
        msg.contains("cat.csv:3: column \"color\" (2): \"purple\" is a category the model has not seen (known: blue, green, red)"),
        "{msg}"
    );
    // A numeric gap at prediction takes the training median, even without an indicator.
    let gap = encode(&pre, "gap.csv", "age,color,height\n,red,1.7\n", true).unwrap();
    assert_eq!(gap.x[0], 0.0, "the median 35 of age, scaled");
}

#[test]
fn auto_scaling_min_maxes_columns_with_most_values_at_an_end() {
    // "pixel": 0 in four rows of six (a border pixel); "flag": 0/1; "size": spread out.
    let body =
        "pixel,flag,size,y\n0,1,1.5,a\n0,0,2.5,b\n0,1,3.0,a\n12,0,4.5,b\n0,1,5.0,a\n3,0,6.5,b\n";
    let (pre, notes) = fit_with(body, &FitOptions::default()).unwrap();
    assert_eq!(pre.scaler, Scaler::Auto);
    assert_eq!(offset_scale(&pre.features[0].encoding), (0.0, 12.0));
    assert_eq!(offset_scale(&pre.features[1].encoding), (0.0, 1.0));
    let (mean, _) = offset_scale(&pre.features[2].encoding);
    assert!((mean - 23.0 / 6.0).abs() < 1e-12, "standardized: {mean}");
    assert_eq!(
        notes,
        [Note::AutoScaled {
            minmax: 2,
            standard: 1
        }]
    );
    // A test value beyond the training range stays moderate: 24 of the pixel is 2, where
    // standardizing (std 4.5) would give 5.3 and, for a pixel never lit in training, far more.
    let encoded = encode(&pre, "test.csv", "pixel,flag,size\n24,1,3\n", false).unwrap();
    assert_eq!(encoded.x[..2], [2.0, 1.0]);
    let json = serde_json::to_string(&pre).unwrap();
    assert!(json.contains("\"scaler\":\"auto\""), "{json}");
    // Nothing at the ends: every column standardized, and no note.
    let spread = "a,y\n1.5,x\n2,y\n2.5,x\n3,y\n3.5,x\n4,y\n";
    let (_, notes) = fit_with(spread, &FitOptions::default()).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn regression_targets_are_standardized_and_restored() {
    let body = "a,y\n1,40000\n2,50000\n3,60000\n4,50000\n";
    let (pre, _) = fit_with(body, &FitOptions::default()).unwrap();
    let scale = *pre.target.scale().expect("a standardized target");
    assert_eq!(scale.mean, 50_000.0);
    assert!((scale.std - 50_000_000f64.sqrt()).abs() < 1e-6, "{scale:?}");
    let encoded = pre
        .encode(
            &crate::csv::read(body.as_bytes(), b',', "t.csv", &crate::TargetSelect::Last).unwrap(),
        )
        .unwrap();
    let targets = encoded.targets.unwrap();
    assert_eq!(
        targets,
        EncodedTargets::Values(vec![40_000.0, 50_000.0, 60_000.0, 50_000.0]),
        "encoded targets keep the file's units"
    );
    let EncodedTargets::Values(learned) = pre
        .target
        .network_targets(&targets, &backprop::Loss::Mse)
        .unwrap()
    else {
        panic!("values")
    };
    let mean = learned.iter().sum::<f32>() / 4.0;
    let var = learned.iter().map(|v| v * v).sum::<f32>() / 4.0;
    assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{learned:?}");
    let mut outputs = learned.clone();
    pre.target.restore_outputs(&mut outputs);
    assert_eq!(outputs, [40_000.0, 50_000.0, 60_000.0, 50_000.0]);
    // The scale is stored, and a model without it (written before, or --scale-target none)
    // learns and predicts the values as they are.
    let back: Preprocessor = serde_json::from_str(&serde_json::to_string(&pre).unwrap()).unwrap();
    assert_eq!(back, pre);
    let raw = FitOptions {
        target_scaler: TargetScaler::None,
        ..FitOptions::default()
    };
    let (plain, _) = fit_with(body, &raw).unwrap();
    assert!(plain.target.scale().is_none());
    assert!(!serde_json::to_string(&plain)
        .unwrap()
        .contains("\"scale\":{"));
    let mut same = vec![0.5f32];
    plain.target.restore_outputs(&mut same);
    assert_eq!(same, [0.5]);
}
