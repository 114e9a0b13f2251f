"""The Azure Functions app: routes only; everything else lives in ``shared/``.

Every HTTP function takes and returns the FastAPI streaming extension's
types: the Python worker refuses an app that mixes them with the core
library's request type. The application (configuration, access, router and
relay) is built at import, when the worker indexes the app. Locally an
invalid configuration stops the app with a clear message; on Azure every
function still loads and answers 503 ``relay_misconfigured`` naming the
fields at fault (``shared/misconfigured.py``).

Functions are ANONYMOUS at the host: the relay authenticates clients itself
(see ``auth`` in the README), because function keys cannot be kept out of
browser pages.
"""

import gc

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response

from shared import demo_ui, http_api
from shared.function_routes import RelayFunctionApp
from shared.misconfigured import application_or_refusal

application = application_or_refusal()
# Everything built so far (SDKs, configuration, clients) lives as long as the worker. Frozen, it is
# left out of the cycle collector's full passes, which otherwise stall every open stream at once
# for 50-200 ms under load (README, Benchmarks).
gc.collect()
gc.freeze()
app = RelayFunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="v1/chat/completions", methods=["POST"])
async def chat_completions(req: Request) -> Response:
    """OpenAI-compatible chat completions, streamed as SSE or returned whole."""
    return await http_api.chat_completions(application, req)


@app.route(route="v1/responses", methods=["POST"])
async def responses(req: Request) -> Response:
    """The OpenAI Responses API (stateless), streamed as semantic SSE events or returned whole."""
    return await http_api.responses(application, req)


@app.route(route="openai/v1/responses", methods=["POST"])
async def azure_v1_responses(req: Request) -> Response:
    """The Responses API on Azure OpenAI's v1 path (the plain client with ``base_url=.../openai/v1``)."""
    return await http_api.responses(application, req)


@app.route(route="openai/responses", methods=["POST"])
async def azure_responses(req: Request) -> Response:
    """The Responses API where ``AzureOpenAI(azure_endpoint=...)`` posts it; ``api-version`` is ignored."""
    return await http_api.responses(application, req)


@app.route(route="openai/deployments/{deployment}/chat/completions", methods=["POST"])
async def azure_deployment_chat_completions(req: Request) -> Response:
    """Azure OpenAI's path for ``AzureOpenAI`` clients: the deployment is the alias; ``api-version`` is ignored."""
    return await http_api.deployment_chat_completions(application, req)


@app.route(route="openai/v1/chat/completions", methods=["POST"])
async def azure_v1_chat_completions(req: Request) -> Response:
    """Azure OpenAI's v1 path: the same as ``v1/chat/completions``."""
    return await http_api.chat_completions(application, req)


@app.route(route="chat", methods=["POST"])
async def chat(req: Request) -> Response:
    """The typed-event SSE dialect for browsers: ``event: text_delta`` and friends."""
    return await http_api.chat_events(application, req)


@app.route(route="v1/streams/{stream}", methods=["GET"])
async def resume_stream(req: Request) -> Response:
    """A resumable stream's events after ``Last-Event-ID`` (or ``?after=n``), then live, in its own dialect."""
    return await http_api.resume_stream(application, req)


@app.route(route="v1/streams/{stream}", methods=["DELETE"])
async def cancel_stream(req: Request) -> Response:
    """Stop generating a resumable stream; 204."""
    return await http_api.cancel_stream(application, req)


@app.route(route="ui", methods=["GET"])
async def demo_page(req: Request) -> Response:
    """The demo chat page."""
    return demo_ui.page(req)


@app.route(route="ui/{file}", methods=["GET"])
async def demo_asset(req: Request) -> Response:
    """The demo page's scripts and styles, from a fixed allow-list."""
    return demo_ui.asset(req)


@app.route(route="v1/models", methods=["GET"])
async def list_models(req: Request) -> Response:
    """The model aliases the caller may use, in OpenAI's list format."""
    return await http_api.list_models(application, req)


@app.route(route="v1/models/{model}", methods=["GET"])
async def retrieve_model(req: Request) -> Response:
    """One model alias, if the caller may use it; else a 404 ``model_not_found``."""
    return await http_api.retrieve_model(application, req)


@app.route(route="auth/browser-token", methods=["POST"])
async def mint_browser_token(req: Request) -> Response:
    """A short-lived token for a web page, minted for an authenticated caller."""
    return await http_api.mint_browser_token(application, req)


@app.route(route="{*path}", methods=["OPTIONS"])
async def cors_preflight(req: Request) -> Response:
    """CORS preflight for every route, answered by the app (leave the platform's CORS list empty)."""
    return http_api.preflight(application, req)


@app.route(route="openapi.json", methods=["GET"])
async def openapi_document(req: Request) -> Response:
    """This API described as OpenAPI 3.1, for generating clients; public, like the README."""
    return await http_api.openapi_document(application, req)


@app.route(route="health", methods=["GET"])
async def health(req: Request) -> Response:
    """Liveness and per-backend state, without secrets."""
    return http_api.health(application)


not_found = http_api.unmatched(app.table)


# The host tries routes in the order of their functions' names (case-insensitive), the first
# match winning: a catch-all's name must sort after every other function's (README, Unknown routes and methods).
@app.route(route="{*path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def zz_unmatched_route(req: Request) -> Response:
    """Every other method and path: OpenAI-style JSON 405 (with ``Allow``) or 404 naming the routes served."""
    return await not_found(application, req)
