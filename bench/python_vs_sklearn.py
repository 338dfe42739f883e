"""Fit time of backprop.MLPClassifier against scikit-learn's MLPClassifier on mnist10k.

Same architecture (784 → 100 relu → 10), solver (Adam, lr 1e-3), batch size (200), L2 alpha
(1e-4) and number of epochs, tol-based stopping switched off so both run every epoch.

    python bench/python_vs_sklearn.py [--epochs 10] [--repeats 3] [--threads N]

Needs the package installed (`.ci/python` or `maturin develop -m crates/backprop-py/Cargo.toml`).
"""

import argparse
import gzip
import struct
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP

from backprop import MLPClassifier as BackpropMLP

DATA = Path(__file__).resolve().parents[1] / "data" / "mnist10k"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(DATA / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(DATA / f"{prefix}-labels-idx1-ubyte.gz")
    return images.reshape(len(images), -1).astype(np.float32) / 255.0, labels


def timed_fit(make, X, y, repeats):
    times = []
    for _ in range(repeats):
        model = make()
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return min(times), model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    X, y = load("train")
    X_test, y_test = load("test")
    common = dict(
        hidden_layer_sizes=(100,),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size=200,
        learning_rate_init=1e-3,
        max_iter=args.epochs,
        tol=0.0,
        n_iter_no_change=args.epochs + 1,
        random_state=0,
    )
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"mnist10k: {X.shape[0]} training rows, {X.shape[1]} features; "
          f"784-100-10 relu, adam, batch 200, {args.epochs} epochs, best of {args.repeats}")
    results = {}
    for name, make in [
        ("backprop", lambda: BackpropMLP(**common, n_threads=args.threads)),
        ("scikit-learn", lambda: SklearnMLP(**common)),
    ]:
        seconds, model = timed_fit(make, X, y, args.repeats)
        results[name] = seconds
        print(f"{name:>12}: fit {seconds:7.3f} s, {model.n_iter_} epochs, "
              f"test accuracy {model.score(X_test, y_test):.4f}")
    print(f"backprop is {results['scikit-learn'] / results['backprop']:.2f}x scikit-learn's speed")


if __name__ == "__main__":
    main()
