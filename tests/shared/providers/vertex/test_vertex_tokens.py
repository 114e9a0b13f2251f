"""The Vertex access-token cache: one fetch at a time, in a thread, refreshed before expiry.

Unit tests drive :class:`TokenCache` with a fake fetch; the end-to-end tests
count token requests at the emulator's real OAuth2 endpoint.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import anyio
import openai
import pytest

from devtools.emulators.scenario import DEFAULT_TEXT, inline_prompt
from devtools.emulators.vertex import VertexEmulator, create_app
from devtools.threaded_server import ThreadedServer
from shared.errors import UpstreamUnavailable
from shared.providers.vertex.tokens import AccessToken, TokenCache
from tests.builders import serve_relay, vertex_backend, vertex_key_file

# ---------------------------------------------------------------- AccessToken.fresh


@pytest.mark.parametrize(
    ("lifetime", "age", "fresh"),
    [
        (3600, 0, True),
        (3600, 3299, True),  # refreshed 5 minutes before expiry...
        (3600, 3301, False),
        (4, 2.9, True),  # ...or, for a short token, after three quarters of its life
        (4, 3.1, False),
        (0, 0, False),
        (None, 10**9, True),  # no known expiry: used until upstream refuses it
    ],
)
def test_token_freshness(lifetime: float | None, age: float, fresh: bool) -> None:
    token = AccessToken("t", fetched_at=1000.0, expires_at=None if lifetime is None else 1000.0 + lifetime)
    assert token.fresh(1000.0 + age) is fresh


# ---------------------------------------------------------------- TokenCache


class FakeFetch:
    """Issues t1, t2, ... after a pause, recording the thread each fetch ran on."""

    def __init__(self, lifetime: float = 3600, pause: float = 0.05, fail: bool = False) -> None:
        self.lifetime = lifetime
        self.pause = pause
        self.fail = fail
        self.calls = 0
        self.threads: list[int] = []

    def __call__(self) -> AccessToken:
        self.calls += 1
        self.threads.append(threading.get_ident())
        time.sleep(self.pause)
        if self.fail:
            raise UpstreamUnavailable("no token", code="upstream_auth_failed", retryable=True)
        now = time.time()
        return AccessToken(f"t{self.calls}", now, now + self.lifetime)


@pytest.mark.anyio
async def test_token_is_fetched_once_and_cached() -> None:
    fetch = FakeFetch()
    cache = TokenCache(fetch)
    assert [await cache.token() for _ in range(3)] == ["t1", "t1", "t1"]
    assert fetch.calls == 1


@pytest.mark.anyio
async def test_fifty_waiters_share_one_fetch_off_the_event_loop() -> None:
    fetch = FakeFetch(pause=0.3)
    cache = TokenCache(fetch)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    beating = asyncio.ensure_future(ticker())
    tokens = await asyncio.gather(*(cache.token() for _ in range(50)))
    beating.cancel()
    assert set(tokens) == {"t1"}
    assert fetch.calls == 1
    assert fetch.threads[0] != threading.get_ident()
    assert ticks >= 10  # the loop kept running while the fetch blocked its thread


@pytest.mark.anyio
async def test_stale_token_is_refreshed_by_one_fetch() -> None:
    fetch = FakeFetch(lifetime=0)
    cache = TokenCache(fetch)
    assert await cache.token() == "t1"
    assert set(await asyncio.gather(*(cache.token() for _ in range(20)))) == {"t2"}
    assert fetch.calls == 2


@pytest.mark.anyio
async def test_renewing_a_refused_token_fetches_once_for_all_callers() -> None:
    fetch = FakeFetch()
    cache = TokenCache(fetch)
    refused = await cache.token()
    renewed = await asyncio.gather(*(cache.renew(refused) for _ in range(50)))
    assert set(renewed) == {"t2"}
    assert await cache.renew(refused) == "t2"  # already renewed: no further fetch
    assert fetch.calls == 2


@pytest.mark.anyio
async def test_a_waiter_leaving_does_not_cancel_the_shared_fetch() -> None:
    fetch = FakeFetch(pause=0.2)
    cache = TokenCache(fetch)
    with anyio.move_on_after(0.05):
        await cache.token()
    assert await cache.token() == "t1"
    assert fetch.calls == 1


@pytest.mark.anyio
async def test_a_failed_fetch_reaches_every_waiter_and_is_retried_next_time() -> None:
    fetch = FakeFetch(fail=True)
    cache = TokenCache(fetch)
    results = await asyncio.gather(*(cache.token() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(result, UpstreamUnavailable) for result in results)
    assert fetch.calls == 1
    fetch.fail = False
    assert await cache.token() == "t2"


# ---------------------------------------------------------------- against the emulator's token endpoint


@pytest.fixture(scope="module", params=["openai", "native"])
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def relay_url(api: str, vertex_emulator: VertexEmulator) -> Iterator[str]:
    url = vertex_emulator.url  # type: ignore[attr-defined]
    config = {"backends": [vertex_backend("vertex", url, api)], "models": {"vertex": ["vertex"]}}
    with serve_relay(config, vertex_key_file(url)) as served:
        yield served


async def stream_text(client: openai.AsyncOpenAI, prompt: str) -> str:
    messages = [{"role": "user", "content": prompt}]
    stream = await client.chat.completions.create(model="vertex", messages=messages, stream=True)  # type: ignore[arg-type]
    return "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])


def test_fifty_streams_on_an_expired_token_cause_one_token_request(
    async_client: openai.AsyncOpenAI, vertex: VertexEmulator
) -> None:
    async def scenario() -> list[str]:
        async with async_client:
            await stream_text(async_client, "warm the token cache")
            vertex.expire_tokens()
            vertex.recorder.records.clear()
            vertex.recorder.token_requests = 0
            prompt = inline_prompt(chunks=10, delay_ms=5)
            return await asyncio.gather(*(stream_text(async_client, prompt) for _ in range(50)))

    texts = asyncio.run(scenario())
    assert texts == [DEFAULT_TEXT] * 50
    assert vertex.recorder.token_requests == 1
    statuses = [record.status for record in vertex.recorder.records]
    assert statuses.count(200) == 50
    assert set(statuses) == {200, 401}  # the expired token was really refused, then renewed


def test_token_is_refreshed_before_it_expires(api: str) -> None:
    emulator = create_app(token_lifetime=2.0)
    with ThreadedServer(emulator) as server:
        config = {"backends": [vertex_backend("vertex", server.url, api)], "models": {"vertex": ["vertex"]}}
        with serve_relay(config, vertex_key_file(server.url)) as relay, sdk(relay) as client:
            first = stream(client)
            time.sleep(1.6)  # past three quarters of the token's two seconds
            second = stream(client)
    assert first == second == DEFAULT_TEXT
    assert emulator.recorder.token_requests == 2
    assert [record.status for record in emulator.recorder.records] == [200, 200]  # never a 401


def test_a_token_refused_twice_fails_over_without_looping(api: str) -> None:
    emulator = create_app(token_lifetime=0.0)  # every token is born expired
    with ThreadedServer(emulator) as server:
        config = {"backends": [vertex_backend("vertex", server.url, api)], "models": {"vertex": ["vertex"]}}
        with (
            serve_relay(config, vertex_key_file(server.url)) as relay,
            sdk(relay) as client,
            pytest.raises(openai.APIStatusError) as caught,
        ):
            stream(client)
    assert (caught.value.status_code, caught.value.body["code"]) == (503, "upstream_auth_failed")
    assert emulator.recorder.token_requests == 2  # the first token and one renewal
    assert [record.status for record in emulator.recorder.records] == [401, 401]


def sdk(relay_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{relay_url}/api/v1", api_key="relay-client-key", max_retries=0)


def stream(client: openai.OpenAI) -> str:
    chunks = client.chat.completions.create(model="vertex", messages=[{"role": "user", "content": "hi"}], stream=True)
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
