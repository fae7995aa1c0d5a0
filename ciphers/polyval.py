"""POLYVAL (RFC 8452), the universal hash of HCTR2, incremental.

The kernel's ``polyval-generic`` (lib/crypto/polyval.c since 6.19).  POLYVAL
is GHASH with the bytes of every block (and of the key and the result)
reversed and the key multiplied by x (RFC 8452, Appendix A), so it runs on
the vectorised GHASH tables of :mod:`ciphers.ghash`: per span, the whole
blocks are reversed in bounded chunks and folded with one table pass.

The state is the running accumulator in POLYVAL byte order; it can be
exported and imported (``crypto_shash_export``/``import``, which hctr2
uses to precompute the hash of its tweak-length block).  Data may come in
any split; a partial block is carried until it completes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ciphers.aes import u8_view
from ciphers.ghash import GhashKey

__all__ = ["POLYVAL_BLOCK_SIZE", "Polyval", "PolyvalKey"]

POLYVAL_BLOCK_SIZE = 16
_R = 0xE1 << 120
_CHUNK = 4096          # blocks reversed per pass (64 KiB)


class PolyvalKey:
    """The expanded key: GHASH tables for mulX_GHASH(ByteReverse(H))."""

    def __init__(self, h: Any) -> None:
        hb = u8_view(h, "h").tobytes()
        if len(hb) != POLYVAL_BLOCK_SIZE:
            raise ValueError(f"h must be {POLYVAL_BLOCK_SIZE} bytes, not {len(hb)}")
        v = int.from_bytes(hb[::-1], "big")
        v = (v >> 1) ^ _R if v & 1 else v >> 1
        self.ghash = GhashKey(v.to_bytes(16, "big"))


class Polyval:
    """One POLYVAL computation (``polyval_init``/``update``/``final``)."""

    __slots__ = ("_buf", "_key", "_nbuf", "_y")

    def __init__(self, key: PolyvalKey, state: bytes | None = None) -> None:
        if not isinstance(key, PolyvalKey):
            raise TypeError("key must be a PolyvalKey")
        self._key = key
        self._y = int.from_bytes(state[::-1], "big") if state else 0
        self._buf = np.zeros(16, dtype=np.uint8)
        self._nbuf = 0

    def _blocks(self, data: np.ndarray) -> None:
        n = data.size // 16
        for start in range(0, n, _CHUNK):
            rev = data[start * 16:min(n, start + _CHUNK) * 16].reshape(-1, 16)[:, ::-1]
            self._y = self._key.ghash.hash_blocks(self._y, np.ascontiguousarray(rev))

    def update(self, data: Any) -> None:
        src = u8_view(data, "data")
        n = src.size
        pos = 0
        if self._nbuf and n:
            take = min(16 - self._nbuf, n)
            self._buf[self._nbuf:self._nbuf + take] = src[:take]
            self._nbuf += take
            pos = take
            if self._nbuf < 16:
                return
            self._blocks(self._buf)
            self._nbuf = 0
        whole = (n - pos) // 16 * 16
        if whole:
            self._blocks(src[pos:pos + whole])
            pos += whole
        if pos < n:
            self._buf[:n - pos] = src[pos:]
            self._nbuf = n - pos

    def export(self) -> bytes:
        """The state between whole blocks (``crypto_shash_export``)."""
        if self._nbuf:
            raise ValueError("export: a partial block is pending")
        return self._y.to_bytes(16, "big")[::-1]

    def final(self) -> bytes:
        """The 16-byte result; the input must have been whole blocks (the
        kernel's POLYVAL users pad before finishing)."""
        return self.export()
