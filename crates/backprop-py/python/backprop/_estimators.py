"""MLPClassifier and MLPRegressor: scikit-learn estimators trained by the backprop engine.

Python checks the parameters and the arrays (with scikit-learn's messages) and keeps the
fitted attributes; the native model (``backprop._native.NativeModel``, over the engine and
the data crate) holds the model file, fills in the optimizers' defaults, applies the input
scaling of models trained by ``backprop train``, trains and predicts.
"""

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

from ._native import NativeModel

_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "rprop", "lbfgs")
# L-BFGS runs this many iterations per engine epoch (PyTorch's default `max_iter`).
_LBFGS_ITERATIONS_PER_EPOCH = 20
# Features reach the native model as they are (it scales them into float32 inputs).
_FEATURE_DTYPES = (np.float64, np.float32)


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
    """The parts the classifier and the regressor share: settings, the fit template, the model.

    A subclass supplies the hooks of :meth:`_fit`: ``_check_data`` (validate X and y),
    ``_learn_targets`` (the targets' layout, on the first fit), ``_encode_targets`` (y for
    the engine) and ``_output_settings`` (the output layer and loss of a new native model).
    """

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
        """The hidden layers' widths and activation names (the native model checks the names)."""
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
            return sizes, [activation] * len(sizes)
        try:
            activations = list(activation)
        except TypeError:
            raise ValueError(
                f"activation must be a name or a list of names, got {activation!r}"
            ) from None
        if not all(isinstance(a, str) for a in activations):
            raise ValueError(f"an activation must be a string, got {activation!r}")
        return sizes, activations

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

    def _optimizer(self):
        """The solver and the settings scikit-learn exposes; the engine fills in the rest."""
        solver = self.solver
        if solver not in _SOLVERS:
            raise ValueError(f"The solver {solver!r} is not supported; expected one of {_SOLVERS}")
        lr = _as_float(self.learning_rate_init, "learning_rate_init", 0.0, low_open=True)
        eps = _as_float(self.epsilon, "epsilon", 0.0, low_open=True)
        if solver == "sgd":
            momentum = _as_float(self.momentum, "momentum", 0.0, 1.0)
            nesterov = bool(self.nesterovs_momentum) and momentum > 0
            return {"kind": "sgd", "lr": lr, "momentum": momentum, "nesterov": nesterov}
        if solver in ("adam", "adamw"):
            return {
                "kind": solver,
                "lr": lr,
                "beta1": _as_float(self.beta_1, "beta_1", 0.0, 1.0, high_open=True),
                "beta2": _as_float(self.beta_2, "beta_2", 0.0, 1.0, high_open=True),
                "eps": eps,
            }
        if solver == "rmsprop":
            return {"kind": solver, "lr": lr, "eps": eps}
        if solver == "lbfgs":
            # A step length of 1 with a line search, as scikit-learn's (SciPy's) L-BFGS.
            return {
                "kind": solver,
                "max_iter": _LBFGS_ITERATIONS_PER_EPOCH,
                "max_eval": _LBFGS_ITERATIONS_PER_EPOCH * 5 // 4,
                "strong_wolfe": True,
            }
        return {"kind": solver, "lr": lr}

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
        n_iter_no_change = _as_int(self.n_iter_no_change, "n_iter_no_change", 1)
        tol = _as_float(self.tol, "tol", 0.0)
        return {
            "epochs": epochs,
            "batch_size": self._batch_size(n_samples),
            "optimizer": self._optimizer(),
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
            "dropout": _as_float(self.dropout, "dropout", 0.0, 1.0, high_open=True),
            # scikit-learn's alpha: an L2 penalty on the weights (not the biases) of
            # alpha / (2 · rows) · ΣW² on each batch's mean loss, for every solver.
            "l2_penalty": _as_float(self.alpha, "alpha", 0.0) * self._penalty_scale(),
            "threads": None
            if self.n_threads is None
            else _as_int(self.n_threads, "n_threads", 1),
        }

    def _penalty_scale(self):
        """The engine's L2 strength per unit of alpha, so that the data term and the penalty
        weigh against each other as in scikit-learn's objective (1 for the classifiers)."""
        return 1.0

    def _epochs(self):
        max_iter = _as_int(self.max_iter, "max_iter", 1)
        if self.solver == "lbfgs":
            return max(1, math.ceil(max_iter / _LBFGS_ITERATIONS_PER_EPOCH))
        return max_iter

    def _seed(self):
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    # ------------------------------------------------------------------------ fit template

    def fit(self, X, y):
        """Trains on X (n_samples × n_features) and y, from the current weights with
        ``warm_start=True`` after a first fit, else from new ones."""
        if not (self.warm_start and hasattr(self, "_model")):
            self._forget()
        return self._fit(X, y, incremental=False)

    def _forget(self):
        for attr in ("_model", "loss_curve_", "t_"):
            if hasattr(self, attr):
                delattr(self, attr)

    def _fit(self, X, y, incremental, classes=None):
        """Validates (X, y), makes the model on the first call and trains it: all epochs
        (with stopping) for ``fit``, one epoch for ``partial_fit`` (``incremental``)."""
        first = not hasattr(self, "_model")
        X, y = self._check_data(X, y, reset=first)
        if first:
            self._forget()
            self._learn_targets(y, classes)
        targets = self._encode_targets(y)
        seed = self._seed()
        if first:
            self._model = self._new_model(X.shape[1], seed, targets)
        epochs = 1 if incremental else self._epochs()
        self._train(X, targets, epochs, seed, incremental)
        return self

    def _validate(self, X, y, reset, **checks):
        return validate_data(self, X, y, reset=reset, dtype=_FEATURE_DTYPES, order="C", **checks)

    def _new_model(self, n_features, seed, targets):
        sizes, activations = self._hidden_layers()
        names = getattr(self, "feature_names_in_", None)
        return NativeModel(
            n_features,
            sizes,
            activations,
            seed,
            feature_names=None if names is None else [str(n) for n in names],
            **self._output_settings(targets),
        )

    def _train(self, X, targets, epochs, seed, incremental):
        """Runs the engine; `targets` is (classes uint32, None) or (None, values float32 2-D)."""
        classes_idx, values = targets
        stopping = not incremental
        X_val = classes_val = values_val = None
        if self.early_stopping and not incremental:
            fraction = _as_float(
                self.validation_fraction, "validation_fraction", 0.0, 1.0, True, True
            )
            train_idx, val_idx = train_test_split(
                np.arange(X.shape[0]), test_size=fraction, random_state=seed, stratify=classes_idx
            )
            train_idx.sort()
            val_idx.sort()
            X, X_val = X[train_idx], X[val_idx]
            if classes_idx is not None:
                classes_idx, classes_val = classes_idx[train_idx], classes_idx[val_idx]
            else:
                values, values_val = values[train_idx], values[val_idx]
        config = self._train_config(X.shape[0], epochs, seed, stopping)
        report = json.loads(
            self._model.fit(
                X,
                classes_idx,
                values,
                json.dumps(config),
                json.dumps(self._training_summary()),
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
            # Accuracy for a classifier, R² (scikit-learn's r2_score) for a regressor.
            score = "val_accuracy" if classes_val is not None else "val_r2"
            self.validation_scores_ = [e[score] for e in history]
            self.best_validation_score_ = max(self.validation_scores_)
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
        self._set_parameters()

    def _training_summary(self):
        """What Python adds to the model file's training summary (read back by `load`)."""
        params = {}
        for key, value in self.get_params(deep=False).items():
            try:
                json.dumps(value)
                params[key] = value
            except TypeError:
                params[key] = repr(value)
        classes = getattr(self, "classes_", None)
        return {
            "trained_by": "python",
            "estimator": type(self).__name__,
            "params": params,
            "classes_dtype": None if classes is None else classes.dtype.str,
            "feature_names": getattr(self, "feature_names_in_", None) is not None,
        }

    def _set_parameters(self):
        layers = self._model.layers()
        self.coefs_ = [w.T for w, _ in layers]
        self.intercepts_ = [b for _, b in layers]
        self.n_layers_ = len(layers) + 1

    def _features(self, X):
        """Validated raw features for the native model (which scales them as it was trained);
        `NotFittedError` before `fit`, so call it before touching `_model`."""
        check_is_fitted(self, "_model")
        return validate_data(self, X, reset=False, dtype=_FEATURE_DTYPES, order="C")

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
        state = dict(super().__getstate__())
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

    def _check_data(self, X, y, reset):
        X, y = self._validate(X, y, reset)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return X, y

    def _learn_targets(self, y, classes):
        labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        if len(labels) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {labels[0]!r}"
            )
        self.classes_ = labels
        self.n_outputs_ = 1
        self.out_activation_ = "softmax"

    def _encode_targets(self, y):
        y_idx = np.searchsorted(self.classes_, y)
        y_idx = np.clip(y_idx, 0, len(self.classes_) - 1)
        unseen = self.classes_[y_idx] != y
        if np.any(unseen):
            raise ValueError(
                f"y contains previously unseen labels: {sorted(map(str, set(y[unseen].tolist())))}"
            )
        return np.ascontiguousarray(y_idx, dtype=np.uint32), None

    def _output_settings(self, targets):
        return {
            "classes": [str(c) for c in self.classes_],
            "numeric_classes": self.classes_.dtype.kind in "biuf",
            "class_weights": self._class_weights(targets[0]),
        }

    def _class_weights(self, y_idx):
        classes = self.classes_
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # scikit-learn's compute_class_weight("balanced"): n / (classes · count).
            counts = np.bincount(y_idx, minlength=len(classes)).astype(np.float64)
            counts[counts == 0] = 1.0
            return (len(y_idx) / (len(classes) * counts)).tolist()
        if isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(classes.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight names classes not in the data: {sorted(map(str, unknown))}"
                )
            return [float(self.class_weight.get(c, 1.0)) for c in classes.tolist()]
        raise ValueError(
            f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}"
        )

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing from the current weights.

        ``classes`` (all labels that will ever appear) is required on the first call.
        """
        if not hasattr(self, "_model"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"`classes={list(classes)}` is not the same as on the first call to "
                f"partial_fit, which was {list(self.classes_)}"
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities, n_samples × n_classes (rows sum to 1), columns as ``classes_``."""
        X = self._features(X)
        return self._model.predict_proba(X)

    def predict_log_proba(self, X):
        """The logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of every row."""
        X = self._features(X)
        return self.classes_[self._model.predict_classes(X)]

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

    def _check_data(self, X, y, reset):
        X, y = self._validate(X, y, reset, multi_output=True, y_numeric=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _learn_targets(self, y, classes):
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.out_activation_ = "identity"

    def _encode_targets(self, y):
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} outputs, but {type(self).__name__} was fitted with "
                f"{self.n_outputs_}"
            )
        values = np.asarray(y, dtype=np.float32).reshape(len(y), n_outputs)
        return None, np.ascontiguousarray(values)

    def _output_settings(self, targets):
        return {"outputs": self.n_outputs_}

    def _penalty_scale(self):
        # scikit-learn minimizes ½·mean((y − ŷ)²) + alpha/(2n)·ΣW², but its output error is
        # (ŷ − y)/n, not divided by the outputs: its gradient is that of
        # (k/2)·mean((y − ŷ)²) + alpha/(2n)·ΣW² for k outputs. The engine's mean squared error
        # is mean((y − ŷ)²), so the penalty that points the same way is (2/k)·alpha.
        return 2.0 / self.n_outputs_

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predicted values: (n_samples,) for one target, else (n_samples, n_outputs)."""
        # float64 like scikit-learn's regressors (the network computes in float32).
        X = self._features(X)
        out = self._model.predict(X).astype(np.float64)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _classes_from(model, training):
    """The class labels of a model file with the dtype they had (numbers stay numbers)."""
    dtype = training.get("classes_dtype")
    if dtype is not None:
        return np.array(model.classes).astype(np.dtype(dtype))
    if model.numeric_classes:
        values = np.array(model.classes, dtype=np.float64)
        if np.all(values == np.round(values)):
            return values.astype(np.int64)
        return values
    return np.array(model.classes, dtype=object)


def load(path):
    """Reads a model file (written by ``save`` or by ``backprop train``) as a fitted estimator.

    Models whose preprocessing one-hot encodes categorical columns cannot be used from
    Python (the estimators take numeric arrays); numeric scaling is applied as stored.
    """
    return _from_native(NativeModel.load(str(path)))


def _from_native(model):
    training = json.loads(model.training_json())
    if not isinstance(training, dict):
        training = {}
    classify = model.task == "classify"
    estimator = MLPClassifier() if classify else MLPRegressor()
    by_python = training.get("trained_by") == "python"
    params = training.get("params") if by_python else None
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
        layers = model.hidden_layers
        estimator.set_params(
            hidden_layer_sizes=tuple(units for units, _ in layers),
            activation=[activation for _, activation in layers],
        )
    names = model.feature_names  # a ValueError for one-hot encoded columns
    estimator._model = model
    estimator.n_features_in_ = len(names)
    if not by_python or training.get("feature_names"):
        estimator.feature_names_in_ = np.array(names, dtype=object)
    if classify:
        estimator.classes_ = _classes_from(model, training)
        estimator.n_outputs_ = 1
        estimator.out_activation_ = model.output_activation
    else:
        estimator.n_outputs_ = model.outputs
        estimator.out_activation_ = "identity"
    estimator.n_iter_ = training.get("epochs", 0)
    estimator._set_parameters()
    return estimator
