"""Payload compression codecs (pure functions, no I/O).

A compressed payload carries ``Seam-Encoding: <codec>``; payloads without the header are plain.
The default codec (zstd) was chosen by measurement, see docs/adapter.md and
``python -m adapter_runtime.codec_measure``.
"""

from __future__ import annotations

from collections.abc import Callable

import lz4.frame
import zstandard

CODECS = ("zstd", "lz4")
IDENTITY = "identity"

# zstd level 1 is fast yet compresses JSON much better than lz4; contexts are reusable but not
# thread safe, and the runtime only calls them from the event loop thread.
_ZSTD_C = zstandard.ZstdCompressor(level=1)
_ZSTD_D = zstandard.ZstdDecompressor()
# Upper bound for one decompressed payload: NATS max_payload defaults to 1 MiB and may be raised
# to 64 MiB; a header lying about the size must not make us allocate more than this.
MAX_DECOMPRESSED = 64 * 1024 * 1024


class UnknownEncodingError(ValueError):
    """The payload names an encoding this runtime cannot decode."""


class CorruptPayloadError(ValueError):
    """The payload claims an encoding but does not decode with it."""


def _zstd_decompress(data: bytes) -> bytes:
    return _ZSTD_D.decompress(data, max_output_size=MAX_DECOMPRESSED)


def _lz4_compress(data: bytes) -> bytes:
    return lz4.frame.compress(data, compression_level=0, store_size=True)


def _lz4_decompress(data: bytes) -> bytes:
    out = lz4.frame.decompress(data)
    if len(out) > MAX_DECOMPRESSED:
        raise CorruptPayloadError("lz4 payload decompresses beyond the size limit")
    return out


_COMPRESS: dict[str, Callable[[bytes], bytes]] = {"zstd": _ZSTD_C.compress, "lz4": _lz4_compress}
_DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {"zstd": _zstd_decompress, "lz4": _lz4_decompress}


def compress(data: bytes, codec: str, min_size: int) -> tuple[bytes, str | None]:
    """Compress ``data`` with ``codec`` if it is at least ``min_size`` bytes and gets smaller.

    Returns (payload, encoding) where encoding is None when the payload went out plain.
    """
    if codec not in _COMPRESS:
        raise UnknownEncodingError(f"unknown compression codec {codec!r}; known: {', '.join(CODECS)}")
    if len(data) < min_size:
        return data, None
    packed = _COMPRESS[codec](data)
    if len(packed) >= len(data):
        return data, None
    return packed, codec


def decompress(data: bytes, encoding: str | None) -> bytes:
    """Undo :func:`compress`; ``encoding`` None/empty/identity means plain."""
    if not encoding or encoding == IDENTITY:
        return data
    fn = _DECOMPRESS.get(encoding.strip().lower())
    if fn is None:
        raise UnknownEncodingError(f"unknown Seam-Encoding {encoding!r}; known: {', '.join(CODECS)}")
    try:
        return fn(data)
    except UnknownEncodingError:
        raise
    except Exception as exc:  # zstd/lz4 raise their own error types
        raise CorruptPayloadError(f"payload does not decode as {encoding}: {exc}") from None
