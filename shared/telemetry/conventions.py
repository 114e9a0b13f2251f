"""Names, units and bucket advice from the OpenTelemetry GenAI semantic conventions, plus the relay's own.

One place for every string an operator's dashboard depends on; the README's
Observability section lists the same names.
"""

from __future__ import annotations

from collections.abc import Mapping

# Attributes from the conventions.
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
TOKEN_TYPE = "gen_ai.token.type"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
# Experimental in the GenAI conventions; both are parts of gen_ai.usage.input_tokens, as ours are.
CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
ERROR_TYPE = "error.type"
CHAT = "chat"

# The relay's own attributes.
BACKEND = "relay.backend"
CLIENT = "relay.client"
OUTCOME = "relay.outcome"
BACKEND_STATE = "relay.backend.state"
ATTEMPTS = "relay.attempts"
HEARTBEATS = "relay.heartbeats"
OUTPUT_CHUNKS = "relay.output_chunks"
STREAM = "relay.stream"

# Metrics from the conventions: name, unit, bucket advice.
TOKEN_USAGE = "gen_ai.client.token.usage"
OPERATION_DURATION = "gen_ai.client.operation.duration"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
CHUNK_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)

# The relay's own metrics.
REQUESTS = "relay.requests"
ATTEMPTS_METRIC = "relay.attempts"
FAILOVERS = "relay.failovers"
BACKEND_CONDITION = "relay.router.backends"
HEADROOM_REQUESTS = "relay.backend.headroom.requests"
HEADROOM_TOKENS = "relay.backend.headroom.tokens"
ATTEMPT_BUCKETS = (1, 2, 3, 4, 5, 6, 8, 10)

# Span events on the server span.
FIRST_TOKEN_EVENT = "relay.first_token"
HEARTBEAT_EVENT = "relay.heartbeat"
BACKEND_UNAVAILABLE_EVENT = "relay.backend.unavailable"

# The conventions' well-known gen_ai.provider.name for each provider this relay speaks to.
PROVIDER_NAMES: Mapping[str, str] = {
    "azure_openai": "azure.ai.openai",
    "bedrock": "aws.bedrock",
    "vertex": "gcp.vertex_ai",
}

# Where each provider's settings keep the model the backend serves; what gen_ai.response.model reports.
MODEL_FIELDS = ("deployment", "model_id", "model")


def provider_name(provider: str) -> str:
    """The conventions' value for a configured provider; the configured name when the conventions have none."""
    return PROVIDER_NAMES.get(provider, provider)
