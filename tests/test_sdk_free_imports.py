"""The pure core imports no provider SDK.

Routing, the canonical events, the dialects and the streaming stages decide
and translate; only ``shared/providers/<name>`` talks to an upstream. They
may reach telemetry through ``shared.telemetry``'s API-only hooks, never the
OpenTelemetry SDK or an exporter, which only ``shared.telemetry.setup`` loads. Each
module is imported in a fresh interpreter, so nothing another test loaded
can hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SDKS = ("boto3", "botocore", "openai", "google", "aiohttp")
PURE_MODULES = (
    "shared.routing",
    "shared.dialects",
    "shared.dialects.openai_chat",
    "shared.dialects.typed_events",
    "shared.events",
    "shared.streaming",
    "shared.streaming.terminal_guarantee",
    "shared.streaming.keepalive",
    "shared.streaming.open_throttle",
    "shared.streaming.outcome_report",
    "shared.streaming.quota_lease",
    "shared.streaming.request_record",
    "shared.relay",
    "shared.providers.contract",
    "shared.providers.registry",
    "shared.telemetry.api",
    "shared.telemetry.telemetry",
)
# Telemetry packages the pure core must not load (by module prefix): the SDK and every exporter.
TELEMETRY_SDKS = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.proto", "azure.monitor", "grpc")
TELEMETRY_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted({p for p in sys.argv[2:] for name in sys.modules if name == p or name.startswith(p + ".")})))
"""
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
roots = {name.split(".")[0] for name in sys.modules}
print(json.dumps(sorted(roots & set(sys.argv[2:]))))
"""


def loaded_sdks(module: str, probe: str = PROBE, packages: tuple[str, ...] = SDKS) -> list[str]:
    """The SDK packages importing ``module`` puts in ``sys.modules`` of a new interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", probe, module, *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    found: list[str] = json.loads(result.stdout)
    return found


@pytest.mark.parametrize("module", PURE_MODULES)
def test_importing_the_pure_core_loads_no_sdk(module: str) -> None:
    assert loaded_sdks(module) == []


def test_the_probe_sees_an_sdk_a_provider_module_loads() -> None:
    assert "openai" in loaded_sdks("shared.providers.azure_openai")


@pytest.mark.parametrize("module", PURE_MODULES)
def test_importing_the_pure_core_loads_no_telemetry_sdk_or_exporter(module: str) -> None:
    assert loaded_sdks(module, TELEMETRY_PROBE, TELEMETRY_SDKS) == []


def test_the_telemetry_probe_sees_what_setup_loads() -> None:
    found = loaded_sdks("shared.telemetry.exporters", TELEMETRY_PROBE, TELEMETRY_SDKS)
    assert found == []
    assert "opentelemetry.sdk" in loaded_sdks("opentelemetry.sdk.trace", TELEMETRY_PROBE, TELEMETRY_SDKS)
