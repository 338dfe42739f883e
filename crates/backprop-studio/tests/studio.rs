//! The studio's HTTP interface, driven over a plain TCP connection: a run streams its epochs
//! in order, the same settings give the same bits, bad settings are one located `error`
//! event, runs pause, step, resume and stop, and a closed stream stops its run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A studio on a free port, for at most `max_runs` runs at once.
fn start_studio(max_runs: usize) -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let config = backprop_studio::Config {
            host: "127.0.0.1".to_string(),
            port: 0,
            max_runs,
        };
        backprop_studio::serve(&config, |addr| tx.send(addr).unwrap()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

/// One studio for the tests of this file (but the one of the most runs at once).
fn studio() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| start_studio(backprop_studio::MAX_RUNS))
}

fn request(method: &str, path: &str) -> TcpStream {
    request_to(studio(), method, path)
}

fn request_to(addr: SocketAddr, method: &str, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: studio\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    stream
}

/// The status code and body of a short request.
fn call(method: &str, path: &str) -> (u16, String) {
    let mut text = String::new();
    request(method, path).read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// The events of a run's stream, read as they come: `(name, data)`.
struct Events {
    lines: BufReader<TcpStream>,
}

impl Events {
    fn open(query: &str) -> Self {
        Self::open_at(studio(), query)
    }

    fn open_at(addr: SocketAddr, query: &str) -> Self {
        let mut lines = BufReader::new(request_to(addr, "GET", &format!("/api/run?{query}")));
        let mut status = String::new();
        lines.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        loop {
            let mut header = String::new();
            lines.read_line(&mut header).unwrap();
            if header == "\r\n" {
                break;
            }
        }
        Self { lines }
    }
}

impl Iterator for Events {
    type Item = (String, Value);

    fn next(&mut self) -> Option<(String, Value)> {
        let (mut name, mut data) = (String::new(), String::new());
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).ok()? == 0 {
                return None;
            }
            // Chunked transfer: the chunk sizes are lines of hex digits.
            let line = line.trim_end();
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data = d.to_string();
            } else if line.is_empty() && !name.is_empty() {
                return Some((name, serde_json::from_str(&data).unwrap()));
            }
        }
    }
}

/// Every `[epoch, train loss, validation loss]` of a whole run, and its `done` record.
fn whole_run(query: &str) -> (Vec<Vec<f64>>, Value) {
    let mut epochs = Vec::new();
    let mut events = Events::open(query);
    let (name, start) = events.next().unwrap();
    assert_eq!(name, "start", "{start}");
    for (name, data) in events {
        match name.as_str() {
            "progress" => {
                for e in data["epochs"].as_array().unwrap() {
                    let e: Vec<f64> = e
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect();
                    epochs.push(e);
                }
                if let Some(grid) = data["grid"].as_array() {
                    assert_eq!(grid.len(), 50 * 50);
                }
                // Per-neuron thumbnails: a layer per hidden layer of `start`, a neuron per
                // unit, 16 × 16 shades each (or none for a network above 64 neurons).
                let hidden: Vec<u64> = start["hidden"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u.as_u64().unwrap())
                    .collect();
                if hidden.iter().sum::<u64>() > 64 {
                    assert!(data["neurons"].is_null(), "{}", data["neurons"]);
                } else {
                    let layers = data["neurons"].as_array().unwrap();
                    let units: Vec<u64> = layers
                        .iter()
                        .map(|l| l.as_array().unwrap().len() as u64)
                        .collect();
                    assert_eq!(units, hidden);
                    for neuron in layers.iter().flat_map(|l| l.as_array().unwrap()) {
                        let shades = neuron.as_array().unwrap();
                        assert_eq!(shades.len(), 16 * 16);
                        // Shaded over its own range: its darkest and lightest cells are
                        // 0 and 255 unless it is constant on the plane.
                        let values: Vec<u64> = shades.iter().map(|v| v.as_u64().unwrap()).collect();
                        let (low, high) = (values.iter().min(), values.iter().max());
                        assert!(low == high || (low == Some(&0) && high == Some(&255)));
                    }
                }
            }
            "done" => return (epochs, data),
            other => panic!("unexpected event {other}: {data}"),
        }
    }
    panic!("the stream ended without `done`")
}

#[test]
fn a_run_streams_every_epoch_once_and_the_same_settings_give_the_same_bits() {
    let query = "dataset=moons&points=200&epochs=40&speed=0&seed=4";
    let (first, done) = whole_run(query);
    assert_eq!(done["stop_reason"], "completed");
    assert_eq!(done["epochs"], 40);
    let numbers: Vec<f64> = first.iter().map(|e| e[0]).collect();
    assert_eq!(numbers, (1..=40).map(f64::from).collect::<Vec<_>>());
    assert!(first[39][2] < first[0][2], "validation loss {first:?}");
    let (second, _) = whole_run(query);
    let bits =
        |run: &[Vec<f64>]| -> Vec<u64> { run.iter().flatten().map(|v| v.to_bits()).collect() };
    assert_eq!(bits(&first), bits(&second));
    let (other, _) = whole_run("dataset=moons&points=200&epochs=40&speed=0&seed=5");
    assert_ne!(bits(&first), bits(&other));
}

#[test]
fn a_regression_run_streams_too() {
    let (epochs, done) =
        whole_run("dataset=regression&points=100&epochs=5&speed=0&features=x,y,xy");
    assert_eq!(done["epochs"], 5);
    assert_eq!(epochs.len(), 5);
}

#[test]
fn a_network_above_64_hidden_neurons_gets_no_thumbnails() {
    // (whole_run checks that `neurons` is null here, and present for the small networks.)
    let (_, done) = whole_run("dataset=xor&points=100&epochs=3&speed=0&layers=40,40");
    assert_eq!(done["epochs"], 3);
}

#[test]
fn bad_settings_are_one_error_event() {
    for (query, start) in [
        ("dataset=gauss", "dataset=\"gauss\": give xor"),
        ("points=many", "invalid settings: "),
        ("colour=red", "invalid settings: unknown field `colour`"),
        (
            "features=x,w",
            "features=\"x,w\": unknown input feature \"w\"",
        ),
    ] {
        let events: Vec<_> = Events::open(query).collect();
        assert_eq!(events.len(), 1, "{query}: {events:?}");
        assert_eq!(events[0].0, "error");
        let message = events[0].1["message"].as_str().unwrap();
        assert!(message.starts_with(start), "{query}: {message}");
    }
}

#[test]
fn runs_pause_step_resume_and_stop() {
    let mut events = Events::open("dataset=xor&points=100&epochs=100000&speed=200");
    let (_, start) = events.next().unwrap();
    let id = start["id"].as_u64().unwrap();
    let control = |action: &str| call("POST", &format!("/api/runs/{id}/{action}")).0;
    assert_eq!(control("pause"), 204);
    // Read up to the report of the pause.
    let mut last = 0.0;
    for (name, data) in events.by_ref() {
        assert_eq!(name, "progress");
        // (The report of the pause holds no epoch when the pause came just after a report.)
        if let Some(epoch) = data["epochs"].as_array().unwrap().last() {
            last = epoch[0].as_f64().unwrap();
        }
        if data["paused"] == true {
            break;
        }
    }
    // Paused: one step is exactly one more epoch.
    assert_eq!(control("step"), 204);
    let (_, data) = events.next().unwrap();
    assert_eq!(data["paused"], true);
    let epochs = data["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 1, "{data}");
    assert_eq!(epochs[0][0].as_f64().unwrap(), last + 1.0);
    assert_eq!(control("resume"), 204);
    let (_, data) = events.next().unwrap();
    assert_eq!(data["paused"], false);
    assert_eq!(control("dance"), 400);
    assert_eq!(control("stop"), 204);
    let stopped = events.find(|(name, _)| name == "done").unwrap();
    assert_eq!(stopped.1["stop_reason"], "stopped", "{}", stopped.1);
}

#[test]
fn closing_the_stream_stops_the_run() {
    let mut events = Events::open("dataset=spirals&epochs=100000&speed=100");
    let (_, start) = events.next().unwrap();
    let id = start["id"].as_u64().unwrap();
    events.next().unwrap();
    drop(events);
    let deadline = Instant::now() + Duration::from_secs(10);
    while call("POST", &format!("/api/runs/{id}/pause")).0 != 404 {
        assert!(
            Instant::now() < deadline,
            "run {id} still there 10 s after its stream closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = call("POST", "/api/runs/999999/stop");
    assert_eq!(
        (status, body.as_str()),
        (404, "{\"error\":\"no run 999999 in progress\"}")
    );
}

#[test]
fn the_page_and_its_assets_are_served() {
    let (status, page) = call("GET", "/");
    assert_eq!(status, 200);
    assert!(page.contains("<script src=\"/studio.js\">"), "{page:.200}");
    assert_eq!(call("GET", "/studio.js").0, 200);
    assert_eq!(call("GET", "/studio.css").0, 200);
}

#[test]
fn a_run_past_the_most_at_once_is_told_so() {
    let addr = start_studio(2);
    let query = "dataset=xor&points=20&epochs=100000&speed=1";
    let mut open: Vec<Events> = (0..2).map(|_| Events::open_at(addr, query)).collect();
    for events in &mut open {
        assert_eq!(events.next().unwrap().0, "start");
    }
    let refused: Vec<_> = Events::open_at(addr, query).collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    let message = refused[0].1["message"].as_str().unwrap();
    assert!(
        message.starts_with("2 runs are in progress, the most at once: close another page"),
        "{message}"
    );
    // A closed page frees its place.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (name, _) = Events::open_at(addr, query).next().unwrap();
        if name == "start" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed page's run still counts after 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
