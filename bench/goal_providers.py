"""The four provider paths the goals are measured on, each with its upstream and its direct baseline.

Each path yields the running upstream (pinned to the client's core), the
relay configuration and settings that reach it, the alias clients ask for,
and a factory for the same load sent straight to the upstream. The two Vertex
paths differ only in the relay backend's ``api`` (and the direct load's wire).

The upstream is ``RELAY_BENCH_UPSTREAM``: ``paced`` (the default,
:mod:`.paced_upstream`, cheap enough that the direct rows measure the
machine rather than the harness) or ``emulator`` (the faithful emulators,
whose own per-chunk cost saturates the client's core at 1,000 streams).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.emulators.google_oauth import make_service_account_info

from . import azure_concurrency, bedrock_concurrency, vertex_concurrency
from .processes import Server, started_server
from .stream_load import Target

PATHS = ("azure", "bedrock", "vertex-openai", "vertex-native")
UPSTREAMS = ("paced", "emulator")
PACED_MODULE = "bench.paced_upstream"


def upstream_from_env() -> str:
    """``RELAY_BENCH_UPSTREAM``, checked: a typo fails before any server starts."""
    upstream = os.environ.get("RELAY_BENCH_UPSTREAM", UPSTREAMS[0])
    if upstream not in UPSTREAMS:
        raise ValueError(f"RELAY_BENCH_UPSTREAM must be one of: {', '.join(UPSTREAMS)}")
    return upstream


@dataclass(frozen=True)
class ProviderPath:
    """Everything a goal run needs for one provider path."""

    name: str
    emulator: Server
    config: dict[str, Any]
    settings: dict[str, str]
    alias: str
    direct: Callable[[int, float], Target]


@contextmanager
def provider_path(name: str, cpus: str | None, upstream: str = UPSTREAMS[0]) -> Iterator[ProviderPath]:
    """Start ``name``'s upstream on ``cpus`` and describe how to reach it directly and through a relay."""
    paced = upstream == "paced"
    if name == "azure":
        module = PACED_MODULE if paced else "devtools.emulators.azure_openai"
        with started_server(module, [], cpus=cpus) as emulator:
            yield ProviderPath(
                name,
                emulator,
                azure_concurrency.relay_config(emulator.url),
                azure_concurrency.KEY,
                "azure",
                lambda chunks, delay: azure_concurrency.direct_target(emulator.url, chunks, delay),
            )
    elif name == "bedrock":
        module = PACED_MODULE if paced else "devtools.emulators.bedrock"
        with started_server(module, [], cpus=cpus) as emulator:
            yield ProviderPath(
                name,
                emulator,
                bedrock_concurrency.relay_config(emulator.url, max_connections=2000),
                bedrock_concurrency.CREDENTIALS,
                "bedrock",
                lambda chunks, delay: bedrock_concurrency.direct_target(emulator.url, chunks, delay),
            )
    elif name in ("vertex-openai", "vertex-native"):
        with _vertex(name, cpus, paced) as path:
            yield path
    else:
        raise ValueError(f"unknown provider path {name!r}; known: {', '.join(PATHS)}")


@contextmanager
def _vertex(name: str, cpus: str | None, paced: bool) -> Iterator[ProviderPath]:
    api = name.removeprefix("vertex-")
    direct = vertex_concurrency.direct_openai_target if api == "openai" else vertex_concurrency.direct_target
    with tempfile.TemporaryDirectory() as directory:
        key_file = Path(directory) / "vertex-key.json"
        if paced:
            module, args = PACED_MODULE, []
        else:
            module = "devtools.emulators.vertex"
            args = ["--write-service-account", str(key_file), "--log-level", "warning"]
        with started_server(module, args, cpus=cpus) as emulator:
            if paced:  # the paced upstream grants any JWT: a key file whose token_uri is that upstream will do
                key_file.write_text(json.dumps(make_service_account_info(f"{emulator.url}/token")), encoding="utf-8")
            token = vertex_concurrency.access_token(key_file)
            yield ProviderPath(
                name,
                emulator,
                vertex_concurrency.relay_config(emulator.url, api),
                {vertex_concurrency.CREDENTIALS_SETTING: key_file.read_text(encoding="utf-8")},
                api,
                lambda chunks, delay: direct(emulator.url, token, chunks, delay),
            )
