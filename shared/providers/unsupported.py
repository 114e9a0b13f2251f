"""Refusals shared by the providers that cannot honour a parameter the client set.

The relay accepts every widely sent OpenAI parameter and drops those that
change nothing the client can see. What it refuses is only what would
silently change the answer; the 400 names the parameter, says why and what
to do instead, the same words whichever provider the alias reaches.
"""

from __future__ import annotations

from ..chat_request import ChatRequest
from ..errors import Untranslatable


def refuse_logit_bias(request: ChatRequest, provider: str) -> None:
    """A non-empty ``logit_bias`` changes which tokens come out; only OpenAI's models take it."""
    if request.logit_bias:
        raise Untranslatable(
            f"logit_bias: {provider} cannot bias tokens; leave logit_bias out, or use an Azure OpenAI alias",
            param="logit_bias",
        )
