#!/usr/bin/env python3
"""Golden values for the L2 penalty against scikit-learn (tests/sklearn_l2.rs).

scikit-learn's `alpha` adds `alpha / (2 n) * sum W^2` to the loss of a batch of n rows and
`alpha / n * W` to the weights' gradient, never touching the intercepts. For each case this
script sets fixed coefs_/intercepts_ on a small MLPClassifier or MLPRegressor and calls its
`_backprop` on one batch, and writes the loss, coef_grads and intercept_grads, with the
inputs, targets and parameters, to sklearn_l2.json beside it (float64 throughout; sklearn's
layouts: coefs_[i] is [in, out]).

Cases: a 3-class softmax classifier (relu), a binary logistic classifier (tanh) and a
one-output squared_error regressor (logistic hidden layers).

Usage: python3 crates/backprop/tests/golden/make_sklearn_golden.py   (needs scikit-learn;
CI does not)
"""

import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 7
INPUTS = 4
HIDDEN = (5, 3)

# (name, estimator, targets from a random generator)
CASES = [
    ("softmax_relu",
     lambda: MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", alpha=0.3),
     lambda rng: np.array([0, 1, 2, 1, 0, 2, 2])),
    ("binary_tanh",
     lambda: MLPClassifier(hidden_layer_sizes=HIDDEN, activation="tanh", alpha=0.7),
     lambda rng: np.array([1, 0, 0, 1, 1, 0, 1])),
    ("regression_logistic",
     lambda: MLPRegressor(hidden_layer_sizes=HIDDEN, activation="logistic", alpha=0.45),
     lambda rng: rng.normal(size=ROWS)),
]


def case(name, make, targets, rng):
    x = rng.normal(size=(ROWS, INPUTS))
    y = targets(rng)
    model = make()
    # One iteration sets up the layers, the output activation and the label encoding;
    # the parameters are then replaced by fixed values.
    model.set_params(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    model.coefs_ = [rng.normal(scale=0.8, size=c.shape) for c in model.coefs_]
    model.intercepts_ = [rng.normal(scale=0.5, size=b.shape) for b in model.intercepts_]
    if isinstance(model, MLPClassifier):
        y_matrix = model._label_binarizer.transform(y).astype(np.float64)
    else:
        y_matrix = y.reshape(-1, 1)
    layers = len(model.coefs_)
    activations = [x] + [None] * layers
    deltas = [None] * layers
    coef_grads = [np.empty_like(c) for c in model.coefs_]
    intercept_grads = [np.empty_like(b) for b in model.intercepts_]
    loss, coef_grads, intercept_grads = model._backprop(
        x, y_matrix, None, activations, deltas, coef_grads, intercept_grads)
    return {
        "name": name,
        "estimator": type(model).__name__,
        "activation": model.activation,
        "out_activation": model.out_activation_,
        "loss_function": model.loss,
        "alpha": model.alpha,
        "inputs": x.tolist(),
        "targets": y.tolist(),
        "coefs": [c.tolist() for c in model.coefs_],
        "intercepts": [b.tolist() for b in model.intercepts_],
        "loss": float(loss),
        "coef_grads": [g.tolist() for g in coef_grads],
        "intercept_grads": [g.tolist() for g in intercept_grads],
    }


def main():
    rng = np.random.default_rng(20250101)
    cases = [case(name, make, targets, rng) for name, make, targets in CASES]
    out = {
        "generator": "crates/backprop/tests/golden/make_sklearn_golden.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "cases": cases,
    }
    path = os.path.join(HERE, "sklearn_l2.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
