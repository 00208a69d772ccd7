"""Compression codecs and payload serialization (pure)."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter_runtime import codec, payload
from adapter_runtime.settings import DEFAULT_CODEC

pytestmark = pytest.mark.unit

JSONISH = json.dumps([{"id": i, "user": f"user-{i % 7}", "event": "click"} for i in range(200)]).encode()


@pytest.mark.parametrize("name", codec.CODECS)
def test_compress_round_trip_and_shrinks(name: str) -> None:
    packed, enc = codec.compress(JSONISH, name, 1024)
    assert enc == name
    assert len(packed) < len(JSONISH) / 2
    assert codec.decompress(packed, enc) == JSONISH


@pytest.mark.parametrize("name", codec.CODECS)
def test_small_payloads_stay_plain(name: str) -> None:
    data = b"x" * 1023
    assert codec.compress(data, name, 1024) == (data, None)
    assert codec.compress(data, name, 1023)[1] == name


@pytest.mark.parametrize("name", codec.CODECS)
def test_incompressible_payload_goes_plain(name: str) -> None:
    data = os.urandom(4096)
    assert codec.compress(data, name, 0) == (data, None)


@pytest.mark.parametrize("enc", [None, "", "identity"])
def test_plain_encodings(enc: str | None) -> None:
    assert codec.decompress(b"abc", enc) == b"abc"


def test_unknown_encoding_is_a_clear_error() -> None:
    with pytest.raises(codec.UnknownEncodingError, match="unknown Seam-Encoding 'brotli'"):
        codec.decompress(b"abc", "brotli")
    with pytest.raises(codec.UnknownEncodingError, match="unknown compression codec"):
        codec.compress(b"abc", "gzip", 0)


@pytest.mark.parametrize("name", codec.CODECS)
def test_corrupt_payload_is_a_clear_error(name: str) -> None:
    with pytest.raises(codec.CorruptPayloadError, match=f"does not decode as {name}"):
        codec.decompress(b"definitely not compressed", name)


def test_default_codec_is_known() -> None:
    assert DEFAULT_CODEC in codec.CODECS


@given(st.binary(max_size=5000), st.sampled_from(codec.CODECS), st.integers(0, 6000))
def test_compress_round_trip_property(data: bytes, name: str, min_size: int) -> None:
    packed, enc = codec.compress(data, name, min_size)
    assert codec.decompress(packed, enc) == data
    if enc is None:
        assert packed == data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


@given(st.one_of(st.binary(), st.text(), st.dictionaries(st.text(), json_values), st.lists(json_values)))
def test_payload_round_trip(data: object) -> None:
    raw, ctype = payload.encode(data)
    assert payload.decode(raw, ctype) == data
    assert type(payload.decode(raw, ctype)) is type(data)


def test_payload_errors() -> None:
    with pytest.raises(payload.PayloadError, match="dict, list, str, bytes or a pydantic model"):
        payload.encode(42)
    with pytest.raises(payload.PayloadError, match="not JSON serializable"):
        payload.encode({"x": object()})
    with pytest.raises(payload.PayloadError, match="not valid JSON"):
        payload.decode(b"{nope", payload.JSON)
    with pytest.raises(payload.PayloadError, match="not UTF-8"):
        payload.decode(b"\xff\xfe", payload.TEXT)
    with pytest.raises(payload.PayloadError, match="unknown Seam-Content-Type"):
        payload.decode(b"x", "xml")


def test_foreign_messages_without_content_type() -> None:
    assert payload.decode(b'{"a": 1}', None) == {"a": 1}
    assert payload.decode(b"\x00binary", None) == b"\x00binary"
