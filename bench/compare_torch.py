#!/usr/bin/env python3
"""backprop against PyTorch eager (and onnxruntime for inference) on the same work.

For every configuration the two engines run ALTERNATELY (backprop, PyTorch, backprop, ...)
several times in this one process, at the same thread count, so load from other processes
hits both alike; the table shows medians and the ratio backprop / PyTorch.

backprop is measured by `crates/backprop/examples/throughput.rs` (built here in release mode);
PyTorch runs in this process with `torch.set_num_threads(n)`. Both start from the same weights
(PyTorch's default init, handed to backprop as safetensors) and walk through the mnist10k
training set (8000 samples, pixels/255) batch after batch. A training step is forward +
cross-entropy + backward + optimizer step; its GFLOP/s counts the forward pass as
2·batch·Σ fan_in·fan_out flops and a step as 3× that, and is set against the GEMM ceiling
measured in the same run (best of a few 1024³ f32 products through backprop's `matmul`).

    python3 bench/compare_torch.py            # full run, a few minutes
    python3 bench/compare_torch.py --quick    # a rough look in under a minute

Needs torch, numpy, safetensors; onnxruntime and onnx for the inference comparison
(skipped when missing).
"""

import argparse
import gzip
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from machine import cpu_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "target", "release", "examples", "throughput")

# name -> (widths, activation, optimizer)
CONFIGS = {
    "A": ([784, 128, 10], "relu", "sgd"),
    "B": ([784, 256, 128, 10], "relu", "adam"),
    "C": ([784, 1024, 1024, 10], "relu", "adam"),
    "tiny": ([4, 16, 16, 3], "tanh", "adam"),
}
LR = {"sgd": 0.01, "adam": 0.001}


class Mlp(torch.nn.Module):
    """Same layout and parameter names (`layers.{i}.weight`, `.bias`) as backprop."""

    def __init__(self, widths, activation):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(i, o) for i, o in zip(widths[:-1], widths[1:])
        )
        self.act = torch.relu if activation == "relu" else torch.tanh

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
        return self.layers[-1](x)


class Probabilities(torch.nn.Module):
    """What `predict` returns: softmax of the logits."""

    def __init__(self, mlp):
        super().__init__()
        self.mlp = mlp

    def forward(self, x):
        return torch.softmax(self.mlp(x), dim=1)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * d : 8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def dataset(config, data_dir):
    if config == "tiny":
        # Same shapes as the Rust example's synthetic iris-sized set (values differ).
        rng = np.random.default_rng(7)
        x = rng.uniform(0.0, 8.0, size=(150, 4)).astype(np.float32)
        y = np.arange(150) // 50
    else:
        x = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
        x = x.reshape(len(x), -1).astype(np.float32) / 255.0
        y = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))


def time_loop(seconds, step):
    """Same protocol as the Rust example: warm-up, then run for `seconds`."""
    warmup = min(seconds * 0.1, 0.3)
    start, i = time.perf_counter(), 0
    while i < 3 or time.perf_counter() - start < warmup:
        step(i)
        i += 1
    start, calls = time.perf_counter(), 0
    while True:
        step(i + calls)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls, elapsed


def flops_per_step(widths, batch):
    return 3 * 2 * batch * sum(i * o for i, o in zip(widths[:-1], widths[1:]))


def torch_train(config, batch, threads, seconds, weights, data):
    widths, act, opt_name = CONFIGS[config]
    torch.set_num_threads(threads)
    model = Mlp(widths, act)
    model.load_state_dict(weights)
    if opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=LR["sgd"], momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=LR["adam"])
    x, y = data
    batches = len(y) // batch

    def step(i):
        b = i % batches
        xb, yb = x[b * batch : (b + 1) * batch], y[b * batch : (b + 1) * batch]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()

    steps, elapsed = time_loop(seconds, step)
    return {
        "steps_per_s": steps / elapsed,
        "samples_per_s": steps * batch / elapsed,
        "gflops": flops_per_step(widths, batch) * steps / elapsed / 1e9,
    }


def torch_infer(config, batch, threads, seconds, weights, data):
    widths, act, _ = CONFIGS[config]
    torch.set_num_threads(threads)
    model = Mlp(widths, act)
    model.load_state_dict(weights)
    model.eval()
    x = data[0]
    blocks = len(x) // batch
    with torch.inference_mode():

        def step(i):
            b = i % blocks
            torch.softmax(model(x[b * batch : (b + 1) * batch]), dim=1)

        calls, elapsed = time_loop(seconds, step)
        out = torch.softmax(model(x[:batch]), dim=1).double().numpy()
    checksum = float((out * (1 + np.arange(out.shape[1]))).sum())
    return {"us_per_call": elapsed * 1e6 / calls, "samples_per_s": calls * batch / elapsed,
            "checksum": checksum}


def onnx_session(config, weights, threads, workdir):
    import onnxruntime as ort

    widths, act, _ = CONFIGS[config]
    model = Mlp(widths, act)
    model.load_state_dict(weights)
    model.eval()
    path = os.path.join(workdir, f"{config}.onnx")
    if not os.path.exists(path):
        torch.onnx.export(
            Probabilities(model), (torch.zeros(1, widths[0]),), path,
            input_names=["x"], output_names=["p"],
            dynamic_axes={"x": {0: "batch"}, "p": {0: "batch"}}, dynamo=False,
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def onnx_infer(session, batch, seconds, data):
    x = data[0].numpy()
    blocks = len(x) // batch
    feeds = [{"x": x[b * batch : (b + 1) * batch]} for b in range(min(blocks, 64))]

    def step(i):
        session.run(None, feeds[i % len(feeds)])

    calls, elapsed = time_loop(seconds, step)
    return {"us_per_call": elapsed * 1e6 / calls, "samples_per_s": calls * batch / elapsed}


def backprop(args):
    out = subprocess.run([EXAMPLE, *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 2 repeats, fewer cases")
    parser.add_argument("--repeats", type=int, help="alternations per case (default 5, quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (default 1.5, quick 0.4)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--configs", default="A,B,C,tiny", help="training configurations")
    parser.add_argument("--data", default="/work/shared/data/mnist10k", help="mnist10k directory")
    parser.add_argument("--no-build", action="store_true", help="skip cargo build")
    parser.add_argument("--json", help="also write every sample to this file")
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    seconds = args.seconds or (0.4 if args.quick else 1.5)
    threads = [int(t) for t in args.threads.split(",")]
    configs = args.configs.split(",")

    print("reproduce: python3 bench/compare_torch.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "backprop", "--example", "throughput"],
                       cwd=ROOT, check=True)
    print(f"CPU: {cpu_name()}; torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"repeats {repeats}, {seconds} s each")

    workdir = tempfile.mkdtemp(prefix="bp-bench-")
    torch.manual_seed(0)
    weights, weight_files, datasets = {}, {}, {}
    for name in set(configs) | {"B"}:
        widths, act, _ = CONFIGS[name]
        weights[name] = Mlp(widths, act).state_dict()
        weight_files[name] = os.path.join(workdir, f"{name}.safetensors")
        save_file({k: v.contiguous() for k, v in weights[name].items()}, weight_files[name])
        datasets[name] = dataset(name, args.data)

    samples = []
    ceilings = {}
    for t in threads:
        g = backprop(["--mode", "gemm", "--threads", t, "--seconds", 1])
        torch.set_num_threads(t)
        a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
        best = min(timed(lambda: torch.mm(a, b)) for _ in range(10))
        ceilings[t] = g["gflops"]
        if t == threads[0]:
            print(f"backprop kernel path: {g.get('kernel', 'unknown')}")
        print(f"GEMM ceiling, {t} thread(s): backprop matmul {g['gflops']:.1f} GFLOP/s, "
              f"torch.mm {2 * 1024**3 / best / 1e9:.1f} GFLOP/s")

    rows = []
    memory = []
    for name in configs:
        batches = [16] if name == "tiny" else ([32] if args.quick and name == "C" else [32, 128])
        for batch in batches:
            for t in threads:
                bp, pt = [], []
                for _ in range(repeats):
                    bp.append(backprop(["--config", name, "--batch", batch, "--threads", t,
                                        "--seconds", seconds, "--weights", weight_files[name],
                                        "--data", args.data]))
                    pt.append(torch_train(name, batch, t, seconds, weights[name], datasets[name]))
                unit = "steps_per_s" if name == "tiny" else "samples_per_s"
                b_med = median([s[unit] for s in bp])
                p_med = median([s[unit] for s in pt])
                b_gf = median([s["gflops"] for s in bp])
                p_gf = median([s["gflops"] for s in pt])
                rows.append((f"train {name}", batch, t, unit.replace("_per_s", "/s"), b_med, p_med,
                             None, b_med / p_med, f"{b_gf:.1f} ({100 * b_gf / ceilings[t]:.0f}%)",
                             f"{p_gf:.1f}"))
                samples.append({"case": f"train {name}", "batch": batch, "threads": t,
                                "backprop": bp, "torch": pt})
                # Below 1 MiB of data the process's own few MiB are all there is to see.
                if bp[0].get("peak_rss_mib") is not None and bp[0]["memory_bound_mib"] >= 1.0:
                    peak = median([s["peak_rss_mib"] for s in bp])
                    memory.append((f"train {name}", batch, t, peak, bp[0]["memory_bound_mib"]))
                print_row(rows[-1])

    for batch in [1, 1000]:
        for t in threads:
            session = None
            try:
                session = onnx_session("B", weights["B"], t, workdir)
            except ImportError:
                pass
            bp, pt, ox = [], [], []
            for _ in range(repeats):
                bp.append(backprop(["--mode", "infer", "--config", "B", "--batch", batch,
                                    "--threads", t, "--seconds", seconds,
                                    "--weights", weight_files["B"], "--data", args.data]))
                pt.append(torch_infer("B", batch, t, seconds, weights["B"], datasets["B"]))
                if session is not None:
                    ox.append(onnx_infer(session, batch, seconds, datasets["B"]))
            same = abs(bp[0]["checksum"] - pt[0]["checksum"]) <= 1e-3 * max(1.0, abs(pt[0]["checksum"]))
            b_med = median([s["us_per_call"] for s in bp])
            p_med = median([s["us_per_call"] for s in pt])
            o_med = median([s["us_per_call"] for s in ox])
            rows.append((f"infer B{'' if same else ' (outputs differ!)'}", batch, t, "µs/call",
                         b_med, p_med, o_med, p_med / b_med, "", ""))
            samples.append({"case": "infer B", "batch": batch, "threads": t, "backprop": bp,
                            "torch": pt, "onnxruntime": ox})
            print_row(rows[-1])

    print()
    print("| case | batch | threads | unit | backprop | PyTorch | onnxruntime | backprop/PyTorch "
          "| backprop GFLOP/s (% of GEMM ceiling) | PyTorch GFLOP/s |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(format_row(row))
    print()
    print("Ratios > 1 mean backprop is faster (for µs/call: PyTorch time / backprop time).")
    print("GEMM ceiling: " + ", ".join(f"{t} thread(s) {g:.1f} GFLOP/s" for t, g in ceilings.items()))
    print("GFLOP/s counts a training step as 3x the forward pass; the first layer's delta is never "
          "computed, so the exact count is lower: " + ", ".join(
              f"{name} {exact_step_ratio(CONFIGS[name][0]):.2f}x" for name in configs) + ".")
    if memory:
        print()
        print("Peak memory of backprop's training process (whole-process peak RSS, median of the runs) "
              "against data + parameters + optimizer state + one batch of activations:")
        print()
        print("| case | batch | threads | peak RSS (MiB) | bound (MiB) | ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        for case, batch, t, peak, bound in memory:
            print(f"| {case} | {batch} | {t} | {peak:.1f} | {bound:.1f} | {peak / bound:.2f}x |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ceilings": ceilings, "samples": samples}, f, indent=1)


def exact_step_ratio(widths):
    """A training step's multiply-adds over the forward pass's: forward, dW, and delta for every
    layer but the first."""
    layers = [i * o for i, o in zip(widths[:-1], widths[1:])]
    return (2 * sum(layers) + sum(layers[1:])) / sum(layers)


def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def fmt(v):
    if v is None or v != v:
        return "–"
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


def format_row(row):
    case, batch, t, unit, b, p, o, ratio, b_gf, p_gf = row
    return (f"| {case} | {batch} | {t} | {unit} | {fmt(b)} | {fmt(p)} | {fmt(o)} | "
            f"**{ratio:.2f}×** | {b_gf} | {p_gf} |")


def print_row(row):
    print(format_row(row), flush=True)


if __name__ == "__main__":
    main()
