"""Golden values for the optimizers, schedules and gradient clipping (tests/optim_golden.rs).

Runs every optimizer variant of torch.optim (single-tensor code paths, foreach=False) for 5
steps on a small smooth objective that the Rust test computes too, in float64 and float32,
and writes the parameters after each step to optim.json beside this script.

Objective, for theta of length N = 12 and c_i = 0.5 + 0.1 i:
    L(theta) = sum_i c_i theta_i^2 + sum_{i < N-1} sin(theta_i) theta_{i+1}

Epochs of a schedule are optimizer steps here: after each step the scheduler moves on
(ReduceLROnPlateau is given the loss at the start of that step). The warm-up + cosine schedule
is torch's LambdaLR with the factor documented in src/schedule.rs.

Usage: python3 crates/backprop/tests/golden/make_optim_golden.py   (needs torch; CI does not)
"""

import json
import math
import os

import torch

N = 12
STEPS = 5
THETA0 = [0.8 * math.sin(1.3 * i + 0.5) + 0.3 for i in range(N)]


def objective(theta):
    c = torch.tensor([0.5 + 0.1 * i for i in range(N)], dtype=theta.dtype)
    return (c * theta * theta).sum() + (torch.sin(theta[:-1]) * theta[1:]).sum()


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


CASES = [
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


def run(config, schedule, max_norm, dtype):
    theta = torch.tensor(THETA0, dtype=dtype, requires_grad=True)
    optimizer = make_optimizer(config, [theta])
    scheduler = make_scheduler(schedule, optimizer, config["lr"])
    thetas, losses, lrs, norms = [], [], [], []
    for _ in range(STEPS):
        lrs.append(optimizer.param_groups[0]["lr"])
        if config["kind"] == "lbfgs":
            def closure():
                optimizer.zero_grad()
                loss = objective(theta)
                loss.backward()
                return loss

            loss = float(optimizer.step(closure).detach())
        else:
            optimizer.zero_grad()
            loss_t = objective(theta)
            loss_t.backward()
            loss = float(loss_t.detach())
            if max_norm is not None:
                norms.append(float(torch.nn.utils.clip_grad_norm_([theta], max_norm)))
            optimizer.step()
        losses.append(loss)
        if scheduler is not None:
            if schedule["kind"] == "reduce_on_plateau":
                scheduler.step(loss)
            else:
                scheduler.step()
        thetas.append([float(v) for v in theta.detach()])
    return dict(theta=thetas, loss=losses, lr=lrs, norm=norms)


def main():
    cases = []
    for name, config, schedule, max_norm in CASES:
        cases.append(dict(
            name=name, optimizer=config, schedule=schedule, max_norm=max_norm,
            f64=run(config, schedule, max_norm, torch.float64),
            f32=run(config, schedule, max_norm, torch.float32),
        ))
    out = dict(
        generator="make_optim_golden.py",
        torch_version=torch.__version__,
        objective="sum_i (0.5 + 0.1 i) theta_i^2 + sum_{i<N-1} sin(theta_i) theta_{i+1}",
        n=N, steps=STEPS, theta0=THETA0, cases=cases,
    )
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
