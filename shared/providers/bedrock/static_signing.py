"""ConverseStream signed with botocore's SigV4 alone, for backends with static keys.

boto3's full call costs about 0.4 ms of CPU per request, most of it not the
signature: a dozen event emissions, endpoint rules resolved again, retry
bookkeeping, user-agent assembly. With static keys none of that changes
between requests of one backend, so the first request goes through boto3 in
full (:meth:`.transport.ConverseClient.sign`) and teaches this signer the
endpoint, the credential scope and the headers boto3 adds; every later
request keeps boto3's own parameter validation and serialiser and botocore's
``SigV4Auth``, and only those. Credentials that may refresh (roles, web
identity) and Bedrock API keys never come here.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, create_request_object, prepare_request_dict

# Headers boto3's handlers add, unsigned, that stay the same for every request of a backend (retries are off).
CARRIED_HEADERS = ("User-Agent", "amz-sdk-request")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


class StaticSigner:
    """Signs one backend's ConverseStream requests; made from the first request boto3 signed in full."""

    def __init__(self, boto: Any, operation: str, first: AWSPreparedRequest) -> None:
        scope = _SCOPE.search(_text(first.headers.get("Authorization", "")))
        if scope is None:
            raise ValueError("the first request is not SigV4-signed")
        parts = urlsplit(first.url)
        self._endpoint = f"{parts.scheme}://{parts.netloc}"
        self._region, self._service = scope.group(1), scope.group(2)
        self._carried = {name: _text(first.headers[name]) for name in CARRIED_HEADERS if name in first.headers}
        self._serializer = boto._serializer  # validates, then serialises, as boto3's call does
        self._operation = boto.meta.service_model.operation_model(operation)
        self._credentials = boto._request_signer._credentials.get_frozen_credentials()

    def sign(self, params: dict[str, Any]) -> AWSPreparedRequest:
        """The signed request for ``converse_stream(**params)``; raises ``ParamValidationError`` as boto3 would."""
        request_dict = self._serializer.serialize_to_request(params, self._operation)
        prepare_request_dict(request_dict, endpoint_url=self._endpoint)
        request = create_request_object(request_dict)
        SigV4Auth(self._credentials, self._service, self._region).add_auth(request)
        # boto3 adds these after signing, so they are not among the signed headers there either.
        for name, value in self._carried.items():
            request.headers[name] = value
        request.headers["amz-sdk-invocation-id"] = str(uuid.uuid4())
        return request.prepare()


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value
