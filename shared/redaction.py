"""Scrubbing text that came from an upstream before a client or a log sees it.

Provider error messages are useful to relay (a context-length overflow, a
content-filter hit), but they may carry what a client must not see: URLs
with keys or SAS signatures in their query, request and trace ids of the
relay's own account, bearer tokens, or key-shaped strings. Scrubbing keeps
the sentence and replaces those parts.
"""

from __future__ import annotations

import re

from .errors import writable

_VALUE = r"[^\s&,;)\][:=][^\s&,;)\]]*"  # not an already scrubbed "[...]"
_SECRET_NAME = r"api[-_ ]?key|access[-_ ]?key|secret|password|token|sig|signature|key"
_ID_NAME = r"(?:apim-|x-|x-amzn-|x-ms-)?(?:request|trace|correlation)[-_ ]?id"

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"https?://[^\s'\"<>]+", re.IGNORECASE), "[url]"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "[redacted]"),  # AWS access key ids
    (re.compile(r"\bsk-[\w-]{16,}"), "[redacted]"),  # OpenAI-style secret keys
    (re.compile(r"\bBearer\s+\S+", re.IGNORECASE), "Bearer [redacted]"),
    (re.compile(rf"\b({_SECRET_NAME})(\s*[=:]\s*){_VALUE}", re.IGNORECASE), r"\1\2[redacted]"),
    (re.compile(rf"\b({_ID_NAME})(\s*[=:]?\s*){_VALUE}", re.IGNORECASE), r"\1\2[id]"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE), "[id]"),
    (re.compile(r"(?<![\w+/=-])(?=[\w+/=-]*\d)(?=[\w+/=-]*[A-Za-z])[\w+/=-]{32,}"), "[redacted]"),
]
MAX_LENGTH = 500


def scrub(text: str) -> str:
    """``text`` with URLs, ids, tokens and key-shaped strings replaced, at most 500 characters; idempotent.

    Lone surrogates (an upstream JSON error can hold ``"\\ud800"``) are escaped, so the text can be sent.
    """
    text = writable(text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text[:MAX_LENGTH]
