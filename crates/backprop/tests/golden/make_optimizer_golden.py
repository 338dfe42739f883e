#!/usr/bin/env python3
"""Generates PyTorch golden values for training a small network with every optimizer.

Writes optimizers_f64.json and optimizers_f32.json beside this script. One 4-6-3 tanh network
(weights drawn from torch's RNG and stored as `layers.{i}.weight` [out, in] / `layers.{i}.bias`)
is trained on one full batch of 8 rows with MSE for 5 steps by each optimizer configuration,
with a StepLR schedule (step_size 2, gamma 0.5) stepped after every optimizer step and, for the
first-order optimizers, `clip_grad_norm_(max_norm=CLIP)` before every step (the norm is
recorded, so the test can confirm clipping was active). Stored per configuration: the
settings (with backprop's field names), the loss before each step and the final weights.

Run with torch installed: `python3 make_optimizer_golden.py`. CI only reads the JSON.
"""

import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTHS = [4, 6, 3]
ROWS = 8
STEPS = 5
STEP_SIZE, GAMMA = 2, 0.5
CLIP = 0.5
SEED = 7331

# (name, backprop kind, backprop settings, torch constructor)
SGD = dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0)
ADAM = dict(beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False)
RMS = dict(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)
LBFGS = dict(max_iter=4, max_eval=5, tolerance_grad=1e-7, tolerance_change=1e-9, history_size=3, strong_wolfe=False)


def cfg(base, **changes):
    out = dict(base)
    out.update(changes)
    return out


CONFIGS = [
    ("sgd", "sgd", cfg(SGD, lr=0.2)),
    ("sgd_momentum", "sgd", cfg(SGD, lr=0.2, momentum=0.9)),
    ("sgd_nesterov_wd", "sgd", cfg(SGD, lr=0.2, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_dampening_wd", "sgd", cfg(SGD, lr=0.2, momentum=0.5, dampening=0.3, weight_decay=0.05)),
    ("adam", "adam", cfg(ADAM, lr=0.02)),
    ("adam_wd_amsgrad", "adam", cfg(ADAM, lr=0.02, beta2=0.9, weight_decay=0.01, amsgrad=True)),
    ("adamw", "adamw", cfg(ADAM, lr=0.02, weight_decay=0.1)),
    ("adamw_amsgrad", "adamw", cfg(ADAM, lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("rmsprop", "rmsprop", cfg(RMS, lr=0.01)),
    ("rmsprop_centered_momentum_wd", "rmsprop", cfg(RMS, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("adagrad", "adagrad", dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10)),
    ("adagrad_decay_wd", "adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-10)),
    ("rprop", "rprop", dict(lr=0.01, eta_minus=0.5, eta_plus=1.2, step_min=1e-6, step_max=50.0)),
    ("rprop_bounded", "rprop", dict(lr=0.05, eta_minus=0.3, eta_plus=1.5, step_min=1e-3, step_max=0.06)),
    ("lbfgs", "lbfgs", cfg(LBFGS, lr=1.0)),
    ("lbfgs_strong_wolfe", "lbfgs", cfg(LBFGS, lr=1.0, strong_wolfe=True)),
]


def torch_optimizer(kind, s, params):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=s["lr"], momentum=s["momentum"], dampening=s["dampening"],
                               nesterov=s["nesterov"], weight_decay=s["weight_decay"])
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(params, lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"],
                   weight_decay=s["weight_decay"], amsgrad=s["amsgrad"])
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=s["lr"], alpha=s["alpha"], eps=s["eps"],
                                   weight_decay=s["weight_decay"], momentum=s["momentum"],
                                   centered=s["centered"])
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=s["lr"], lr_decay=s["lr_decay"], weight_decay=s["weight_decay"],
                                   initial_accumulator_value=s["initial_accumulator_value"], eps=s["eps"])
    if kind == "rprop":
        return torch.optim.Rprop(params, lr=s["lr"], etas=(s["eta_minus"], s["eta_plus"]),
                                 step_sizes=(s["step_min"], s["step_max"]))
    if kind == "lbfgs":
        return torch.optim.LBFGS(params, lr=s["lr"], max_iter=s["max_iter"], max_eval=s["max_eval"],
                                 tolerance_grad=s["tolerance_grad"], tolerance_change=s["tolerance_change"],
                                 history_size=s["history_size"],
                                 line_search_fn="strong_wolfe" if s["strong_wolfe"] else None)
    raise ValueError(kind)


def flat(t):
    """Values as a flat list; float32 values in their shortest round-tripping decimal form."""
    t = t.detach().reshape(-1)
    if t.dtype == torch.float32:
        return [float(str(v)) for v in t.numpy()]
    return [float(v) for v in t.tolist()]


def named(layers):
    out = {}
    for i, layer in enumerate(layers):
        out[f"layers.{i}.weight"] = {"shape": list(layer.weight.shape), "data": flat(layer.weight)}
        out[f"layers.{i}.bias"] = {"shape": list(layer.bias.shape), "data": flat(layer.bias)}
    return out


def main():
    for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
        torch.manual_seed(SEED)
        initial = [nn.Linear(WIDTHS[i], WIDTHS[i + 1]).to(dtype) for i in range(len(WIDTHS) - 1)]
        x = torch.randn(ROWS, WIDTHS[0], dtype=dtype)
        y = torch.randn(ROWS, WIDTHS[-1], dtype=dtype)
        runs = []
        for name, kind, settings in CONFIGS:
            layers = [nn.Linear(WIDTHS[i], WIDTHS[i + 1]).to(dtype) for i in range(len(WIDTHS) - 1)]
            with torch.no_grad():
                for dst, src in zip(layers, initial):
                    dst.weight.copy_(src.weight)
                    dst.bias.copy_(src.bias)
            params = [p for layer in layers for p in (layer.weight, layer.bias)]
            optimizer = torch_optimizer(kind, settings, params)
            schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=STEP_SIZE, gamma=GAMMA)

            def loss_fn():
                a = x
                for i, layer in enumerate(layers):
                    a = layer(a)
                    if i + 1 < len(layers):
                        a = torch.tanh(a)
                return nn.functional.mse_loss(a, y)

            losses, norms = [], []
            for _ in range(STEPS):
                if kind == "lbfgs":
                    def closure():
                        optimizer.zero_grad()
                        loss = loss_fn()
                        loss.backward()
                        return loss

                    losses.append(flat(optimizer.step(closure))[0])
                else:
                    optimizer.zero_grad()
                    loss = loss_fn()
                    loss.backward()
                    losses.append(flat(loss)[0])
                    norms.append(flat(torch.nn.utils.clip_grad_norm_(params, CLIP))[0])
                    optimizer.step()
                schedule.step()
            runs.append({
                "name": name,
                "kind": kind,
                "settings": settings,
                "clipped": kind != "lbfgs",
                "losses": losses,
                "gradient_norms": norms,
                "final": named(layers),
            })
        document = {
            "generator": "crates/backprop/tests/golden/make_optimizer_golden.py",
            "torch_version": torch.__version__,
            "dtype": suffix,
            "widths": WIDTHS,
            "activation": "tanh",
            "loss": {"kind": "mse"},
            "steps": STEPS,
            "step_lr": {"step_size": STEP_SIZE, "gamma": GAMMA},
            "clip_grad_norm": CLIP,
            "inputs": flat(x),
            "targets": flat(y),
            "initial": named(initial),
            "runs": runs,
        }
        path = os.path.join(HERE, f"optimizers_{suffix}.json")
        with open(path, "w") as f:
            json.dump(document, f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {path}: {len(runs)} runs")
        for run in runs:
            print(f"  {run['name']:30} losses {['%.4f' % l for l in run['losses']]} norms {['%.3f' % n for n in run['gradient_norms']]}")


if __name__ == "__main__":
    main()
