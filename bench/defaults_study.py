"""The measurements behind the defaults of `backprop train` (issue 11): each candidate setting
changed alone from a base, on every dataset of bench/quality_data.py and on the MNIST digits
as a CSV file, a few seeds each. Prints one markdown table (the mean test accuracy or R² per
dataset and candidate) that bench/defaults_study.md records.

    python bench/defaults_study.py [--seeds 0,1,2] [--mnist-seeds 0] [--datasets iris,wine]
                                   [--configs defaults,l2=0] [--round 1] [--backprop PATH]

--round 2 (the default) starts from the binary's own defaults (the `defaults` column: no flag
given) and changes one setting per column. --round 1 is the first round, which led to the
defaults: a base of --scale auto --l2 1e-4 --val-fraction 0 --patience 10 --dropout 0
--scale-target standard, given explicitly. In both, `old` is the defaults before issue 11 for
a CSV file (standard scaling, no L2, a 10% validation split, no dropout, unscaled targets).
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quality_data  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ROUND1_BASE = {
    "scale": "auto",
    "l2": "1e-4",
    "val-fraction": "0",
    "patience": "10",
    "dropout": "0",
    "scale-target": "standard",
}

OLD = {"scale": "standard", "l2": "0", "val-fraction": "0.1", "dropout": "0",
       "scale-target": "none"}

# Round 1: name -> the settings that differ from ROUND1_BASE.
ROUND1 = {
    "base": {},
    "scale=standard": {"scale": "standard"},
    "scale=minmax": {"scale": "minmax"},
    "l2=0": {"l2": "0"},
    "l2=1e-3": {"l2": "1e-3"},
    "dropout=0.1": {"dropout": "0.1"},
    "dropout=0.2": {"dropout": "0.2"},
    "val=0.1": {"val-fraction": "0.1"},
    "val=0.1+patience=20": {"val-fraction": "0.1", "patience": "20"},
    "min-delta=1e-4": {"min-delta": "1e-4"},
    "scale-target=none": {"scale-target": "none"},
    "old": OLD,
}

# Round 2: name -> the flags given (the binary's defaults for the rest).
ROUND2 = {
    "defaults": {},
    "scale=standard": {"scale": "standard"},
    "scale=minmax": {"scale": "minmax"},
    "l2=1e-4": {"l2": "1e-4"},
    "l2=0": {"l2": "0"},
    "dropout=0": {"dropout": "0"},
    "dropout=0.2": {"dropout": "0.2"},
    "val=0.1": {"val-fraction": "0.1"},
    "val=0.1+patience=20": {"val-fraction": "0.1", "patience": "20"},
    "scale-target=none": {"scale-target": "none"},
    "l2-rule×10": {"l2": "rule×10"},
    "l2-rule÷10": {"l2": "rule÷10"},
    "old": OLD,
}
ROUNDS = {1: (ROUND1_BASE, ROUND1), 2: ({}, ROUND2)}


# The L2 rule of the binary (crates/backprop-cli/src/defaults.rs): this over the training rows.
L2_RULE = {"classify": 100.0, "regress": 1000.0}


def flags(round_, config, task, rows):
    """The flags of `config`; `rule×10` and `rule÷10` scale the binary's L2 rule."""
    base, configs = ROUNDS[round_]
    settings = {**base, **configs[config]}
    out = []
    for key, value in settings.items():
        if value.startswith("rule"):
            factor = 10.0 if value == "rule×10" else 0.1
            value = f"{L2_RULE[task] / rows * factor:.6g}"
        out += [f"--{key}", value]
    return out


def train_rows(path):
    with open(path) as f:
        return sum(1 for _ in f) - 1


def mnist_score(binary, seed, extra, folder):
    data = quality_data.MNIST
    train = os.path.join(data, "mnist10k_train.csv.gz")
    test = os.path.join(data, "mnist10k_test.csv.gz")
    return quality_data.run_backprop(binary, train, test, "classify", seed, extra,
                                     folder=folder, target="label")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--mnist-seeds", default="0")
    parser.add_argument("--datasets", default=",".join([*quality_data.DATASETS, "mnist_csv"]))
    parser.add_argument("--configs", help="default: every candidate of the round")
    parser.add_argument("--round", type=int, default=2, choices=sorted(ROUNDS))
    parser.add_argument("--backprop", default=os.path.join(ROOT, "target", "release", "backprop"))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    mnist_seeds = [int(s) for s in args.mnist_seeds.split(",")]
    names = args.datasets.split(",")
    configs = (args.configs or ",".join(ROUNDS[args.round][1])).split(",")

    table = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            if name == "mnist_csv":
                task = "classify"
                runs = [(seed, None) for seed in mnist_seeds]
            else:
                task = quality_data.DATASETS[name][0]
                runs = [(seed, quality_data.write_split(name, seed, folder)) for seed in seeds]
            for config in configs:
                if task == "classify" and config == "scale-target=none":
                    continue
                scores = []
                for seed, files in runs:
                    if files is None:
                        extra = flags(args.round, config, task, 8000)
                        scores.append(mnist_score(args.backprop, seed, extra, folder))
                    else:
                        extra = flags(args.round, config, task, train_rows(files[0]))
                        scores.append(quality_data.run_backprop(
                            args.backprop, *files, task, seed, extra, folder=folder))
                table[name, config] = float(np.mean(scores))
                print(f"{name:16} {config:22} {table[name, config]:.4f}  "
                      f"({' '.join(f'{s:.4f}' for s in scores)}; "
                      f"{time.perf_counter() - start:.0f}s)", file=sys.stderr, flush=True)

    print("| dataset | " + " | ".join(configs) + " |")
    print("| --- |" + " ---: |" * len(configs))
    for name in names:
        cells = []
        for config in configs:
            value = table.get((name, config))
            cells.append("" if value is None else f"{value:.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nseeds {args.seeds} (MNIST: {args.mnist_seeds}); "
          f"{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
