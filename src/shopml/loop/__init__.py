"""The closed loop: triggers, point-in-time challenger training, a statistical promotion gate,
promotion/rollback and the audit trail, as idempotent journalled steps on an injectable clock."""

from shopml.loop.audit import Audit
from shopml.loop.bootstrap import PairedBootstrap, paired_bootstrap, weighted_average_precision
from shopml.loop.challenger import Trainer, train_challenger
from shopml.loop.clock import Clock, SimulatedClock, SystemClock
from shopml.loop.delay import ArrivalCurve, arrival_curve, arrival_weights
from shopml.loop.gate import GateDecision, decide, write_gate_report
from shopml.loop.lock import LoopLock
from shopml.loop.loop import FAILPOINT_ENV, Loop, rollback
from shopml.loop.policy import LabelDelayPolicy, LoopPolicy, load_policy
from shopml.loop.state import LoopState, StateStore
from shopml.loop.triggers import Firing, RetrainRequest, evaluate_triggers
from shopml.loop.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, check_signature, sign, verify_signature

__all__ = [
    "FAILPOINT_ENV",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ArrivalCurve",
    "Audit",
    "Clock",
    "Firing",
    "GateDecision",
    "LabelDelayPolicy",
    "Loop",
    "LoopLock",
    "LoopPolicy",
    "LoopState",
    "PairedBootstrap",
    "RetrainRequest",
    "SimulatedClock",
    "StateStore",
    "SystemClock",
    "Trainer",
    "arrival_curve",
    "arrival_weights",
    "check_signature",
    "decide",
    "evaluate_triggers",
    "load_policy",
    "paired_bootstrap",
    "rollback",
    "sign",
    "train_challenger",
    "verify_signature",
    "weighted_average_precision",
    "write_gate_report",
]
