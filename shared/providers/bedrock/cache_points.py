"""``cache_control`` breakpoints -> Converse ``cachePoint`` blocks.

A client marks the end of a prompt prefix worth caching with
``cache_control: {"type": "ephemeral"}`` on a content part, a message or a
tool. Converse marks the same place with a ``cachePoint`` block placed right
after the cached content, in ``system``, in a turn's content or in
``toolConfig.tools``. Bedrock takes at most ``MAX_CACHE_POINTS`` per request;
more is refused with a 400 rather than trimmed, because dropping a breakpoint
silently changes what the client is billed.
"""

from __future__ import annotations

from typing import Any

from ...errors import Untranslatable
from ...request_fields import CacheControl

MAX_CACHE_POINTS = 4

Block = dict[str, Any]


def cache_point(control: CacheControl) -> Block:
    """The block that ends a cached prefix; Converse calls its only type ``default``."""
    point: dict[str, str] = {"type": "default"}
    if control.ttl is not None:
        point["ttl"] = control.ttl
    return {"cachePoint": point}


def with_cache_point(blocks: list[Block], control: CacheControl | None) -> list[Block]:
    """``blocks`` followed by a cache point when marked; never a cache point with nothing before it."""
    if control is None or not blocks or "cachePoint" in blocks[-1]:
        return blocks
    return [*blocks, cache_point(control)]


def check_cache_point_count(params: dict[str, Any]) -> None:
    """Refuse more cache points than Bedrock accepts in one request."""
    tools = (params.get("toolConfig") or {}).get("tools", [])
    blocks = [*params.get("system", []), *tools]
    blocks += [block for turn in params["messages"] for block in turn["content"]]
    count = sum("cachePoint" in block for block in blocks)
    if count > MAX_CACHE_POINTS:
        raise Untranslatable(
            f"cache_control: Bedrock takes at most {MAX_CACHE_POINTS} cache breakpoints a request, "
            f"this one marks {count}",
            param="cache_control",
        )
