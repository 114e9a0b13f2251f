"""The template outputs what the AWS and Google sides of keyless federation are configured with."""

from __future__ import annotations

from typing import Any

from shared.auth.managed_identity import DEFAULT_AUDIENCE
from tests.infra.bicep import parse


def accessor(*path: str) -> dict[str, Any]:
    """The parser's tree for ``a.b.c``."""
    head, *rest = path
    if not rest:
        return head  # type: ignore[return-value]
    return {"operator": {"type": "property_accessor", "operands": {"operand_1": head, "operand_2": accessor(*rest)}}}


def test_the_identity_issuer_and_audience_are_outputs() -> None:
    outputs = parse("main.bicep")["outputs"]
    assert outputs["FEDERATION_PRINCIPAL_ID"]["value"] == accessor("identity", "outputs", "principalId")
    assert outputs["FEDERATION_CLIENT_ID"]["value"] == accessor("identity", "outputs", "clientId")
    assert outputs["FEDERATION_ISSUER"]["value"] == "https://sts.windows.net/${subscription().tenantId}/"
    assert outputs["FEDERATION_AUDIENCE"]["value"] == DEFAULT_AUDIENCE  # what the relay asks Entra for by default
