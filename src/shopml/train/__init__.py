"""Training for rare-class shop models: time-aware splits, imbalance strategies, calibration and
threshold, metrics with bootstrap intervals, fit diagnostics, ONNX export, report, registration."""

from shopml.train.calibration import ScoreCalibrator, ThresholdChoice, choose_threshold
from shopml.train.config import (
    STRATEGIES,
    TASKS,
    SearchConfig,
    SplitConfig,
    TrainConfig,
    XGBParams,
    load_train_config,
    preset,
)
from shopml.train.data import Dataset, load_dataset, onnx_feeds, to_frame
from shopml.train.diagnostics import Diagnosis, diagnose, learning_curve, rounds_curve
from shopml.train.metrics import METRICS, bootstrap_metrics, point_metrics
from shopml.train.model import CalibratedModel
from shopml.train.onnx_export import check_parity, export_onnx, onnx_scores
from shopml.train.pipeline import build_baseline, build_pipeline, make_preprocessor
from shopml.train.result import TrainResult
from shopml.train.splits import TimeSplit, rolling_origin, time_split
from shopml.train.trainer import train

__all__ = [
    "METRICS",
    "STRATEGIES",
    "TASKS",
    "CalibratedModel",
    "Dataset",
    "Diagnosis",
    "ScoreCalibrator",
    "SearchConfig",
    "SplitConfig",
    "ThresholdChoice",
    "TimeSplit",
    "TrainConfig",
    "TrainResult",
    "XGBParams",
    "bootstrap_metrics",
    "build_baseline",
    "build_pipeline",
    "check_parity",
    "choose_threshold",
    "diagnose",
    "export_onnx",
    "learning_curve",
    "load_dataset",
    "load_train_config",
    "make_preprocessor",
    "onnx_feeds",
    "onnx_scores",
    "point_metrics",
    "preset",
    "rolling_origin",
    "rounds_curve",
    "time_split",
    "to_frame",
    "train",
]
