"""The keyless-mode emulators, checked with the real clients: the issuer's discovery, AWS STS, Google STS.

Each STS must refuse what the real one refuses: a token from another issuer
(a signature the published keys do not verify), another audience, a role
or pool provider that does not trust the tenant.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import httpx
import jwt
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from devtools.emulators.aws_sts import DEV_ROLE_ARN
from devtools.emulators.entra_issuer import FEDERATION_AUDIENCE, EntraIssuer
from devtools.emulators.federation import FederationEmulator
from devtools.emulators.google_sts import DEV_POOL_PROVIDER, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT
from shared.providers.bedrock.web_identity import silence_credential_debug_logs
from tests.federation import serve_federation


@pytest.fixture(scope="module")
def federation() -> Iterator[FederationEmulator]:
    yield from serve_federation()


def sts_client(federation: FederationEmulator) -> object:
    """boto3's STS client, unsigned as the operation is; its DEBUG logs would hold the tokens, as the relay's would."""
    silence_credential_debug_logs()
    return boto3.client(
        "sts", region_name="us-east-1", endpoint_url=federation.url, config=Config(signature_version=UNSIGNED)
    )


def test_the_issuer_publishes_discovery_and_keys_that_verify_its_tokens(federation: FederationEmulator) -> None:
    tenant = federation.issuer.tenant
    discovery = httpx.get(f"{federation.url}/{tenant}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == f"https://sts.windows.net/{tenant}/"
    keys = jwt.PyJWKClient(discovery["jwks_uri"])
    token = federation.issuer.mint(FEDERATION_AUDIENCE)
    claims = jwt.decode(
        token,
        keys.get_signing_key_from_jwt(token).key,
        ["RS256"],
        audience=FEDERATION_AUDIENCE,
        issuer=discovery["issuer"],
    )
    assert claims["sub"] == claims["oid"]


def test_aws_sts_issues_credentials_boto3_parses(federation: FederationEmulator) -> None:
    client = sts_client(federation)
    answer = client.assume_role_with_web_identity(  # type: ignore[attr-defined]
        RoleArn=DEV_ROLE_ARN, RoleSessionName="test", WebIdentityToken=federation.issuer.mint(FEDERATION_AUDIENCE)
    )
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert federation.aws.credentials_problem(credentials["AccessKeyId"], credentials["SessionToken"]) is None
    assert federation.aws.credentials_problem(credentials["AccessKeyId"], "another-session-token") is not None


@pytest.mark.parametrize(
    ("role", "token_of", "code"),
    [
        (DEV_ROLE_ARN, lambda issuer: EntraIssuer(issuer.tenant).mint(FEDERATION_AUDIENCE), "InvalidIdentityToken"),
        (DEV_ROLE_ARN, lambda issuer: issuer.mint("api://another-audience"), "InvalidIdentityToken"),
        ("arn:aws:iam::111122223333:role/untrusting", lambda issuer: issuer.mint(FEDERATION_AUDIENCE), "AccessDenied"),
    ],
    ids=["forged-signature", "wrong-audience", "role-without-trust"],
)
def test_aws_sts_refuses_what_aws_refuses(
    federation: FederationEmulator, role: str, token_of: object, code: str
) -> None:
    token = token_of(federation.issuer)  # type: ignore[operator]
    with pytest.raises(ClientError) as caught:
        sts_client(federation).assume_role_with_web_identity(  # type: ignore[attr-defined]
            RoleArn=role, RoleSessionName="test", WebIdentityToken=token
        )
    assert caught.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    ("audience", "token_of"),
    [
        (DEV_POOL_PROVIDER, lambda issuer: EntraIssuer(issuer.tenant).mint(FEDERATION_AUDIENCE)),
        (DEV_POOL_PROVIDER, lambda issuer: issuer.mint("api://another-audience")),
        (DEV_POOL_PROVIDER.replace("entra", "other"), lambda issuer: issuer.mint(FEDERATION_AUDIENCE)),
    ],
    ids=["forged-signature", "wrong-audience", "unknown-provider"],
)
def test_google_sts_refuses_what_google_refuses(
    federation: FederationEmulator, audience: str, token_of: object
) -> None:
    form = {
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "audience": audience,
        "subject_token_type": JWT_TOKEN_TYPE,
        "subject_token": token_of(federation.issuer),  # type: ignore[operator]
        "requested_token_type": "urn:ietf:params:oauth:token-type:access_token",
    }
    answer = httpx.post(f"{federation.url}/v1/token", data=form)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")
