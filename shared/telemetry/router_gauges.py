"""Observable gauges over the router's state: which backend is in which condition, and its known headroom.

They read :meth:`~shared.routing.Router.health`, the same view ``GET
/api/health`` shows, when a metric reader collects, never on a request's path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from ..routing.state import Condition
from . import conventions as c


class RouterView(Protocol):
    def health(self) -> list[dict[str, Any]]: ...


def watch_router(meter: Meter, router: RouterView) -> None:
    """Register the gauges; each collection asks ``router`` once per gauge."""

    def conditions(options: CallbackOptions) -> Iterable[Observation]:
        for entry in router.health():
            for state in Condition:
                attributes = {c.BACKEND: entry["name"], c.BACKEND_STATE: state.value}
                yield Observation(1 if entry["state"] == state.value else 0, attributes)

    def remaining(kind: str) -> Any:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            for entry in router.health():
                value = entry.get("remaining", {}).get(kind)
                if value is not None:
                    yield Observation(value, {c.BACKEND: entry["name"]})

        return observe

    meter.create_observable_gauge(
        c.BACKEND_CONDITION,
        [conditions],
        unit="{backend}",
        description="1 for each backend's current routing condition (healthy, cooling_down, circuit_open...), else 0.",
    )
    meter.create_observable_gauge(
        c.HEADROOM_REQUESTS,
        [remaining("requests")],
        unit="{request}",
        description="Requests the backend last reported left in its rate-limit window.",
    )
    meter.create_observable_gauge(
        c.HEADROOM_TOKENS,
        [remaining("tokens")],
        unit="{token}",
        description="Tokens the backend last reported left in its rate-limit window.",
    )
