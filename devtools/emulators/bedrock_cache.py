"""Converse ``cachePoint`` blocks, checked where Bedrock checks them.

A cache point ends a cached prefix, so it never opens a list of blocks (in
``system``, a message's content or ``toolConfig.tools``), and one request
holds at most ``MAX_CACHE_POINTS`` of them.
"""

from __future__ import annotations

from typing import Any

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
