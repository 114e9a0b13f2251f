"""Chat posts straight on aiohttp: the SDK's own request, built once, with the SDK's errors and its proxy path."""

from __future__ import annotations

import itertools
import json

import openai
import pytest

from devtools.processes import free_port
from shared.events import Finish, TextDelta
from shared.providers.contract import BackendSettings
from shared.providers.openai_client import chat_poster
from shared.providers.openai_compatible import send_chat
from shared.providers.openai_direct import ChatPoster
from tests.shared.providers.raw_upstream import reply, upstream

pytestmark = pytest.mark.anyio

PARAMS = {"model": "dep", "messages": [{"role": "user", "content": "héllo"}], "stream": True}
SETTINGS = BackendSettings(name="b", provider="test")


def dated_poster(url: str) -> ChatPoster:
    return chat_poster(
        SETTINGS, "dep", openai.AsyncAzureOpenAI, azure_endpoint=url, api_version="2024-10-21", api_key="k-1"
    )


async def read_all(poster: ChatPoster, headers: dict[str, str] | None = None) -> list[object]:
    stream = await send_chat(poster, dict(PARAMS), "b", headers)
    try:
        return [event async for event in stream.events]
    finally:
        await stream.events.aclose()


async def test_the_sdks_request_is_built_once_and_sent_as_the_sdk_sends_it() -> None:
    async with upstream() as server:
        poster = dated_poster(server.url)
        builds: list[int] = []
        build = poster.client._build_request
        poster.client._build_request = lambda *a, **k: builds.append(1) or build(*a, **k)  # type: ignore[method-assign]
        try:
            first, second = await read_all(poster), await read_all(poster)
            template_builds = len(builds)
            async for _ in await poster.client.chat.completions.create(**PARAMS):  # the SDK's own request
                pass
        finally:
            await poster.aclose()
    assert first == second == [TextDelta("hi"), Finish("stop")]
    assert template_builds == 1
    direct, sdk = server.seen[0], server.seen[2]
    assert direct.line == sdk.line == "POST /openai/deployments/dep/chat/completions?api-version=2024-10-21 HTTP/1.1"
    assert json.loads(direct.body) == json.loads(sdk.body) == PARAMS
    ignored = {"content-length", "accept-encoding"}
    assert {k: v for k, v in direct.headers.items() if k not in ignored} == {
        k: v for k, v in sdk.headers.items() if k not in ignored
    }
    assert direct.headers["api-key"] == "k-1" and direct.headers["content-type"] == "application/json"
    assert "accept-encoding" not in direct.headers  # bodies are read undecoded, so none may come compressed


async def test_a_token_provider_is_asked_on_every_request() -> None:
    tokens = (f"t-{n}" for n in itertools.count(1))

    async def token() -> str:
        return next(tokens)

    async with upstream() as server:
        poster = chat_poster(SETTINGS, "m", base_url=f"{server.url}/openai/v1", api_key=token, token=token)
        try:
            await read_all(poster)
            await read_all(poster)
        finally:
            await poster.aclose()
    # The template's own build may spend a token; each request then carries a fresh one.
    first, second = (seen.headers["authorization"] for seen in server.seen)
    assert first.startswith("Bearer t-") and second.startswith("Bearer t-") and first != second
    assert all(seen.line.startswith("POST /openai/v1/chat/completions ") for seen in server.seen)


async def test_per_request_headers_override_the_templates() -> None:
    async with upstream() as server:
        poster = chat_poster(SETTINGS, "m", base_url=server.url, api_key="unused")
        try:
            await read_all(poster, {"Authorization": "Bearer per-request"})
        finally:
            await poster.aclose()
    assert server.seen[0].headers["authorization"] == "Bearer per-request"


async def test_a_refusal_raises_the_sdks_error_with_its_body_and_headers() -> None:
    document = json.dumps({"error": {"message": "slow down", "code": "429"}}).encode()
    async with upstream(reply(429, document, b"application/json", b"Retry-After: 7\r\n")) as server:
        poster = dated_poster(server.url)
        try:
            with pytest.raises(openai.RateLimitError) as raised:
                await read_all(poster)
        finally:
            await poster.aclose()
    assert raised.value.status_code == 429 and raised.value.response.headers["retry-after"] == "7"
    assert raised.value.body == {"message": "slow down", "code": "429"}


async def test_a_refused_connection_is_the_sdks_connection_error() -> None:
    poster = dated_poster(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(openai.APIConnectionError):
            await read_all(poster)
    finally:
        await poster.aclose()


async def test_an_environment_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy, not the (unresolvable) endpoint, receives the request, in a proxy's absolute form."""
    async with upstream() as proxy:
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        poster = dated_poster("http://upstream.invalid")
        try:
            events = await read_all(poster)
        finally:
            await poster.aclose()
    assert events == [TextDelta("hi"), Finish("stop")]
    assert proxy.seen[0].line.startswith("POST http://upstream.invalid/openai/deployments/dep/chat/completions?")

