"""Routing: which backend serves a request, knowing health and capacity, never wire formats.

``choice`` decides (pure), ``state`` and ``headroom`` describe what is known
about each backend (pure), ``outcome`` judges what a request taught, and
``router`` is the small mutable shell the relay talks to.
"""

from __future__ import annotations

from .outcome import Outcome, Verdict, outcome_of_end, outcome_of_error
from .router import Router
from .settings import RoutingSettings

__all__ = ["Outcome", "Router", "RoutingSettings", "Verdict", "outcome_of_end", "outcome_of_error"]
