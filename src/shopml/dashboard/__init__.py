"""The team's dashboard: one self-contained HTML page over what the loop recorded (no statistics here)."""

from shopml.dashboard.collect import collect_dashboard
from shopml.dashboard.data import DashboardData, DaySeries, PolicySeries, TimelineItem, VersionSpan
from shopml.dashboard.page import render_dashboard, write_dashboard

__all__ = [
    "DashboardData",
    "DaySeries",
    "PolicySeries",
    "TimelineItem",
    "VersionSpan",
    "collect_dashboard",
    "render_dashboard",
    "write_dashboard",
]
