"""One fuzz case sent to the relay and judged: the oracle every generated request goes through.

A verdict fails when the relay answers 5xx, when a log record carries a
traceback or an ERROR, when a 200 stream does not end in exactly one
terminal frame, when an error is not OpenAI-style JSON, when a body sent as
a CORS-simple Content-Type is served, or when the answer takes longer than
:data:`HANG_SECONDS`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fuzz import frames
from tests.fuzz.headers import JSON, Headers
from tests.fuzz.json_text import encode
from tests.fuzz.watch import TracebackWatch

HANG_SECONDS = 10.0
# The Content-Types a browser sends cross-site without asking first (a CORS "simple request").
CORS_SIMPLE_TYPES = {b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"}


@dataclass(frozen=True)
class Target:
    """One route, provider path and streaming mode."""

    route: str
    alias: str
    stream: bool = True

    @property
    def dialect(self) -> str:
        if self.route.endswith("/responses"):
            return "responses"
        return "openai" if self.route.endswith("/v1/chat/completions") else "typed"

    def __str__(self) -> str:
        mode = "" if self.dialect == "typed" else (" stream" if self.stream else " non-stream")
        return f"POST {self.route} {self.alias}{mode}"


@dataclass(frozen=True)
class Case:
    """A request body (a document for :func:`encode`, or raw bytes) and its headers (``None``: the right ones)."""

    body: Any
    headers: Headers | None = None
    ascii: bool = True

    def content(self, target: Target) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        body = self.body
        if target.dialect != "typed" and isinstance(body, dict) and "stream" not in body:
            body = {**body, "stream": target.stream}
        return encode(body, target.alias, self.ascii)

    def header_list(self, key: str) -> list[tuple[str, bytes]]:
        if self.headers is None:
            return [("Authorization", f"Bearer {key}".encode()), ("Content-Type", JSON)]
        return list(self.headers)


@dataclass
class Verdict:
    status: int | None
    seconds: float
    problems: list[str] = field(default_factory=list)


def exchange(http: httpx.Client, target: Target, case: Case, key: str, watch: TracebackWatch) -> Verdict:
    """Send ``case`` to ``target`` and judge the answer and the logs it caused."""
    started = time.monotonic()
    try:
        status, content_type, body = _send(http, target, case, key, started)
    except (httpx.HTTPError, TimeoutError) as exc:
        verdict = Verdict(None, time.monotonic() - started, [f"transport: {type(exc).__name__}: {exc}"[:200]])
    else:
        problems = _response_problems(target, status, content_type, body) + _content_type_problems(case, status, key)
        verdict = Verdict(status, time.monotonic() - started, problems)
    verdict.problems += [f"log: {record}" for record in watch.take()]
    return verdict


def _send(http: httpx.Client, target: Target, case: Case, key: str, started: float) -> tuple[int, str, bytes]:
    with http.stream("POST", target.route, content=case.content(target), headers=case.header_list(key)) as response:
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() - started > HANG_SECONDS:
                raise TimeoutError(f"no end of the response after {HANG_SECONDS} s")
        return response.status_code, response.headers.get("content-type", ""), b"".join(chunks)


def _content_type_problems(case: Case, status: int, key: str) -> list[str]:
    """A body a cross-site form could send without a CORS preflight must not be served (issue 10, defect 11)."""
    types = [value for name, value in case.header_list(key) if name.lower() == "content-type"]
    if 200 <= status < 300 and len(types) == 1 and media_type(types[0]) in CORS_SIMPLE_TYPES:
        return [f"status {status} for Content-Type {types[0]!r}; expected 415"]
    return []


def media_type(value: bytes) -> bytes:
    return value.split(b";", 1)[0].strip().lower()


def _response_problems(target: Target, status: int, content_type: str, body: bytes) -> list[str]:
    if status >= 500:
        return [f"status {status}: {body[:160]!r}"]
    if status != 200:
        return frames.error_document_problems(body)
    if not content_type.startswith("text/event-stream"):
        if target.dialect == "responses":
            return frames.response_document_problems(body)
        return frames.completion_problems(body)
    if target.dialect == "responses":
        return frames.responses_stream_problems(body)
    if target.dialect == "openai":
        return frames.openai_stream_problems(body)
    return frames.typed_stream_problems(body)
