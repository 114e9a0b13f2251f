"""A bench upstream that costs almost nothing per chunk: ``python -m bench.paced_upstream --port N``.

The faithful emulators (``devtools.emulators``) run each stream as an ASGI
task that sleeps between frames; at 1,000 paced streams that is 50,000 task
wake-ups a second on the core it shares with the load client, and the
``direct`` rows measured the harness (11-15 s for an ideal 4 s). This server
is a bare :class:`asyncio.Protocol` per connection that answers every route
the relay calls for a bench backend with replies encoded once
(:mod:`.paced_frames`), and paces *all* streams from one timer per delay:
every ``delay_ms`` one tick writes the next step to every active stream.

Routes (any method other than POST is a 405, anything else a 404):

* ``/openai/deployments/{d}/chat/completions`` - Azure OpenAI chat SSE;
* ``/model/{id}/converse-stream`` - Bedrock ConverseStream event-stream frames;
* ``/v1/projects/.../endpoints/openapi/chat/completions`` - Vertex OpenAI-compatible SSE;
* ``/v1/projects/.../models/{m}:streamGenerateContent`` - Vertex native SSE;
* ``/token`` - an OAuth2 token response for any grant, so Vertex's credential loop runs.

Any credentials are accepted, but a model call must carry some (an
``Authorization`` or ``api-key`` header), as the relay always sends one.
The request's pacing and chunk count come from the same inline ``#emulate``
scenario the emulators read; nothing else of it is honoured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from devtools.emulators.scenario import ScenarioError, scenario_from_prompt

from .paced_frames import Reply, reply

TOKEN_BODY = json.dumps({"access_token": "bench-access-token", "expires_in": 3600, "token_type": "Bearer"}).encode()
_HEAD_END = b"\r\n\r\n"


def route(path: str) -> str | None:
    """The wire a request path asks for, ``"token"``, or None for an unknown path."""
    path = path.split("?", 1)[0]
    if path == "/token":
        return "token"
    if path.startswith("/openai/deployments/") and path.endswith("/chat/completions"):
        return "azure"
    if path.startswith("/model/") and path.endswith("/converse-stream"):
        return "bedrock"
    if path.startswith(("/v1/projects/", "/v1beta1/projects/")):
        if path.endswith("/endpoints/openapi/chat/completions"):
            return "vertex-openai"
        if path.endswith(":streamGenerateContent"):
            return "vertex-native"
    return None


def last_prompt(body: dict[str, Any]) -> str:
    """The text of the last message, in any of the three request shapes (OpenAI, Converse, Gemini)."""
    messages = body.get("messages") or body.get("contents") or [{}]
    content = messages[-1].get("content", messages[-1].get("parts", ""))
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def simple_response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    """A whole non-streamed response with a length, kept alive."""
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _error(status: str, message: str) -> bytes:
    return simple_response(status, json.dumps({"error": {"message": message}}).encode())


class Ticker:
    """One timer for every stream paced at one delay: each tick writes every active stream's next step."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delay_ms: float) -> None:
        self._loop = loop
        self._delay = delay_ms / 1000
        self._streams: dict[UpstreamProtocol, int] = {}
        self._next_at: float | None = None

    def add(self, stream: UpstreamProtocol) -> None:
        """Pace ``stream`` from step 1 on (its step 0 was written on arrival)."""
        self._streams[stream] = 1
        if self._next_at is None:
            self._next_at = self._loop.time() + self._delay
            self._loop.call_at(self._next_at, self._tick)

    def discard(self, stream: UpstreamProtocol) -> None:
        self._streams.pop(stream, None)

    def _tick(self) -> None:
        finished = []
        for stream, index in self._streams.items():
            steps = stream.reply_steps
            stream.write(steps[index])
            if index + 1 >= len(steps):
                finished.append(stream)
            else:
                self._streams[stream] = index + 1
        for stream in finished:
            del self._streams[stream]
            stream.reply_done()
        if not self._streams:
            self._next_at = None
            return
        # A fixed cadence, not "delay after this tick": a slow tick does not push every later one back.
        assert self._next_at is not None
        self._next_at = max(self._next_at + self._delay, self._loop.time())
        self._loop.call_at(self._next_at, self._tick)


class Pacing:
    """The tickers of one server, one per distinct delay."""

    def __init__(self) -> None:
        self._tickers: dict[float, Ticker] = {}

    def ticker(self, delay_ms: float) -> Ticker:
        if delay_ms not in self._tickers:
            self._tickers[delay_ms] = Ticker(asyncio.get_running_loop(), delay_ms)
        return self._tickers[delay_ms]

    def discard(self, stream: UpstreamProtocol) -> None:
        for ticker in self._tickers.values():
            ticker.discard(stream)


class UpstreamProtocol(asyncio.Protocol):
    """One keep-alive connection: read a request, answer it (paced or at once), then read the next."""

    def __init__(self, pacing: Pacing) -> None:
        self._pacing = pacing
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._streaming = False
        self.reply_steps: tuple[bytes, ...] = ()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._pacing.discard(self)
        self._transport = None

    def write(self, data: bytes) -> None:
        if self._transport is not None:
            self._transport.write(data)

    def reply_done(self) -> None:
        """The paced reply is written: the connection may carry the next request."""
        self._streaming = False
        self._serve_buffered()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._streaming:
            self._serve_buffered()

    def _serve_buffered(self) -> None:
        while not self._streaming and (request := self._take_request()) is not None:
            self._answer(*request)

    def _take_request(self) -> tuple[str, str, dict[str, str], bytes] | None:
        """(method, path, lower-cased headers, body) of the next whole request in the buffer, if one is there."""
        end = self._buffer.find(_HEAD_END)
        if end < 0:
            return None
        lines = self._buffer[:end].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if len(self._buffer) < end + 4 + length:
            return None
        body = self._buffer[end + 4 : end + 4 + length]
        self._buffer = self._buffer[end + 4 + length :]
        method, path, *_ = [*lines[0].split(" "), "", ""]
        return method, path, headers, body

    def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        wire = route(path)
        if wire is None:
            self.write(_error("404 Not Found", "no such route on the bench upstream"))
        elif method != "POST":
            self.write(_error("405 Method Not Allowed", "POST only"))
        elif wire == "token":
            self.write(simple_response("200 OK", TOKEN_BODY))
        elif "authorization" not in headers and "api-key" not in headers:
            self.write(_error("401 Unauthorized", "credentials missing"))
        else:
            self._stream(wire, body)

    def _stream(self, wire: str, raw: bytes) -> None:
        try:
            body = json.loads(raw)
            scenario = scenario_from_prompt(last_prompt(body))
        except (ValueError, ScenarioError, AttributeError, IndexError, TypeError) as exc:
            self.write(_error("400 Bad Request", f"unreadable request: {type(exc).__name__}"))
            return
        chunks, delay_ms = (scenario.chunks, scenario.delay_ms) if scenario else (None, 0.0)
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        answer: Reply = reply(wire, chunks, usage)
        if not delay_ms or len(answer.steps) == 1:
            self.write(answer.whole)
            return
        self.reply_steps = answer.steps
        self._streaming = True
        self.write(answer.steps[0])
        self._pacing.ticker(delay_ms).add(self)


async def serve(host: str, port: int) -> None:
    """Listen until cancelled."""
    pacing = Pacing()
    server = await asyncio.get_running_loop().create_server(lambda: UpstreamProtocol(pacing), host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
