"""Google Vertex AI: Gemini through the OpenAI-compatible endpoint or the native API.

The package holds all of Vertex's translation, one job per module:

* ``settings`` — the backend's fields and the URLs they imply;
* ``credentials`` and ``tokens`` — google-auth credentials and the shared,
  single-flight access-token cache;
* ``openai_api`` — ``api: "openai"``, the ``openai`` SDK with a per-request token;
* ``native_api``, ``native_request``, ``native_response`` —
  ``api: "native"``, Gemini's ``streamGenerateContent?alt=sse``;
* ``google_errors`` — Google error documents as relay errors;
* ``adapter`` — opening a stream, renewing the token once on a 401.
"""

from __future__ import annotations

from collections.abc import Mapping

import google.auth.exceptions

from ..contract import ProviderSpec
from .adapter import VertexAdapter
from .credentials import CredentialsProblem, credentials_from_info, parse_credentials_json
from .settings import VertexSettings


def check_environment(settings: VertexSettings, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """A named credentials setting must exist and hold credentials google-auth can load."""
    name = settings.credentials_setting
    if not name:
        return []
    try:
        credentials_from_info(parse_credentials_json(environ.get(name)))
    except CredentialsProblem as problem:
        return [("credentials_setting", f"app setting {name!r} {problem}")]
    except (google.auth.exceptions.GoogleAuthError, ValueError, KeyError, TypeError):
        return [("credentials_setting", f"app setting {name!r} holds credentials google-auth cannot load")]
    return []


SPEC = ProviderSpec(
    name="vertex",
    settings_type=VertexSettings,
    build=VertexAdapter,
    check_environment=check_environment,
)

__all__ = ["SPEC", "VertexAdapter", "VertexSettings"]
