"""Adiantum (crypto/adiantum.c, "adiantum(xchacha12,aes)" and
"adiantum(xchacha20,aes)"): the wide-block mode of low-end disk and file
encryption, layout-agnostic and incremental, with NHPoly1305
(crypto/nhpoly1305.c) as its hash.

    P = P_L ‖ P_R (P_R the last 16 bytes), T = the 32-byte tweak (IV)
    H(T, X) = Poly1305_{K_T}(le64(8·|X|) ‖ 0^64 ‖ T) + NHPoly1305_{K_H}(X)  (mod 2^128)
    P_M = P_R + H(T, P_L);  C_M = AES-256_{K_E}(P_M)
    C_L = P_L ⊕ XChaCha_{K_S}(nonce = C_M ‖ le32(1) ‖ 0^32, position 0)
    C_R = C_M − H(T, C_L);  ciphertext = C_L ‖ C_R

with K_E ‖ K_T ‖ K_H the first 32 + 16 + 1088 bytes of XChaCha_{K_S}
keystream under nonce 1 ‖ 0^191.  Decryption runs it backwards.  The bulk
is hashed from src, then XChaCha'd src → dst while the output is hashed
(crypto/adiantum.c reads dst a second time instead): two walks, no copy
of the request.  The block handled apart is the *last* one
(``block_offset`` = cryptlen − 16, the bulk starts at 0).

NH: each 16-byte unit (four le32 words m) of a 1024-byte chunk adds, for
pass p = 0..3, (m0 + k[4u+4p]) · (m2 + k[4u+4p+2]) + (m1 + k[4u+4p+1]) ·
(m3 + k[4u+4p+3]) (32-bit sums, 64-bit products, 64-bit accumulators) to
sum p; the chunk's four sums (32 bytes) go to Poly1305 as two blocks; the
message is zero-padded to a whole unit.  A span's units are done in one
numpy pass per chunk.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, AesBlockCipher, u8_view
from ciphers.chacha import XChaCha20
from ciphers.poly1305 import Poly1305
from kmem import errno as E

__all__ = ["ADIANTUM_TWEAK_SIZE", "Adiantum", "AdiantumKey", "NhPoly1305", "NhPolyKey",
           "adiantum_setkey"]

BS = AES_BLOCK_SIZE
ADIANTUM_TWEAK_SIZE = 32
NH_MESSAGE_BYTES = 1024
NH_KEY_BYTES = 1072
NHPOLY1305_KEY_SIZE = 16 + NH_KEY_BYTES
_UNITS = NH_MESSAGE_BYTES // 16
_M128 = (1 << 128) - 1


_NH_IDX = (4 * np.arange(_UNITS)[:, None, None] + 4 * np.arange(4)[None, :, None]
           + np.arange(4)[None, None, :])


class NhPolyKey:
    """``nhpoly1305_setkey``: Poly1305 r and the NH key words laid out per
    unit u and pass p as k[4u+4p .. 4u+4p+3] (64 × 4 × 4)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != NHPOLY1305_KEY_SIZE:
            raise ValueError(f"key: NHPoly1305 needs {NHPOLY1305_KEY_SIZE} bytes")
        self.poly_key = key[:16] + bytes(16)
        self.nh = np.frombuffer(key[16:], dtype="<u4").astype(np.uint32)[_NH_IDX]


class NhPoly1305:
    """NHPoly1305 (``nhpoly1305_init``/``update``/``final``); any split."""

    def __init__(self, key: NhPolyKey) -> None:
        if not isinstance(key, NhPolyKey):
            raise TypeError("key must be an NhPolyKey")
        self._poly = Poly1305(key.poly_key)
        self._k = key.nh
        self._sums = np.zeros(4, dtype=np.uint64)
        self._unit = 0                      # units of the current chunk done
        self._buf = np.zeros(16, dtype=np.uint8)
        self._nbuf = 0

    def _units(self, data: np.ndarray) -> None:
        m = data.view("<u4").reshape(-1, 1, 4).astype(np.uint32)
        pos = 0
        while pos < m.shape[0]:
            take = min(m.shape[0] - pos, _UNITS - self._unit)
            a = m[pos:pos + take] + self._k[self._unit:self._unit + take]   # wraps mod 2^32
            a = a.astype(np.uint64)
            prod = a[:, :, 0] * a[:, :, 2] + a[:, :, 1] * a[:, :, 3]        # wraps mod 2^64
            self._sums += prod.sum(axis=0, dtype=np.uint64)
            self._unit += take
            pos += take
            if self._unit == _UNITS:
                self._flush()

    def _flush(self) -> None:
        self._poly.update(self._sums.astype("<u8").view(np.uint8))
        self._sums[:] = 0
        self._unit = 0

    def update(self, data: Any) -> None:
        src = u8_view(data, "data")
        n, pos = src.size, 0
        if self._nbuf and n:
            take = min(16 - self._nbuf, n)
            self._buf[self._nbuf:self._nbuf + take] = src[:take]
            self._nbuf += take
            pos = take
            if self._nbuf < 16:
                return
            self._units(self._buf.copy())
            self._nbuf = 0
        whole = (n - pos) // 16 * 16
        if whole:
            self._units(np.ascontiguousarray(src[pos:pos + whole]))
            pos += whole
        if pos < n:
            self._buf[:n - pos] = src[pos:]
            self._nbuf = n - pos

    def final(self) -> int:
        """The 128-bit result as an int (le128)."""
        if self._nbuf:
            self._buf[self._nbuf:] = 0
            self._units(self._buf.copy())
            self._nbuf = 0
        if self._unit:
            self._flush()
        return int.from_bytes(self._poly.final(), "little")


class AdiantumKey:
    """``adiantum_setkey``: K_S for XChaCha, then K_E, K_T, K_H derived."""

    def __init__(self, key: bytes, nrounds: int) -> None:
        self.key, self.nrounds = key, nrounds
        n = 32 + 16 + NHPOLY1305_KEY_SIZE
        out = np.zeros(n, dtype=np.uint8)
        XChaCha20(key, b"\x01" + bytes(31), nrounds=nrounds).update(out, out)
        d = out.tobytes()
        self.cipher = AesBlockCipher(d[:32])
        self.header_key = d[32:48] + bytes(16)
        self.hash_key = NhPolyKey(d[48:])


@functools.lru_cache(maxsize=32)
def _derive(key: bytes, nrounds: int) -> AdiantumKey:
    # The derived keys depend on the key alone and are never modified, so
    # a tfm set to a key it had before reuses them (conformance sets the
    # same few keys thousands of times).
    return AdiantumKey(key, nrounds)


def adiantum_setkey(key: bytes, nrounds: int) -> tuple[int, AdiantumKey | None]:
    if len(key) != 32:
        return -E.EINVAL, None
    return 0, _derive(bytes(key), nrounds)


class Adiantum:
    """One Adiantum request; same call order as :class:`ciphers.hctr2.Hctr2`."""

    def __init__(self, key: AdiantumKey, tweak: bytes, encrypt: bool) -> None:
        if len(tweak) != ADIANTUM_TWEAK_SIZE:
            raise ValueError(f"tweak: must be {ADIANTUM_TWEAK_SIZE} bytes, got {len(tweak)}")
        self.key, self.tweak, self.encrypt = key, bytes(tweak), encrypt
        self._stream: XChaCha20 | None = None

    @staticmethod
    def block_offset(cryptlen: int) -> int:
        return cryptlen - BS

    @staticmethod
    def bulk_offset(cryptlen: int) -> int:
        return 0

    def begin(self, cryptlen: int, block: np.ndarray) -> None:
        p = Poly1305(self.key.header_key)
        p.update(np.frombuffer(((cryptlen - BS) * 8).to_bytes(16, "little") + self.tweak,
                               dtype=np.uint8))
        self._header = int.from_bytes(p.final(), "little")
        self._right = int.from_bytes(bytes(block), "little")
        self._h = NhPoly1305(self.key.hash_key)

    def hash_in(self, view: np.ndarray) -> None:
        self._h.update(view)

    def _middle(self) -> None:
        m = (self._right + self._header + self._h.final()) & _M128
        mb = m.to_bytes(16, "little")
        c = self.key.cipher
        if self.encrypt:
            cm = c.encrypt_block(mb)
            self._out = int.from_bytes(cm, "little")
        else:
            cm = mb
            self._out = int.from_bytes(c.decrypt_block(mb), "little")
        self._stream = XChaCha20(self.key.key, cm + b"\x01" + bytes(15),
                                 nrounds=self.key.nrounds)
        self._h = NhPoly1305(self.key.hash_key)

    def stream(self, src: np.ndarray, dst: np.ndarray) -> None:
        if self._stream is None:
            self._middle()
        self._stream.update(src, dst)
        self._h.update(dst)

    def finish(self) -> bytes:
        if self._stream is None:
            self._middle()
        return ((self._out - self._header - self._h.final()) & _M128).to_bytes(16, "little")

    def next_iv(self) -> bytes:
        return self.tweak
