"""Hundreds of concurrent Azure OpenAI streams through one relay process.

The same load and client as ``bedrock_concurrency`` (:mod:`.stream_load`):
every stream is ``chunks`` content deltas ``delay_ms`` apart, read by the
relay with ``openai.AsyncAzureOpenAI`` from the Azure OpenAI emulator.

A first row sends the load straight to the emulator: the floor that the
emulator, this client and the machine set on their own.

``python -m bench.azure_concurrency --concurrency 200`` runs other shapes;
``--skip-direct`` leaves out the baseline.
"""

from __future__ import annotations

from devtools.emulators.scenario import inline_prompt

from . import concurrency
from .concurrency import DEFAULT_SHAPE, Shape
from .processes import started_server
from .report import Row
from .stream_load import Target

BENCH = "azure_concurrency"
DEPLOYMENT = "bench"
API_VERSION = "2024-10-21"
KEY = {"BENCH_AZURE_KEY": "bench-key"}


def relay_config(emulator_url: str) -> dict[str, object]:
    """One deployment on the emulator, alias ``azure``."""
    backend = {
        "name": "bench-azure",
        "provider": "azure_openai",
        "endpoint": emulator_url,
        "deployment": DEPLOYMENT,
        "api_version": API_VERSION,
        "api_key_setting": "BENCH_AZURE_KEY",
    }
    return {"backends": [backend], "models": {"azure": ["bench-azure"]}}


def direct_target(emulator_url: str, chunks: int, delay_ms: float) -> Target:
    """Chat completion chunks straight from the emulator, in Azure's own shape."""
    body = {"stream": True, "messages": [{"role": "user", "content": inline_prompt(chunks=chunks, delay_ms=delay_ms)}]}
    path = f"/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={API_VERSION}"
    return Target.post(
        emulator_url,
        path,
        body,
        {"api-key": KEY["BENCH_AZURE_KEY"]},
        # Text chunks carry filter verdicts just before the delta; the role chunk's verdicts are empty ({}).
        content_marker=b'}},"delta":{"content":"',
        done_marker=b"data: [DONE]",
        error_marker=b'data: {"error"',
    )


def run(shape: Shape = DEFAULT_SHAPE, direct: bool = True) -> list[Row]:
    """Measure ``shape`` through the relay, and optionally straight to the emulator."""
    rows = []
    with started_server("devtools.emulators.azure_openai", []) as emulator:
        if direct:
            target = direct_target(emulator.url, shape.chunks, shape.delay_ms)
            rows.append(concurrency.direct_row(BENCH, f"direct to emulator, {shape}", target, shape, emulator))
        case = f"through relay, {shape}"
        rows += concurrency.through_relay(BENCH, case, emulator, relay_config(emulator.url), KEY, "azure", shape)
    return rows


if __name__ == "__main__":
    concurrency.main(__doc__.splitlines()[0], run)
