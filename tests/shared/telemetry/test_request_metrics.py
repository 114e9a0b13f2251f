"""The GenAI conventions' metrics and the relay's own: names, units, attributes, recorded once per request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
from opentelemetry.sdk.metrics.export import Metric

from devtools.emulators.azure_openai import AzureOpenAIEmulator
from tests.builders import RELAY_TEST_KEY
from tests.shared.telemetry.conftest import Recorded

MESSAGES = [{"role": "user", "content": "hello"}]
COMMON = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "azure.ai.openai",
    "gen_ai.request.model": "azure",
    "relay.client": "key:tests",
}


def chat(url: str, stream: bool) -> None:
    with openai.OpenAI(base_url=f"{url}/api/v1", api_key=RELAY_TEST_KEY, max_retries=0) as client:
        if stream:
            for _ in client.chat.completions.create(model="azure", messages=MESSAGES, stream=True):  # type: ignore[arg-type]
                pass
        else:
            client.chat.completions.create(model="azure", messages=MESSAGES)  # type: ignore[arg-type]


def points(metric: Metric) -> list[Any]:
    return list(metric.data.data_points)


def attributes(point: Any) -> dict[str, Any]:
    return dict(point.attributes or {})


def test_a_streamed_request_records_the_conventions_metrics(
    telemetry_relay: Callable[..., str], recorded: Recorded
) -> None:
    chat(telemetry_relay(), stream=True)
    recorded.server_spans()
    metrics = recorded.metrics()
    units = {name: metric.unit for name, metric in metrics.items()}
    assert units == {
        "gen_ai.client.token.usage": "{token}",
        "gen_ai.client.operation.duration": "s",
        "gen_ai.client.operation.time_to_first_chunk": "s",
        "gen_ai.client.operation.time_per_output_chunk": "s",
        "relay.requests": "{request}",
        "relay.attempts": "{attempt}",
        "relay.router.backends": "{backend}",
    }
    tokens = {attributes(point)["gen_ai.token.type"]: point for point in points(metrics["gen_ai.client.token.usage"])}
    assert set(tokens) == {"input", "output"}
    assert all(point.count == 1 and point.sum > 0 for point in tokens.values())
    expected = {**COMMON, "gen_ai.response.model": "azure-first", "relay.backend": "azure-first"}
    assert attributes(tokens["input"]) == {**expected, "gen_ai.token.type": "input"}
    for name in ("gen_ai.client.operation.duration", "gen_ai.client.operation.time_to_first_chunk"):
        [point] = points(metrics[name])
        assert attributes(point) == expected
        assert point.count == 1
    [duration] = points(metrics["gen_ai.client.operation.duration"])
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]
    [requests] = points(metrics["relay.requests"])
    assert (requests.value, attributes(requests)["relay.outcome"]) == (1, "ok")


def test_a_non_streaming_request_has_no_streaming_metrics(
    telemetry_relay: Callable[..., str], recorded: Recorded
) -> None:
    chat(telemetry_relay(), stream=False)
    recorded.server_spans()
    metrics = recorded.metrics()
    assert "gen_ai.client.operation.duration" in metrics
    assert "gen_ai.client.operation.time_to_first_chunk" not in metrics
    assert "gen_ai.client.operation.time_per_output_chunk" not in metrics


def test_failover_is_counted_and_the_failed_request_carries_error_type(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("azure-first", {"status": 500})
    url = telemetry_relay()
    chat(url, stream=True)
    azure.book.set("azure-second", {"status": 500})
    try:
        chat(url, stream=True)
    except openai.APIStatusError as error:
        assert error.status_code == 503
    recorded.server_spans(2)
    metrics = recorded.metrics()
    [failovers] = points(metrics["relay.failovers"])
    assert failovers.value >= 1
    outcomes = {attributes(point)["relay.outcome"]: point.value for point in points(metrics["relay.requests"])}
    assert outcomes["ok"] == 1 and len(outcomes) == 2
    failed = [
        point for point in points(metrics["gen_ai.client.operation.duration"]) if "error.type" in attributes(point)
    ]
    assert [attributes(point)["error.type"] for point in failed] == [key for key in outcomes if key != "ok"]
    attempts = {point.sum for point in points(metrics["relay.attempts"])}
    assert 2 in attempts


def test_the_router_gauges_show_a_backend_cooling_down_after_a_429(
    telemetry_relay: Callable[..., str], recorded: Recorded, azure: AzureOpenAIEmulator
) -> None:
    azure.book.set("azure-first", {"status": 429, "retry_after": 30})
    chat(telemetry_relay(), stream=True)
    recorded.server_spans()
    states = {
        (attributes(point)["relay.backend"], attributes(point)["relay.backend.state"]): point.value
        for point in points(recorded.metrics()["relay.router.backends"])
    }
    assert states[("azure-first", "cooling_down")] == 1
    assert states[("azure-first", "healthy")] == 0
    assert states[("azure-second", "healthy")] == 1
