"""Behaviour of backprop.MLPClassifier and backprop.MLPRegressor beyond scikit-learn's checks."""

import json
import os
import pickle
import shutil
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor

import backprop
from backprop import MLPClassifier, MLPRegressor, _native

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=300, centers=3, n_features=4, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    return X, y / y.std()


def fitted_classifier(blobs, **params):
    X, y = blobs
    settings = dict(hidden_layer_sizes=(16,), max_iter=100, random_state=0)
    settings.update(params)
    return MLPClassifier(**settings).fit(X, y)


def safetensors_metadata(path):
    """The `__metadata__` of a safetensors file, read without any library."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    return header, header["__metadata__"]


def rewrite_metadata(path, edit):
    """Edits the `backprop` metadata of a model file in place, as another writer would."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    metadata = json.loads(header["__metadata__"]["backprop"])
    edit(metadata)
    header["__metadata__"]["backprop"] = json.dumps(metadata)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads its header to 8 bytes
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length :])


def test_classifier_fits_and_predicts(blobs):
    X, y = blobs
    clf = fitted_classifier(blobs)
    assert clf.score(X, y) > 0.95
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(proba >= 0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    assert clf.n_features_in_ == 4
    assert clf.n_iter_ == len(clf.loss_curve_) <= 100
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_string_labels_and_sklearn_layout(blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = fitted_classifier((X, labels), hidden_layer_sizes=(8, 6))
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert [w.shape for w in clf.coefs_] == [(4, 8), (8, 6), (6, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (6,), (3,)]
    # coefs_ reproduce the predictions (relu hidden layers, softmax output).
    a = X.astype(np.float32)
    for w, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1]):
        a = np.maximum(a @ w + b, 0)
    z = a @ clf.coefs_[-1] + clf.intercepts_[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, clf.predict_proba(X), atol=1e-5)


def test_same_seed_same_weights_any_thread_count(blobs):
    # 256 units over batches of 200 rows: the first layer's product (200 · 4 · 256
    # multiply-adds) is past the engine's threshold for sharing work (2^16), and its 256
    # columns split into blocks of 64, so on 2 threads the work really is split.
    wide = dict(hidden_layer_sizes=(256,), max_iter=5)
    before = _native._parallel_task_count()
    a = fitted_classifier(blobs, n_threads=1, **wide)
    assert _native._parallel_task_count() == before, "one thread hands out no work"
    b = fitted_classifier(blobs, n_threads=2, **wide)
    assert _native._parallel_task_count() > before, "the 2-thread fit split no work"
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    c = fitted_classifier(blobs, random_state=1, **wide)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_pickle_round_trip(blobs):
    X, _ = blobs
    clf = fitted_classifier(blobs)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.get_params() == clf.get_params()
    assert back.loss_curve_ == clf.loss_curve_


def test_save_and_load(tmp_path, blobs):
    X, y = blobs
    labels = np.array(["a", "b", "c"])[y]
    clf = fitted_classifier((X, labels))
    path = tmp_path / "model.safetensors"
    clf.save(path)
    header, metadata = safetensors_metadata(path)
    assert header["layers.0.weight"]["shape"] == [16, 4]
    meta = json.loads(metadata["backprop"])
    assert meta["task"] == "classify"
    assert meta["classes"] == ["a", "b", "c"]
    assert meta["preprocessing"]["target"]["classes"] == ["a", "b", "c"]
    assert [f["name"] for f in meta["preprocessing"]["features"]] == ["x0", "x1", "x2", "x3"]
    loaded = backprop.load(path)
    assert isinstance(loaded, MLPClassifier)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    with pytest.raises(ValueError, match="MLPClassifier"):
        MLPRegressor.load(path)
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(ValueError):
        backprop.load(tmp_path / "junk.safetensors")


def test_regressor_single_and_multi_output(tmp_path, regression):
    X, y = regression
    reg = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01,
                       random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert reg.predict(X).shape == (len(X),)
    Y = np.column_stack([y, -2 * y])
    multi = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01,
                         random_state=0).fit(X, Y)
    assert multi.predict(X).shape == (len(X), 2)
    assert multi.score(X, Y) > 0.9
    multi.save(tmp_path / "reg.safetensors")
    back = MLPRegressor.load(tmp_path / "reg.safetensors")
    np.testing.assert_array_equal(back.predict(X), multi.predict(X))


def test_partial_fit_continues(blobs):
    X, y = blobs
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    for _ in range(30):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 30 and len(clf.loss_curve_) == 30
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    with pytest.raises(ValueError, match="unseen labels"):
        clf.partial_fit(X[:2], [0, 7])
    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    reg.partial_fit(X, y.astype(float))
    reg.partial_fit(X, y.astype(float))
    assert reg.n_iter_ == 2


def test_errors_are_sklearn_kinds(blobs):
    X, y = blobs
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    clf = fitted_classifier(blobs)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(max_iter=2).fit(bad, y)
    with pytest.raises(ValueError, match="infinity"):
        clf.predict(np.where(bad == bad, bad, np.inf))
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="solver"):
        MLPClassifier(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="activation"):
        MLPClassifier(hidden_layer_sizes=(4, 4), activation=["relu"]).fit(X, y)
    with pytest.raises(ValueError):
        MLPClassifier(activation="no_such_thing", max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(dropout=1.5).fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "rprop", "lbfgs"])
def test_every_solver_learns(blobs, solver):
    X, y = blobs
    lr = {"sgd": 0.05, "rprop": 0.01}.get(solver, 0.01)
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, max_iter=60,
                        learning_rate_init=lr, random_state=0, batch_size=300)
    clf.fit(X, y)
    assert clf.score(X, y) > 0.9, solver


def test_extras_per_layer_activations_dropout_class_weight_schedule(blobs):
    X, y = blobs
    clf = fitted_classifier(
        blobs,
        hidden_layer_sizes=(16, 8),
        activation=["tanh", "gelu"],
        dropout=0.1,
        class_weight="balanced",
        schedule={"kind": "cosine", "warmup_epochs": 5, "t_max": 100, "eta_min": 0.0},
        learning_rate_init=0.01,
    )
    assert clf.score(X, y) > 0.9
    meta = json.loads(clf._model.metadata_json())
    assert [h["activation"] for h in meta["architecture"]["hidden"]] == ["tanh", "gelu"]
    assert meta["loss"]["class_weights"] is not None
    heavy = fitted_classifier(blobs, class_weight={0: 1000.0, 1: 1e-4, 2: 1e-4}, max_iter=30)
    assert np.mean(heavy.predict(X) == 0) > 0.8


def test_early_stopping_keeps_validation_history(blobs, regression):
    clf = fitted_classifier(blobs, early_stopping=True, max_iter=500, n_iter_no_change=5,
                            learning_rate_init=0.01)
    assert clf.n_iter_ < 500
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.validation_loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9
    X, y = regression
    reg = MLPRegressor(early_stopping=True, max_iter=50, random_state=0).fit(X, y)
    assert len(reg.validation_scores_) == reg.n_iter_


def test_tol_stops_training_loss_plateau(blobs):
    clf = fitted_classifier(blobs, tol=10.0, n_iter_no_change=2, max_iter=100)
    # No epoch improves by 10, so training stops after n_iter_no_change + 1 epochs more.
    assert clf.n_iter_ == 4


def test_pandas_feature_names(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = fitted_classifier((frame, y))
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    meta = json.loads(clf._model.metadata_json())
    assert [f["name"] for f in meta["preprocessing"]["features"]] == ["a", "b", "c", "d"]
    back = pickle.loads(pickle.dumps(clf))
    assert list(back.feature_names_in_) == ["a", "b", "c", "d"]


def test_grid_search_clones_and_scores(blobs):
    X, y = blobs
    search = GridSearchCV(
        MLPClassifier(max_iter=50, learning_rate_init=0.01, random_state=0),
        {"hidden_layer_sizes": [(4,), (16,)]}, cv=2
    )
    search.fit(X, y)
    assert search.best_score_ > 0.8


def test_ctrl_c_interrupts_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 64)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=100000, tol=0.0,
                        n_iter_no_change=100000, random_state=0)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    timer.join()
    assert time.monotonic() - start < 30


def _cli_binary():
    candidates = [os.environ.get("BACKPROP_BIN"), REPO / "target/release/backprop"]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return str(path)
    return shutil.which("backprop")


def test_cli_predicts_with_a_python_model(tmp_path, blobs):
    binary = _cli_binary()
    if binary is None:
        pytest.skip("no backprop binary (build it with `cargo build --release`)")
    X, y = blobs
    labels = np.array(["red", "green", "blue"])[y]
    clf = fitted_classifier((X, labels))
    clf.save(tmp_path / "model.safetensors")
    data = tmp_path / "data.csv"
    with data.open("w") as f:
        f.write("x0,x1,x2,x3\n")
        for row in X:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    out = subprocess.run(
        [binary, "predict", str(tmp_path / "model.safetensors"), str(data), "--proba"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    assert out[0] == "prediction,p_blue,p_green,p_red"
    rows = [line.split(",") for line in out[1:]]
    np.testing.assert_array_equal([r[0] for r in rows], clf.predict(X))
    proba = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-6)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_a_cli_regressor_predicts_in_its_targets_units(tmp_path, regression):
    """`backprop train` learns a standardized target; Python's predictions undo it, and more
    training from Python goes on in the same units."""
    binary = _cli_binary()
    if binary is None:
        pytest.skip("no backprop binary (build it with `cargo build --release`)")
    X, y = regression
    y = 50_000 + 10_000 * y
    data = tmp_path / "train.csv"
    with data.open("w") as f:
        f.write("x0,x1,x2,x3,x4,price\n")
        for row, target in zip(X, y):
            f.write(",".join(repr(float(v)) for v in [*row, target]) + "\n")
    model = tmp_path / "model.safetensors"
    subprocess.run([binary, "train", str(data), "--epochs", "30", "--save", str(model)],
                   check=True, capture_output=True)
    out = subprocess.run([binary, "predict", str(model), str(data), "--precision", "full"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    from_cli = np.array([float(v) for v in out[1:]])
    loaded = backprop.load(model)
    predicted = loaded.predict(X)
    np.testing.assert_allclose(predicted, from_cli, rtol=1e-6)
    assert abs(predicted.mean() - 50_000) < 5_000
    assert r2_score(y, predicted) > 0.5
    loaded.partial_fit(X, y)
    assert r2_score(y, loaded.predict(X)) > 0.5, "partial_fit learns the same standardized target"


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_a_model_with_standardized_inputs_is_read_as_the_cli_writes_it(tmp_path, blobs):
    """`backprop train` stores the scaler in the preprocessing; Rust applies it to X."""
    X, y = blobs
    mean, std = X.mean(axis=0), X.std(axis=0)
    clf = fitted_classifier(((X - mean) / std, y))
    path = tmp_path / "cli.safetensors"
    clf.save(path)

    def as_the_cli_writes_it(meta):
        meta["preprocessing"]["scaler"] = "standard"
        for feature, m, s in zip(meta["preprocessing"]["features"], mean, std):
            feature.update(offset=float(m), scale=float(s))
        meta["training"] = {"epochs": 100}

    rewrite_metadata(path, as_the_cli_writes_it)
    loaded = backprop.load(path)
    assert loaded.hidden_layer_sizes == (16,)
    assert list(loaded.feature_names_in_) == ["x0", "x1", "x2", "x3"]
    np.testing.assert_array_equal(loaded.classes_, [0, 1, 2])
    np.testing.assert_allclose(
        loaded.predict_proba(X), clf.predict_proba((X - mean) / std), atol=1e-5
    )
    # Training scales the raw features too: the same step as on the standardized data.
    same = dict(random_state=0, batch_size=len(X))
    loaded.set_params(**same).partial_fit(X, y)
    clf.set_params(**same).partial_fit((X - mean) / std, y)
    for a, b in zip(loaded.coefs_ + loaded.intercepts_, clf.coefs_ + clf.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_a_model_with_one_hot_columns_is_refused_with_the_reason(tmp_path, blobs):
    path = tmp_path / "one_hot.safetensors"
    fitted_classifier(blobs, max_iter=2).save(path)

    def one_hot(meta):
        meta["preprocessing"]["features"][3] = {
            "name": "color", "kind": "one_hot", "categories": ["red"]
        }

    rewrite_metadata(path, one_hot)
    with pytest.raises(ValueError, match='one-hot encodes the column "color"'):
        backprop.load(path)


def test_errors_map_to_python_exceptions(tmp_path, regression):
    with pytest.raises(OSError, match="missing.safetensors"):
        backprop.load(tmp_path / "missing.safetensors")
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    X, y = regression
    reg.fit(X, y)
    with pytest.raises(OSError):
        reg.save(tmp_path / "no_such_dir" / "model.safetensors")
    with pytest.raises(FloatingPointError):
        MLPRegressor(solver="sgd", learning_rate_init=1e6, max_iter=20, random_state=0).fit(
            X, 1e3 * y
        )


def test_optimizer_settings_fill_in_the_engine_defaults(blobs):
    clf = fitted_classifier(blobs, solver="rmsprop", max_iter=2, learning_rate_init=0.002)
    optimizer = json.loads(clf._model.training_json())["optimizer"]
    # PyTorch's RMSprop defaults, from the engine; Python sent the rate and epsilon only.
    assert optimizer == {
        "kind": "rmsprop", "lr": 0.002, "alpha": 0.99, "eps": 1e-8,
        "weight_decay": 0.0, "momentum": 0.0, "centered": False,
    }
    X, y = blobs
    model = _native.NativeModel(4, [3], ["relu"], 0, classes=["0", "1", "2"])
    y_idx = y.astype(np.uint32)

    def fit(optimizer):
        config = json.dumps({"epochs": 1, "optimizer": optimizer})
        model.fit(X, y_idx, None, config, "{}")

    with pytest.raises(ValueError, match='adam optimizer has no setting "momentum"'):
        fit({"kind": "adam", "momentum": 0.9})
    with pytest.raises(ValueError, match="adam: beta1 = 1.5"):
        fit({"kind": "adam", "beta1": 1.5})


def sgd_steps_from_the_same_weights(ours, theirs, X, y, **first):
    """Fits both estimators once (`first`: partial_fit's extra arguments), gives scikit-learn's
    the weights of ours, takes three more full-batch steps on each, and checks the weights."""
    ours.partial_fit(X, y, **first)
    theirs.partial_fit(X, y, **first)
    theirs.coefs_ = [np.array(w, dtype=np.float64) for w in ours.coefs_]
    theirs.intercepts_ = [np.array(b, dtype=np.float64) for b in ours.intercepts_]
    for _ in range(3):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


SGD_STEPS = dict(hidden_layer_sizes=(8,), solver="sgd", momentum=0.0, nesterovs_momentum=False,
                 shuffle=False, random_state=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_alpha_is_scikit_learns_l2_penalty():
    """From the same weights, full-batch SGD steps with alpha match scikit-learn's."""
    X, y = make_blobs(n_samples=60, centers=3, n_features=5, random_state=1)
    X = (X / X.std()).astype(np.float32).astype(np.float64)  # the same inputs in float32
    settings = dict(SGD_STEPS, learning_rate_init=0.1, alpha=5.0, batch_size=len(X))
    ours, theirs = MLPClassifier(**settings), SklearnMLPClassifier(**settings)
    sgd_steps_from_the_same_weights(ours, theirs, X, y, classes=[0, 1, 2])
    # The loss includes the penalty alpha / (2 · rows) · ΣW², as scikit-learn's.
    np.testing.assert_allclose(ours.loss_curve_[-3:], theirs.loss_curve_[-3:], rtol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("outputs", [1, 2])
def test_the_regressors_alpha_weighs_as_scikit_learns(regression, outputs):
    """The engine's gradient of the mean squared error is 2 / outputs times scikit-learn's: with
    the learning rate scaled by outputs / 2, full-batch SGD steps with alpha must match."""
    X, y = regression
    X = X.astype(np.float32).astype(np.float64)
    Y = y if outputs == 1 else np.column_stack([y, 0.5 * y - 1.0])
    settings = dict(SGD_STEPS, alpha=3.0, batch_size=len(X))
    ours = MLPRegressor(**settings, learning_rate_init=0.02 * outputs / 2)
    theirs = SklearnMLPRegressor(**settings, learning_rate_init=0.02)
    sgd_steps_from_the_same_weights(ours, theirs, X, Y)


def test_alpha_decays_the_weights_not_the_biases(regression):
    X, y = regression
    n, lr, alpha = len(X), 0.05, 8.0
    reg = MLPRegressor(hidden_layer_sizes=(6,), solver="sgd", momentum=0.0,
                       learning_rate_init=lr, alpha=0.0, batch_size=n, random_state=0)
    reg.partial_fit(X, y)
    # Targets equal to the network's outputs: the data's gradient is zero (to rounding),
    # so one step with alpha only scales the weights, by 1 - lr · (2 · alpha) / rows (the
    # regressor's penalty is 2 / n_outputs · alpha, see _penalty_scale).
    fitted = reg.predict(X)
    coefs = [w.copy() for w in reg.coefs_]
    intercepts = [b.copy() for b in reg.intercepts_]
    assert all(np.abs(b).max() > 1e-3 for b in intercepts)
    reg.set_params(alpha=alpha).partial_fit(X, fitted)
    for w0, w in zip(coefs, reg.coefs_):
        np.testing.assert_allclose(w, w0 * (1 - lr * 2 * alpha / n), rtol=1e-5, atol=1e-7)
    for b0, b in zip(intercepts, reg.intercepts_):
        np.testing.assert_allclose(b, b0, rtol=0, atol=1e-6)


def test_regressor_validation_scores_are_r2_of_the_held_out_rows(regression):
    X, y = regression
    Y = np.column_stack([y, 3 * y + 1])
    reg = MLPRegressor(hidden_layer_sizes=(16,), early_stopping=True, max_iter=30,
                       learning_rate_init=0.01, random_state=0).fit(X, Y)
    # The split `fit` made: its seed is the first draw of random_state (as in `_seed`).
    seed = int(np.random.RandomState(0).randint(0, 2**31 - 1))
    _, val_idx = train_test_split(np.arange(len(X)), test_size=0.1, random_state=seed)
    kept = reg.report_["best_epoch"]  # early stopping keeps the best epoch's weights
    expected = r2_score(Y[val_idx], reg.predict(X[val_idx]))
    assert reg.validation_scores_[kept - 1] == pytest.approx(expected, abs=1e-5)
    assert reg.best_validation_score_ == max(reg.validation_scores_)
