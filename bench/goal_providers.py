"""The four provider paths the goals are measured on, each with its emulator and its direct baseline.

Each path yields the running emulator (pinned to the client's core), the
relay configuration and settings that reach it, the alias clients ask for,
and a factory for the same load sent straight to the emulator. The two Vertex
paths share one emulator and differ only in the relay backend's ``api``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import azure_concurrency, bedrock_concurrency, vertex_concurrency
from .processes import Server, started_server
from .stream_load import Target

PATHS = ("azure", "bedrock", "vertex-openai", "vertex-native")


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
def provider_path(name: str, cpus: str | None) -> Iterator[ProviderPath]:
    """Start ``name``'s emulator on ``cpus`` and describe how to reach it directly and through a relay."""
    if name == "azure":
        with started_server("devtools.emulators.azure_openai", [], cpus=cpus) as emulator:
            yield ProviderPath(
                name,
                emulator,
                azure_concurrency.relay_config(emulator.url),
                azure_concurrency.KEY,
                "azure",
                lambda chunks, delay: azure_concurrency.direct_target(emulator.url, chunks, delay),
            )
    elif name == "bedrock":
        with started_server("devtools.emulators.bedrock", [], cpus=cpus) as emulator:
            yield ProviderPath(
                name,
                emulator,
                bedrock_concurrency.relay_config(emulator.url, max_connections=2000),
                bedrock_concurrency.CREDENTIALS,
                "bedrock",
                lambda chunks, delay: bedrock_concurrency.direct_target(emulator.url, chunks, delay),
            )
    elif name in ("vertex-openai", "vertex-native"):
        with _vertex(name, cpus) as path:
            yield path
    else:
        raise ValueError(f"unknown provider path {name!r}; known: {', '.join(PATHS)}")


@contextmanager
def _vertex(name: str, cpus: str | None) -> Iterator[ProviderPath]:
    api = name.removeprefix("vertex-")
    with tempfile.TemporaryDirectory() as directory:
        key_file = Path(directory) / "vertex-key.json"
        args = ["--write-service-account", str(key_file), "--log-level", "warning"]
        with started_server("devtools.emulators.vertex", args, cpus=cpus) as emulator:
            token = vertex_concurrency.access_token(key_file)
            yield ProviderPath(
                name,
                emulator,
                vertex_concurrency.relay_config(emulator.url, api),
                {vertex_concurrency.CREDENTIALS_SETTING: key_file.read_text(encoding="utf-8")},
                api,
                lambda chunks, delay: vertex_concurrency.direct_target(emulator.url, token, chunks, delay),
            )
