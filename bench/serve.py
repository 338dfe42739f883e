#!/usr/bin/env python3
"""`backprop serve` against what a Python user deploys: the same model exported to ONNX, run by
onnxruntime behind FastAPI + uvicorn. Same model (784-256-128-10 trained on builtin:mnist10k),
same request (one MNIST-sized row as MLflow `{"instances": [[...784 values]]}`), same load
generator (wrk, POST with a Lua script), concurrency 1, 16 and 64, one after the other in
one run. Prints requests/s, p50, p99, errors and the ratios, with the CPU.

    /work/benchenv/bin/python bench/serve.py            # builds target/release/backprop
    /work/benchenv/bin/python bench/serve.py --onnx model.onnx --model model.safetensors

Without --onnx the ONNX file is written here by `backprop export` (the whole pipeline: the
missing-value fill, scaling, the network, softmax; outputs `label` and `probabilities`).
Needs: wrk (`apt-get install wrk`), onnxruntime, fastapi, uvicorn, numpy.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from machine import cpu_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FASTAPI_APP = '''
import os
import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request

session = ort.InferenceSession(os.environ["BENCH_ONNX"], providers=["CPUExecutionProvider"])
app = FastAPI()

@app.post("/invocations")
async def invocations(request: Request):
    body = await request.json()
    x = np.asarray(body["instances"], dtype=np.float32)
    label, probabilities = session.run(["label", "probabilities"], {"input": x})
    return {"predictions": [str(int(v)) for v in label]}
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url, timeout=30.0):
    start = time.time()
    while time.time() - start < timeout:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def to_seconds(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def run_wrk(url, lua, concurrency, seconds):
    threads = min(concurrency, 4)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", lua, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_seconds(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_seconds(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(g) for g in m.groups())
    return rps, p50, p99, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backprop", default=os.path.join(ROOT, "target/release/backprop"))
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--model", help="a 784-in model file (default: trained here)")
    parser.add_argument("--onnx", help="its ONNX export (default: written here by backprop export)")
    parser.add_argument("--seconds", type=int, default=10, help="per concurrency and server")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-serve-")
    if not args.no_build and args.backprop == os.path.join(ROOT, "target/release/backprop"):
        subprocess.run(["cargo", "build", "--release", "-p", "backprop-cli"], cwd=ROOT, check=True)
    model = args.model
    if model is None:
        model = os.path.join(work, "mnist.safetensors")
        subprocess.run(
            [args.backprop, "train", "builtin:mnist10k", "--layers", "256,128",
             "--epochs", str(args.epochs), "--seed", "0", "--save", model],
            check=True, capture_output=True,
        )
    onnx_path = args.onnx or os.path.join(work, "mnist.onnx")
    if args.onnx is None:
        subprocess.run([args.backprop, "export", model, "-o", onnx_path], check=True, capture_output=True)
    import numpy as np

    row = np.random.default_rng(0).random(784).round(4).tolist()
    body = json.dumps({"instances": [row]})
    lua = os.path.join(work, "post.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write(f"wrk.body = {json.dumps(body)}\n")
    app_file = os.path.join(work, "fastapi_app.py")
    with open(app_file, "w") as f:
        f.write(FASTAPI_APP)

    bp_port, py_port = free_port(), free_port()
    servers = {
        "backprop serve": subprocess.Popen(
            [args.backprop, "serve", model, "--port", str(bp_port)],
            stderr=subprocess.DEVNULL,
        ),
        "onnxruntime+FastAPI": subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--port", str(py_port),
             "--log-level", "warning"],
            cwd=work, env={**os.environ, "BENCH_ONNX": onnx_path}, stderr=subprocess.DEVNULL,
        ),
    }
    urls = {
        "backprop serve": f"http://127.0.0.1:{bp_port}/invocations",
        "onnxruntime+FastAPI": f"http://127.0.0.1:{py_port}/invocations",
    }
    try:
        wait_up(f"http://127.0.0.1:{bp_port}/ping")
        wait_up(f"http://127.0.0.1:{py_port}/docs")
        # The same answer from both.
        for name, url in urls.items():
            req = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
            print(f"{name}: {urllib.request.urlopen(req).read().decode()}")
        results = {}
        for c in [int(c) for c in args.concurrency.split(",")]:
            for name, url in urls.items():
                results[(name, c)] = run_wrk(url, lua, c, args.seconds)
    finally:
        for proc in servers.values():
            proc.terminate()
            proc.wait()
    print(f"\nCPU: {cpu_name()}, {os.cpu_count()} cores; {args.seconds} s per cell; wrk, 1 row per request\n")
    print("| concurrency | server | requests/s | p50 | p99 | errors |")
    print("|---|---|---|---|---|---|")
    for (name, c), (rps, p50, p99, errors) in results.items():
        print(f"| {c} | {name} | {rps:,.0f} | {p50 * 1e3:.2f} ms | {p99 * 1e3:.2f} ms | {errors} |")
    print()
    for c in sorted({c for _, c in results}):
        bp, py = results[("backprop serve", c)], results[("onnxruntime+FastAPI", c)]
        print(f"concurrency {c}: {bp[0] / py[0]:.1f}x the requests/s; backprop p99 {bp[2] * 1e3:.2f} ms "
              f"vs FastAPI p50 {py[1] * 1e3:.2f} ms")
    print(f"\ncommand: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")


if __name__ == "__main__":
    main()
