"""Converse ``cachePoint`` blocks, checked where Bedrock checks them.

A cache point ends a cached prefix, so it never opens a list of blocks (in
``system``, a message's content or ``toolConfig.tools``), and one request
holds at most ``MAX_CACHE_POINTS`` of them.

The cache itself is emulated from the request log: the prefix up to the last
cache point is written the first time the emulator sees it since its reset,
and read on every later request that repeats it, as Bedrock bills them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

from .scenario import Scenario

MAX_CACHE_POINTS = 4
_TYPES = ("default",)
_TTLS = ("5m", "1h")


def cache_point_problem(body: dict[str, Any]) -> str | None:
    """Why Bedrock would refuse this body's cache points, or None."""
    lists = {"system": body.get("system") or []}
    lists["toolConfig.tools"] = (body.get("toolConfig") or {}).get("tools") or []
    for position, message in enumerate(body.get("messages") or []):
        lists[f"messages.{position + 1}.member.content"] = message.get("content") or []
    count = 0
    for where, blocks in lists.items():
        for index, block in enumerate(blocks):
            if not isinstance(block, dict) or "cachePoint" not in block:
                continue
            problem = _point_problem(block["cachePoint"], where, index)
            if problem:
                return problem
            count += 1
    if count > MAX_CACHE_POINTS:
        return f"A maximum of {MAX_CACHE_POINTS} cachePoint blocks are allowed per request; the request has {count}."
    return None


def _point_problem(point: Any, where: str, index: int) -> str | None:
    if index == 0:
        return f"The cachePoint at {where}.{index + 1} must follow the content it caches; it cannot come first."
    if not isinstance(point, dict) or point.get("type") not in _TYPES:
        return _enum_problem(f"{where}.{index + 1}.member.cachePoint.type", "default")
    if "ttl" in point and point["ttl"] not in _TTLS:
        return _enum_problem(f"{where}.{index + 1}.member.cachePoint.ttl", "5m, 1h")
    return None


def _enum_problem(where: str, allowed: str) -> str:
    return (
        f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
        f"Member must satisfy enum value set: [{allowed}]"
    )


def with_prompt_cache(scenario: Scenario, body: dict[str, Any], earlier: Iterable[Any]) -> Scenario:
    """``scenario`` with the cache counts of this body's cached prefix, unless the scenario scripts its own."""
    prefix = cached_prefix(body)
    if not prefix or scenario.cached_tokens or scenario.cache_write_tokens:
        return scenario
    chars = sum(len(block["text"]) for block in prefix if isinstance(block.get("text"), str))
    tokens = max(1, math.ceil(chars / 4))
    seen = any(isinstance(other, dict) and cached_prefix(other) == prefix for other in earlier)
    if seen:
        return dataclasses.replace(scenario, cached_tokens=tokens)
    return dataclasses.replace(scenario, cache_write_tokens=tokens)


def cached_prefix(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The blocks up to the last cache point, in Bedrock's cache order: tools, system, then messages."""
    blocks = [*((body.get("toolConfig") or {}).get("tools") or []), *(body.get("system") or [])]
    blocks += [block for message in body.get("messages") or [] for block in message.get("content") or []]
    blocks = [block for block in blocks if isinstance(block, dict)]
    ends = [index for index, block in enumerate(blocks) if "cachePoint" in block]
    return blocks[: ends[-1]] if ends else []
