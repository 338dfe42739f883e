"""MLPClassifier and MLPRegressor: scikit-learn estimators trained by the backprop engine."""

import json
import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._native import NativeModel, __version__

# scikit-learn's activation names, and the engine's (passed through unchanged).
_ACTIVATION_ALIASES = {"logistic": "sigmoid"}
_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "rprop", "lbfgs")
# L-BFGS runs this many iterations per engine epoch (PyTorch's default `max_iter`).
_LBFGS_ITERATIONS_PER_EPOCH = 20


def _engine_activation(name):
    if not isinstance(name, str):
        raise ValueError(f"an activation must be a string, got {name!r}")
    return _ACTIVATION_ALIASES.get(name, name)


def _as_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _as_float(value, name, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


class _BaseMLP(BaseEstimator):
    """The parts the classifier and the regressor share: settings, training and the model."""

    _task = None  # "classify" or "regress"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        dropout=0.0,
        schedule=None,
        clip_norm=None,
        n_threads=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.schedule = schedule
        self.clip_norm = clip_norm
        self.n_threads = n_threads

    # ----------------------------------------------------------------------------- settings

    def _hidden_layers(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, (bool, np.bool_)):
            sizes = [sizes]
        try:
            sizes = list(sizes)
        except TypeError:
            raise ValueError(
                f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}"
            ) from None
        sizes = [_as_int(s, "hidden_layer_sizes", 1) for s in sizes]
        activation = self.activation
        if isinstance(activation, str):
            activations = [_engine_activation(activation)] * len(sizes)
        else:
            activations = [_engine_activation(a) for a in activation]
            if len(activations) != len(sizes):
                raise ValueError(
                    f"activation lists {len(activations)} activations for "
                    f"{len(sizes)} hidden layers"
                )
        return [{"units": u, "activation": a} for u, a in zip(sizes, activations)]

    def _batch_size(self, n_samples):
        if isinstance(self.batch_size, str) and self.batch_size == "auto":
            return min(200, n_samples)
        size = _as_int(self.batch_size, "batch_size", 1)
        if size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. "
                "It is going to be clipped"
            )
        return min(size, n_samples)

    def _optimizer(self, batch_size):
        solver = self.solver
        if solver not in _SOLVERS:
            raise ValueError(f"The solver {solver!r} is not supported; expected one of {_SOLVERS}")
        lr = _as_float(self.learning_rate_init, "learning_rate_init", 0.0, low_open=True)
        alpha = _as_float(self.alpha, "alpha", 0.0)
        eps = _as_float(self.epsilon, "epsilon", 0.0, low_open=True)
        # scikit-learn adds alpha/2 · ||W||² to each batch's mean loss, so its gradient is
        # alpha · W / batch_size: the same L2 decay for the optimizers that add it to the
        # gradient. AdamW decays by alpha directly (decoupled).
        l2 = alpha / batch_size
        if solver == "sgd":
            momentum = _as_float(self.momentum, "momentum", 0.0, 1.0)
            return {
                "kind": "sgd",
                "lr": lr,
                "momentum": momentum,
                "dampening": 0.0,
                "nesterov": bool(self.nesterovs_momentum) and momentum > 0,
                "weight_decay": l2,
            }
        if solver in ("adam", "adamw"):
            return {
                "kind": solver,
                "lr": lr,
                "beta1": _as_float(self.beta_1, "beta_1", 0.0, 1.0, high_open=True),
                "beta2": _as_float(self.beta_2, "beta_2", 0.0, 1.0, high_open=True),
                "eps": eps,
                "weight_decay": alpha if solver == "adamw" else l2,
                "amsgrad": False,
            }
        if solver == "rmsprop":
            return {
                "kind": "rmsprop",
                "lr": lr,
                "alpha": 0.99,
                "eps": eps,
                "weight_decay": l2,
                "momentum": 0.0,
                "centered": False,
            }
        if solver == "adagrad":
            return {
                "kind": "adagrad",
                "lr": lr,
                "lr_decay": 0.0,
                "weight_decay": l2,
                "initial_accumulator_value": 0.0,
                "eps": 1e-10,
            }
        if solver == "rprop":
            return {
                "kind": "rprop",
                "lr": lr,
                "eta_minus": 0.5,
                "eta_plus": 1.2,
                "step_min": 1e-6,
                "step_max": 50.0,
            }
        return {
            "kind": "lbfgs",
            "lr": 1.0,
            "max_iter": _LBFGS_ITERATIONS_PER_EPOCH,
            "max_eval": _LBFGS_ITERATIONS_PER_EPOCH * 5 // 4,
            "tolerance_grad": 1e-7,
            "tolerance_change": 1e-9,
            "history_size": 100,
            "strong_wolfe": True,
        }

    def _schedule(self):
        if self.schedule is not None:
            if not isinstance(self.schedule, dict):
                raise ValueError(
                    "schedule must be None or a dict such as "
                    "{'kind': 'cosine', 'warmup_epochs': 0, 't_max': 100, 'eta_min': 0.0}"
                )
            return dict(self.schedule)
        if self.learning_rate == "constant":
            return {"kind": "constant"}
        if self.learning_rate == "adaptive":
            # scikit-learn divides the rate by 5 when the loss stops improving.
            return {
                "kind": "reduce_on_plateau",
                "factor": 0.2,
                "patience": 1,
                "threshold": 0.0,
                "cooldown": 0,
                "min_lr": 1e-6,
            }
        raise ValueError(
            f"learning_rate={self.learning_rate!r} is not supported: use 'constant' or "
            "'adaptive', or pass an engine schedule as `schedule`"
        )

    def _train_config(self, n_samples, epochs, seed, stopping):
        batch_size = self._batch_size(n_samples)
        n_iter_no_change = _as_int(self.n_iter_no_change, "n_iter_no_change", 1)
        tol = _as_float(self.tol, "tol", 0.0)
        dropout = _as_float(self.dropout, "dropout", 0.0, 1.0, high_open=True)
        config = {
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": self._optimizer(batch_size),
            "schedule": self._schedule(),
            "clip_norm": None
            if self.clip_norm is None
            else _as_float(self.clip_norm, "clip_norm", 0.0, low_open=True),
            "shuffle": bool(self.shuffle),
            "seed": seed,
            "validation": "none",
            # scikit-learn stops once the loss failed to improve by tol for more than
            # n_iter_no_change epochs in a row.
            "early_stopping": {"patience": n_iter_no_change + 1, "min_delta": tol}
            if stopping
            else None,
            "dropout": dropout,
            "threads": None
            if self.n_threads is None
            else _as_int(self.n_threads, "n_threads", 1),
        }
        return config

    def _epochs(self):
        max_iter = _as_int(self.max_iter, "max_iter", 1)
        if self.solver == "lbfgs":
            return max(1, math.ceil(max_iter / _LBFGS_ITERATIONS_PER_EPOCH))
        return max_iter

    def _seed(self):
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    # ------------------------------------------------------------------------------ the model

    def _metadata(self, n_features, n_outputs, loss, classes, feature_names):
        names = (
            [str(n) for n in feature_names]
            if feature_names is not None
            else [f"x{i}" for i in range(n_features)]
        )
        if classes is not None:
            numeric = classes.dtype.kind in "biuf"
            target = {
                "task": "classify",
                "name": "y",
                "classes": [str(c) for c in classes],
                "numeric": bool(numeric),
            }
        else:
            target = {"task": "regress", "name": "y"}
        preprocessing = {
            "version": 1,
            "scaler": "none",
            "features": [
                {"name": n, "kind": "numeric", "offset": 0.0, "scale": 1.0} for n in names
            ],
            "inputs": n_features,
            "target": target,
        }
        return {
            "format_version": 1,
            "library_version": __version__,
            "architecture": {
                "inputs": n_features,
                "hidden": self._hidden_layers(),
                "outputs": n_outputs,
                "output": "softmax" if classes is not None else "identity",
            },
            "loss": loss,
            "preprocessing": preprocessing,
            "classes": None if classes is None else target["classes"],
            "task": self._task,
            "training": {"trained_by": "python"},
        }

    def _new_model(self, metadata, seed):
        return NativeModel(json.dumps(metadata), seed)

    def _inputs(self, X, reset):
        """Validated features as C-contiguous float32, scaled as the model's preprocessing says."""
        X = validate_data(
            self, X, reset=reset, dtype=(np.float64, np.float32), order="C"
        )
        return self._scaled(X)

    def _scaled(self, X):
        scaling = getattr(self, "_input_scaling", None)
        if scaling is not None:
            offset, scale = scaling
            X = (np.asarray(X, dtype=np.float64) - offset) / scale
        return np.ascontiguousarray(X, dtype=np.float32)

    def _train(self, X, targets, epochs, seed, incremental):
        """Runs the engine; `targets` is (classes uint32, None) or (None, values float32 2-D)."""
        classes_idx, values = targets
        n_samples = X.shape[0]
        stopping = not incremental
        X_val = classes_val = values_val = None
        if self.early_stopping and not incremental:
            fraction = _as_float(
                self.validation_fraction, "validation_fraction", 0.0, 1.0, True, True
            )
            stratify = classes_idx if classes_idx is not None else None
            idx = np.arange(n_samples)
            train_idx, val_idx = train_test_split(
                idx, test_size=fraction, random_state=seed, stratify=stratify
            )
            train_idx.sort()
            val_idx.sort()
            X_val = X[val_idx]
            X = X[train_idx]
            if classes_idx is not None:
                classes_val = classes_idx[val_idx]
                classes_idx = classes_idx[train_idx]
            else:
                values_val = values[val_idx]
                values = values[train_idx]
        config = self._train_config(X.shape[0], epochs, seed, stopping)
        report = json.loads(
            self._model.fit(
                X,
                classes_idx,
                values,
                json.dumps(config),
                X_val,
                classes_val,
                values_val,
            )
        )
        history = report["history"]
        train_losses = [e["train_loss"] for e in history]
        if incremental and hasattr(self, "loss_curve_"):
            self.loss_curve_ = list(self.loss_curve_) + train_losses
            self.n_iter_ += len(history)
        else:
            self.loss_curve_ = train_losses
            self.n_iter_ = len(history)
        self.t_ = getattr(self, "t_", 0) * incremental + len(history) * X.shape[0]
        if X_val is not None:
            self.validation_loss_curve_ = [e["val_loss"] for e in history]
            if classes_val is not None:
                scores = [e["val_accuracy"] for e in history]
            else:
                # R² from the validation mean squared error (exact for one output; the mean
                # of the outputs' variances for several).
                variance = float(np.mean(np.var(values_val.astype(np.float64), axis=0)))
                scores = [
                    1.0 - e["val_loss"] / variance if variance > 0 else 0.0 for e in history
                ]
            self.validation_scores_ = scores
            self.best_validation_score_ = max(scores)
            self.best_loss_ = None
        else:
            self.validation_loss_curve_ = None
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        self.report_ = report
        if stopping and report["stop_reason"] == "completed" and self.solver != "lbfgs":
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({epochs}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        self._store_training_summary(report, config)
        self._set_parameters()

    def _store_training_summary(self, report, config):
        metadata = json.loads(self._model.metadata_json())
        params = {}
        for key, value in self.get_params(deep=False).items():
            try:
                json.dumps(value)
                params[key] = value
            except TypeError:
                params[key] = repr(value)
        metadata["training"] = {
            "trained_by": "python",
            "estimator": type(self).__name__,
            "params": params,
            "epochs": len(report["history"]),
            "best_epoch": report["best_epoch"],
            "best_loss": report["best_loss"],
            "stop_reason": report["stop_reason"],
            "final_train_loss": report["final_train_loss"],
            "final_val_loss": report["final_val_loss"],
            "optimizer": config["optimizer"],
            "seed": config["seed"],
            "classes_dtype": None
            if getattr(self, "classes_", None) is None
            else self.classes_.dtype.str,
            "feature_names": getattr(self, "feature_names_in_", None) is not None,
        }
        self._model.set_metadata_json(json.dumps(metadata))

    def _set_parameters(self):
        layers = self._model.layers()
        self.coefs_ = [w.T for w, _ in layers]
        self.intercepts_ = [b for _, b in layers]
        self.n_layers_ = len(layers) + 1

    def _outputs(self, X):
        check_is_fitted(self, "_model")
        return self._model.predict(self._inputs(X, reset=False))

    # ------------------------------------------------------------------------- persistence

    def save(self, path):
        """Writes the model file (``.safetensors``) that ``backprop predict`` reads."""
        check_is_fitted(self, "_model")
        self._model.save(str(path))

    def to_bytes(self):
        """The bytes of the model file."""
        check_is_fitted(self, "_model")
        return self._model.to_bytes()

    @classmethod
    def load(cls, path):
        """Reads a model file written by :meth:`save` or by ``backprop train``."""
        estimator = load(path)
        if not isinstance(estimator, cls):
            raise ValueError(
                f"{path} holds a {type(estimator).__name__} model, not a {cls.__name__}"
            )
        return estimator

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        model = state.pop("_model", None)
        if model is not None:
            state["_model_bytes"] = model.to_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        data = state.pop("_model_bytes", None)
        if data is not None:
            state["_model"] = NativeModel.from_bytes(data)
        super().__setstate__(state)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by the backprop engine.

    Softmax outputs with cross-entropy (also for two classes: the output layer then has two
    units where scikit-learn has one logistic unit). Parameters are scikit-learn's
    ``MLPClassifier``'s, plus ``class_weight`` (None, ``'balanced'`` or a dict of class →
    weight), ``dropout`` (on every hidden layer), ``schedule`` (an engine learning-rate
    schedule as a dict), ``clip_norm``, ``n_threads``, per-layer activations (a list), and
    the solvers ``adamw``, ``rmsprop``, ``adagrad`` and ``rprop``.
    """

    _task = "classify"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        dropout=0.0,
        class_weight=None,
        schedule=None,
        clip_norm=None,
        n_threads=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            dropout=dropout,
            schedule=schedule,
            clip_norm=clip_norm,
            n_threads=n_threads,
        )
        self.class_weight = class_weight

    def _loss(self, classes, y_idx):
        weights = None
        if isinstance(self.class_weight, str):
            if self.class_weight != "balanced":
                raise ValueError(
                    f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}"
                )
            counts = np.bincount(y_idx, minlength=len(classes)).astype(np.float64)
            counts[counts == 0] = 1.0
            weights = (len(y_idx) / (len(classes) * counts)).tolist()
        elif isinstance(self.class_weight, dict):
            weights = [float(self.class_weight.get(c, 1.0)) for c in classes.tolist()]
            unknown = set(self.class_weight) - set(classes.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight names classes not in the data: {sorted(map(str, unknown))}"
                )
        elif self.class_weight is not None:
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}"
            )
        return {"kind": "cross_entropy", "label_smoothing": 0.0, "class_weights": weights}

    def _encode(self, y):
        y_idx = np.searchsorted(self.classes_, y)
        y_idx = np.clip(y_idx, 0, len(self.classes_) - 1)
        unseen = self.classes_[y_idx] != y
        if np.any(unseen):
            raise ValueError(
                f"y contains previously unseen labels: {sorted(map(str, set(y[unseen].tolist())))}"
            )
        return np.ascontiguousarray(y_idx, dtype=np.uint32)

    def _fit(self, X, y, incremental, classes=None):
        first = not incremental or not hasattr(self, "_model")
        X, y = validate_data(
            self, X, y, reset=first, dtype=(np.float64, np.float32), order="C"
        )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            self._input_scaling = None
        X = self._scaled(X)
        seed = self._seed()
        if first:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {labels[0]!r}"
                )
            self.classes_ = labels
            self.n_outputs_ = 1
            self.out_activation_ = "softmax"
        y_idx = self._encode(y)
        if first:
            metadata = self._metadata(
                X.shape[1],
                len(self.classes_),
                self._loss(self.classes_, y_idx),
                self.classes_,
                getattr(self, "feature_names_in_", None),
            )
            self._model = self._new_model(metadata, seed)
        epochs = 1 if incremental else self._epochs()
        self._train(X, (y_idx, None), epochs, seed, incremental)
        return self

    def fit(self, X, y):
        """Trains on X (n_samples × n_features) and class labels y (n_samples,)."""
        if self.warm_start and hasattr(self, "_model"):
            return self._fit_warm(X, y)
        for attr in ("_model", "loss_curve_", "t_"):
            if hasattr(self, attr):
                delattr(self, attr)
        return self._fit(X, y, incremental=False)

    def _fit_warm(self, X, y):
        X, y = validate_data(
            self, X, y, reset=False, dtype=(np.float64, np.float32), order="C"
        )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        X = self._scaled(X)
        y_idx = self._encode(y)
        self._train(X, (y_idx, None), self._epochs(), self._seed(), incremental=False)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing from the current weights.

        ``classes`` (all labels that will ever appear) is required on the first call.
        """
        if not hasattr(self, "_model"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            for attr in ("loss_curve_", "t_"):
                if hasattr(self, attr):
                    delattr(self, attr)
        elif classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"`classes={list(classes)}` is not the same as on the first call to "
                f"partial_fit, which was {list(self.classes_)}"
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def _probabilities(self, X):
        proba = self._outputs(X)
        if proba.shape[1] == 1:
            # A binary model with one sigmoid output (trained by `backprop train`).
            proba = np.hstack([1.0 - proba, proba])
        return proba

    def predict_proba(self, X):
        """Class probabilities, n_samples × n_classes (rows sum to 1), columns as ``classes_``."""
        proba = self._probabilities(X).astype(np.float64)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict_log_proba(self, X):
        """The logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of every row."""
        proba = self._probabilities(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by the backprop engine.

    Identity outputs with the mean squared error (scikit-learn's MLPRegressor reports half of
    it as ``loss_curve_``); one output per target column. Parameters are scikit-learn's
    ``MLPRegressor``'s plus ``dropout``, ``schedule``, ``clip_norm``, ``n_threads``,
    per-layer activations and the extra solvers (see :class:`MLPClassifier`).
    """

    _task = "regress"

    def _targets(self, y):
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        return np.ascontiguousarray(y)

    def _fit(self, X, y, incremental):
        first = not incremental or not hasattr(self, "_model")
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            dtype=(np.float64, np.float32),
            order="C",
            multi_output=True,
            y_numeric=True,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if first:
            self._input_scaling = None
        elif n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} outputs, but {type(self).__name__} was fitted with "
                f"{self.n_outputs_}"
            )
        X = self._scaled(X)
        seed = self._seed()
        if first:
            self.n_outputs_ = n_outputs
            self.out_activation_ = "identity"
            metadata = self._metadata(
                X.shape[1],
                n_outputs,
                {"kind": "mse"},
                None,
                getattr(self, "feature_names_in_", None),
            )
            self._model = self._new_model(metadata, seed)
        epochs = 1 if incremental else self._epochs()
        self._train(X, (None, self._targets(y)), epochs, seed, incremental)
        return self

    def fit(self, X, y):
        """Trains on X (n_samples × n_features) and targets y (n_samples or n_samples × n_outputs)."""
        if self.warm_start and hasattr(self, "_model"):
            X, y = validate_data(
                self,
                X,
                y,
                reset=False,
                dtype=(np.float64, np.float32),
                order="C",
                multi_output=True,
                y_numeric=True,
            )
            X = self._scaled(X)
            self._train(X, (None, self._targets(y)), self._epochs(), self._seed(), False)
            return self
        for attr in ("_model", "loss_curve_", "t_"):
            if hasattr(self, attr):
                delattr(self, attr)
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predicted values: (n_samples,) for one target, else (n_samples, n_outputs)."""
        # float64 like scikit-learn's regressors (the network computes in float32).
        out = self._outputs(X).astype(np.float64)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _classes_from(strings, metadata):
    dtype = (metadata.get("training") or {}).get("classes_dtype")
    if dtype is not None:
        return np.array(strings).astype(np.dtype(dtype))
    target = (metadata.get("preprocessing") or {}).get("target") or {}
    if target.get("numeric"):
        values = np.array(strings, dtype=np.float64)
        if np.all(values == np.round(values)):
            return values.astype(np.int64)
        return values
    return np.array(strings, dtype=object)


def load(path):
    """Reads a model file (written by ``save`` or by ``backprop train``) as a fitted estimator.

    Models whose preprocessing one-hot encodes categorical columns cannot be used from
    Python (the estimators take numeric arrays); numeric scaling is applied as stored.
    """
    return _from_native(NativeModel.load(str(path)))


def _from_native(model):
    metadata = json.loads(model.metadata_json())
    training = metadata.get("training") or {}
    cls = MLPClassifier if metadata["task"] == "classify" else MLPRegressor
    params = training.get("params") if training.get("trained_by") == "python" else None
    estimator = cls()
    if params:
        valid = estimator.get_params(deep=False)
        restored = {k: v for k, v in params.items() if k in valid}
        if isinstance(restored.get("hidden_layer_sizes"), list):
            restored["hidden_layer_sizes"] = tuple(restored["hidden_layer_sizes"])
        try:
            estimator.set_params(**restored)
        except (TypeError, ValueError):
            pass
    else:
        arch = metadata["architecture"]
        estimator.set_params(
            hidden_layer_sizes=tuple(h["units"] for h in arch["hidden"]),
            activation=[h["activation"] for h in arch["hidden"]],
        )
    preprocessing = metadata.get("preprocessing") or {}
    features = preprocessing.get("features") or []
    offsets, scales, names = [], [], []
    for feature in features:
        if feature.get("kind") != "numeric":
            raise ValueError(
                f"the model one-hot encodes the column {feature.get('name')!r}: categorical "
                "features are not supported by the Python estimators (use `backprop predict`)"
            )
        offsets.append(float(feature["offset"]))
        scales.append(float(feature["scale"]))
        names.append(feature["name"])
    arch = metadata["architecture"]
    estimator._model = model
    estimator.n_features_in_ = arch["inputs"]
    identity = all(o == 0.0 for o in offsets) and all(s == 1.0 for s in scales)
    estimator._input_scaling = (
        None if identity else (np.array(offsets), np.array(scales))
    )
    if names and (training.get("trained_by") != "python" or training.get("feature_names")):
        estimator.feature_names_in_ = np.array(names, dtype=object)
    if metadata["task"] == "classify":
        estimator.classes_ = _classes_from(metadata["classes"], metadata)
        estimator.n_outputs_ = 1
        estimator.out_activation_ = arch["output"]
    else:
        estimator.n_outputs_ = arch["outputs"]
        estimator.out_activation_ = "identity"
    estimator.n_iter_ = training.get("epochs", 0)
    estimator._set_parameters()
    return estimator
