"""Every route, provider path and streaming mode the fuzz suite sends to, in one list.

The profile sizes each target's share from the total count, so the chat and
Responses test modules draw their sizes from this one list: adding a route
spreads the same budget thinner instead of making ``make test`` slower.
"""

from __future__ import annotations

from tests.fuzz.exchange import Target

ALIASES = ["azure", "bedrock", "vertex", "vertex-native"]
# The three Responses paths share one handler, so each alias takes one of them in turn and every path is sent to.
RESPONSES_ROUTES = ["/api/v1/responses", "/api/openai/v1/responses", "/api/openai/responses"]

CHAT = [
    *(Target("/api/v1/chat/completions", alias, stream=True) for alias in ALIASES),
    *(Target("/api/v1/chat/completions", alias, stream=False) for alias in ALIASES),
    *(Target("/api/chat", alias) for alias in ALIASES),
]
RESPONSES = [
    Target(RESPONSES_ROUTES[(position + offset) % len(RESPONSES_ROUTES)], alias, stream=stream)
    for offset, stream in enumerate((True, False))
    for position, alias in enumerate(ALIASES)
]
ALL = [*CHAT, *RESPONSES]
