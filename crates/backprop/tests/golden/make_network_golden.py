#!/usr/bin/env python3
"""Generates PyTorch golden values for backprop's forward and backward passes.

Writes network_f64.json and network_f32.json beside this script. Each holds one case per
(hidden activation, loss) pair on a 5-7-4-3 network and a batch of 6 rows: the inputs, the
weights (drawn from torch's RNG and stored, named `layers.{i}.weight` [out, in] and
`layers.{i}.bias` [out] like backprop's model files), the targets, the outputs after the
output activation, the mean loss and the gradient of every parameter tensor.

Run from anywhere with torch installed: `python3 make_network_golden.py`.
CI does not need torch: tests/golden_network.rs only reads the committed JSON.
"""

import json
import os

import numpy  # noqa: F401  (float32 reprs)

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTHS = [5, 7, 4, 3]
ROWS = 6
SEED = 20240611

# (backprop's name, torch module)
ACTIVATIONS = [
    ("identity", nn.Identity()),
    ("sigmoid", nn.Sigmoid()),
    ("tanh", nn.Tanh()),
    ("relu", nn.ReLU()),
    ("leaky_relu(0.01)", nn.LeakyReLU(0.01)),
    ("leaky_relu(0.2)", nn.LeakyReLU(0.2)),
    ("elu(1)", nn.ELU(alpha=1.0)),
    ("elu(0.5)", nn.ELU(alpha=0.5)),
    ("gelu", nn.GELU(approximate="none")),
    ("silu", nn.SiLU()),
    ("softplus", nn.Softplus(beta=1.0, threshold=20.0)),
]

CLASS_WEIGHTS = [0.5, 2.0, 1.25]

# (name, backprop's serde form of `Loss`, output activation, torch loss builder)
LOSSES = [
    ("mse", {"kind": "mse"}, "identity", lambda dt: nn.MSELoss()),
    ("l1", {"kind": "l1"}, "identity", lambda dt: nn.L1Loss()),
    ("huber", {"kind": "huber", "delta": 1.0}, "identity", lambda dt: nn.HuberLoss(delta=1.0)),
    ("huber_0.5", {"kind": "huber", "delta": 0.5}, "identity", lambda dt: nn.HuberLoss(delta=0.5)),
    ("bce", {"kind": "bce"}, "sigmoid", lambda dt: nn.BCEWithLogitsLoss()),
    (
        "ce",
        {"kind": "cross_entropy", "label_smoothing": 0.0, "class_weights": None},
        "softmax",
        lambda dt: nn.CrossEntropyLoss(),
    ),
    (
        "ce_smooth",
        {"kind": "cross_entropy", "label_smoothing": 0.1, "class_weights": None},
        "softmax",
        lambda dt: nn.CrossEntropyLoss(label_smoothing=0.1),
    ),
    (
        "ce_weight",
        {"kind": "cross_entropy", "label_smoothing": 0.0, "class_weights": CLASS_WEIGHTS},
        "softmax",
        lambda dt: nn.CrossEntropyLoss(weight=torch.tensor(CLASS_WEIGHTS, dtype=dt)),
    ),
    (
        "ce_weight_smooth",
        {"kind": "cross_entropy", "label_smoothing": 0.2, "class_weights": CLASS_WEIGHTS},
        "softmax",
        lambda dt: nn.CrossEntropyLoss(weight=torch.tensor(CLASS_WEIGHTS, dtype=dt), label_smoothing=0.2),
    ),
]


def flat(t):
    """Values as a flat list; float32 values in their shortest round-tripping decimal form."""
    t = t.detach().reshape(-1)
    if t.dtype == torch.float32:
        return [float(str(v)) for v in t.numpy()]
    return [float(v) for v in t.tolist()]


def build_layers(dtype):
    """nn.Linear layers with torch's default initialization, in `dtype`."""
    return [nn.Linear(WIDTHS[i], WIDTHS[i + 1]).to(dtype) for i in range(len(WIDTHS) - 1)]


def forward(layers, activation, x):
    a = x
    for i, layer in enumerate(layers):
        a = layer(a)
        if i + 1 < len(layers):
            a = activation(a)
    return a


def make_case(dtype, act_name, activation, loss_name, loss_spec, output, make_loss):
    layers = build_layers(dtype)
    x = torch.randn(ROWS, WIDTHS[0], dtype=dtype)
    outputs = WIDTHS[-1]
    if output == "softmax":
        targets = torch.randint(0, outputs, (ROWS,))
        target_json = {"classes": [int(c) for c in targets.tolist()]}
    elif output == "sigmoid":
        targets = torch.rand(ROWS, outputs, dtype=dtype)
        target_json = {"values": flat(targets)}
    else:
        # Regression targets: normal values, scaled so Huber sees both of its regimes.
        targets = 1.5 * torch.randn(ROWS, outputs, dtype=dtype)
        target_json = {"values": flat(targets)}
    logits = forward(layers, activation, x)
    loss = make_loss(dtype)(logits, targets)
    loss.backward()
    if output == "softmax":
        predictions = F.softmax(logits, dim=1)
    elif output == "sigmoid":
        predictions = torch.sigmoid(logits)
    else:
        predictions = logits
    tensors, gradients = {}, {}
    for i, layer in enumerate(layers):
        for kind, p in (("weight", layer.weight), ("bias", layer.bias)):
            name = f"layers.{i}.{kind}"
            tensors[name] = {"shape": list(p.shape), "data": flat(p)}
            gradients[name] = flat(p.grad)
    return {
        "name": f"{act_name}/{loss_name}",
        "activation": act_name,
        "loss": loss_spec,
        "output": output,
        "widths": WIDTHS,
        "rows": ROWS,
        "inputs": flat(x),
        "targets": target_json,
        "tensors": tensors,
        "outputs": flat(predictions),
        "loss_value": flat(loss)[0],
        "gradients": gradients,
    }


def main():
    for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
        torch.manual_seed(SEED)
        cases = [
            make_case(dtype, act_name, activation, loss_name, spec, output, make_loss)
            for act_name, activation in ACTIVATIONS
            for loss_name, spec, output, make_loss in LOSSES
        ]
        document = {
            "generator": "crates/backprop/tests/golden/make_network_golden.py",
            "torch_version": torch.__version__,
            "dtype": suffix,
            "seed": SEED,
            "cases": cases,
        }
        path = os.path.join(HERE, f"network_{suffix}.json")
        with open(path, "w") as f:
            json.dump(document, f, indent=1)
            f.write("\n")
        print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
