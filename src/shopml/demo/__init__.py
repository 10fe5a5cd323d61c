"""``shopml demo``: the whole loop end to end on a simulated shop, on an accelerated clock."""

from shopml.demo.policies import PolicyOutcome, daily_outcome
from shopml.demo.run import DemoConfig, DemoResult, run_demo
from shopml.demo.server import ServerProcess

__all__ = ["DemoConfig", "DemoResult", "PolicyOutcome", "ServerProcess", "daily_outcome", "run_demo"]
