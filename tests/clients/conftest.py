"""Fixtures for the client matrix: OpenAI-ecosystem clients against every alias.

Each test runs one real client (openai-node, the Vercel AI SDK, LangChain)
against the session relay ``every_provider_relay_url``, whose aliases cover
every provider path. Node clients are scripts in ``web/e2e/`` that print one
JSON report; :func:`run_node` starts them.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.emulator import Emulator
from devtools.emulators.vertex import VertexEmulator
from tests.web import conftest as web_fixtures

ALIASES = ("azure", "bedrock", "vertex", "vertex-native")
# A value only the client's tool returns: finding it upstream proves the tool result reached the model.
TOOL_OUTPUT = "sunny, 18 C, light breeze from the west"

RunNode = Callable[..., dict[str, Any]]

# The `node` fixture (Node.js with web/'s packages installed), shared with tests/web.
node = web_fixtures.node


@pytest.fixture(params=ALIASES)
def alias(request: pytest.FixtureRequest) -> str:
    """Each alias of ``every_provider_relay_url`` in turn."""
    return str(request.param)


@pytest.fixture
def emulators(azure: AzureOpenAIEmulator, bedrock: BedrockEmulator, vertex: VertexEmulator) -> dict[str, Emulator]:
    """The emulator behind each alias, with no per-backend scenarios and an empty request log."""
    return {"azure": azure, "bedrock": bedrock, "vertex": vertex, "vertex-native": vertex}


@pytest.fixture
def run_node(node: str, every_provider_relay_url: str, emulators: dict[str, Emulator]) -> RunNode:
    """Run ``web/e2e/<script>`` for one case and return its JSON report.

    The script may script the emulators between turns (``turns``: one scenario
    per turn), which is why it gets their URLs.
    """
    urls = sorted({emulator.url for emulator in emulators.values()})

    def run(
        script: str, case: str, model: str, prompt: str = "Hello", turns: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        env = {
            **os.environ,
            "RELAY_BASE_URL": every_provider_relay_url,
            "RELAY_MODEL": model,
            "RELAY_CASE": case,
            "RELAY_PROMPT": prompt,
            "RELAY_TURNS": json.dumps(turns or []),
            "RELAY_TOOL_OUTPUT": TOOL_OUTPUT,
            "EMULATOR_URLS": ",".join(urls),
        }
        done = subprocess.run(
            [node, f"e2e/{script}"], cwd=web_fixtures.WEB_ROOT, env=env, capture_output=True, timeout=90, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    return run


def last_upstream_body(emulators: dict[str, Emulator], alias: str) -> str:
    """The last request body the alias's emulator received, as JSON text to search."""
    records = emulators[alias].recorder.records
    assert records, f"the {alias} emulator received no request"
    return json.dumps(records[-1].body, ensure_ascii=False, default=str)
