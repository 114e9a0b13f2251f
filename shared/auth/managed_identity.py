"""The app's managed identity as a source of Entra ID tokens for another cloud's STS.

Federating into AWS or Google starts with an Entra token whose audience is
the one the other cloud's trust names (``api://AzureADTokenExchange`` by
default). ``azure-identity``'s ``ManagedIdentityCredential`` fetches it from
App Service's identity endpoint and caches it until shortly before expiry.

The credential is the synchronous one on purpose: both exchanges run inside
a blocking refresh (botocore's ``RefreshableCredentials``, google-auth's
``refresh``) that the providers already run in a worker thread, so the token
is fetched there too and never on the event loop. The credential is built
eagerly, because it reads ``IDENTITY_ENDPOINT`` from the environment when
it is constructed; building it makes no network call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
# Set by the template to the user-assigned identity's client id; DefaultAzureCredential reads it,
# ManagedIdentityCredential does not, so it is passed on explicitly.
CLIENT_ID_SETTING = "AZURE_CLIENT_ID"


def scope_for(audience: str) -> str:
    """The scope that asks Entra for a token whose ``aud`` is ``audience``."""
    return f"{audience.rstrip('/')}/.default"


class ManagedIdentityToken:
    """A callable returning the managed identity's token for one audience; blocking.

    The identity is ``client_id`` when configured, else the one ``AZURE_CLIENT_ID``
    names, else the system-assigned one.
    """

    def __init__(self, audience: str, client_id: str | None, environ: Mapping[str, str]) -> None:
        from azure.identity import ManagedIdentityCredential

        client_id = client_id or environ.get(CLIENT_ID_SETTING) or None
        self._scope = scope_for(audience)
        self._credential: Any = (
            ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
        )

    def __call__(self) -> str:
        """The cached token, or a fresh one from the identity endpoint."""
        return str(self._credential.get_token(self._scope).token)
