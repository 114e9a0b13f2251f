"""Signed reasoning folded into the dialects' blocks, and the Responses sealing of them."""

from __future__ import annotations

import base64

import pytest

from shared.events import BEDROCK, GOOGLE, ReasoningDelta
from shared.reasoning_blocks import BlockFolder, decode_encrypted_content, encrypted_content
from shared.reasoning_replay import RedactedThinkingBlock, ThinkingBlock, blocks_for


def test_a_signature_closes_the_block_of_text_before_it() -> None:
    folder = BlockFolder()
    assert folder.add(ReasoningDelta("Think ")) is None
    assert folder.add(ReasoningDelta("hard.")) is None
    block = folder.add(ReasoningDelta("", signature="c2ln", provider=BEDROCK))
    assert block == {"type": "thinking", "thinking": "Think hard.", "signature": "c2ln", "provider": "bedrock"}
    redacted = folder.add(ReasoningDelta("", redacted="cmVk", provider=BEDROCK))
    assert redacted == {"type": "redacted_thinking", "data": "cmVk", "provider": "bedrock"}
    assert folder.blocks == [block, redacted]


def test_unsigned_reasoning_makes_no_block() -> None:
    folder = BlockFolder()
    folder.add(ReasoningDelta("just text"))
    assert folder.blocks == []


@pytest.mark.parametrize(
    "event",
    [ReasoningDelta("", signature="c2ln", provider=GOOGLE), ReasoningDelta("", redacted="cmVk", provider=BEDROCK)],
)
def test_encrypted_content_round_trips(event: ReasoningDelta) -> None:
    sealed = decode_encrypted_content(encrypted_content(event))
    assert sealed["provider"] == event.provider
    assert sealed.get("signature") == event.signature and sealed.get("redacted") == event.redacted


@pytest.mark.parametrize(
    "value",
    [
        "gAAAAABopaque-from-openai",
        "relay1.!!!",
        "relay1." + base64.urlsafe_b64encode(b'{"provider": "bedrock"}').decode(),
        "relay1." + base64.urlsafe_b64encode(b"[1, 2]").decode(),
    ],
)
def test_encrypted_content_not_sealed_here_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not reasoning this relay issued"):
        decode_encrypted_content(value)


def test_each_provider_gets_only_its_own_signed_blocks() -> None:
    mine = ThinkingBlock(type="thinking", thinking="a", signature="s", provider="bedrock")
    untagged = ThinkingBlock(type="thinking", thinking="b", signature="t")
    unsigned = ThinkingBlock(type="thinking", thinking="c", provider="bedrock")
    redacted = RedactedThinkingBlock(type="redacted_thinking", data="cmVk", provider="bedrock")
    google = ThinkingBlock(type="thinking", thinking="", signature="g", provider="google")
    blocks = [mine, untagged, unsigned, redacted, google]
    assert blocks_for(blocks, BEDROCK) == [mine, untagged, redacted]
    assert blocks_for(blocks, GOOGLE) == [google]
