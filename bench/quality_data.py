"""The datasets of the quality benchmarks (bench/quality_vs_sklearn.py, bench/defaults_study.py):
every dataset bundled with scikit-learn that loads offline and a few generated ones, each a
pandas frame of features and a target, split the same way for every learner.

    DATASETS: name -> (task, loader); loader() returns (X: DataFrame, y: Series)
    split(name, seed) -> (train DataFrame, test DataFrame), target column "target"
    write_split(name, seed, folder) -> (train.csv, test.csv)
    run_backprop(binary, train_csv, test_csv, task, seed, flags) -> test accuracy or R²
"""

import json
import os
import subprocess

import numpy as np
import pandas as pd
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

TARGET = "target"
# Share of each dataset held out for testing, per seed (stratified for classes).
TEST_SIZE = 0.25
MNIST = os.environ.get("MNIST_DIR", "/work/shared/data/mnist10k")


def _frame(x, y, names=None):
    names = names if names is not None else [f"x{i}" for i in range(x.shape[1])]
    return pd.DataFrame(x, columns=list(names)), pd.Series(y, name=TARGET)


def _bundled(load, label_names=False):
    def loader():
        data = load()
        y = data.target
        if label_names:  # text classes, as a CSV file of the data would hold them
            y = np.asarray(data.target_names)[y]
        names = [str(n).replace(" ", "_") for n in data.feature_names]
        return _frame(data.data, y, names)

    return loader


def _linnerud():
    data = skd.load_linnerud()
    # Three exercises predicting one body measure (the waist): 20 rows, the smallest set.
    return _frame(data.data, data.target[:, 1], data.feature_names)


def _generated(make, **kwargs):
    def loader():
        x, y = make(random_state=0, **kwargs)
        return _frame(x, y)

    return loader


def _large_target():
    # The case: a target of about 50,000 ± 10,000.
    x, y = skd.make_regression(
        n_samples=1000, n_features=10, n_informative=8, noise=5.0, random_state=0
    )
    return _frame(x, 50_000 + 10_000 * (y - y.mean()) / y.std())


DATASETS = {
    "iris": ("classify", _bundled(skd.load_iris, label_names=True)),
    "wine": ("classify", _bundled(skd.load_wine)),
    "breast_cancer": ("classify", _bundled(skd.load_breast_cancer)),
    "digits": ("classify", _bundled(skd.load_digits)),
    "diabetes": ("regress", _bundled(skd.load_diabetes)),
    "linnerud": ("regress", _linnerud),
    "classification": (
        "classify",
        _generated(skd.make_classification, n_samples=1000, n_features=20, n_informative=5),
    ),
    "classification4": (
        "classify",
        _generated(
            skd.make_classification,
            n_samples=2000,
            n_features=40,
            n_informative=10,
            n_classes=4,
            flip_y=0.05,
        ),
    ),
    "classification_narrow": (
        "classify",
        _generated(
            skd.make_classification, n_samples=3000, n_features=8, n_informative=5, n_classes=3
        ),
    ),
    "moons": ("classify", _generated(skd.make_moons, n_samples=500, noise=0.3)),
    "circles": ("classify", _generated(skd.make_circles, n_samples=500, noise=0.1, factor=0.5)),
    "regression": (
        "regress",
        _generated(skd.make_regression, n_samples=1000, n_features=20, n_informative=10, noise=10.0),
    ),
    "regression50k": ("regress", _large_target),
    "regression_wide": (
        "regress",
        _generated(skd.make_regression, n_samples=3000, n_features=50, n_informative=20, noise=20.0),
    ),
    "friedman1": ("regress", _generated(skd.make_friedman1, n_samples=1000, noise=1.0)),
    "friedman2": ("regress", _generated(skd.make_friedman2, n_samples=1000, noise=10.0)),
}


def split(name, seed):
    """The train and test frames of `name` for `seed` (features then the target column)."""
    task, loader = DATASETS[name]
    x, y = loader()
    stratify = y if task == "classify" else None
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=seed, stratify=stratify
    )
    return x_train.assign(**{TARGET: y_train}), x_test.assign(**{TARGET: y_test})


def write_split(name, seed, folder):
    """Writes `name`'s split for `seed` as two CSV files in `folder`; returns their paths."""
    train, test = split(name, seed)
    paths = []
    for part, frame in (("train", train), ("test", test)):
        path = os.path.join(folder, f"{name}_{seed}_{part}.csv")
        frame.to_csv(path, index=False, float_format="%.17g")
        paths.append(path)
    return paths


def run_backprop(binary, train, test, task, seed, flags=(), folder=".", target=TARGET):
    """Default `backprop train` (plus `flags`) on the two files: the test accuracy or R²."""
    model = os.path.join(folder, f"model_{os.getpid()}.safetensors")
    command = [binary, "train", train, "--target", target, "--task", task, "--test", test,
               "--seed", str(seed), "--save", model, "--json", *flags]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    key = "test_accuracy" if task == "classify" else "test_r2"
    for line in reversed(done.stdout.splitlines()):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and key in record:
            return record[key]
    raise RuntimeError(f"{' '.join(command)} printed no {key}")
