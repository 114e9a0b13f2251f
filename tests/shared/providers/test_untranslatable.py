"""A request a provider cannot express is refused the same way by every provider."""

from __future__ import annotations

from typing import Any

import pytest

from shared.chat_request import ChatRequest
from shared.errors import ClientError, RelayError
from shared.providers.bedrock.request import converse_params
from shared.providers.vertex.native_request import gemini_request

FILE = {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-123"}}]}


def refusal(translate: Any, body: dict[str, Any]) -> RelayError:
    with pytest.raises(RelayError) as caught:
        translate(ChatRequest.model_validate(body))
    return caught.value


def test_bedrock_and_vertex_refuse_an_untranslatable_request_with_one_client_error() -> None:
    body = {"model": "m", "messages": [FILE]}
    bedrock = refusal(lambda request: converse_params(request, "model-id"), body)
    vertex = refusal(gemini_request, body)
    assert type(bedrock) is type(vertex)
    assert isinstance(bedrock, ClientError)
    assert (bedrock.status, vertex.status) == (400, 400)
    assert not vertex.retryable


def test_vertex_keeps_its_codes_for_what_it_cannot_send() -> None:
    assert refusal(gemini_request, {"model": "m", "messages": [FILE]}).code == "unsupported_content"
    tool_choice = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "sometimes"}
    assert refusal(gemini_request, tool_choice).code == "invalid_request"
