"""Test accuracy with missing cells: default `backprop train` against a scikit-learn pipeline.

The acceptance comparison of issue 10 ("Real-world tables"). For each seed:

- data: `make_classification(n_samples=5000, n_features=20, n_informative=10, n_redundant=5,
  n_classes=2, random_state=seed)`; then exactly 20% of the feature cells, drawn uniformly
  without replacement, are blanked (the target is never missing);
- split: 80/20, stratified, `train_test_split(..., random_state=seed)`, written as
  `train.csv` / `test.csv` (columns f0..f19, y; a missing value is an empty cell);
- backprop: `backprop train train.csv --target y --test test.csv --json --seed SEED`, all
  other settings default; its score is the `test_accuracy` of the last JSON line;
- scikit-learn: `SimpleImputer(strategy="median", add_indicator=True)` + `StandardScaler` +
  `MLPClassifier(random_state=seed, max_iter=200)`, defaults otherwise, fitted on the same
  rows (read from the CSV files backprop reads) and scored on the same test rows.

    python3 bench/missing_vs_sklearn.py [--seeds 0,1,2] [--check] [--no-build | --backprop PATH]

It always exits 0 (a benchmark, not a test) unless `--check` is given: then it exits 1 when
backprop's mean accuracy is below scikit-learn's or a backprop run failed. A failed backprop
run is reported with its stderr and the comparison goes on. Needs numpy and scikit-learn.
"""

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]
DATA = dict(n_samples=5000, n_features=20, n_informative=10, n_redundant=5, n_classes=2)


def make_split(seed, missing):
    """The train and test rows of one seed, with NaN where a cell is blank."""
    X, y = make_classification(**DATA, random_state=seed)
    rng = np.random.default_rng(seed)
    # Exactly `missing` of the cells, so every seed blanks the same amount.
    blank = rng.choice(X.size, size=round(missing * X.size), replace=False)
    X.flat[blank] = np.nan
    return train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)


def write_csv(path, X, y):
    header = ",".join([f"f{j}" for j in range(X.shape[1])] + ["y"])
    with open(path, "w") as f:
        f.write(header + "\n")
        for row, label in zip(X, y):
            # repr keeps every bit of the float64, so both sides see the same numbers.
            cells = ["" if np.isnan(v) else repr(float(v)) for v in row]
            f.write(",".join(cells + [str(label)]) + "\n")


def read_csv(path):
    table = np.genfromtxt(path, delimiter=",", skip_header=1)  # empty cells become NaN
    return table[:, :-1], table[:, -1].astype(int)


def run_backprop(binary, folder, seed):
    """(accuracy, seconds, None) or (None, seconds, what went wrong)."""
    command = [str(binary), "train", "train.csv", "--target", "y", "--test", "test.csv",
               "--json", "--seed", str(seed), "--save", "model.safetensors"]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    except OSError as e:
        return None, 0.0, f"could not run {binary}: {e}"
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return None, seconds, f"exit status {done.returncode}:\n{done.stderr.strip()}"
    for line in reversed(done.stdout.splitlines()):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "test_accuracy" in record:
            return record["test_accuracy"], seconds, None
    return None, seconds, "no JSON line with test_accuracy in its output:\n" + done.stdout[-2000:]


def run_sklearn(folder, seed):
    X_train, y_train = read_csv(folder / "train.csv")
    X_test, y_test = read_csv(folder / "test.csv")
    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True),
        StandardScaler(),
        MLPClassifier(random_state=seed, max_iter=200),
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Not converging in 200 epochs is part of the defaults being compared.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    return model.score(X_test, y_test), time.perf_counter() - start


def build():
    """Builds the release binary; None when it worked, else cargo's complaint."""
    command = ["cargo", "build", "--release", "-p", "backprop-cli"]
    print("building:", " ".join(command), flush=True)
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    except OSError as e:
        return str(e)
    return None if done.returncode == 0 else done.stderr.strip()[-4000:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--missing", type=float, default=0.2,
                        help="fraction of feature cells left blank (default 0.2)")
    parser.add_argument("--backprop", type=Path, default=None,
                        help="the backprop binary (default: target/release/backprop, built first)")
    parser.add_argument("--no-build", action="store_true",
                        help="use target/release/backprop as it is, without cargo build")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the CSV files in DIR/seed<N>/ instead of a temporary folder")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when backprop's mean accuracy is below scikit-learn's")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]

    # Absolute, because backprop runs inside the data folder.
    binary = (args.backprop or ROOT / "target" / "release" / "backprop").resolve()
    if args.backprop is None and not args.no_build:
        problem = build()
        if problem:
            print(f"cargo build failed; the backprop runs will fail too:\n{problem}")

    print(f"make_classification({', '.join(f'{k}={v}' for k, v in DATA.items())}), "
          f"{args.missing:.0%} of feature cells blank, 80/20 stratified split")
    rows, failures = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for seed in seeds:
            folder = (args.out or Path(scratch)) / f"seed{seed}"
            folder.mkdir(parents=True, exist_ok=True)
            X_train, X_test, y_train, y_test = make_split(seed, args.missing)
            write_csv(folder / "train.csv", X_train, y_train)
            write_csv(folder / "test.csv", X_test, y_test)
            ours, our_seconds, problem = run_backprop(binary, folder, seed)
            if problem:
                failures.append(seed)
                print(f"seed {seed}: backprop failed ({binary}), {problem}\n")
            theirs, their_seconds = run_sklearn(folder, seed)
            rows.append((seed, ours, theirs, our_seconds, their_seconds))

    def cell(value, spec):
        return "failed" if value is None else format(value, spec)

    print(f"{'seed':>4}  {'backprop':>8}  {'sklearn':>8}  {'diff':>7}  "
          f"{'backprop s':>10}  {'sklearn s':>9}")
    for seed, ours, theirs, our_s, their_s in rows:
        diff = None if ours is None else ours - theirs
        print(f"{seed:>4}  {cell(ours, '.4f'):>8}  {theirs:>8.4f}  {cell(diff, '+.4f'):>7}  "
              f"{our_s:>10.2f}  {their_s:>9.2f}")
    their_mean = float(np.mean([r[2] for r in rows]))
    our_mean = None if failures else float(np.mean([r[1] for r in rows]))
    diff = None if our_mean is None else our_mean - their_mean
    print(f"{'mean':>4}  {cell(our_mean, '.4f'):>8}  {their_mean:>8.4f}  {cell(diff, '+.4f'):>7}")
    print("backprop s: the whole command (start, reading the CSV, training, test); "
          "sklearn s: fit only")
    print(f"CPU: {cpu_name()}")
    print("reproduce:", shlex.join(["python3", "bench/missing_vs_sklearn.py"] + sys.argv[1:]))

    if failures:
        print(f"backprop failed for seed(s) {', '.join(map(str, failures))}: no comparison")
    else:
        verdict = "at least as accurate as" if our_mean >= their_mean else "less accurate than"
        print(f"backprop is {verdict} scikit-learn on average ({our_mean:.4f} vs {their_mean:.4f})")
    if args.check and (failures or our_mean < their_mean):
        sys.exit(1)


if __name__ == "__main__":
    main()
