"""backprop: fast, deterministic multilayer perceptrons as scikit-learn estimators.

>>> from backprop import MLPClassifier
>>> clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0)
>>> clf.fit(X, y).predict(X[:5])                      # doctest: +SKIP
>>> clf.save("model.safetensors")                     # doctest: +SKIP

The estimators follow scikit-learn's conventions (``get_params``/``set_params``, ``fit``,
``predict``, ``predict_proba``, ``score``, ``partial_fit``, pickling) and train with the Rust
engine of backprop. A saved model is the very file the ``backprop`` command reads and writes:
``backprop predict model.safetensors data.csv`` serves a model trained in Python, and
:func:`load` reads a model trained by ``backprop train``.
"""

from ._native import __version__
from ._estimators import MLPClassifier, MLPRegressor, load

__all__ = ["MLPClassifier", "MLPRegressor", "load", "__version__"]
