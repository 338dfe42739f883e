#!/usr/bin/env python3
"""One-off: merges optim.json, optimizers_f64.json and optimizers_f32.json (the outputs of
make_optim_golden.py and make_optimizer_golden.py before they were merged) into the layout of
the merged make_optim_golden.py, moving every value as it is (no value is recomputed).

Usage: merge_optim_golden.py DIR   (reads the three files in DIR, writes DIR/optim.json)
"""

import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("merged", os.path.join(HERE, "make_optim_golden.py"))
merged = importlib.util.module_from_spec(spec)
spec.loader.exec_module(merged)


def load(directory, name):
    with open(os.path.join(directory, name)) as f:
        return json.load(f)


def main(directory):
    old = load(directory, "optim.json")
    networks = {suffix: load(directory, f"optimizers_{suffix}.json") for suffix in ("f64", "f32")}
    assert old["torch_version"] == networks["f64"]["torch_version"] == networks["f32"]["torch_version"]

    # The objective: the old optim.json with its cases' settings checked against the script.
    assert [c["name"] for c in old["cases"]] == [c[0] for c in merged.OBJECTIVE_CASES]
    for case, (name, config, schedule, max_norm) in zip(old["cases"], merged.OBJECTIVE_CASES):
        assert (case["optimizer"], case["schedule"], case["max_norm"]) == (config, schedule, max_norm), name
        assert list(case) == ["name", "optimizer", "schedule", "max_norm", "f64", "f32"]
    objective = dict(formula=old["objective"], n=old["n"], steps=old["steps"],
                     theta0=old["theta0"], cases=old["cases"])

    # The network: the two files' shared settings once, per-precision data, and per case the
    # settings in backprop's serde form (with `kind`), the schedule and the clipping norm.
    first = networks["f64"]
    for key in ("widths", "activation", "loss", "steps"):
        assert first[key] == networks["f32"][key], key
    assert first["widths"] == merged.WIDTHS and first["steps"] == merged.STEPS
    assert first["step_lr"] == {k: merged.NETWORK_SCHEDULE[k] for k in ("step_size", "gamma")}
    assert first["clip_grad_norm"] == merged.NETWORK_CLIP
    rows = len(first["inputs"]) // first["widths"][0]
    assert rows == merged.ROWS
    section = dict(widths=first["widths"], activation=first["activation"], loss=first["loss"],
                   rows=rows, steps=first["steps"])
    for suffix, document in networks.items():
        assert document["dtype"] == suffix
        section[suffix] = dict(inputs=document["inputs"], targets=document["targets"],
                               initial=document["initial"])
    cases = []
    for i, (name, config) in enumerate(merged.NETWORK_CASES):
        runs = {suffix: document["runs"][i] for suffix, document in networks.items()}
        for run in runs.values():
            assert run["name"] == name and run["kind"] == config["kind"], name
            assert dict(kind=run["kind"], **run["settings"]) == config, name
            assert run["clipped"] == (config["kind"] != "lbfgs"), name
        max_norm = merged.NETWORK_CLIP if runs["f64"]["clipped"] else None
        case = dict(name=name, optimizer=config, schedule=merged.NETWORK_SCHEDULE,
                    max_norm=max_norm)
        for suffix, run in runs.items():
            case[suffix] = {"loss": run["losses"], "norm": run["gradient_norms"],
                            "final": run["final"]}
        cases.append(case)
    assert all(len(d["runs"]) == len(cases) for d in networks.values())
    section["cases"] = cases

    out = dict(generator="crates/backprop/tests/golden/make_optim_golden.py",
               torch_version=old["torch_version"], objective=objective, network=section)
    with open(os.path.join(directory, "optim.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
