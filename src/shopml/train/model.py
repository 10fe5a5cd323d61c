"""The trained model on the Python side: pipeline + calibrator + threshold (saved as ``pipeline.joblib``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shopml.errors import SchemaError
from shopml.schema import FeatureKind
from shopml.train.calibration import ScoreCalibrator
from shopml.train.pipeline import positive_scores, serving_pipeline

__all__ = ["CalibratedModel"]


class CalibratedModel:
    """A fitted pipeline whose raw score is calibrated and thresholded. Holds fitted parts only (it is the
    result of training, not an estimator to refit: retraining clones the template pipeline)."""

    def __init__(
        self,
        pipeline: Any,
        calibrator: ScoreCalibrator,
        threshold: float,
        inputs: list[str],
        kinds: dict[str, FeatureKind],
    ) -> None:
        self.pipeline = pipeline
        self.calibrator = calibrator
        self.threshold = threshold
        self.inputs = inputs
        self.kinds = kinds

    @property
    def serving(self) -> Any:
        """The pipeline without its sampler (what ONNX exports)."""
        return serving_pipeline(self.pipeline)

    def _check(self, frame: pd.DataFrame) -> pd.DataFrame:
        missing = [n for n in self.inputs if n not in frame.columns]
        if missing:
            raise SchemaError(f"missing input columns {missing} (expected {self.inputs})")
        return frame[self.inputs]

    def raw_scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated P(positive) of the underlying model."""
        return positive_scores(self.pipeline, self._check(frame))

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated P(positive)."""
        return np.asarray(self.calibrator.transform(self.raw_scores(frame)))

    def decide(self, frame: pd.DataFrame) -> np.ndarray:
        """1 where the calibrated score reaches the threshold."""
        return (self.scores(frame) >= self.threshold).astype(np.int8)
