"""The fault matrix's axes: provider paths, dialects and upstream faults, each with what must follow.

A fault is an emulator scenario plus the relay's expected answer: an
OpenAI-style JSON error before any byte (the single backend cannot serve), or
a stream that ends in exactly one terminal frame; and what the router must
remember about the backend afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tests.builders import (
    AZURE_TEST_KEY,
    BEDROCK_ENV,
    azure_backend,
    bedrock_backend,
    vertex_backend,
    vertex_key_file,
)

TEXT = "Fault matrix: 東京 ☀️, every piece once — never twice. 🎯"
CHUNKS = 12
# Frames each emulator sends before a mid-stream fault strikes; every path has sent text by then.
MID_STREAM = 4
RETRY_AFTER_SECONDS = 20.0
DEFAULT_COOLDOWN_SECONDS = 40.0
UPSTREAM_FAILURE_STATUSES = frozenset({502, 503, 504})

# The test relay: short stream timeouts and a small failover budget so stalls end fast.
RELAY_SETTINGS: dict[str, Any] = {
    "stream": {"heartbeat_seconds": 5, "first_token_timeout_seconds": 0.5, "idle_timeout_seconds": 0.5},
    "routing": {
        "failover": {"max_attempts": 2, "budget_seconds": 1.5, "attempt_timeout_seconds": 0.75},
        "cooldown": {"default_seconds": DEFAULT_COOLDOWN_SECONDS},
        "breaker": {"failure_threshold": 5},
    },
    "quotas": {"profiles": {"default": {"concurrent_streams": 1}}},
}


@dataclass(frozen=True)
class ProviderPath:
    """One way to reach a model: which emulator, and the backend entry pointing at it."""

    id: str
    emulator_fixture: str
    backend: Callable[[str, str], dict[str, Any]]
    environ: Callable[[str], Mapping[str, str]]


PATHS = [
    ProviderPath("azure_openai", "azure", azure_backend, lambda _: {"AZURE_TEST_KEY": AZURE_TEST_KEY}),
    ProviderPath("bedrock", "bedrock", bedrock_backend, lambda _: BEDROCK_ENV),
    ProviderPath("vertex_openai", "vertex", lambda name, url: vertex_backend(name, url, "openai"), vertex_key_file),
    ProviderPath("vertex_native", "vertex", lambda name, url: vertex_backend(name, url, "native"), vertex_key_file),
]


class Router(Enum):
    """What ``/api/health`` must say about the backend after the fault."""

    COOLING_DOWN = "cooling_down, no failure counted"
    FAILURE_COUNTED = "healthy with consecutive_failures 1"
    CLEAN = "healthy, no failure counted"
    SETTLED = "healthy, neither probing nor open"


class Ending(Enum):
    """How the client's side of the exchange must end."""

    JSON_ERROR = "an OpenAI-style JSON error before the stream"
    STREAM_ERROR = "text so far, then one terminal error frame"
    STREAM_DONE = "the whole text, then one terminal frame"
    CLIENT_LEAVES = "the client leaves mid-stream"


@dataclass(frozen=True)
class Fault:
    id: str
    scenario: dict[str, Any]
    ending: Ending
    router: Router
    statuses: frozenset[int] = UPSTREAM_FAILURE_STATUSES
    cooldown_seconds: float | None = None


FAULTS = [
    Fault(
        "429_retry_after",
        {"status": 429, "retry_after": RETRY_AFTER_SECONDS},
        Ending.JSON_ERROR,
        Router.COOLING_DOWN,
        frozenset({429}),
        RETRY_AFTER_SECONDS,
    ),
    Fault(
        "429_bare",
        {"status": 429, "throttle_headers": False},
        Ending.JSON_ERROR,
        Router.COOLING_DOWN,
        frozenset({429}),
        DEFAULT_COOLDOWN_SECONDS,
    ),
    Fault("500", {"status": 500}, Ending.JSON_ERROR, Router.FAILURE_COUNTED),
    Fault("503", {"status": 503}, Ending.JSON_ERROR, Router.FAILURE_COUNTED),
    Fault("reset_before_headers", {"before_headers": "close"}, Ending.JSON_ERROR, Router.FAILURE_COUNTED),
    Fault("reset_before_body", {"close_after": 0}, Ending.JSON_ERROR, Router.FAILURE_COUNTED),
    Fault("stall_before_headers", {"before_headers": "stall"}, Ending.JSON_ERROR, Router.FAILURE_COUNTED),
    Fault("stall_before_body", {"stall_after": 0}, Ending.JSON_ERROR, Router.FAILURE_COUNTED),
    Fault("reset_mid_stream", {"close_after": MID_STREAM}, Ending.STREAM_ERROR, Router.FAILURE_COUNTED),
    Fault("stall_mid_stream", {"stall_after": MID_STREAM}, Ending.STREAM_ERROR, Router.FAILURE_COUNTED),
    Fault("malformed_frame", {"malformed_after": MID_STREAM}, Ending.STREAM_ERROR, Router.FAILURE_COUNTED),
    Fault("malformed_usage", {"malformed_usage": True}, Ending.STREAM_DONE, Router.SETTLED),
    Fault("provider_exception", {"error_after": MID_STREAM}, Ending.STREAM_ERROR, Router.FAILURE_COUNTED),
    Fault("client_leaves", {"delay_ms": 100}, Ending.CLIENT_LEAVES, Router.CLEAN),
]


def scenario_of(fault: Fault) -> dict[str, Any]:
    """The whole emulator scenario: the shared text, cut the same way, plus the fault."""
    return {"text": TEXT, "chunks": CHUNKS, **fault.scenario}
