"""The parallel one-vs-rest SVM solves the same problems as scikit-learn's LinearSVC, and the
fitted intent pipeline never starts worker processes at parse time."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from extensions.intent_classifier import TfidfSvmIntentClassifier, build_pipeline, fit_pipeline
from extensions.linear_svm import OneVsRestLinearSVC

TEXTS = {
    "recognition": ["need my diploma recognised", "anerkennung of my nursing degree",
                    "is my engineering degree accepted", "recognition of qualification",
                    "do I need anerkennung", "my certificate recognised in germany"],
    "visa": ["which visa do I need", "skilled worker visa", "visa for work in germany",
             "how to apply for a visa", "visum beantragen", "visa appointment embassy"],
    "language": ["how good must my german be", "b1 or b2 german", "goethe certificate level",
                 "do I need german", "language course", "german level for nurses"],
    "greet": ["hello", "hi there", "good morning", "hallo", "hey", "salam"],
}
# imbalanced on purpose: class weights must be the multi-class "balanced" ones
TEXTS["greet"] = TEXTS["greet"][:3]


def dataset() -> tuple[list[str], np.ndarray]:
    texts = [t for items in TEXTS.values() for t in items]
    labels = np.array([label for label, items in TEXTS.items() for _ in items])
    return texts, labels


def test_decision_values_match_liblinear_one_vs_rest() -> None:
    texts, labels = dataset()
    X = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(texts)
    probe = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit(texts).transform(
        ["visa for nurses", "recognised diploma?", "hallo", "german b2"])
    reference = LinearSVC(C=1.0, class_weight="balanced", random_state=0, tol=1e-6,
                          max_iter=10000).fit(X, labels)
    ours = OneVsRestLinearSVC(C=1.0, class_weight="balanced", random_state=0, tol=1e-6,
                              max_iter=10000, n_jobs=2).fit(X, labels)
    assert list(ours.classes_) == list(reference.classes_)
    for rows in (X, probe):
        np.testing.assert_allclose(ours.decision_function(rows),
                                   reference.decision_function(rows), atol=1e-3)
    assert list(ours.predict(probe)) == list(reference.predict(probe))


def test_weights_are_stored_sparse_without_zeros() -> None:
    texts, labels = dataset()
    X = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit_transform(texts)
    model = OneVsRestLinearSVC().fit(X, labels)
    assert model.coef_.shape == (len(TEXTS), X.shape[1])
    assert model.weights_.format == "csr" and model.weights_.dtype == np.float32
    assert np.all(model.weights_.data != 0)


def test_one_intent_is_not_a_classifier() -> None:
    with pytest.raises(ValueError):
        OneVsRestLinearSVC().fit(np.eye(3), ["a", "a", "a"])


def test_the_fitted_pipeline_parses_without_worker_processes() -> None:
    texts, labels = dataset()
    pipeline = fit_pipeline(build_pipeline(TfidfSvmIntentClassifier.get_default_config()),
                            texts, list(labels))
    assert pipeline.steps[0][1].n_jobs is None
    assert pipeline.predict(["which visa for a welder"])[0] == "visa"


def test_the_model_file_keeps_only_the_sparse_weights() -> None:
    import pickle

    texts, labels = dataset()
    X = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(texts)
    model = OneVsRestLinearSVC().fit(X, labels)
    expected = model.decision_function(X)  # builds the dense copy in memory
    state = model.__getstate__()
    assert "_dense" not in state and "weights_" in state
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(loaded.decision_function(X), expected, rtol=1e-6)
