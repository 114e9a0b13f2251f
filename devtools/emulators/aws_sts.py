"""AWS STS ``AssumeRoleWithWebIdentity``, emulated: an Entra token in, temporary credentials out.

The relay exchanges its managed identity's token through boto3's own STS
client, so the answer has to be the query-protocol XML botocore parses, and
a refusal the ``ErrorResponse`` it turns into a ``ClientError``. Each request
is checked the way AWS checks it: the role must exist and trust the token's
issuer and audience (and, if the trust names one, its subject), and the
token's signature must verify against the issuer's published keys.

Issued key pairs are remembered with their expiry, so the Bedrock emulator in
keyless mode can accept exactly the credentials this endpoint issued and
nothing else (:meth:`AwsSts.credentials_problem`).
"""

from __future__ import annotations

import math
import secrets
import string
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from .entra_issuer import FEDERATION_AUDIENCE, EntraIssuer, OnIssue, TokenInvalid

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
DEV_ROLE_ARN = "arn:aws:iam::111122223333:role/relay-bedrock"
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class RoleTrust:
    """A role's trust policy, reduced to what a web identity federation checks."""

    issuer: str
    audience: str
    subject: str | None = None


@dataclass(frozen=True)
class IssuedCredentials:
    """One temporary key pair and session token this endpoint handed out."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    role_arn: str
    expires_at: float


class StsRefusal(Exception):
    """An ``ErrorResponse`` AWS would send: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class AwsSts:
    """The STS side of a role federation: trusts, exchanges counted, credentials remembered.

    ``on_issue`` sees every issued secret with a label (tests register them
    with the secret guard); ``lifetime`` is how long the next credentials live.
    """

    def __init__(self, issuer: EntraIssuer, on_issue: OnIssue | None = None) -> None:
        self.issuer = issuer
        self.lifetime = 3600.0
        self.exchanges = 0
        self._trusts: dict[str, RoleTrust] = {}
        self._issued: dict[str, IssuedCredentials] = {}
        self._on_issue = on_issue
        self._lock = threading.Lock()

    def trust(self, role_arn: str, audience: str = FEDERATION_AUDIENCE, subject: str | None = None) -> None:
        """Create ``role_arn`` with a trust policy naming this issuer, ``audience`` and optionally ``subject``."""
        with self._lock:
            self._trusts[role_arn] = RoleTrust(self.issuer.issuer, audience, subject)

    def answer(self, form: Mapping[str, str]) -> tuple[int, str]:
        """Status and XML body for one query-protocol request."""
        with self._lock:
            self.exchanges += 1
        try:
            issued = self._assume(form)
        except StsRefusal as refusal:
            return refusal.status, error_xml(refusal)
        return 200, success_xml(issued, form.get("RoleSessionName", ""))

    def _assume(self, form: Mapping[str, str]) -> IssuedCredentials:
        if form.get("Action") != "AssumeRoleWithWebIdentity":
            raise StsRefusal(400, "InvalidAction", f"Could not find operation {form.get('Action')!r}")
        role_arn, token = form.get("RoleArn", ""), form.get("WebIdentityToken", "")
        if not token or not form.get("RoleSessionName"):
            raise StsRefusal(400, "ValidationError", "WebIdentityToken and RoleSessionName are required")
        with self._lock:
            trust = self._trusts.get(role_arn)
        if trust is None:
            raise StsRefusal(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        try:
            claims = self.issuer.verify(token, trust.audience, trust.issuer)
        except TokenInvalid as exc:
            raise StsRefusal(400, "InvalidIdentityToken", str(exc)) from exc
        if trust.subject is not None and claims.get("sub") != trust.subject:
            raise StsRefusal(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        return self._issue(role_arn)

    def _issue(self, role_arn: str) -> IssuedCredentials:
        issued = IssuedCredentials(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=secrets.token_urlsafe(30),
            session_token="FwoGZXIvYXdzE" + secrets.token_urlsafe(96),
            role_arn=role_arn,
            expires_at=float(math.ceil(time.time() + self.lifetime)),  # whole seconds, as the XML says
        )
        with self._lock:
            self._issued[issued.access_key_id] = issued
        if self._on_issue is not None:
            self._on_issue(issued.access_key_id, "AWS STS access key id")
            self._on_issue(issued.secret_access_key, "AWS STS secret access key")
            self._on_issue(issued.session_token, "AWS STS session token")
        return issued

    def credentials_problem(self, access_key_id: str, session_token: str | None) -> tuple[str, str] | None:
        """None for live credentials this endpoint issued; otherwise AWS's (error code, message)."""
        with self._lock:
            issued = self._issued.get(access_key_id)
        if issued is None or session_token != issued.session_token:
            return "UnrecognizedClientException", "The security token included in the request is invalid."
        if time.time() >= issued.expires_at:
            return "ExpiredTokenException", "The security token included in the request is expired"
        return None

    def expired(self, access_key_id: str) -> bool:
        """Whether the credentials with ``access_key_id`` have reached their expiry."""
        with self._lock:
            issued = self._issued[access_key_id]
        return time.time() >= issued.expires_at

    def issued(self) -> list[IssuedCredentials]:
        """Every key pair issued so far, oldest first."""
        with self._lock:
            return list(self._issued.values())


def success_xml(issued: IssuedCredentials, session_name: str) -> str:
    """The ``AssumeRoleWithWebIdentityResponse`` botocore's query parser reads."""
    expiration = datetime.fromtimestamp(issued.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    account, role = issued.role_arn.split(":")[4], issued.role_arn.rpartition("/")[2]
    return (
        f'<AssumeRoleWithWebIdentityResponse xmlns="{STS_NAMESPACE}">'
        "<AssumeRoleWithWebIdentityResult>"
        "<Credentials>"
        f"<AccessKeyId>{issued.access_key_id}</AccessKeyId>"
        f"<SecretAccessKey>{escape(issued.secret_access_key)}</SecretAccessKey>"
        f"<SessionToken>{escape(issued.session_token)}</SessionToken>"
        f"<Expiration>{expiration}</Expiration>"
        "</Credentials>"
        "<AssumedRoleUser>"
        f"<Arn>arn:aws:sts::{account}:assumed-role/{escape(role)}/{escape(session_name)}</Arn>"
        f"<AssumedRoleId>AROA{secrets.token_hex(8).upper()}:{escape(session_name)}</AssumedRoleId>"
        "</AssumedRoleUser>"
        "</AssumeRoleWithWebIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</AssumeRoleWithWebIdentityResponse>"
    )


def error_xml(refusal: StsRefusal) -> str:
    """The query protocol's ``ErrorResponse``."""
    kind = "Sender" if refusal.status < 500 else "Receiver"
    return (
        f'<ErrorResponse xmlns="{STS_NAMESPACE}">'
        f"<Error><Type>{kind}</Type><Code>{refusal.code}</Code><Message>{escape(refusal.message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId>"
        "</ErrorResponse>"
    )
