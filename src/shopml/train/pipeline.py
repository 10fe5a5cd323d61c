"""Model pipelines: schema-implied preprocessing, an imbalance strategy, XGBoost or the logistic baseline.

Samplers live inside imbalanced-learn's :class:`~imblearn.pipeline.Pipeline` after the encoder, so they
resample only at fit and see numbers (one-hot columns, imputed numerics): validation, test and serving
never see synthetic rows. XGBoost handles missing numbers natively; distance-based samplers (SMOTE,
ADASYN, SMOTE-Tomek) need finite values, so their pipelines impute numerics with the training median.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from imblearn.combine import SMOTETomek
from imblearn.over_sampling import ADASYN, SMOTE
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier, XGBModel

from shopml.errors import ConfigError
from shopml.train.config import STRATEGIES, WEIGHTABLE, XGBParams

__all__ = [
    "build_baseline",
    "build_pipeline",
    "fit_pipeline",
    "make_preprocessor",
    "positive_scores",
    "serving_pipeline",
]

_NEEDS_FINITE = {"smote", "adasyn", "smote_tomek"}


def make_preprocessor(
    numeric: list[str], categorical: list[str], *, impute: bool = False, scale: bool = False
) -> ColumnTransformer:
    """One-hot encode categoricals (unseen → all zeros), pass numbers through (optionally imputed with the
    median and scaled). Dense output: XGBoost reads absent sparse entries as missing, ONNX as zero."""
    steps: list[tuple[str, Any]] = []
    if impute or scale:
        steps.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
    if scale:
        steps.append(("scale", StandardScaler()))
    num: Any = Pipeline(steps) if len(steps) > 1 else (steps[0][1] if steps else "passthrough")
    parts: list[tuple[str, Any, list[str]]] = []
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical))
    if numeric:
        parts.append(("num", num, numeric))
    return ColumnTransformer(parts, sparse_threshold=0.0, verbose_feature_names_out=True)


def _sampler(strategy: str, ratio: float, seed: int) -> Any:
    if strategy == "undersample":
        return RandomUnderSampler(sampling_strategy=ratio, random_state=seed)
    if strategy == "smote":
        return SMOTE(sampling_strategy=ratio, random_state=seed, k_neighbors=5)
    if strategy == "adasyn":
        return ADASYN(sampling_strategy=ratio, random_state=seed, n_neighbors=5)
    if strategy == "smote_tomek":
        return SMOTETomek(sampling_strategy=ratio, random_state=seed)
    return None


def make_xgb(params: XGBParams, seed: int, scale_pos_weight: float = 1.0) -> XGBClassifier:
    """An XGBoost classifier (hist trees, PR-AUC eval metric, early stopping as a constructor param)."""
    kw = params.model_dump()
    return XGBClassifier(
        **kw,
        tree_method="hist",
        objective="binary:logistic",
        eval_metric="aucpr",
        scale_pos_weight=scale_pos_weight,
        random_state=seed,
        verbosity=0,
    )


def build_pipeline(
    strategy: str,
    numeric: list[str],
    categorical: list[str],
    params: XGBParams,
    *,
    seed: int = 0,
    sampling_ratio: float = 0.1,
    pos_weight: float = 1.0,
) -> ImbPipeline:
    """``prep → [sampler] → XGBoost`` for one imbalance strategy. ``pos_weight`` (negatives/positives in
    training) is used by ``class_weight`` only."""
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown imbalance strategy '{strategy}' (expected one of {', '.join(STRATEGIES)})"
        )
    prep = make_preprocessor(numeric, categorical, impute=strategy in _NEEDS_FINITE)
    steps: list[tuple[str, Any]] = [("prep", prep)]
    sampler = _sampler(strategy, sampling_ratio, seed)
    if sampler is not None:
        steps.append(("sampler", sampler))
    weight = pos_weight if strategy == "class_weight" else 1.0
    steps.append(("model", make_xgb(params, seed, scale_pos_weight=weight)))
    return ImbPipeline(steps)


def weight_kwargs(pipe: ImbPipeline | Pipeline, weights: np.ndarray | None) -> dict[str, Any]:
    """``fit`` keyword arguments passing per-row ``weights`` to the model step (none when ``None``)."""
    if weights is None:
        return {}
    if "sampler" in pipe.named_steps:
        raise ConfigError(
            "weight_column: per-row weights cannot go through a resampling imbalance strategy "
            f"(rows are added or removed); use one of {', '.join(WEIGHTABLE)}"
        )
    return {"model__sample_weight": weights}


def fit_pipeline(
    pipe: ImbPipeline,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    weights: np.ndarray | None = None,
    valid_weights: np.ndarray | None = None,
) -> ImbPipeline:
    """Fit with early stopping on the validation period; the training period (before resampling) is the
    first eval set so the validation curve shows both. ``weights`` / ``valid_weights``: per training /
    validation row; they weigh the fit and the eval sets' metric, so early stopping watches the same
    weighted loss the model is selected on. Returns ``pipe``."""
    prep = clone(pipe.named_steps["prep"]).fit(X_train, y_train)
    eval_set = [(prep.transform(X_train), y_train), (prep.transform(X_valid), y_valid)]
    model = pipe.named_steps["model"]
    fit_kw: dict[str, Any] = {"model__verbose": False, **weight_kwargs(pipe, weights)}
    if isinstance(model, XGBModel):
        fit_kw["model__eval_set"] = eval_set
        if weights is not None or valid_weights is not None:
            fit_kw["model__sample_weight_eval_set"] = [weights, valid_weights]
    pipe.fit(X_train, y_train, **fit_kw)
    return pipe


def build_baseline(numeric: list[str], categorical: list[str], seed: int = 0) -> Pipeline:
    """The honest baseline: logistic regression on imputed, scaled numbers and one-hot categories."""
    return Pipeline(
        [
            ("prep", make_preprocessor(numeric, categorical, impute=True, scale=True)),
            ("model", LogisticRegression(max_iter=1000, C=1.0, random_state=seed)),
        ]
    )


def serving_pipeline(pipe: ImbPipeline | Pipeline) -> Pipeline:
    """The fitted pipeline without its sampler (samplers are identities at predict time)."""
    return Pipeline([(n, s) for n, s in pipe.steps if n != "sampler"])


def positive_scores(model: Any, X: pd.DataFrame) -> np.ndarray:
    """P(positive) as float64."""
    return np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
