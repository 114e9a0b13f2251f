"""Both chat dialects as the fault matrix sees them: send one request, read what came back.

Responses are read as raw bytes over httpx and parsed here, frame by frame,
so a duplicated delta, a missing or second terminal frame, or a cut
connection is seen exactly as a client would see it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

CLIENT_TIMEOUT = httpx.Timeout(10.0)


@dataclass
class Exchange:
    """What the client saw: the status, a JSON error body, or the stream's text and terminal frames."""

    status: int
    headers: httpx.Headers
    error: dict[str, Any] | None = None
    text: str = ""
    terminals: list[str] = field(default_factory=list)
    cut: str | None = None
    raw: bytes = b""
    last_is_terminal: bool = False


@dataclass(frozen=True)
class Dialect:
    """A chat route: its path, and how its SSE frames map to text and terminal frames."""

    id: str
    path: str
    frame: Callable[[str], tuple[str, str | None]]


def openai_frame(block: str) -> tuple[str, str | None]:
    """(text, terminal) of one ``/v1/chat/completions`` block: ``done``, ``error <code>`` or None."""
    data = next((line[6:] for line in block.split("\n") if line.startswith("data: ")), None)
    if data is None:
        return "", None
    if data == "[DONE]":
        return "", "done"
    document = json.loads(data)
    if "error" in document:
        return "", f"error {document['error'].get('code')}"
    return "".join(choice["delta"].get("content") or "" for choice in document.get("choices", [])), None


def typed_frame(block: str) -> tuple[str, str | None]:
    """(text, terminal) of one ``/api/chat`` event: ``done``, ``error <code>`` or None."""
    fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
    event, data = fields.get("event"), json.loads(fields.get("data") or "null")
    if event == "text_delta":
        return data["content"], None
    if event == "done":
        return "", "done"
    if event == "error":
        return "", f"error {data.get('code')}"
    return "", None


DIALECTS = [
    Dialect("v1_chat_completions", "/api/v1/chat/completions", openai_frame),
    Dialect("api_chat", "/api/chat", typed_frame),
]


def body_for(dialect: Dialect, model: str, prompt: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    return {**body, "stream": True} if dialect.id == "v1_chat_completions" else body


def exchange(
    base_url: str,
    key: str,
    dialect: Dialect,
    model: str,
    prompt: str,
    leave_after: Callable[[str], bool] | None = None,
) -> Exchange:
    """POST one chat request and read the answer to its end, or until ``leave_after(text)`` says go."""
    body = body_for(dialect, model, prompt)
    headers = {"Authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=base_url, timeout=CLIENT_TIMEOUT, headers=headers) as client,
        client.stream("POST", dialect.path, json=body) as response,
    ):
        seen = Exchange(response.status_code, response.headers)
        if response.status_code != 200:
            raw = response.read()
            seen.raw = raw
            seen.error = _error_of(raw)
            return seen
        _read_stream(response, dialect, seen, leave_after)
    return seen


def _read_stream(
    response: httpx.Response, dialect: Dialect, seen: Exchange, leave_after: Callable[[str], bool] | None
) -> None:
    try:
        for chunk in response.iter_bytes():
            seen.raw += chunk
            _parse(seen, dialect)
            if leave_after is not None and leave_after(seen.text):
                return
    except httpx.HTTPError as exc:
        seen.cut = f"{type(exc).__name__}: {exc}"


def _parse(seen: Exchange, dialect: Dialect) -> None:
    """Re-read every complete block received so far; a half-received block waits for the rest."""
    normalised = seen.raw.replace(b"\r\n", b"\n")
    complete = normalised[: normalised.rfind(b"\n\n") + 2].decode("utf-8")
    seen.text, seen.terminals, seen.last_is_terminal = "", [], False
    for block in complete.split("\n\n")[:-1]:
        text, terminal = dialect.frame(block)
        seen.text += text
        if terminal is not None:
            seen.terminals.append(terminal)
        if text or terminal is not None:
            seen.last_is_terminal = terminal is not None


def _error_of(raw: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) else None
