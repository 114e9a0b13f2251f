"""The relay's own HTTP API as an OpenAPI 3.1 document, served at ``GET /api/openapi.json``.

Built once from the request models and the operations in this package, so
clients can be generated from it and Schemathesis can hold the running relay
to it (``make fuzz``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from azurefunctions.extensions.http.fastapi import JSONResponse, Response

from .operations import error_responses, headers, paths
from .schemas import request_schemas, response_schemas

ROUTE_PREFIX = "/api"

SECURITY_SCHEMES = {
    "relayBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A relay API key (rk-...), a browser token (rbt1....) or a Microsoft Entra ID access token.",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "api-key",
        "description": "The same credentials in the header Azure OpenAI clients send.",
    },
}

DESCRIPTION = (
    "Relays chat streams from Azure OpenAI, AWS Bedrock and Google Vertex AI as Server-Sent Events. "
    "Every error is OpenAI-style JSON; every stream ends in exactly one terminal event. "
    "Behind App Service Authentication the platform's x-ms-client-principal header also authenticates, "
    "and a relay configured with auth.allow_anonymous admits requests without credentials."
)


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document; the same object on every call."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "LLM stream relay", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": ROUTE_PREFIX}],
        "security": [{name: []} for name in SECURITY_SCHEMES],
        "paths": paths(),
        "components": {
            "schemas": {**request_schemas(), **response_schemas()},
            "responses": error_responses(),
            "headers": headers(),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def serve() -> Response:
    """``GET /openapi.json``: the document, public like the README that describes the same API."""
    return JSONResponse(document(), headers={"Cache-Control": "no-cache"})
