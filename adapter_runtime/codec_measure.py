"""Measure the compression codecs side by side: ``python -m adapter_runtime.codec_measure``.

Prints, per payload kind and size, the compressed size ratio and compress+decompress throughput of
zstd and lz4 in one run, so the default codec is chosen from numbers measured on the same machine.
"""

from __future__ import annotations

import json
import os
import random
import time

from adapter_runtime import codec


def _json_payload(size: int) -> bytes:
    rnd = random.Random(size)
    rows: list[dict[str, object]] = []
    while len(json.dumps(rows)) < size:
        rows.append(
            {
                "id": rnd.randrange(10**9),
                "user": f"user-{rnd.randrange(10**5)}",
                "event": rnd.choice(["click", "view", "purchase", "login"]),
                "ts": 1_700_000_000 + rnd.randrange(10**6),
                "amount": round(rnd.random() * 1000, 2),
                "tags": rnd.sample(["a", "b", "c", "d", "e", "f"], 3),
            }
        )
    return json.dumps(rows).encode()[:size]


def _text_payload(size: int) -> bytes:
    rnd = random.Random(size)
    words = "the quick brown fox jumps over lazy dog seam stream consumer ack".split()
    return " ".join(rnd.choice(words) for _ in range(size // 3)).encode()[:size]


def _measure(data: bytes, name: str, budget: float = 0.2) -> tuple[float, float]:
    packed, _ = codec.compress(data, name, 0)
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        p, e = codec.compress(data, name, 0)
        codec.decompress(p, e)
        n += 1
    elapsed = time.perf_counter() - start
    ratio = len(packed) / len(data)
    mb_s = n * len(data) / elapsed / 1e6
    return ratio, mb_s


def main() -> None:
    kinds = {"json": _json_payload, "text": _text_payload, "random": os.urandom}
    print(f"{'payload':<14}{'codec':<6}{'size ratio':>11}{'MB/s (c+d)':>12}")
    for kind, make in kinds.items():
        for size in (1024, 16 * 1024, 256 * 1024):
            data = make(size)
            for name in codec.CODECS:
                ratio, mb_s = _measure(data, name)
                print(f"{kind + '/' + str(size // 1024) + 'KiB':<14}{name:<6}{ratio:>11.3f}{mb_s:>12.0f}")


if __name__ == "__main__":
    main()
