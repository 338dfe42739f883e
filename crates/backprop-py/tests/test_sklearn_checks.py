"""scikit-learn's estimator conformance suite on MLPClassifier and MLPRegressor."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from backprop import MLPClassifier, MLPRegressor


# No expected failures: predictions are batch-invariant, so even
# `check_methods_subset_invariance` passes.
@parametrize_with_checks([MLPClassifier(), MLPRegressor()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
