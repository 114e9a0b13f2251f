"""Azure OpenAI's deployment paths: the deployment in the URL names the alias, whatever the body says.

``AzureOpenAI(azure_endpoint=...)`` puts the deployment in the path
(``/openai/deployments/{name}/chat/completions``) and still sends a ``model``
in the body: the same name, or anything when ``azure_deployment`` is set.
Other Azure clients send no ``model`` at all. So the path decides, as it does
on Azure OpenAI, and the body is validated exactly as on ``/v1/chat/completions``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .chat_request import ChatRequest, parse_chat_request
from .json_body import load_object

# /<prefix>/openai/deployments/{alias}/chat/completions: the alias is the third segment from the end.
ALIAS_FROM_END = 3


def deployment_of(path: str) -> str:
    """The deployment segment of a deployment route's (decoded) URL path."""
    return path.rstrip("/").split("/")[-ALIAS_FROM_END]


def parser_for(alias: str) -> Callable[[bytes], ChatRequest]:
    """A body parser that sets ``model`` to ``alias`` before the usual validation.

    The body is read once more after the alias is set, rather than validated
    by a second copy of the chat request's rules; ``load_object`` has already
    refused what ``json.dumps`` could not write back (non-finite numbers, lone
    surrogates, nesting past the limit).
    """

    def parse(raw: bytes) -> ChatRequest:
        document = load_object(raw)
        document["model"] = alias
        return parse_chat_request(json.dumps(document).encode())

    return parse
