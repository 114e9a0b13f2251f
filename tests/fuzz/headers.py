"""Request headers for fuzzing: the right ones mostly, then every way to get them wrong.

Values are bytes from the range HTTP allows in a field value (visible ASCII,
spaces inside, and obs-text 0x80-0xFF), so the client library sends them
as they are and the relay, not the client, has to cope.
"""

from __future__ import annotations

import base64

from hypothesis import strategies as st

Headers = tuple[tuple[str, bytes], ...]
JSON = b"application/json"
CONTENT_TYPES = [
    JSON,
    b"application/json; charset=utf-8",
    b"application/json;charset=UTF-8",
    b"APPLICATION/JSON",
    b"application/json; charset=latin-1",
    b"application/jsonx",
    b"application/problem+json",
    b"text/plain",
    b"text/plain; charset=utf-8",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=x",
    b"text/event-stream",
    b"",
    b"*/*",
    b"application/json\xff",
]
# {"alg":"RS256","kid":5}, the Entra token header from issue 10 defect 2.
NUMERIC_KID_JWT = b"eyJhbGciOiAiUlMyNTYiLCAia2lkIjogNX0.e30.c2ln"
FIELD_VALUE_BYTES = bytes([*range(0x21, 0x7F), *range(0x80, 0x100)])


def field_values(max_size: int = 64) -> st.SearchStrategy[bytes]:
    """Any byte string HTTP allows as a header value."""
    return st.binary(max_size=max_size).map(
        lambda raw: bytes(FIELD_VALUE_BYTES[b % len(FIELD_VALUE_BYTES)] for b in raw)
    )


def authorizations(key: str) -> st.SearchStrategy[list[bytes]]:
    """The Authorization headers of one request: usually the valid key, else missing, wrong or repeated."""
    valid = f"Bearer {key}".encode()
    wrong = st.one_of(
        st.sampled_from(
            [
                b"Bearer",
                f"bearer {key}".encode(),
                f"Bearer  {key}".encode(),
                f"Bearer {key}x".encode(),
                f"Basic {base64.b64encode(f'{key}:'.encode()).decode()}".encode(),
                b"Bearer " + NUMERIC_KID_JWT,
                b"Bearer eyJ.eyJ.",
                b"Bearer rbt1.e30.AAAA",
                b"Bearer " + b"A" * 6000,
            ]
        ),
        field_values().map(lambda value: (b"Bearer " + value).strip()),
    )
    return st.one_of(
        st.just([valid]),
        st.just([valid]),
        st.just([valid]),
        st.just([valid]),
        st.just([valid]),
        st.just([]),
        wrong.map(lambda value: [value]),
        st.lists(st.just(valid) | wrong, min_size=2, max_size=3),
    )


def content_types() -> st.SearchStrategy[list[bytes]]:
    """The Content-Type headers of one request: usually JSON, else odd, missing or repeated."""
    one = st.sampled_from(CONTENT_TYPES) | field_values(max_size=32)
    return st.one_of(
        st.just([JSON]),
        st.just([JSON]),
        st.just([JSON]),
        st.just([]),
        one.map(lambda value: [value]),
        st.lists(one, min_size=2, max_size=3),
    )


def other_headers() -> st.SearchStrategy[list[tuple[str, bytes]]]:
    """Headers a client may add: origins, Easy Auth principals it has no business sending, junk."""
    name = st.sampled_from(
        ["Origin", "X-MS-CLIENT-PRINCIPAL", "X-MS-CLIENT-PRINCIPAL-ID", "Accept", "Accept-Encoding", "X-Forwarded-For",
         "Cookie", "X-Relay-Backend", "traceparent", "X-Fuzz"]
    )  # fmt: skip
    huge = st.integers(1_000, 7_000).map(lambda size: b"h" * size)
    return st.lists(st.tuples(name, field_values() | huge), max_size=3)


@st.composite
def headers(draw: st.DrawFn, key: str) -> Headers:
    """One request's headers, in the order they are sent."""
    chosen = [("Authorization", value) for value in draw(authorizations(key))]
    chosen += [("Content-Type", value) for value in draw(content_types())]
    chosen += draw(other_headers())
    return tuple(chosen)
