"""`backprop export -o FILE.pt`: the printed Python builds the nn.Sequential, loads the state
dict, and on the preprocessed inputs gives `backprop predict --proba`'s probabilities.

Needs torch and safetensors (skipped without them; CI's .ci/python installs neither)."""

import csv
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from test_onnx_export import _multiclass, _run, _write  # noqa: E402


def test_printed_snippet_loads_the_network(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    header, train_rows = _multiclass(rng, 600)
    _, rows = _multiclass(rng, 200)
    # Complete rows only: with gaps, the network would have missing-indicator inputs too.
    train_rows = [r for r in train_rows if "" not in r]
    rows = [r for r in rows if "" not in r]
    _write(tmp_path / "train.csv", header, train_rows)
    _write(tmp_path / "new.csv", header[:-1], [r[:-1] for r in rows])
    _run("train", "train.csv", "--epochs", "20", "--layers", "16,8", "--activation", "elu",
         "--save", "m.safetensors", cwd=tmp_path)
    snippet = _run("export", "m.safetensors", "-o", "net.pt", cwd=tmp_path)
    _run("predict", "m.safetensors", "new.csv", "--proba", "--precision", "full", "-o", "p.csv",
         cwd=tmp_path)
    with open(tmp_path / "p.csv", newline="") as f:
        predicted = list(csv.DictReader(f))
    meta = json.loads(_run("inspect", "m.safetensors", "--json", cwd=tmp_path))
    features = meta["preprocessing"]["features"]

    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(snippet, scope)
    x = np.array([[float(v) for v in r[:-1]] for r in rows])
    offset = np.array([f["offset"] for f in features])
    scale = np.array([f["scale"] for f in features])
    inputs = torch.tensor((x - offset) / scale, dtype=torch.float32)
    with torch.no_grad():
        probabilities = scope["net"](inputs).numpy()
    classes = [k[2:] for k in predicted[0] if k.startswith("p_")]
    expected = np.array([[float(p[f"p_{c}"]) for c in classes] for p in predicted])
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5, atol=1e-7)
