"""The client's Chat Completions request as a Gemini ``GenerateContentRequest``.

OpenAI and Gemini model a conversation differently:

* system and developer messages become one ``systemInstruction``;
* ``assistant`` is ``model``; a tool result is a ``user`` turn holding a
  ``functionResponse``, which must name the function, so the name is looked
  up from the assistant turn that made the call;
* consecutive turns of one role are merged, because Gemini answers a turn
  of parallel function calls with exactly one turn of responses;
* tool-call arguments are a JSON *string* in OpenAI and an *object* in Gemini;
* a replayed thought signature goes back on the part it came from: a tool
  call's (``extra_content.google``) on its ``functionCall``, a Google-tagged
  thinking block's on the turn's first text part (dropped when the turn has
  no text: Gemini does not require those). Other providers' blocks are dropped.

Anything the relay cannot express raises ``Untranslatable`` (HTTP 400)
before a byte is sent upstream.
"""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from ...chat_request import ChatMessage, ChatRequest, ContentPart
from ...errors import INVALID_REQUEST, UNSUPPORTED_CONTENT, Untranslatable
from ...events import GOOGLE
from ...reasoning_replay import ThinkingBlock, blocks_for, google_signature
from ..unsupported import refuse_logit_bias

Part = dict[str, Any]
Content = dict[str, Any]

# reasoning_effort -> thinkingBudget (tokens), the budgets Google's own OpenAI
# compatibility layer documents for low, medium and high.
THINKING_BUDGETS = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}

FUNCTION_CALLING_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def gemini_request(request: ChatRequest) -> dict[str, Any]:
    """The whole request body for ``streamGenerateContent``."""
    refuse_logit_bias(request, "Vertex AI")
    body: dict[str, Any] = {"contents": contents(request.messages)}
    system = system_instruction(request.messages)
    if system is not None:
        body["systemInstruction"] = system
    tools = request.tool_list
    if tools:
        body["tools"] = [{"functionDeclarations": [function_declaration(tool.function) for tool in tools]}]
    choice = request.tool_choice_value
    if choice is not None:
        body["toolConfig"] = {"functionCallingConfig": function_calling_config(choice)}
    config = generation_config(request)
    if config:
        body["generationConfig"] = config
    return body


def system_instruction(messages: list[ChatMessage]) -> Content | None:
    """Every system and developer message, one text part each, in order."""
    parts = [{"text": m.text()} for m in messages if m.role in ("system", "developer") and m.text()]
    return {"parts": parts} if parts else None


def contents(messages: list[ChatMessage]) -> list[Content]:
    """The conversation without system messages, as alternating Gemini turns."""
    names = _tool_call_names(messages)
    turns: list[Content] = []
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = _parts(message, index, names)
        if not parts:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["parts"].extend(parts)
        else:
            turns.append({"role": role, "parts": parts})
    return turns


def _tool_call_names(messages: list[ChatMessage]) -> dict[str, str]:
    return {call.id: call.function.name for m in messages for call in m.tool_calls or []}


def _parts(message: ChatMessage, index: int, names: dict[str, str]) -> list[Part]:
    if message.role == "tool":
        return [_function_response(message, index, names)]
    parts = _signed_text(_content_parts(message, index), message)
    for call in message.tool_calls or []:
        part: Part = {"functionCall": {"name": call.function.name, "args": _arguments(call.function.arguments, index)}}
        if (signature := google_signature(call.extra_content)) is not None:
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _signed_text(parts: list[Part], message: ChatMessage) -> list[Part]:
    """The first text part with the signature of Gemini's own thinking block, when there is both."""
    signed = [b.signature for b in blocks_for(message.thinking_blocks, GOOGLE) if isinstance(b, ThinkingBlock)]
    texts = [n for n, part in enumerate(parts) if "text" in part]
    if signed and texts:
        parts[texts[0]] = {**parts[texts[0]], "thoughtSignature": signed[-1]}
    return parts


def _content_parts(message: ChatMessage, index: int) -> list[Part]:
    if isinstance(message.content, str):
        return [{"text": message.content}] if message.content else []
    parts: list[Part] = []
    for position, part in enumerate(message.content or []):
        converted = content_part(part, f"messages[{index}].content[{position}]")
        if converted is not None:
            parts.append(converted)
    return parts


def content_part(part: ContentPart, where: str) -> Part | None:
    """One OpenAI content part as a Gemini part; None for an empty text part."""
    extra = part.model_extra or {}
    if part.type in ("text", "refusal"):
        text = part.text if part.type == "text" else extra.get("refusal")
        return {"text": text} if text else None
    if part.type == "image_url":
        image = extra.get("image_url")
        url = image.get("url") if isinstance(image, dict) else None
        return _media(url, where, "image/jpeg")
    if part.type == "input_audio":
        audio = extra.get("input_audio")
        if isinstance(audio, dict) and audio.get("data") and audio.get("format"):
            return {"inlineData": {"mimeType": f"audio/{audio['format']}", "data": audio["data"]}}
    if part.type == "file":
        file = extra.get("file")
        if isinstance(file, dict) and str(file.get("file_data", "")).startswith("data:"):
            return _media(file["file_data"], where, "application/octet-stream")
    raise Untranslatable(f"{where}: this {part.type} part cannot be sent to Gemini", code=UNSUPPORTED_CONTENT)


def _media(url: object, where: str, fallback_type: str) -> Part:
    """A data URL as inline bytes; any other URL (gs://, https://) by reference."""
    if not isinstance(url, str) or not url:
        raise Untranslatable(f"{where}: needs a url", code=UNSUPPORTED_CONTENT)
    if url.startswith("data:"):
        header, _, data = url[len("data:") :].partition(",")
        mime_type, _, encoding = header.partition(";")
        if encoding != "base64" or not data:
            raise Untranslatable(f"{where}: only base64 data URLs are supported", code=UNSUPPORTED_CONTENT)
        return {"inlineData": {"mimeType": mime_type or fallback_type, "data": data}}
    guessed = mimetypes.guess_type(url.split("?", 1)[0])[0]
    return {"fileData": {"mimeType": guessed or fallback_type, "fileUri": url}}


def _function_response(message: ChatMessage, index: int, names: dict[str, str]) -> Part:
    call_id = message.tool_call_id or ""
    name = names.get(call_id)
    if name is None:
        raise Untranslatable(
            f"messages[{index}].tool_call_id: no earlier assistant tool call has id {call_id!r}",
            code=INVALID_REQUEST,
        )
    return {"functionResponse": {"name": name, "response": _response_object(message.text())}}


def _response_object(text: str) -> dict[str, Any]:
    """Gemini wants an object: a JSON object passes as is; anything else is wrapped."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"content": text}
    return parsed if isinstance(parsed, dict) else {"content": parsed}


def _arguments(arguments: str, index: int) -> dict[str, Any]:
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise Untranslatable(
            f"messages[{index}].tool_calls: function arguments must be a JSON object", code=INVALID_REQUEST
        )
    return parsed


def function_declaration(function: Any) -> dict[str, Any]:
    """An OpenAI function definition as a Gemini ``FunctionDeclaration``.

    The parameters go as ``parametersJsonSchema``, which takes JSON Schema as
    written (``$defs``/``$ref``, ``anyOf``), not the OpenAPI subset of ``parameters``.
    """
    declaration: dict[str, Any] = {"name": function.name}
    if function.description:
        declaration["description"] = function.description
    if function.parameters:
        declaration["parametersJsonSchema"] = function.parameters
    return declaration


def function_calling_config(choice: str | dict[str, Any]) -> dict[str, Any]:
    """``tool_choice`` as ``functionCallingConfig``; naming a function forces that one."""
    if isinstance(choice, str):
        mode = FUNCTION_CALLING_MODES.get(choice)
        if mode is None:
            raise Untranslatable(f"tool_choice: unsupported value {choice!r}", code=INVALID_REQUEST)
        return {"mode": mode}
    name = (choice.get("function") or {}).get("name") if isinstance(choice.get("function"), dict) else None
    if not name:
        raise Untranslatable("tool_choice: must name a function", code=INVALID_REQUEST)
    return {"mode": "ANY", "allowedFunctionNames": [name]}


def generation_config(request: ChatRequest) -> dict[str, Any]:
    """Sampling parameters under Gemini's names; only those the client set."""
    config: dict[str, Any] = {}
    simple = {
        "temperature": request.temperature,
        "topP": request.top_p,
        "maxOutputTokens": request.output_token_limit,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
        "seed": request.seed,
    }
    config.update({name: value for name, value in simple.items() if value is not None})
    if request.stop is not None:
        config["stopSequences"] = [request.stop] if isinstance(request.stop, str) else list(request.stop)
    config.update(_response_format(request.response_format))
    if request.reasoning_effort is not None:
        config["thinkingConfig"] = {
            "thinkingBudget": THINKING_BUDGETS[request.reasoning_effort],
            "includeThoughts": True,
        }
    return config


def _response_format(response_format: dict[str, Any] | None) -> dict[str, Any]:
    """JSON output: ``responseMimeType``, plus the schema as ``responseJsonSchema``.

    ``responseJsonSchema`` takes JSON Schema as pydantic and zod write it
    (``$ref``/``$defs``, ``anyOf``, ``additionalProperties``), where the older
    ``responseSchema`` takes only an OpenAPI subset and would refuse them.
    """
    kind = (response_format or {}).get("type")
    if kind in (None, "text"):
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        schema = ((response_format or {}).get("json_schema") or {}).get("schema")
        config: dict[str, Any] = {"responseMimeType": "application/json"}
        if isinstance(schema, dict):
            config["responseJsonSchema"] = schema
        return config
    raise Untranslatable(f"response_format: unsupported type {kind!r}", code=INVALID_REQUEST)
