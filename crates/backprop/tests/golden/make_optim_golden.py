#!/usr/bin/env python3
"""Golden values for the optimizers, schedules and gradient clipping (tests/optim_golden.rs).

Runs every optimizer variant of torch.optim (single-tensor code paths, foreach=False) for 5
steps on two problems, in float64 and float32, and writes optim.json beside this script (one
entry per case: its settings in backprop's serde form and PyTorch's run in each precision).

objective: theta of length N = 12, c_i = 0.5 + 0.1 i,
    L(theta) = sum_i c_i theta_i^2 + sum_{i < N-1} sin(theta_i) theta_{i+1}
  with every kind of schedule; stored: the learning rate, the loss and (with clipping) the
  gradient norm before each step, and theta after each step. Epochs of a schedule are
  optimizer steps here: after each step the scheduler moves on (ReduceLROnPlateau is given
  the loss at the start of that step). The warm-up + cosine schedule is torch's LambdaLR with
  the factor documented in src/schedule.rs.

network: a 4-6-3 tanh network (weights drawn from torch's RNG, stored as
  `layers.{i}.weight` [out, in] / `layers.{i}.bias`) trained with MSE on one full batch of 8
  rows, with StepLR (step_size 2, gamma 0.5) and, for the first-order optimizers,
  clip_grad_norm_(max_norm=0.5) before every step; stored: the loss and gradient norm before
  each step and the final weights (float32 values in their shortest round-tripping form).

Usage: python3 crates/backprop/tests/golden/make_optim_golden.py   (needs torch; CI does not)
"""

import json
import math
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5
DTYPES = (("f64", torch.float64), ("f32", torch.float32))


def sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    return dict(kind="sgd", lr=lr, momentum=momentum, dampening=dampening,
                nesterov=nesterov, weight_decay=weight_decay)


def adam(kind="adam", lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
         amsgrad=False):
    return dict(kind=kind, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                weight_decay=weight_decay, amsgrad=amsgrad)


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    return dict(kind="rmsprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                momentum=momentum, centered=centered)


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
            eps=1e-10):
    return dict(kind="adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value, eps=eps)


def rprop(lr=1e-2, eta_minus=0.5, eta_plus=1.2, step_min=1e-6, step_max=50.0):
    return dict(kind="rprop", lr=lr, eta_minus=eta_minus, eta_plus=eta_plus,
                step_min=step_min, step_max=step_max)


def lbfgs(lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
          history_size=100, strong_wolfe=False):
    if max_eval is None:
        max_eval = max_iter * 5 // 4
    return dict(kind="lbfgs", lr=lr, max_iter=max_iter, max_eval=max_eval,
                tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                history_size=history_size, strong_wolfe=strong_wolfe)


CONSTANT = dict(kind="constant")


def step_schedule(step_size, gamma):
    return dict(kind="step", step_size=step_size, gamma=gamma)


def exponential(gamma):
    return dict(kind="exponential", gamma=gamma)


def cosine(warmup_epochs, t_max, eta_min):
    return dict(kind="cosine", warmup_epochs=warmup_epochs, t_max=t_max, eta_min=eta_min)


def plateau(factor, patience, threshold, cooldown, min_lr):
    return dict(kind="reduce_on_plateau", factor=factor, patience=patience,
                threshold=threshold, cooldown=cooldown, min_lr=min_lr)


# objective: (name, optimizer, schedule, max_norm)
N = 12
THETA0 = [0.8 * math.sin(1.3 * i + 0.5) + 0.3 for i in range(N)]
OBJECTIVE_CASES = [
    ("sgd_plain", sgd(0.1), CONSTANT, None),
    ("sgd_momentum", sgd(0.1, momentum=0.9), CONSTANT, None),
    ("sgd_dampening", sgd(0.1, momentum=0.9, dampening=0.3), CONSTANT, None),
    ("sgd_nesterov", sgd(0.1, momentum=0.9, nesterov=True), CONSTANT, None),
    ("sgd_weight_decay_step", sgd(0.1, momentum=0.5, weight_decay=0.1),
     step_schedule(2, 0.5), None),
    ("sgd_clip", sgd(0.1, momentum=0.9), CONSTANT, 0.5),
    ("sgd_plateau", sgd(0.05), plateau(0.5, 0, 0.3, 1, 0.01), None),
    ("adam", adam(lr=0.1), CONSTANT, None),
    ("adam_default", adam(), CONSTANT, None),
    ("adam_amsgrad_exponential", adam(lr=0.1, amsgrad=True), exponential(0.8), None),
    ("adam_weight_decay_cosine", adam(lr=0.05, weight_decay=0.1), cosine(2, 5, 0.01), None),
    ("adamw_clip", adam("adamw", lr=0.1, weight_decay=0.1), CONSTANT, 1.0),
    ("adamw_amsgrad", adam("adamw", lr=0.1, weight_decay=0.05, amsgrad=True), CONSTANT, None),
    ("rmsprop", rmsprop(), CONSTANT, None),
    ("rmsprop_momentum", rmsprop(momentum=0.9), CONSTANT, None),
    ("rmsprop_centered", rmsprop(centered=True, momentum=0.5), CONSTANT, None),
    ("rmsprop_weight_decay", rmsprop(lr=0.02, alpha=0.9, weight_decay=0.1), CONSTANT, 0.7),
    ("adagrad", adagrad(lr=0.1), CONSTANT, None),
    ("adagrad_decay_step", adagrad(lr=0.1, lr_decay=0.1, weight_decay=0.05,
                                   initial_accumulator_value=0.1), step_schedule(3, 0.3), None),
    ("rprop", rprop(), CONSTANT, None),
    ("rprop_flips", rprop(lr=0.5, eta_minus=0.4, eta_plus=1.5, step_min=1e-3, step_max=0.6),
     CONSTANT, None),
    ("lbfgs", lbfgs(), CONSTANT, None),
    ("lbfgs_short_history", lbfgs(lr=0.8, max_iter=6, max_eval=8, history_size=3),
     CONSTANT, None),
    ("lbfgs_step_schedule", lbfgs(lr=0.5, max_iter=3), step_schedule(2, 0.5), None),
    ("lbfgs_strong_wolfe", lbfgs(strong_wolfe=True), CONSTANT, None),
    ("lbfgs_strong_wolfe_short", lbfgs(lr=2.0, max_iter=4, history_size=2, strong_wolfe=True),
     CONSTANT, None),
]

# network: (name, optimizer); every case has NETWORK_SCHEDULE, and the first-order ones
# clip to NETWORK_CLIP.
WIDTHS = [4, 6, 3]
ROWS = 8
NETWORK_SEED = 7331
NETWORK_SCHEDULE = step_schedule(2, 0.5)
NETWORK_CLIP = 0.5
NETWORK_CASES = [
    ("sgd", sgd(0.2)),
    ("sgd_momentum", sgd(0.2, momentum=0.9)),
    ("sgd_nesterov_wd", sgd(0.2, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_dampening_wd", sgd(0.2, momentum=0.5, dampening=0.3, weight_decay=0.05)),
    ("adam", adam(lr=0.02)),
    ("adam_wd_amsgrad", adam(lr=0.02, beta2=0.9, weight_decay=0.01, amsgrad=True)),
    ("adamw", adam("adamw", lr=0.02, weight_decay=0.1)),
    ("adamw_amsgrad", adam("adamw", lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("rmsprop", rmsprop(lr=0.01)),
    ("rmsprop_centered_momentum_wd",
     rmsprop(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("adagrad", adagrad(lr=0.1)),
    ("adagrad_decay_wd", adagrad(lr=0.1, lr_decay=0.05, weight_decay=0.01,
                                 initial_accumulator_value=0.1)),
    ("rprop", rprop(lr=0.01)),
    ("rprop_bounded", rprop(lr=0.05, eta_minus=0.3, eta_plus=1.5, step_min=1e-3, step_max=0.06)),
    ("lbfgs", lbfgs(lr=1.0, max_iter=4, max_eval=5, history_size=3)),
    ("lbfgs_strong_wolfe", lbfgs(lr=1.0, max_iter=4, max_eval=5, history_size=3,
                                 strong_wolfe=True)),
]


def make_optimizer(config, params):
    kind = config["kind"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=config["lr"], momentum=config["momentum"],
                               dampening=config["dampening"], nesterov=config["nesterov"],
                               weight_decay=config["weight_decay"], foreach=False)
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(params, lr=config["lr"], betas=(config["beta1"], config["beta2"]),
                   eps=config["eps"], weight_decay=config["weight_decay"],
                   amsgrad=config["amsgrad"], foreach=False)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=config["lr"], alpha=config["alpha"],
                                   eps=config["eps"], weight_decay=config["weight_decay"],
                                   momentum=config["momentum"], centered=config["centered"],
                                   foreach=False)
    if kind == "adagrad":
        return torch.optim.Adagrad(params, lr=config["lr"], lr_decay=config["lr_decay"],
                                   weight_decay=config["weight_decay"],
                                   initial_accumulator_value=config["initial_accumulator_value"],
                                   eps=config["eps"], foreach=False)
    if kind == "rprop":
        return torch.optim.Rprop(params, lr=config["lr"],
                                 etas=(config["eta_minus"], config["eta_plus"]),
                                 step_sizes=(config["step_min"], config["step_max"]),
                                 foreach=False)
    if kind == "lbfgs":
        return torch.optim.LBFGS(params, lr=config["lr"], max_iter=config["max_iter"],
                                 max_eval=config["max_eval"],
                                 tolerance_grad=config["tolerance_grad"],
                                 tolerance_change=config["tolerance_change"],
                                 history_size=config["history_size"],
                                 line_search_fn="strong_wolfe" if config["strong_wolfe"] else None)
    raise ValueError(kind)


def make_scheduler(schedule, optimizer, base_lr):
    kind = schedule["kind"]
    if kind == "constant":
        return None
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, schedule["step_size"], schedule["gamma"])
    if kind == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, schedule["gamma"])
    if kind == "cosine":
        warmup, t_max, eta_min = schedule["warmup_epochs"], schedule["t_max"], schedule["eta_min"]

        def factor(epoch):
            if epoch < warmup:
                return (epoch + 1) / warmup
            k, n = epoch - warmup, t_max - warmup
            if k >= n:
                return eta_min / base_lr
            return (eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * k / n)) / 2) / base_lr

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    if kind == "reduce_on_plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=schedule["factor"], patience=schedule["patience"],
            threshold=schedule["threshold"], threshold_mode="rel",
            cooldown=schedule["cooldown"], min_lr=schedule["min_lr"])
    raise ValueError(kind)


def train(config, schedule, max_norm, params, loss_fn, value, after_step):
    """STEPS steps of `config` on `loss_fn()`; returns the learning rate, the loss and (with
    clipping) the gradient norm before each step, as floats by `value`."""
    optimizer = make_optimizer(config, params)
    scheduler = make_scheduler(schedule, optimizer, config["lr"])
    lrs, losses, norms = [], [], []
    for _ in range(STEPS):
        lrs.append(optimizer.param_groups[0]["lr"])
        if config["kind"] == "lbfgs":
            def closure():
                optimizer.zero_grad()
                loss = loss_fn()
                loss.backward()
                return loss

            loss = value(optimizer.step(closure))
        else:
            optimizer.zero_grad()
            loss_t = loss_fn()
            loss_t.backward()
            loss = value(loss_t)
            if max_norm is not None:
                norms.append(value(torch.nn.utils.clip_grad_norm_(params, max_norm)))
            optimizer.step()
        losses.append(loss)
        if scheduler is not None:
            if schedule["kind"] == "reduce_on_plateau":
                scheduler.step(loss)
            else:
                scheduler.step()
        after_step()
    return lrs, losses, norms


def objective_run(config, schedule, max_norm, dtype):
    theta = torch.tensor(THETA0, dtype=dtype, requires_grad=True)
    c = torch.tensor([0.5 + 0.1 * i for i in range(N)], dtype=dtype)

    def objective():
        return (c * theta * theta).sum() + (torch.sin(theta[:-1]) * theta[1:]).sum()

    thetas = []
    lrs, losses, norms = train(config, schedule, max_norm, [theta], objective,
                               lambda t: float(t.detach()),
                               lambda: thetas.append([float(v) for v in theta.detach()]))
    return dict(theta=thetas, loss=losses, lr=lrs, norm=norms)


def objective_section():
    cases = []
    for name, config, schedule, max_norm in OBJECTIVE_CASES:
        case = dict(name=name, optimizer=config, schedule=schedule, max_norm=max_norm)
        for suffix, dtype in DTYPES:
            case[suffix] = objective_run(config, schedule, max_norm, dtype)
        cases.append(case)
    return dict(
        formula="sum_i (0.5 + 0.1 i) theta_i^2 + sum_{i<N-1} sin(theta_i) theta_{i+1}",
        n=N, steps=STEPS, theta0=THETA0, cases=cases,
    )


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


def linear_layers(dtype):
    return [nn.Linear(WIDTHS[i], WIDTHS[i + 1]).to(dtype) for i in range(len(WIDTHS) - 1)]


def network_data(dtype):
    torch.manual_seed(NETWORK_SEED)
    initial = linear_layers(dtype)
    x = torch.randn(ROWS, WIDTHS[0], dtype=dtype)
    y = torch.randn(ROWS, WIDTHS[-1], dtype=dtype)
    return initial, x, y


def network_run(config, max_norm, data):
    initial, x, y = data
    layers = linear_layers(initial[0].weight.dtype)
    with torch.no_grad():
        for dst, src in zip(layers, initial):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
    params = [p for layer in layers for p in (layer.weight, layer.bias)]

    def loss_fn():
        a = x
        for i, layer in enumerate(layers):
            a = layer(a)
            if i + 1 < len(layers):
                a = torch.tanh(a)
        return nn.functional.mse_loss(a, y)

    _, losses, norms = train(config, NETWORK_SCHEDULE, max_norm, params, loss_fn,
                             lambda t: flat(t)[0], lambda: None)
    return {"loss": losses, "norm": norms, "final": named(layers)}


def network_section():
    data = {suffix: network_data(dtype) for suffix, dtype in DTYPES}
    section = dict(widths=WIDTHS, activation="tanh", loss={"kind": "mse"}, rows=ROWS,
                   steps=STEPS)
    for suffix, (initial, x, y) in data.items():
        section[suffix] = dict(inputs=flat(x), targets=flat(y), initial=named(initial))
    cases = []
    for name, config in NETWORK_CASES:
        max_norm = None if config["kind"] == "lbfgs" else NETWORK_CLIP
        case = dict(name=name, optimizer=config, schedule=NETWORK_SCHEDULE, max_norm=max_norm)
        for suffix in data:
            case[suffix] = network_run(config, max_norm, data[suffix])
        cases.append(case)
    section["cases"] = cases
    return section


def main():
    out = dict(
        generator="crates/backprop/tests/golden/make_optim_golden.py",
        torch_version=torch.__version__,
        objective=objective_section(),
        network=network_section(),
    )
    path = os.path.join(HERE, "optim.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for section in ("objective", "network"):
        print(f"wrote {len(out[section]['cases'])} {section} cases to {path}")


if __name__ == "__main__":
    main()
