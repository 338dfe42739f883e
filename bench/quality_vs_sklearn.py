"""Default `backprop train` against scikit-learn's defaults, dataset by dataset.

For every dataset of bench/quality_data.py (each one bundled with scikit-learn that loads
offline, and generated ones) and every seed: the same stratified 75/25 split for both; backprop
is the release binary with its defaults (only --target, --task, --test, --seed and --save are
given); scikit-learn is `StandardScaler` + `MLPClassifier` / `MLPRegressor` with its defaults
and `max_iter=2000`, `random_state=seed`. Prints a markdown table: the mean test accuracy
(classification) or R² (regression) of each, their difference, and the mean difference per
task (regression also without the datasets where scikit-learn's R² is below 0: its unscaled
target there makes every difference huge).

    python bench/quality_vs_sklearn.py [--seeds 0,1,2,3,4] [--datasets iris,wine]
                                       [--backprop target/release/backprop] [--no-build]
                                       [--check]

It builds the release binary first unless --no-build or --backprop is given. --check exits 1
when backprop is below scikit-learn on average, or more than 1 point (0.02 R²) below it on a
dataset: the goal of issue 11.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quality_data  # noqa: E402
from machine import cpu_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The most a dataset's mean may fall below scikit-learn's: a point of accuracy, 0.02 of R².
TOLERANCE = 0.01, 0.02


def sklearn_score(name, seed):
    task = quality_data.DATASETS[name][0]
    train, test = quality_data.split(name, seed)
    target = quality_data.TARGET
    x, y = train.drop(columns=target), train[target]
    estimator = (MLPClassifier if task == "classify" else MLPRegressor)(
        max_iter=2000, random_state=seed
    )
    model = make_pipeline(StandardScaler(), estimator).fit(x, y)
    predicted = model.predict(test.drop(columns=target))
    score = accuracy_score if task == "classify" else r2_score
    return score(test[target], predicted)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--datasets", default=",".join(quality_data.DATASETS))
    parser.add_argument("--backprop", help="the binary (default: build target/release/backprop)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when the goal is missed")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    names = args.datasets.split(",")
    binary = args.backprop or os.path.join(ROOT, "target", "release", "backprop")
    if not (args.backprop or args.no_build):
        subprocess.run(["cargo", "build", "--release", "-p", "backprop-cli"], cwd=ROOT, check=True)
    warnings.simplefilter("ignore", ConvergenceWarning)

    print("| dataset | rows | metric | backprop | scikit-learn | difference |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    rows = []
    seconds = [0.0, 0.0]
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            task = quality_data.DATASETS[name][0]
            ours, theirs = [], []
            for seed in seeds:
                train, test = quality_data.write_split(name, seed, folder)
                start = time.perf_counter()
                ours.append(quality_data.run_backprop(binary, train, test, task, seed,
                                                      folder=folder))
                seconds[0] += time.perf_counter() - start
                start = time.perf_counter()
                theirs.append(sklearn_score(name, seed))
                seconds[1] += time.perf_counter() - start
            size = len(quality_data.DATASETS[name][1]()[0])
            metric = "accuracy" if task == "classify" else "R²"
            a, b = float(np.mean(ours)), float(np.mean(theirs))
            rows.append((task, a, b))
            print(f"| {name} | {size} | {metric} | {a:.4f} | {b:.4f} | {a - b:+.4f} |",
                  flush=True)
    print()
    for task, what, keep in (
        ("classify", "classification, accuracy", lambda b: True),
        ("regress", "regression, R²", lambda b: True),
        ("regress", "regression, R², where scikit-learn's R² ≥ 0", lambda b: b >= 0),
    ):
        diffs = [a - b for t, a, b in rows if t == task and keep(b)]
        if diffs:
            print(f"mean difference, {what}: {np.mean(diffs):+.4f} over {len(diffs)} datasets")
    worst = [(t, a - b) for t, a, b in rows
             if a - b < -(TOLERANCE[0] if t == "classify" else TOLERANCE[1])]
    print(f"\nseeds {args.seeds}; {seconds[0]:.0f} s of backprop, {seconds[1]:.0f} s of "
          f"scikit-learn; {cpu_name()}, {os.cpu_count()} cores")
    print("python3 bench/quality_vs_sklearn.py " + " ".join(sys.argv[1:]))
    below = any(np.mean([a - b for t, a, b in rows if t == task]) < 0
                for task in ("classify", "regress") if any(t == task for t, _, _ in rows))
    if args.check and (below or worst):
        print("goal missed: backprop below scikit-learn on average or by more than the "
              "tolerance on a dataset", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
