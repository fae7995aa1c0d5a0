"""AEGIS-128 (Wu and Preneel, CAESAR round 3 v1.1; the kernel's
``crypto/aegis128-core.c``, "aegis128" / "aegis128-generic").

The state is five 16-byte blocks S0..S4.  One update with a message block
m replaces every Si by ``AESRound(S(i-1)) ^ Si`` (S4 feeding S0), all from
the old state, then XORs m into S0 -- ``AESRound`` being one AES
encryption round (SubBytes, ShiftRows, MixColumns) without its key.

- init: S0 = K ^ N, S1 = const1, S2 = const0, S3 = K ^ const0,
  S4 = K ^ const1, then ten updates with K and K ^ N alternating;
- AD: every 16-byte block is an update; a final partial block is
  zero-padded (no AD, no update);
- text: the keystream of a block is ``S1 ^ S4 ^ (S2 & S3)`` taken
  *before* the block's update; the update absorbs the plaintext block
  (zero-padded when partial: decryption pads the recovered plaintext);
- final: seven updates with ``le64(adbits) ‖ le64(textbits) ^ S3``, the
  tag is S0 ^ S1 ^ S2 ^ S3 ^ S4, truncated to authsize (8..16 here).

The five AES rounds of an update run as one numpy table lookup over the
whole state (T-tables on little-endian 32-bit columns), so the per-block
work is a handful of array operations and no Python loop over bytes; the
blocks themselves are sequential (each update needs the previous state).

Call order for one request (:class:`Aegis128`), any split of AD and text::

    c = Aegis128(key16, iv16, decrypt=False)
    c.update_ad(piece) ...
    c.update(src, dst) ...        # output per piece, as a stream cipher
    tag = c.finalize()            # encrypt: 16 bytes
    ok = c.verify(tag)            # decrypt: constant time, 8..16 bytes
"""

from __future__ import annotations

import hmac
from typing import Any

import numpy as np

from ciphers.aes import as_key_bytes, u8_view
from kmem import errno

__all__ = [
    "AEGIS128_KEY_SIZE",
    "AEGIS128_MAX_AUTH_SIZE",
    "AEGIS128_MIN_AUTH_SIZE",
    "AEGIS128_NONCE_SIZE",
    "Aegis128",
    "crypto_aegis128_setauthsize",
]

AEGIS128_NONCE_SIZE = 16
AEGIS128_KEY_SIZE = 16
AEGIS128_MIN_AUTH_SIZE = 8
AEGIS128_MAX_AUTH_SIZE = 16
_BS = 16

# The Fibonacci constants of the specification (0x00 0x01 0x01 0x02 0x03
# 0x05 ... mod 256), as little-endian 32-bit columns.
_CONST0 = np.frombuffer(bytes.fromhex("000101020305080d1522375990e97962"), "<u4")
_CONST1 = np.frombuffer(bytes.fromhex("db3d18556dc22ff12011314273b528dd"), "<u4")


def _sbox() -> np.ndarray:
    """The AES S-box from GF(2^8) logarithms to base 3 and the affine map."""
    exp = np.zeros(255, dtype=np.int64)
    x = 1
    for i in range(255):
        exp[i] = x
        x ^= (x << 1) ^ (0x11B if x & 0x80 else 0)
    log = np.zeros(256, dtype=np.int64)
    log[exp] = np.arange(255)
    inv = np.zeros(256, dtype=np.int64)
    inv[1:] = exp[(255 - log[1:]) % 255]
    out = inv.copy()
    for shift in (1, 2, 3, 4):
        out ^= ((inv << shift) | (inv >> (8 - shift))) & 0xFF
    return (out ^ 0x63).astype(np.uint32)


def _tables() -> np.ndarray:
    """T[r][x]: the output column (little-endian) contributed by S-box
    output of byte x sitting in row r after ShiftRows."""
    s = _sbox()
    s2 = ((s << 1) ^ np.where(s & 0x80, 0x11B, 0)) & 0xFF
    s3 = s2 ^ s
    col = [s2, s, s, s3]                     # MixColumns' first column
    t = np.empty((4, 256), dtype=np.uint32)
    for r in range(4):
        c = col[-r:] + col[:-r]              # row r: the column rotated down by r
        t[r] = c[0] | (c[1] << 8) | (c[2] << 16) | (c[3] << 24)
    return t


_T = _tables()
# Input byte of output column c, row r after ShiftRows: column (c + r) % 4.
_GATHER = np.array([[4 * ((c + r) % 4) + r for r in range(4)] for c in range(4)])
_ROWS = np.arange(4)
_PREV = np.array([4, 0, 1, 2, 3])             # S(i-1), S4 feeding S0


class Aegis128:
    """One AEGIS-128 request (see the module docstring for the call order).

    ``key`` and ``iv`` are 16 bytes each (ValueError otherwise: the
    algorithm's setkey checks the key length first)."""

    __slots__ = ("_adlen", "_decrypt", "_pend", "_pendlen", "_phase", "_s", "_tag",
                 "_textlen", "_z")

    def __init__(self, key: Any, iv: Any, *, decrypt: bool = False) -> None:
        k = as_key_bytes(key)
        n = u8_view(iv, "iv").tobytes()
        if len(k) != AEGIS128_KEY_SIZE:
            raise ValueError(f"key: AEGIS-128 key must be 16 bytes, got {len(k)}")
        if len(n) != AEGIS128_NONCE_SIZE:
            raise ValueError(f"iv: AEGIS-128 nonce must be 16 bytes, got {len(n)}")
        kw = np.frombuffer(k, "<u4")
        kn = kw ^ np.frombuffer(n, "<u4")
        self._s = np.stack([kn, _CONST1, _CONST0, kw ^ _CONST0, kw ^ _CONST1])
        for _ in range(5):
            self._update(kw)
            self._update(kn)
        self._decrypt = decrypt
        self._adlen = 0
        self._textlen = 0
        self._phase = 0                        # 0 AD, 1 text, 2 done
        self._pend = np.zeros(_BS, dtype=np.uint8)   # the unfinished block
        self._pendlen = 0
        self._z = np.zeros(_BS, dtype=np.uint8)      # its keystream
        self._tag: bytes | None = None

    # The state update.

    def _update(self, m: np.ndarray) -> None:
        s = self._s
        b = s.view(np.uint8)                   # (5, 16) little-endian columns
        r = np.bitwise_xor.reduce(_T[_ROWS, b[:, _GATHER]], axis=2)
        s = r[_PREV] ^ s
        s[0] ^= m
        self._s = s

    def _keystream(self) -> np.ndarray:
        s = self._s
        return s[1] ^ s[4] ^ (s[2] & s[3])

    def _absorb_pending(self) -> None:
        """Zero-pad and absorb the unfinished block (AD or plaintext)."""
        if self._pendlen:
            self._pend[self._pendlen:] = 0
            self._update(self._pend.view("<u4").copy())
            self._pendlen = 0

    # The request.

    def update_ad(self, data: Any) -> None:
        """Absorb associated data; only before the first ``update``."""
        if self._phase != 0:
            raise ValueError("update_ad: associated data must come before the data")
        src = u8_view(data, "data")
        self._adlen += src.size
        pos = 0
        if self._pendlen:
            pos = min(_BS - self._pendlen, src.size)
            self._pend[self._pendlen:self._pendlen + pos] = src[:pos]
            self._pendlen += pos
            if self._pendlen < _BS:
                return
            self._absorb_pending()
        full = (src.size - pos) // _BS * _BS
        if full:
            words = np.frombuffer(src[pos:pos + full].tobytes(), "<u4").reshape(-1, 4)
            for m in words:
                self._update(m)
        rest = src.size - pos - full
        self._pend[:rest] = src[pos + full:]
        self._pendlen = rest

    def _start_text(self) -> None:
        self._absorb_pending()
        self._phase = 1

    def update(self, src: Any, dst: Any) -> None:
        """En/decrypt a piece of text from src into dst (same length; dst
        may be src).  Any split: the bytes of an unfinished block are
        output at once and absorbed when the block completes."""
        if self._phase == 2:
            raise ValueError("update: request already finalized")
        if self._phase == 0:
            self._start_text()
        s_in = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        if d.size != s_in.size:
            raise ValueError(f"dst: length {d.size} differs from src length {s_in.size}")
        n = s_in.size
        self._textlen += n
        pos = 0
        if self._pendlen:                      # finish the block in progress
            pos = min(_BS - self._pendlen, n)
            self._partial(s_in[:pos], d[:pos])
            if self._pendlen < _BS:
                return
            self._update(self._pend.view("<u4").copy())
            self._pendlen = 0
        full = (n - pos) // _BS * _BS
        if full:
            self._blocks(s_in[pos:pos + full], d[pos:pos + full])
        if n - pos - full:
            self._z = self._keystream().view(np.uint8).copy()
            self._partial(s_in[pos + full:], d[pos + full:])

    def _partial(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Bytes of the unfinished block: keystream from ``_z``, the
        plaintext kept in ``_pend`` for the update."""
        i, n = self._pendlen, src.size
        if i == 0:
            self._z = self._keystream().view(np.uint8).copy()
        z = self._z[i:i + n]
        if self._decrypt:
            self._pend[i:i + n] = src ^ z
            dst[:] = self._pend[i:i + n]
        else:
            self._pend[i:i + n] = src
            dst[:] = src ^ z
        self._pendlen = i + n

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        words = np.frombuffer(src.tobytes(), "<u4").reshape(-1, 4)
        out = np.empty_like(words)
        upd = self._update
        if self._decrypt:
            for i, c in enumerate(words):
                p = c ^ self._keystream()
                out[i] = p
                upd(p)
        else:
            for i, p in enumerate(words):
                out[i] = p ^ self._keystream()
                upd(p)
        dst[:] = out.view(np.uint8).reshape(-1)

    def finalize(self) -> bytes:
        """The full 16-byte tag (idempotent; ends the request)."""
        if self._tag is None:
            if self._phase == 0:
                self._start_text()
            self._absorb_pending()
            lens = np.frombuffer((self._adlen * 8).to_bytes(8, "little")
                                 + (self._textlen * 8).to_bytes(8, "little"), "<u4")
            t = lens ^ self._s[3]
            for _ in range(7):
                self._update(t)
            self._tag = np.bitwise_xor.reduce(self._s, axis=0).astype("<u4").tobytes()
            self._phase = 2
        return self._tag

    def verify(self, tag: Any) -> bool:
        """Compare ``tag`` (8..16 bytes) with the computed tag's prefix in
        constant time (``crypto_memneq``)."""
        tb = u8_view(tag, "tag").tobytes()
        if not AEGIS128_MIN_AUTH_SIZE <= len(tb) <= AEGIS128_MAX_AUTH_SIZE:
            raise ValueError(f"tag: expected 8..16 bytes, got {len(tb)}")
        return hmac.compare_digest(self.finalize()[:len(tb)], tb)


def crypto_aegis128_setauthsize(authsize: int) -> int:
    """``crypto_aegis128_setauthsize``: 8..16, else -EINVAL."""
    if authsize > AEGIS128_MAX_AUTH_SIZE or authsize < AEGIS128_MIN_AUTH_SIZE:
        return -errno.EINVAL
    return 0
