"""``make dev``'s keyless mode: no cloud key anywhere, every credential federated from a managed identity.

``RELAY_DEV_KEYLESS=1 make dev`` (or ``python -m devtools.dev --keyless``)
serves, besides the provider emulators, the federation emulator
(:mod:`devtools.emulators.federation`): App Service's managed-identity
endpoint, the Entra-like issuer behind it, AWS STS and Google STS/IAM. The
relay gets ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER`` as on Azure and the
keyless configuration (``devtools/config/relay.keyless.json``):

* Azure OpenAI by Entra ID token (no ``api_key_setting``);
* Bedrock by ``web_identity``: the token exchanged at STS for a role's keys;
* Vertex by ``workload_identity``: the token exchanged at Google STS, then a
  service account impersonated.

The Bedrock and Vertex emulators are built to accept only credentials those
exchanges issued, so a stream that works here went through the whole chain.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from devtools.emulators.azure_identity import IDENTITY_PATH
from devtools.emulators.azure_openai import AzureOpenAIEmulator
from devtools.emulators.bedrock import BedrockEmulator
from devtools.emulators.federation import dev_federation
from devtools.emulators.vertex import VertexEmulator

from .local_host import APP_ROOT
from .threaded_server import ThreadedServer

KEYLESS_CONFIG = APP_ROOT / "devtools" / "config" / "relay.keyless.json"
FEDERATION_PORT = 8104
ENDPOINT_FIELDS = {"azure_openai": "endpoint", "bedrock": "endpoint_url", "vertex": "endpoint_url"}


def start_keyless_emulators(ports: Mapping[str, int], federation_port: int) -> dict[str, ThreadedServer]:
    """The federation emulator and provider emulators that trust only it, by name; sets the identity endpoint."""
    federation = dev_federation()
    servers = {"federation": ThreadedServer(federation, port=federation_port).start()}
    federation.url = servers["federation"].url
    azure = AzureOpenAIEmulator()
    azure.identity = federation.identity  # Entra tokens for Azure OpenAI come from the same identity
    providers = {
        "azure_openai": azure,
        "bedrock": BedrockEmulator(sts=federation.aws),
        "vertex": VertexEmulator(authority=federation.google.authority),
    }
    for name, app in providers.items():
        servers[name] = ThreadedServer(app, port=ports[name]).start()
    for name, server in servers.items():
        print(f"  emulator {name:<13} {server.url}", flush=True)
    os.environ["IDENTITY_ENDPOINT"] = f"{federation.url}{IDENTITY_PATH}"
    os.environ["IDENTITY_HEADER"] = "dev-identity-header"
    return servers


def keyless_config(urls: Mapping[str, str]) -> str:
    """The keyless configuration pointed at the emulators actually serving, as inline JSON."""
    document = json.loads(KEYLESS_CONFIG.read_text(encoding="utf-8"))
    federation = urls["federation"]
    for backend in document["backends"]:
        provider = backend["provider"]
        backend[ENDPOINT_FIELDS[provider]] = urls[provider]
        if "web_identity" in backend:
            backend["web_identity"]["sts_endpoint_url"] = federation
        if "workload_identity" in backend:
            backend["workload_identity"] |= {"token_url": f"{federation}/v1/token", "iam_credentials_url": federation}
    return json.dumps(document)
