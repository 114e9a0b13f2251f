"""Gemini 3 thought signatures on the Vertex emulator: issued on function calls, required back, both APIs."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.threaded_server import ThreadedServer
from tests.devtools.emulators.vertex.vertex_emulator_calls import (
    OPENAI_MODEL,
    native_body,
    native_url,
    openai_client,
)

PROMPT = inline_prompt(text="", reasoning="Use the tool.", tool_calls=[{"name": "f", "arguments": {"a": 1}}])


def native(server: ThreadedServer, token: str, contents: list[dict[str, Any]]) -> httpx.Response:
    body = {**native_body(PROMPT), "contents": contents}
    return httpx.post(
        native_url(server.url, "generateContent"), json=body, headers={"Authorization": f"Bearer {token}"}
    )


def native_follow_up(call_part: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "user", "parts": [{"text": PROMPT}]},
        {"role": "model", "parts": [call_part]},
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"ok": True}}}]},
    ]


def test_native_function_call_is_signed_and_its_signature_required(server: ThreadedServer, token: str) -> None:
    first = native(server, token, [{"role": "user", "parts": [{"text": PROMPT}]}])
    part = first.json()["candidates"][0]["content"]["parts"][-1]
    assert part["functionCall"] == {"name": "f", "args": {"a": 1}} and part["thoughtSignature"]
    assert native(server, token, native_follow_up(part)).status_code == 200
    refused = native(server, token, native_follow_up({"functionCall": part["functionCall"]}))
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "missing a `thought_signature`" in error["message"]


def test_native_signature_it_never_issued_is_corrupted(server: ThreadedServer, token: str) -> None:
    refused = native(
        server, token, native_follow_up({"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "AA=="})
    )
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "Corrupted thought signature."


def test_native_text_part_is_signed_when_no_function_is_called(server: ThreadedServer, token: str) -> None:
    contents = [{"role": "user", "parts": [{"text": inline_prompt(text="Hi.", reasoning="Think.")}]}]
    parts = native(server, token, contents).json()["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "Think.", "thought": True} and parts[-1]["thoughtSignature"]


@pytest.mark.parametrize("stream", [False, True])
def test_openai_tool_call_is_signed_and_its_signature_required(
    server: ThreadedServer, token: str, stream: bool
) -> None:
    with openai_client(server.url, token) as client:
        check_openai_round_trip(client, stream)


def check_openai_round_trip(client: openai.OpenAI, stream: bool) -> None:
    user: Any = {"role": "user", "content": PROMPT}
    if stream:
        chunks = list(client.chat.completions.create(model=OPENAI_MODEL, messages=[user], stream=True))
        call = next(c.choices[0].delta.tool_calls[0] for c in chunks if c.choices and c.choices[0].delta.tool_calls)
        call_dict = call.model_dump(exclude_none=True)
        call_dict.pop("index")
    else:
        message = client.chat.completions.create(model=OPENAI_MODEL, messages=[user]).choices[0].message
        call_dict = message.tool_calls[0].model_dump(exclude_none=True)  # type: ignore[index]
    assert call_dict["extra_content"]["google"]["thought_signature"]

    def follow_up(tool_call: dict[str, Any]) -> Any:
        messages: Any = [
            user,
            {"role": "assistant", "tool_calls": [tool_call]},
            {"role": "tool", "tool_call_id": tool_call["id"], "content": "ok"},
        ]
        return client.chat.completions.create(model=OPENAI_MODEL, messages=messages)

    assert follow_up(call_dict).choices
    with pytest.raises(openai.BadRequestError) as raised:
        follow_up({key: value for key, value in call_dict.items() if key != "extra_content"})
    assert "missing a `thought_signature`" in str(raised.value.body)
