#!/usr/bin/env python3
"""`backprop train` against the `throughput` example (the harness) on the same work.

Both train the same network with the same optimizer on the mnist10k training set (8000
digits) at the same batch size and thread count, ALTERNATELY in this one run (harness, CLI,
harness, ...), so load from other processes hits both alike. The harness reports its
samples/s over `--seconds` after a warm-up; the command reports `samples_per_second` for
each epoch in its JSON lines (the training steps only, not validation), from which the rate
over epochs 2.. together is taken (epoch 1 is the warm-up). Prints each run, the medians
and the ratio CLI / harness.

    python3 bench/cli_vs_harness.py                      # config A, batch 32, 2 threads
    python3 bench/cli_vs_harness.py --config B --threads 1 --repeats 5
    python3 bench/cli_vs_harness.py --no-shuffle         # the harness's order: no gather

It builds `target/release/backprop` and the `throughput` example first (unless
`--no-build`); `--backprop PATH` and `--harness PATH` compare other binaries.
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from machine import cpu_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# config -> (hidden layers, optimizer flags); the harness's configurations.
CONFIGS = {
    "A": ("128", ["--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9"]),
    "B": ("256,128", ["--optimizer", "adam", "--lr", "0.001"]),
    "C": ("1024,1024", ["--optimizer", "adam", "--lr", "0.001"]),
}


def harness(args):
    out = subprocess.run(
        [args.harness, "--config", args.config, "--batch", str(args.batch),
         "--threads", str(args.threads), "--seconds", str(args.seconds),
         "--data", os.path.join(ROOT, "data", "mnist10k")],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["samples_per_s"]


def cli(args, workdir):
    layers, optimizer = CONFIGS[args.config]
    command = [
        args.backprop, "train", "builtin:mnist10k", "--layers", layers, "--activation", "relu",
        *optimizer, "--batch-size", str(args.batch), "--threads", str(args.threads),
        "--dropout", "0", "--l2", "0", "--epochs", str(args.epochs), "--json",
    ]
    if args.no_shuffle:
        command.append("--no-shuffle")
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=workdir).stdout
    rates = [
        line["samples_per_second"]
        for line in map(json.loads, out.splitlines())
        if line.get("event") == "epoch"
    ]
    # Every epoch trains the same rows: the rate over epochs 2.. together (the harness's
    # protocol, a rate over the whole timed loop) is the harmonic mean of their rates.
    return statistics.harmonic_mean(rates[1:] if len(rates) > 1 else rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="A")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0, help="harness time per run")
    parser.add_argument("--epochs", type=int, default=6, help="CLI epochs per run")
    parser.add_argument("--no-shuffle", action="store_true", help="train the CLI in file order")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--backprop", default=os.path.join(ROOT, "target", "release", "backprop"))
    parser.add_argument(
        "--harness", default=os.path.join(ROOT, "target", "release", "examples", "throughput"))
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "-p", "backprop-cli", "-p", "backprop",
             "--bin", "backprop", "--example", "throughput"],
            check=True, cwd=ROOT,
        )
    print(f"CPU: {cpu_name()}; config {args.config}, batch {args.batch}, "
          f"{args.threads} thread(s), {args.repeats} alternating runs"
          f"{', CLI without shuffling' if args.no_shuffle else ''}")
    rates = {"harness": [], "cli": []}
    with tempfile.TemporaryDirectory() as workdir:
        for run in range(args.repeats):
            rates["harness"].append(harness(args))
            rates["cli"].append(cli(args, workdir))
            print(f"run {run + 1}: harness {rates['harness'][-1]:,.0f} samples/s, "
                  f"backprop train {rates['cli'][-1]:,.0f}")
    h, c = statistics.median(rates["harness"]), statistics.median(rates["cli"])
    print(f"median: harness {h:,.0f} samples/s, backprop train {c:,.0f}: "
          f"CLI / harness = {c / h:.3f}")


if __name__ == "__main__":
    main()
