"""Poly1305 one-time authenticator, incremental and vectorised.

Models the kernel's ``lib/crypto/poly1305.c`` library interface
(``poly1305_init``/``poly1305_update``/``poly1305_final``) over the generic
block function of ``lib/crypto/poly1305-donna*.c``: a 32-byte one-time key
r ‖ s (r clamped), 16-byte blocks with the 2^128 bit set, a partial final
block padded with a single 1 bit, tag = (h + s) mod 2^128 little-endian.

The arithmetic is our own.  A run of m blocks folds into

    h' = (h + m_0) r^m + m_1 r^(m-1) + ... + m_(m-1) r      (mod 2^130 - 5)

so with the powers r^1..r^K in 26-bit limbs the sum over a K-block chunk is
a limb convolution: for every block the 5x5 outer product of its limbs with
those of its power, summed over the chunk (one ``einsum``; each product is
below 2^52 and K <= 1024, so the uint64 sums cannot overflow).  The nine
limb columns of each chunk are then recombined and reduced on Python ints,
one multiplication by r^K per chunk.  Short runs use a plain Python loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ciphers.aes import u8_view

__all__ = ["POLY1305_BLOCK_SIZE", "POLY1305_DIGEST_SIZE", "POLY1305_KEY_SIZE", "Poly1305",
           "poly1305_clamp"]

POLY1305_BLOCK_SIZE = 16
POLY1305_KEY_SIZE = 32
POLY1305_DIGEST_SIZE = 16

_P = (1 << 130) - 5
_CLAMP = 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
_MASK128 = (1 << 128) - 1
_M26 = np.uint64((1 << 26) - 1)
_MAX_POWERS = 1024       # products < 2^52, so 1024 of them sum below 2^62
_PY_BLOCKS = 24          # below this many blocks the Python loop is faster
_SHIFTS = [26 * (a + b) for a in range(5) for b in range(5)]


def poly1305_clamp(r: int) -> int:
    """Clear the bits of r that Poly1305 requires to be zero."""
    return r & _CLAMP


def _limbs(w0: np.ndarray, w1: np.ndarray, w2: np.ndarray | int) -> np.ndarray:
    """26-bit limbs of 130-bit numbers given as three little-endian 64-bit
    words (w2 holds bits 128..129); returns (n, 5) uint64."""
    out = np.empty((w0.shape[0], 5), dtype=np.uint64)
    s = np.uint64
    out[:, 0] = w0 & _M26
    out[:, 1] = (w0 >> s(26)) & _M26
    out[:, 2] = ((w0 >> s(52)) | (w1 << s(12))) & _M26
    out[:, 3] = (w1 >> s(14)) & _M26
    out[:, 4] = (w1 >> s(40)) | (np.asarray(w2, dtype=np.uint64) << s(24))
    return out


class Poly1305:
    """One Poly1305 computation.

    Call order: ``update(data)`` any number of times with any lengths, then
    ``final()`` for the 16-byte tag (once; the state is spent).  ``key`` is
    the 32-byte one-time key r ‖ s.
    """

    __slots__ = ("_buf", "_done", "_h", "_nbuf", "_pw", "_pw_limbs", "_r", "_s")

    def __init__(self, key: Any) -> None:
        kb = u8_view(key, "key").tobytes()
        if len(kb) != POLY1305_KEY_SIZE:
            raise ValueError(f"key: Poly1305 key must be 32 bytes, got {len(kb)}")
        self._r = poly1305_clamp(int.from_bytes(kb[:16], "little"))
        self._s = int.from_bytes(kb[16:], "little")
        self._h = 0
        self._buf = bytearray(16)
        self._nbuf = 0
        self._pw: list[int] = [self._r]
        self._pw_limbs = np.zeros((0, 5), dtype=np.uint64)
        self._done = False

    def _powers(self, m: int) -> np.ndarray:
        """Limbs of r^1..r^m (row j holds r^(j+1)), built lazily by doubling."""
        have = self._pw_limbs.shape[0]
        if m > have:
            want = min(_MAX_POWERS, 1 << (m - 1).bit_length())
            pw, r = self._pw, self._r
            while len(pw) < want:
                pw.append(pw[-1] * r % _P)
            raw = b"".join(p.to_bytes(24, "little") for p in pw[have:want])
            w = np.frombuffer(raw, dtype="<u8").reshape(-1, 3).astype(np.uint64)
            new = _limbs(w[:, 0], w[:, 1], w[:, 2])
            self._pw_limbs = np.concatenate([self._pw_limbs, new]) if have else new
        return self._pw_limbs

    def _chunk_sums(self, ml: np.ndarray, m: int) -> list[int]:
        """For chunks of m message-limb rows, sum_i m_i * r^(m-i), unreduced."""
        chunks = ml.shape[0] // m
        rl = self._powers(m)[m - 1::-1]
        g = np.einsum("cka,kb->cab", ml.reshape(chunks, m, 5), rl)
        out = []
        for row in g.reshape(chunks, 25).tolist():
            v = 0
            for x, sh in zip(row, _SHIFTS):
                v += x << sh
            out.append(v)
        return out

    def _blocks(self, data: np.ndarray, hibit: int = 1) -> None:
        n = data.shape[0] // 16
        h, r = self._h, self._r
        if n < _PY_BLOCKS:
            raw = data.tobytes()
            top = hibit << 128
            for off in range(0, n * 16, 16):
                h = (h + int.from_bytes(raw[off:off + 16], "little") + top) * r % _P
            self._h = h
            return
        w = data.view("<u8").reshape(n, 2).astype(np.uint64)
        ml = _limbs(w[:, 0], w[:, 1], hibit)
        full, tail = divmod(n, _MAX_POWERS)
        if full:
            sums = self._chunk_sums(ml[:full * _MAX_POWERS], _MAX_POWERS)
            rk = self._pw[_MAX_POWERS - 1]
            for s in sums:
                h = (h * rk + s) % _P
        if tail:
            (s,) = self._chunk_sums(ml[full * _MAX_POWERS:], tail)
            h = (h * self._pw[tail - 1] + s) % _P
        self._h = h

    def update(self, data: Any) -> None:
        """Absorb bytes; any length, any split (models ``poly1305_update``)."""
        if self._done:
            raise ValueError("Poly1305: update after final")
        src = u8_view(data, "data")
        n = src.shape[0]
        pos = 0
        if self._nbuf:
            take = min(16 - self._nbuf, n)
            self._buf[self._nbuf:self._nbuf + take] = src[:take].tobytes()
            self._nbuf += take
            pos = take
            if self._nbuf < 16:
                return
            self._h = (self._h + int.from_bytes(self._buf, "little") + (1 << 128)) \
                * self._r % _P
            self._nbuf = 0
        nblocks = (n - pos) // 16
        if nblocks:
            end = pos + nblocks * 16
            self._blocks(src[pos:end])
            pos = end
        rest = n - pos
        if rest:
            self._buf[:rest] = src[pos:].tobytes()
            self._nbuf = rest

    def final(self) -> bytes:
        """Return the 16-byte tag (models ``poly1305_final``)."""
        if self._done:
            raise ValueError("Poly1305: final called twice")
        h = self._h
        if self._nbuf:
            last = bytes(self._buf[:self._nbuf]) + b"\x01" + bytes(15 - self._nbuf)
            h = (h + int.from_bytes(last, "little")) * self._r % _P
        self._done = True
        self._h = 0
        return ((h + self._s) & _MASK128).to_bytes(16, "little")
