//! `backprop serve`: the real binary on a free loopback port (`--port 0`), spoken to over raw
//! HTTP/1.1: every endpoint and protocol, every kind of bad request, answers equal to
//! `backprop predict`, a burst of concurrent requests, and graceful shutdown.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Dir;
use serde_json::{json, Value};

/// A running server and what it printed.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &Dir, args: &[&str]) -> Server {
        let mut all = vec!["serve", "--port", "0"];
        all.extend_from_slice(args);
        let mut child = dir
            .command(&all)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start backprop serve");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let ms: u64 = line
            .split("ready in ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("no start time in {line:?}"));
        assert!(ms < 1000, "started in {ms} ms: {line}");
        let log = Arc::new(Mutex::new(vec![line]));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Server { child, port, log }
    }

    fn get(&self, path: &str) -> (u16, String) {
        http(self.port, "GET", path, None, b"")
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = http(
            self.port,
            "POST",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
        );
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, value)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection: the status and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) before reading all of a large body and close the connection.
    let _ = stream.write_all(body);
    read_response(stream)
}

fn read_response(mut stream: TcpStream) -> (u16, String) {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8(bytes).expect("UTF-8 answer");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head: {text:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// A CSV of `rows` rows: two numbers (one sometimes missing), a colour, a class.
fn table(rows: usize, with_label: bool) -> String {
    let mut text = String::from(if with_label {
        "a,b,color,label\n"
    } else {
        "a,b,color\n"
    });
    for i in 0..rows {
        let a = (i as f64 * 0.37).sin() * 3.0;
        let b = if i % 7 == 3 {
            String::new()
        } else {
            format!("{}", (i as f64 * 0.11).cos())
        };
        let color = ["red", "green", "blue"][i % 3];
        let label = if a + (i % 3) as f64 > 1.0 {
            "yes"
        } else {
            "no"
        };
        text.push_str(&format!("{a},{b},{color}"));
        if with_label {
            text.push_str(&format!(",{label}"));
        }
        text.push('\n');
    }
    text
}

/// A trained classifier `m.safetensors` (missing values imputed) and `strict.safetensors`
/// (`--missing error`).
fn models(dir: &Dir) {
    dir.write("train.csv", &table(120, true));
    let full: String = table(120, true)
        .lines()
        .filter(|l| !l.contains(",,"))
        .map(|l| format!("{l}\n"))
        .collect();
    dir.write("full.csv", &full);
    let strict = vec!["--missing", "error"];
    for (name, data, extra) in [("m", "train.csv", vec![]), ("strict", "full.csv", strict)] {
        let mut args = vec![
            "train", data, "--layers", "8", "--epochs", "3", "--seed", "1",
        ];
        args.extend(extra);
        let save = format!("{name}.safetensors");
        args.extend(["--save", save.as_str()]);
        dir.ok(&args);
    }
}

/// `backprop predict --proba --precision full` on `file`: labels and probabilities.
fn predict(dir: &Dir, model: &str, file: &str) -> Vec<(String, Vec<f32>)> {
    let out = dir.ok(&["predict", model, file, "--proba", "--precision", "full"]);
    out.lines()
        .skip(1)
        .map(|line| {
            let mut fields = line.split(',');
            let label = fields.next().unwrap().to_string();
            (label, fields.map(|p| p.parse().unwrap()).collect())
        })
        .collect()
}

/// The labels and probability rows of an MLflow / V1 answer.
fn answers(value: &Value) -> Vec<(String, Vec<f32>)> {
    let labels = value["predictions"].as_array().expect("predictions");
    let probs = value["probabilities"].as_array().expect("probabilities");
    labels
        .iter()
        .zip(probs)
        .map(|(l, p)| {
            let p = p
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            (l.as_str().unwrap().to_string(), p)
        })
        .collect()
}

fn records(csv: &str) -> Vec<Value> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            let mut row = serde_json::Map::new();
            for (name, cell) in header.iter().zip(line.split(',')) {
                let value = match cell.parse::<f64>() {
                    Ok(x) => json!(x),
                    Err(_) if cell.is_empty() => Value::Null,
                    Err(_) => json!(cell),
                };
                row.insert(name.to_string(), value);
            }
            Value::Object(row)
        })
        .collect()
}

fn bits(rows: &[(String, Vec<f32>)]) -> Vec<(String, Vec<u32>)> {
    rows.iter()
        .map(|(l, p)| (l.clone(), p.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// The bits of a V2 output tensor's `data`, as `f32`.
fn tensor_bits(tensor: &Value) -> Vec<u32> {
    tensor["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v.as_f64().unwrap() as f32).to_bits())
        .collect()
}

/// The probabilities of `bits` rows, one after the other.
fn flat_bits(rows: &[(String, Vec<u32>)]) -> Vec<u32> {
    rows.iter().flat_map(|(_, p)| p.clone()).collect()
}

#[test]
fn every_protocol_answers_as_predict_does() {
    let dir = Dir::new();
    models(&dir);
    let rows = table(9, false);
    dir.write("rows.csv", &rows);
    let expected = bits(&predict(&dir, "m.safetensors", "rows.csv"));
    let server = Server::start(
        &dir,
        &["m.safetensors", "other=strict.safetensors", "--log", "info"],
    );
    let recs = records(&rows);
    let positional: Vec<Value> = recs
        .iter()
        .map(|r| json!([r["a"], r["b"], r["color"]]))
        .collect();
    let column = |name: &str| Value::Array(recs.iter().map(|r| r[name].clone()).collect());
    let bodies = [
        json!({"dataframe_records": recs, "params": {"proba": true}}),
        json!({"dataframe_split": {"columns": ["a", "b", "color"], "data": positional}, "params": {"proba": true}}),
        json!({"instances": positional, "params": {"proba": true}}),
        json!({"inputs": {"a": column("a"), "b": column("b"), "color": column("color")}, "params": {"proba": true}}),
    ];
    for body in &bodies {
        let (status, answer) = server.post("/invocations?model=m", body);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(bits(&answers(&answer)), expected, "{body}");
    }
    let (status, answer) = server.post(
        "/invocations?model=m&proba=true",
        &json!({"instances": recs}),
    );
    assert_eq!((status, bits(&answers(&answer))), (200, expected.clone()));
    let (status, text) = http(
        server.port,
        "POST",
        "/invocations?model=m&proba=true",
        Some("text/csv"),
        rows.as_bytes(),
    );
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((status, bits(&answers(&answer))), (200, expected.clone()));
    let (_, plain) = server.post("/invocations?model=m", &json!({"instances": positional}));
    let labels: Vec<&str> = expected.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(plain, json!({"predictions": labels}));
    // TF Serving / KServe V1.
    let (status, answer) = server.post(
        "/v1/models/m:predict?proba=true",
        &json!({"instances": positional}),
    );
    assert_eq!((status, bits(&answers(&answer))), (200, expected.clone()));
    let (status, text) = server.get("/v1/models/m");
    assert!(status == 200 && text.contains("AVAILABLE"), "{text}");
    // Open Inference Protocol: one tensor per column.
    let tensor = |name: &str, datatype: &str| json!({"name": name, "shape": [9, 1], "datatype": datatype, "data": column(name)});
    let infer = json!({"id": "r1", "inputs": [tensor("a", "FP64"), tensor("b", "FP32"), tensor("color", "BYTES")]});
    let (status, answer) = server.post("/v2/models/m/infer", &infer);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["model_name"].clone(), answer["id"].clone()),
        (json!("m"), json!("r1"))
    );
    let outputs = answer["outputs"].as_array().unwrap();
    assert_eq!(outputs[0]["name"], "label");
    assert_eq!(outputs[0]["data"], json!(labels));
    assert_eq!(outputs[1]["shape"], json!([9, 2]));
    assert_eq!(tensor_bits(&outputs[1]), flat_bits(&expected));
    let only = json!({"inputs": infer["inputs"], "outputs": [{"name": "label"}]});
    let (_, answer) = server.post("/v2/models/m/infer", &only);
    assert_eq!(answer["outputs"].as_array().unwrap().len(), 1);
    // Health, metadata, metrics.
    for path in [
        "/ping",
        "/health",
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/m/ready",
        "/v2",
    ] {
        assert_eq!(server.get(path).0, 200, "{path}");
    }
    let (status, meta) = server.get("/v2/models/other");
    let meta: Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        meta["inputs"][2],
        json!({"name": "color", "datatype": "BYTES", "shape": [-1, 1]})
    );
    assert_eq!(meta["outputs"][1]["shape"], json!([-1, 2]));
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    for needle in [
        "backprop_requests_total{route=\"invocations\",code=\"200\"} 7",
        "backprop_requests_total{route=\"v2_infer\",code=\"200\"} 2",
        "backprop_rows_total{model=\"m\"} 90",
        "backprop_request_duration_seconds_bucket{le=\"+Inf\"}",
        "backprop_batch_rows_count 10",
    ] {
        assert!(metrics.contains(needle), "{needle} not in\n{metrics}");
    }
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("POST /v2/models/m/infer 200"), "{log}");
}

/// Numbers a careless reader rounds wrongly: the server must read them as `backprop predict`
/// reads them from a CSV file.
const AWKWARD: [&str; 11] = [
    "0.30000000000000004",
    "1e-310",
    "123456789012345678901234567890",
    "-0",
    "9007199254740993",
    "-12345678901234567890",
    "2.2250738585072011e-308",
    "4.9e-324",
    "1.00000000000000011102230246251565404236316680908203125",
    "1e3",
    "7",
];

#[test]
fn rows_of_numbers_for_a_numeric_model_answer_as_predict_does() {
    let dir = Dir::new();
    // Three numeric columns, one with missing values (an indicator input), and a class.
    let mut train = String::from("x1,x2,x3,label\n");
    for i in 0..120 {
        let x1 = (i as f64 * 0.37).sin() * 3.0;
        let x2 = if i % 11 == 5 {
            String::new()
        } else {
            format!("{}", (i as f64 * 0.13).cos())
        };
        let label = ["p", "q", "r"][usize::from(x1 > 0.0) + usize::from(i % 2 == 0)];
        train.push_str(&format!("{x1},{x2},{},{label}\n", i % 7));
    }
    dir.write("train.csv", &train);
    dir.ok(&[
        "train",
        "train.csv",
        "--layers",
        "8",
        "--epochs",
        "3",
        "--seed",
        "1",
        "--save",
        "n.safetensors",
    ]);
    let rows: Vec<[&str; 3]> = (0..AWKWARD.len())
        .map(|i| [AWKWARD[i], AWKWARD[(i + 4) % 11], AWKWARD[(i + 7) % 11]])
        .collect();
    let csv: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
    dir.write("rows.csv", &format!("x1,x2,x3\n{}\n", csv.join("\n")));
    let expected = bits(&predict(&dir, "n.safetensors", "rows.csv"));
    let server = Server::start(&dir, &["n.safetensors"]);
    let json_rows: Vec<String> = rows.iter().map(|r| format!("[{}]", r.join(", "))).collect();
    let instances = format!("[{}]", json_rows.join(", "));
    let post = |path: &str, body: String| {
        let (status, text) = http(
            server.port,
            "POST",
            path,
            Some("application/json"),
            body.as_bytes(),
        );
        let answer: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, answer)
    };
    for (path, body) in [
        (
            "/invocations",
            format!("{{\"instances\": {instances}, \"params\": {{\"proba\": true}}}}"),
        ),
        (
            "/invocations?proba=true",
            format!("{{\"inputs\": {instances}}}"),
        ),
        (
            "/v1/models/n:predict?proba=true",
            format!("{{\"instances\": {instances}}}"),
        ),
    ] {
        let (status, answer) = post(path, body);
        assert_eq!(status, 200, "{path}: {answer}");
        assert_eq!(bits(&answers(&answer)), expected, "{path}");
    }
    // Open Inference Protocol: one tensor [N, 3], flat.
    let flat: Vec<&str> = rows.iter().flatten().copied().collect();
    let (status, answer) = post(
        "/v2/models/n/infer",
        format!(
            "{{\"inputs\": [{{\"name\": \"input\", \"shape\": [{}, 3], \"datatype\": \"FP64\", \
             \"data\": [{}]}}]}}",
            rows.len(),
            flat.join(", ")
        ),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(tensor_bits(&answer["outputs"][1]), flat_bits(&expected));
    // One row of scalars; a row with a null (the general path) next to the CSV's empty cell.
    let (_, answer) = post(
        "/invocations?proba=true",
        format!("{{\"instances\": {}}}", json_rows[2]),
    );
    assert_eq!(bits(&answers(&answer)), expected[2..3].to_vec());
    dir.write(
        "gap.csv",
        "x1,x2,x3\n0.5,,2\n0.30000000000000004,1e-310,3\n",
    );
    let gap = bits(&predict(&dir, "n.safetensors", "gap.csv"));
    let (_, answer) = post(
        "/invocations?proba=true",
        r#"{"instances": [[0.5, null, 2], [0.30000000000000004, 1e-310, 3]]}"#.to_string(),
    );
    assert_eq!(bits(&answers(&answer)), gap);
    // The errors of the general path, worded as for any model.
    for (body, message) in [
        (
            r#"{"instances": [[1, 2, 3], [1, 2]]}"#,
            "instances: row 2 has 2 values, but there are 3 columns",
        ),
        (
            r#"{"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]}"#,
            "exactly one of",
        ),
        (
            r#"{"instances": [[1, 2, 3]], "rows": 1}"#,
            "unknown field \"rows\"",
        ),
        (r#"{"instances": []}"#, "the request has no rows"),
        (r#"{"instances": [[1, 2, 1e999]]}"#, "not valid JSON"),
    ] {
        let (status, answer) = post("/invocations", body.to_string());
        let error = answer["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(status == 400 && error.contains(message), "{body}: {error}");
    }
}

#[test]
fn bad_requests_get_located_errors() {
    let dir = Dir::new();
    models(&dir);
    let server = Server::start(
        &dir,
        &[
            "m.safetensors",
            "strict.safetensors",
            "--max-body",
            "2KiB",
            "--strict",
        ],
    );
    let row = json!({"a": 1.5, "b": 0.5, "color": "red"});
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "/invocations?model=m",
            json!({"dataframe_records": [row, {"a": 1, "b": 2, "color": "red", "size": 3}]}),
            400,
            "unknown column(s) \"size\"",
        ),
        (
            "/invocations?model=m",
            json!({"dataframe_records": [{"a": 1, "color": "red"}]}),
            400,
            "feature column(s) b are missing",
        ),
        (
            "/invocations?model=m",
            json!({"instances": [[1, 2, "red"], [1, 2]]}),
            400,
            "instances: row 2 has 2 values, but there are 3 columns",
        ),
        (
            "/invocations?model=m",
            json!({"dataframe_split": {"columns": ["a", "b", "color"], "data": [[1, 2, "red", 4]]}}),
            400,
            "dataframe_split.data: row 1 has 4 values",
        ),
        (
            "/invocations?model=strict",
            json!({"dataframe_records": [row, {"a": 1, "b": 2, "color": null}]}),
            400,
            "request: record 2: column \"color\" (3) has no value",
        ),
        (
            "/invocations?model=m",
            json!({"dataframe_records": [row, row, {"a": "tall", "b": 2, "color": "red"}]}),
            400,
            "request: record 3: column \"a\" (1): \"tall\" is not a number",
        ),
        (
            "/invocations?model=m",
            json!({"dataframe_records": [{"a": [1], "b": 2, "color": "red"}]}),
            400,
            "row 1, column \"a\": an array is not a cell value",
        ),
        (
            "/invocations?model=m",
            json!({"instances": [row], "inputs": [row]}),
            400,
            "exactly one of",
        ),
        (
            "/invocations?model=m",
            json!({"rows": [row]}),
            400,
            "unknown field \"rows\"",
        ),
        (
            "/invocations",
            json!({"instances": [row]}),
            400,
            "several models are served",
        ),
        (
            "/invocations?model=nope",
            json!({"instances": [row]}),
            404,
            "there is no model \"nope\"",
        ),
        (
            "/v2/models/m/infer",
            json!({"inputs": [{"name": "a", "shape": [2], "datatype": "FP32", "data": [1]}]}),
            400,
            "inputs[0] (\"a\"): shape [2] needs 2 values, but \"data\" has 1",
        ),
        (
            "/v2/models/m/infer",
            json!({"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": ["x"]}]}),
            400,
            "a string does not fit the datatype FP32",
        ),
        (
            "/v2/models/m/infer",
            json!({"inputs": [], "outputs": [{"name": "logits"}]}),
            400,
            "no output \"logits\"",
        ),
        ("/v1/models/m:predict", json!({"instances": [row]}), 200, ""),
    ];
    for (path, body, status, message) in cases {
        let (got, answer) = server.post(path, &body);
        assert_eq!(got, status, "{path} {body}: {answer}");
        if status != 200 {
            let error = answer["error"]
                .as_str()
                .unwrap_or_else(|| panic!("{answer}"));
            assert!(error.contains(message), "{path} {body}: {error}");
        }
    }
    let (status, text) = http(
        server.port,
        "POST",
        "/invocations?model=m",
        Some("application/json"),
        b"{\"instances\": [1, 2",
    );
    assert!(status == 400 && text.contains("not valid JSON"), "{text}");
    let (status, text) = http(
        server.port,
        "POST",
        "/invocations?model=m",
        Some("application/json"),
        b"{\"instances\": [[NaN, 1, \"red\"]]}",
    );
    assert!(
        status == 400 && text.contains("NaN and Infinity are not JSON"),
        "{text}"
    );
    let big = json!({"instances": vec![row.clone(); 100]}).to_string();
    let (status, text) = http(
        server.port,
        "POST",
        "/invocations?model=m",
        Some("application/json"),
        big.as_bytes(),
    );
    assert!(
        status == 413 && text.contains("over the limit of 2048 bytes"),
        "{text}"
    );
    let (status, text) = http(
        server.port,
        "POST",
        "/invocations?model=m",
        Some("text/csv"),
        b"a,b,color\n1,2,red\n3,4\n",
    );
    assert!(status == 400 && text.contains("request:3"), "{text}");
    let (status, text) = server.get("/nowhere");
    assert!(
        status == 404 && text.contains("no endpoint GET /nowhere"),
        "{text}"
    );
    assert_eq!(server.get("/v2/health/ready").0, 200, "still healthy");
}

/// A client sending one request at a time: past the first few, each is computed on the
/// network thread (`Batcher::alone`), with the bits `backprop predict` writes.
#[test]
fn requests_one_at_a_time_answer_as_predict_does() {
    let dir = Dir::new();
    models(&dir);
    let rows = table(60, false);
    dir.write("rows.csv", &rows);
    let expected = bits(&predict(&dir, "m.safetensors", "rows.csv"));
    let recs = records(&rows);
    let server = Server::start(&dir, &["m.safetensors"]);
    for (i, record) in recs.iter().enumerate() {
        let body = json!({"instances": [record], "params": {"proba": true}});
        let (status, value) = server.post("/invocations", &body);
        assert_eq!(status, 200, "{value}");
        assert_eq!(
            bits(&answers(&value)),
            [expected[i].clone()],
            "row {}",
            i + 1
        );
    }
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("backprop_batch_rows_bucket{le=\"1\"} 60"),
        "{metrics}"
    );
}

#[test]
fn a_burst_of_concurrent_requests_is_answered() {
    let dir = Dir::new();
    models(&dir);
    let rows = table(200, false);
    dir.write("rows.csv", &rows);
    let expected = Arc::new(predict(&dir, "m.safetensors", "rows.csv"));
    let recs = Arc::new(records(&rows));
    let server = Server::start(
        &dir,
        &[
            "m.safetensors",
            "--max-batch",
            "64",
            "--max-wait-us",
            "2000",
        ],
    );
    let port = server.port;
    let threads: Vec<_> = (0..40)
        .map(|t| {
            let (expected, recs) = (Arc::clone(&expected), Arc::clone(&recs));
            std::thread::spawn(move || {
                for k in 0..50 {
                    let i = (t * 50 + k) % 200;
                    if (t * 50 + k) % 10 == 0 {
                        let body = format!("{{\"instances\": [{}", recs[i]);
                        let (status, text) = http(
                            port,
                            "POST",
                            "/invocations",
                            Some("application/json"),
                            body.as_bytes(),
                        );
                        assert!((400..500).contains(&status), "{status} {text}");
                        continue;
                    }
                    let body =
                        json!({"instances": [recs[i]], "params": {"proba": true}}).to_string();
                    let (status, text) = http(
                        port,
                        "POST",
                        "/invocations",
                        Some("application/json"),
                        body.as_bytes(),
                    );
                    assert_eq!(status, 200, "{text}");
                    let answer = answers(&serde_json::from_str(&text).unwrap());
                    let (label, probs) = &expected[i];
                    assert_eq!(&answer[0].0, label);
                    // Inference is batch-invariant: a row's answer in a batch of any size
                    // is the bits `backprop predict` wrote for it among 200 rows.
                    let got: Vec<u32> = answer[0].1.iter().map(|p| p.to_bits()).collect();
                    let want: Vec<u32> = probs.iter().map(|p| p.to_bits()).collect();
                    assert_eq!(got, want, "row {i}");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a client thread failed");
    }
    assert_eq!(server.get("/v2/health/ready").0, 200);
    let (_, metrics) = server.get("/metrics");
    assert!(
        metrics.contains("backprop_requests_total{route=\"invocations\",code=\"200\"} 1800"),
        "{metrics}"
    );
    let count = |name: &str| -> u64 {
        let line = metrics.lines().find(|l| l.starts_with(name)).unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let (single, batches) = (
        count("backprop_batch_rows_bucket{le=\"1\"}"),
        count("backprop_batch_rows_count"),
    );
    assert!(single < batches, "no batch had several requests: {metrics}");
    assert!(
        metrics.contains("backprop_requests_total{route=\"invocations\",code=\"400\"} 200"),
        "{metrics}"
    );
}

#[test]
fn sigterm_finishes_requests_in_flight_and_exits_0() {
    let dir = Dir::new();
    models(&dir);
    let mut server = Server::start(&dir, &["m.safetensors"]);
    let body = json!({"instances": [[1.0, 2.0, "red"], [0.5, null, "blue"]]}).to_string();
    // Requests whose bodies are half sent when the signal comes.
    let streams: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            let head = format!(
                "POST /invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body.as_bytes()[..10]).unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    std::thread::sleep(Duration::from_millis(200));
    for mut stream in streams {
        stream.write_all(&body.as_bytes()[10..]).unwrap();
        let (status, text) = read_response(stream);
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("predictions"), "{text}");
    }
    let status = server.terminate_wait();
    assert_eq!(status.code(), Some(0));
    assert!(
        TcpStream::connect(("127.0.0.1", server.port)).is_err(),
        "still listening"
    );
}

impl Server {
    fn terminate_wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}
