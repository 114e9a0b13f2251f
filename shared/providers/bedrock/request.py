"""OpenAI Chat Completions request -> Bedrock ``ConverseStream`` parameters.

Converse differs from OpenAI in shape more than in meaning: system prompts sit
outside the conversation, turns must alternate user/assistant starting with
user, tool calls and tool results are content blocks (results travel in user
turns), and sampling parameters gather in ``inferenceConfig``. Parameters
Converse has no equivalent for are refused with a 400 naming them, before any
upstream call, when they would change the answer (a penalty, a seed, a token
bias); those that change nothing the client sees (``user``, ``store``,
``service_tier``...) are dropped. Structured output and parallel tool use
are in :mod:`.structured`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ...chat_request import ChatMessage, ChatRequest, ContentPart
from ...errors import Untranslatable
from ...events import BEDROCK
from ...reasoning_replay import RedactedThinkingBlock, blocks_for
from ..unsupported import refuse_logit_bias
from .cache_points import check_cache_point_count, with_cache_point
from .structured import (
    STRUCTURED_TOOL,
    anthropic_tool_choice,
    is_anthropic,
    output_config,
    structured_tool,
    structured_tool_spec,
)

# Request fields Converse cannot express and that change the answer; each is refused when the client sets it.
UNSUPPORTED = ("presence_penalty", "frequency_penalty", "seed", "reasoning_effort")
# requestMetadata's key and value syntax; pairs outside it are left out (they only label invocation logs).
_METADATA_KEY = re.compile(r"^[a-zA-Z0-9\s:_@$#=/+,\-.]{1,256}$")
_METADATA_VALUE = re.compile(r"^[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}$")

IMAGE_FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "gif": "gif", "webp": "webp"}
_DATA_URL = re.compile(r"^data:image/([a-z]+);base64,(.*)$", re.DOTALL)

Block = dict[str, Any]
Turn = dict[str, Any]


def converse_params(request: ChatRequest, model_id: str, structured: str = "auto") -> dict[str, Any]:
    """The ``converse_stream`` keyword arguments for ``request`` aimed at ``model_id``.

    ``structured`` is the backend's ``structured_output`` setting.
    """
    refuse_unsupported(request)
    system, turns = conversation(request.messages)
    params: dict[str, Any] = {"modelId": model_id, "messages": turns}
    if system:
        params["system"] = system
    inference = inference_config(request)
    if inference:
        params["inferenceConfig"] = inference
    forced = structured_tool(request, structured, model_id)
    tools = tool_config(request, forced)
    if tools:
        params["toolConfig"] = tools
    if request.structured_output is not None and forced is None:
        params["outputConfig"] = output_config(request)
    if tools and request.parallel_tool_calls is False and is_anthropic(model_id):
        params["additionalModelRequestFields"] = anthropic_tool_choice(tools.get("toolChoice"))
    metadata = request_metadata(request)
    if metadata:
        params["requestMetadata"] = metadata
    check_cache_point_count(params)
    return params


def refuse_unsupported(request: ChatRequest) -> None:
    """Raise a 400 naming the first parameter Bedrock cannot honour."""
    for name in UNSUPPORTED:
        if getattr(request, name) is not None:
            raise _unsupported(request, name)
    refuse_logit_bias(request, "Bedrock")


def request_metadata(request: ChatRequest) -> dict[str, str]:
    """``metadata`` as ``requestMetadata``, which labels Bedrock's invocation logs, where its syntax allows."""
    pairs = (request.metadata or {}).items()
    return {key: value for key, value in pairs if _METADATA_KEY.match(key) and _METADATA_VALUE.match(value)}


def _unsupported(request: ChatRequest, name: str, value: str = "") -> Untranslatable:
    return Untranslatable(f"{name}: {value}is not supported by model {request.model!r}", param=name)


# --- messages ------------------------------------------------------------------------


def conversation(messages: list[ChatMessage]) -> tuple[list[Block], list[Turn]]:
    """System blocks and alternating turns; consecutive same-role messages merge into one turn."""
    system: list[Block] = []
    turns: list[Turn] = []
    first_message: list[int] = []
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system += _text_blocks(message, index)
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = message_blocks(message, index)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += blocks
        else:
            turns.append({"role": role, "content": blocks})
            first_message.append(index)
    _check_turns(turns, first_message)
    return system, turns


def _check_turns(turns: list[Turn], first_message: list[int]) -> None:
    if not turns:
        raise Untranslatable("messages: needs at least one user message", param="messages")
    if turns[0]["role"] != "user":
        where = f"messages[{first_message[0]}]"
        raise Untranslatable(f"{where}: the conversation must start with a user message", param=where)
    for turn, index in zip(turns, first_message, strict=True):
        if not turn["content"]:
            where = f"messages[{index}].content"
            raise Untranslatable(f"{where}: must not be empty", param=where)


def message_blocks(message: ChatMessage, index: int) -> list[Block]:
    """The Converse content blocks of one user, assistant or tool message."""
    if message.role == "tool":
        text = message.text()
        result = [{"toolResult": {"toolUseId": message.tool_call_id, "content": [{"text": text}]}}]
        return with_cache_point(result, message.cache_control)
    blocks: list[Block] = reasoning_blocks(message, index)
    for n, part in enumerate(_parts(message)):
        block = _part_block(part, f"messages[{index}].content[{n}]")
        blocks += with_cache_point([block] if block else [], part.cache_control)
    for position, call in enumerate(message.tool_calls or []):
        blocks.append(_tool_use(call.id, call.function.name, call.function.arguments, index, position))
    return with_cache_point(blocks, message.cache_control)


def reasoning_blocks(message: ChatMessage, index: int) -> list[Block]:
    """Bedrock's own signed thinking, first in the assistant turn as Claude wants it; others' is left out."""
    blocks: list[Block] = []
    for block in blocks_for(message.thinking_blocks, BEDROCK):
        if isinstance(block, RedactedThinkingBlock):
            where = f"messages[{index}].thinking_blocks"
            try:
                data = base64.b64decode(block.data, validate=True)
            except binascii.Error:
                raise Untranslatable(f"{where}: redacted_thinking data is not valid base64", param=where) from None
            blocks.append({"reasoningContent": {"redactedContent": data}})
        else:
            text = {"text": block.thinking, "signature": block.signature}
            blocks.append({"reasoningContent": {"reasoningText": text}})
    return blocks


def _parts(message: ChatMessage) -> list[ContentPart]:
    if isinstance(message.content, str):
        return [ContentPart(type="text", text=message.content)]
    return list(message.content or [])


def _text_blocks(message: ChatMessage, index: int) -> list[Block]:
    """System content: text only, empty text left out; split at each cache breakpoint."""
    parts = _parts(message)
    for n, part in enumerate(parts):
        if part.type != "text":
            where = f"messages[{index}].content[{n}]"
            raise Untranslatable(f"{where}: a {message.role} message may only hold text", param=where)
    if not any(part.cache_control for part in parts):
        text = message.text()
        return with_cache_point([{"text": text}] if text else [], message.cache_control)
    blocks: list[Block] = []
    for part in parts:
        blocks += with_cache_point([{"text": part.text}] if part.text else [], part.cache_control)
    return with_cache_point(blocks, message.cache_control)


def _part_block(part: ContentPart, where: str) -> Block | None:
    """One content part as a block; empty text is dropped because Bedrock rejects blank text."""
    if part.type in ("text", "refusal"):
        text = part.text if part.type == "text" else getattr(part, "refusal", None)
        return {"text": text} if text else None
    if part.type == "image_url":
        return {"image": image_block(part, where)}
    raise Untranslatable(f"{where}: content of type {part.type!r} is not supported by Bedrock", param=where)


def image_block(part: ContentPart, where: str) -> Block:
    """An inline ``data:image/...;base64,`` URL as an image block; Bedrock cannot fetch URLs."""
    image_url = getattr(part, "image_url", None)
    url = image_url.get("url") if isinstance(image_url, dict) else None
    match = _DATA_URL.match(url) if isinstance(url, str) else None
    if match is None or match.group(1) not in IMAGE_FORMATS:
        raise Untranslatable(
            f"{where}.image_url: must be a data URL of a png, jpeg, gif or webp image; Bedrock cannot fetch URLs",
            param=f"{where}.image_url",
        )
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except binascii.Error:
        message = f"{where}.image_url: the data URL is not valid base64"
        raise Untranslatable(message, param=f"{where}.image_url") from None
    return {"format": IMAGE_FORMATS[match.group(1)], "source": {"bytes": data}}


def _tool_use(call_id: str, name: str, arguments: str, index: int, position: int) -> Block:
    """An assistant tool call; Converse wants the arguments as a JSON object, not a string."""
    where = f"messages[{index}].tool_calls[{position}].function.arguments"
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        raise Untranslatable(f"{where}: is not valid JSON", param=where) from None
    if not isinstance(value, dict):
        raise Untranslatable(f"{where}: must be a JSON object", param=where)
    return {"toolUse": {"toolUseId": call_id, "name": name, "input": value}}


# --- parameters ----------------------------------------------------------------------


def inference_config(request: ChatRequest) -> dict[str, Any]:
    """``max_tokens``/``max_completion_tokens``, ``temperature``, ``top_p`` and ``stop``."""
    config: dict[str, Any] = {}
    if request.output_token_limit is not None:
        config["maxTokens"] = request.output_token_limit
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.stop:
        config["stopSequences"] = [request.stop] if isinstance(request.stop, str) else list(request.stop)
    return config


def tool_config(request: ChatRequest, forced: str | None = None) -> dict[str, Any] | None:
    """``tools`` and ``tool_choice`` as a ``toolConfig``, plus the ``forced`` structured-output tool if any.

    With client tools beside the forced one the model may still call them,
    but must call *a* tool, so that its final answer comes through the forced one.
    """
    tools = request.tool_list
    choice = request.tool_choice_value
    if not tools and forced is None:
        if choice is not None:
            raise Untranslatable("tool_choice: needs tools", param="tool_choice")
        return None
    if choice == "none" and forced is None and not _has_tool_turns(request.messages):
        return None  # with no tools offered the model cannot call one, which is all "none" asks
    specs = []
    for tool in tools or []:
        function = tool.function
        spec: dict[str, Any] = {"name": function.name}
        if function.description:
            spec["description"] = function.description
        spec["inputSchema"] = {"json": function.parameters or {"type": "object", "properties": {}}}
        specs += with_cache_point([{"toolSpec": spec}], tool.cache_control)
    config: dict[str, Any] = {"tools": specs}
    if choice is not None:
        config["toolChoice"] = tool_choice(choice)
    if forced is not None:
        specs.append(structured_tool_spec(request))
        if not tools:
            config["toolChoice"] = {"tool": {"name": STRUCTURED_TOOL}}
        elif "tool" not in config.get("toolChoice", {}):
            config["toolChoice"] = {"any": {}}
    return config


def _has_tool_turns(messages: list[ChatMessage]) -> bool:
    """Tool calls or results in the history, which Converse accepts only beside a ``toolConfig``."""
    return any(message.tool_calls or message.role == "tool" for message in messages)


def tool_choice(choice: str | dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``tool_choice`` in Converse terms; ``none`` has no equivalent once tools are in the history."""
    if choice == "auto":
        return {"auto": {}}
    if choice == "required":
        return {"any": {}}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str) and name:
            return {"tool": {"name": name}}
    if choice == "none":
        message = "tool_choice: 'none' is not supported by Bedrock once the conversation holds tool calls"
        raise Untranslatable(message, param="tool_choice")
    raise Untranslatable("tool_choice: must be 'auto', 'required' or a function", param="tool_choice")
