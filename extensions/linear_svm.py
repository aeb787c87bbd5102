"""A one-vs-rest linear SVM that trains its per-intent problems on all cores and keeps only
the weights that are not zero.

It solves the same problems as scikit-learn's `LinearSVC` with `class_weight="balanced"`
(liblinear's one-vs-rest: the intent's own examples weigh C·w_k, all others C), one binary
liblinear problem per intent, in threads (liblinear releases the GIL). Decision values agree
with `LinearSVC` to within liblinear's tolerance (tests/unit/test_linear_svm.py). The weights
are stored sparse: a dual solver leaves the weight of every n-gram that no support vector
has at exactly zero, about two thirds of them: the model file is 22 MB instead of 39 MB and
quicker to write, pack and load. In memory the weights are dense, for speed. See
docs/decisions/0002-nlu-pipeline.md."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC
from sklearn.utils.class_weight import compute_class_weight

ZERO = 1e-12  # weights below this are the dual solver's rounding residue, not signal


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class OneVsRestLinearSVC(BaseEstimator, ClassifierMixin):
    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced",
                 random_state: int | None = 42, tol: float = 1e-4, max_iter: int = 1000,
                 n_jobs: int | None = None) -> None:
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any) -> OneVsRestLinearSVC:
        X = sp.csr_matrix(X, dtype=np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("needs examples of at least two intents")
        weights = (compute_class_weight(self.class_weight, classes=self.classes_, y=y)
                   if self.class_weight else np.ones(len(self.classes_)))

        def solve(k: int) -> tuple[np.ndarray, float]:
            svm = LinearSVC(C=self.C, class_weight={1: float(weights[k]), 0: 1.0},
                            random_state=self.random_state, tol=self.tol,
                            max_iter=self.max_iter)
            svm.fit(X, (y == self.classes_[k]).astype(np.int64))
            return svm.coef_[0], float(svm.intercept_[0])

        with ThreadPoolExecutor(self.n_jobs or default_workers()) as pool:
            solved = list(pool.map(solve, range(len(self.classes_))))
        weights_ = np.vstack([w for w, _ in solved])
        weights_[np.abs(weights_) < ZERO] = 0.0  # the solver's rounding residue
        # float32 is ample for margins and halves the stored weights; one row per n-gram
        self.weights_ = sp.csr_matrix(weights_.T.astype(np.float32))
        self.intercept_ = np.array([b for _, b in solved])
        self.n_features_in_ = X.shape[1]
        self._dense = self.weights_.toarray()
        return self

    @property
    def coef_(self) -> sp.csc_matrix:
        """One row of weights per intent, as in scikit-learn's linear models."""
        return self.weights_.T

    def decision_function(self, X: Any) -> np.ndarray:
        # sparse on disk, dense in memory (`_dense`, built by fit and on loading): a product
        # with a dense matrix takes microseconds per message, one with a sparse one
        # milliseconds. The message in float32 too: float64 would make scipy convert the
        # weights on every call.
        return np.asarray(sp.csr_matrix(X, dtype=np.float32) @ self._dense,
                          dtype=np.float64) + self.intercept_

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_dense", None)  # never stored: the model file keeps the sparse weights
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._dense = self.weights_.toarray()  # the first message must not wait for it

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]
