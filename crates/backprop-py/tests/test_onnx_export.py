"""`backprop export` to ONNX: the graph passes onnx's full check, and onnxruntime's outputs
equal `backprop predict --proba` on 200 rows, one row at a time and all rows at once.

Runs the real `backprop` command (BACKPROP_BIN, else target/release/backprop, else PATH)."""

import csv
import json
import math
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

REPO = Path(__file__).resolve().parents[3]
ROWS = 200
RTOL = 1e-5


def _binary():
    for path in [os.environ.get("BACKPROP_BIN"), REPO / "target/release/backprop"]:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which("backprop")
    if found is None:
        pytest.skip("no backprop binary (build it with `cargo build --release`)")
    return found


def _run(*args, cwd):
    done = subprocess.run([_binary(), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"backprop {args}: {done.stderr}"
    return done.stdout


def _write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _numbers(rng, n, k, missing=0.0):
    x = rng.normal(size=(n, k))
    cells = [[f"{v:.4f}" for v in row] for row in x]
    for row in cells:
        for j in range(k):
            if rng.random() < missing:
                row[j] = ""
    return x, cells


def _multiclass(rng, n):
    x, cells = _numbers(rng, n, 4, missing=0.05)
    y = np.argmax(x[:, :3] + 0.3 * x[:, 3:4], axis=1)
    return ["a", "b", "c", "d", "target"], [c + [str(v)] for c, v in zip(cells, y)]


def _binary_rows(rng, n):
    x, cells = _numbers(rng, n, 3)
    y = (x[:, 0] * x[:, 1] + x[:, 2] > 0).astype(int)
    return ["u", "v", "w", "target"], [c + [str(v)] for c, v in zip(cells, y)]


def _regression(rng, n):
    x, cells = _numbers(rng, n, 5)
    y = 1000 + 300 * np.sin(x[:, 0]) + 50 * x[:, 1] * x[:, 2]
    return ["p", "q", "r", "s", "t", "target"], [c + [f"{v:.3f}"] for c, v in zip(cells, y)]


def _mixed(rng, n):
    colours = ["red", "green", "blue", "cyan"]
    header = ["size", "colour", "member", "weight", "target"]
    rows = []
    for _ in range(n):
        size = rng.normal()
        colour = colours[rng.integers(len(colours))]
        member = ["yes", "no"][rng.integers(2)]
        weight = rng.normal()
        score = size + (colour in ("red", "cyan")) - (member == "yes") + 0.5 * weight
        label = ["low", "high"][int(score > 0.3)]
        cells = [f"{size:.4f}", colour, member, f"{weight:.4f}"]
        for j in range(4):
            if rng.random() < 0.08:
                cells[j] = ["", "NA"][rng.integers(2)]
        rows.append(cells + [label])
    return header, rows


CASES = {
    # name: (rows, train flags, classifier)
    "multiclass": (_multiclass, ["--layers", "16,8", "--activation", "tanh"], True),
    "binary": (_binary_rows, ["--layers", "12", "--loss", "bce", "--activation", "gelu"], True),
    "regression": (_regression, ["--layers", "16", "--activation", "silu"], False),
    "mixed": (_mixed, ["--layers", "10", "--activation", "relu"], True),
}


def _feeds(session, header, rows):
    """onnxruntime's inputs for `rows`: one float matrix `input`, or one [N, 1] per column."""
    inputs = session.get_inputs()
    index = {name: j for j, name in enumerate(header)}
    if [i.name for i in inputs] == ["input"]:
        features = header[:-1]
        x = [[float(r[index[f]]) if r[index[f]] not in ("", "NA") else math.nan for f in features]
             for r in rows]
        return {"input": np.array(x, dtype=np.float32)}
    feeds = {}
    for i in inputs:
        column = [r[index[i.name]] for r in rows]
        if i.type == "tensor(string)":
            feeds[i.name] = np.array(column, dtype=object).reshape(-1, 1)
        else:
            values = [float(v) if v not in ("", "NA") else math.nan for v in column]
            feeds[i.name] = np.array(values, dtype=np.float32).reshape(-1, 1)
    return feeds


@pytest.mark.parametrize("case", sorted(CASES))
def test_onnx_matches_predict(tmp_path, case):
    make, flags, classifier = CASES[case]
    rng = np.random.default_rng(sorted(CASES).index(case))
    header, train_rows = make(rng, 600)
    _, rows = make(rng, ROWS)
    _write(tmp_path / "train.csv", header, train_rows)
    _write(tmp_path / "new.csv", header[:-1], [r[:-1] for r in rows])
    _run("train", "train.csv", "--epochs", "30", "--seed", "3", *flags, "--save", "m.safetensors",
         cwd=tmp_path)
    _run("export", "m.safetensors", "-o", "m.onnx", cwd=tmp_path)
    args = ["predict", "m.safetensors", "new.csv", "--precision", "full", "-o", "p.csv"]
    _run(*args, *(["--proba"] if classifier else []), cwd=tmp_path)
    with open(tmp_path / "p.csv", newline="") as f:
        predicted = list(csv.DictReader(f))

    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    assert names == (["label", "probabilities"] if classifier else ["variable"]), names

    whole = session.run(None, _feeds(session, header, rows))
    single = [session.run(None, _feeds(session, header, [r])) for r in rows]
    for outputs in [whole, [np.concatenate(parts) for parts in zip(*single)]]:
        if classifier:
            labels, probabilities = outputs
            classes = [k[2:] for k in predicted[0] if k.startswith("p_")]
            expected = np.array([[float(p[f"p_{c}"]) for c in classes] for p in predicted])
            assert probabilities.shape == (ROWS, len(classes))
            np.testing.assert_allclose(probabilities, expected, rtol=RTOL, atol=1e-7)
            assert [str(v) for v in labels] == [p["prediction"] for p in predicted]
        else:
            (values,) = outputs
            expected = np.array([[float(p["prediction"])] for p in predicted])
            assert values.shape == (ROWS, 1)
            np.testing.assert_allclose(values, expected, rtol=RTOL)


def test_onnx_matches_a_python_regressor_of_several_outputs(tmp_path):
    """A regressor of three outputs fitted in Python (the command trains one target): its model
    file exports to a graph whose `variable` [N, 3] equals the estimator's `predict`, and
    `backprop predict` writes the same values, one column per output, and `backprop serve`
    answers one array per row. (The estimators refuse
    NaN in `X`, so these rows have no missing values.)"""
    backprop = pytest.importorskip("backprop")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(260 + ROWS, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 50.0, -1.0, 2.0]
    y = np.column_stack([
        np.sin(x[:, 0]) + 0.05 * x[:, 1],
        x[:, 2] * x[:, 3] * 4.0,
        100.0 + 20.0 * np.tanh(x[:, 0] - x[:, 3] / 3.0),
    ])
    new = x[260:]
    estimator = backprop.MLPRegressor(hidden_layer_sizes=(16, 8), activation="tanh",
                                      max_iter=40, random_state=0)
    estimator.fit(x[:260], y[:260])
    assert estimator.n_outputs_ == 3
    estimator.save(tmp_path / "m.safetensors")
    expected = estimator.predict(new)
    assert expected.shape == (ROWS, 3)

    _run("export", "m.safetensors", "-o", "m.onnx", cwd=tmp_path)
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["variable"]
    def run(rows):
        return session.run(None, {"input": np.asarray(rows, dtype=np.float32)})[0]

    whole = run(new)
    single = np.concatenate([run(new[i:i + 1]) for i in range(ROWS)])
    for values in [whole, single]:
        assert values.shape == (ROWS, 3)
        np.testing.assert_allclose(values, expected, rtol=RTOL, atol=1e-6)

    # The command reads the features by name (x0, x1, ... for an array): one column per output.
    names = [f"x{j}" for j in range(4)]
    _write(tmp_path / "new.csv", names, [[repr(float(v)) for v in row] for row in new])
    _run("predict", "m.safetensors", "new.csv", "--precision", "full", "-o", "p.csv", cwd=tmp_path)
    with open(tmp_path / "p.csv", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        predicted = np.array([[float(v) for v in row] for row in reader])
    assert header == ["prediction_0", "prediction_1", "prediction_2"]
    # The same engine on the same numbers: the same float32 bits.
    np.testing.assert_array_equal(predicted.astype(np.float32), expected.astype(np.float32))

    # `backprop serve` answers one array of the three values per row.
    server = subprocess.Popen([_binary(), "serve", "m.safetensors", "--port", "0"], cwd=tmp_path,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        port = int(line.split("http://127.0.0.1:")[1].split(" ")[0])
        body = json.dumps({"instances": new[:20].tolist()}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
    finally:
        server.terminate()
        server.wait()
    served = np.array(answer["predictions"], dtype=np.float32)
    np.testing.assert_array_equal(served, expected[:20].astype(np.float32))
