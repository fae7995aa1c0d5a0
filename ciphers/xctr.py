"""XCTR over AES (crypto/xctr.c, "xctr(aes)"), the stream mode inside HCTR2.

Keystream block i (counting from 1) is E_K(IV ⊕ le128(i)): the counter is
little-endian and XORed into the IV, not added to it as CTR does.  The
kernel's xctr writes nothing back to ``req->iv``.  Counter blocks for a
span are built at once with numpy (two little-endian 64-bit halves) and
encrypted in one block-cipher call per chunk; a partial last block uses a
whole counter value and the rest of its keystream is kept so that any
split gives the same output as one call.
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, AesBlockCipher, u8_view

__all__ = ["Xctr", "xctr_blocks"]

BS = AES_BLOCK_SIZE
_CHUNK_BLOCKS = 4096
_MASK64 = (1 << 64) - 1


def xctr_blocks(iv: bytes, counter: int, nblocks: int, out: np.ndarray) -> np.ndarray:
    """IV ⊕ le128(counter + k) for k < nblocks, flat uint8 (into ``out``)."""
    nbytes = nblocks * BS
    w = out[:nbytes].view("<u8").reshape(nblocks, 2)
    lo, hi = counter & _MASK64, (counter >> 64) & _MASK64
    np.add(np.arange(nblocks, dtype=np.uint64), np.uint64(lo), out=w[:, 0])
    w[:, 1] = hi
    first_carry = (1 << 64) - lo
    if first_carry < nblocks:
        w[first_carry:, 1] = (hi + 1) & _MASK64
    w ^= np.frombuffer(iv, dtype="<u8")
    return out[:nbytes]


class Xctr:
    """Incremental AES-XCTR: ``update(src, dst)`` with any split."""

    __slots__ = ("_cipher", "_ctrbuf", "_iv", "_ks", "_ks_off", "_ksbuf", "counter")

    def __init__(self, cipher: AesBlockCipher, iv: bytes | np.ndarray) -> None:
        if not isinstance(cipher, AesBlockCipher):
            raise TypeError("cipher: expected an AesBlockCipher")
        ivb = u8_view(iv, "iv")
        if ivb.size != BS:
            raise ValueError(f"iv: XCTR IV must be 16 bytes, got {ivb.size}")
        self._cipher = cipher
        self._iv = ivb.tobytes()
        self.counter = 1
        self._ks = np.zeros(BS, dtype=np.uint8)
        self._ks_off = BS
        self._ctrbuf = np.empty(0, dtype=np.uint8)
        self._ksbuf = np.empty(0, dtype=np.uint8)

    def next_iv(self) -> bytes:
        """xctr(aes) leaves ``req->iv`` as given."""
        return self._iv

    def _keystream(self, nblocks: int) -> np.ndarray:
        nbytes = nblocks * BS
        if self._ctrbuf.size < nbytes:
            self._ctrbuf = np.empty(nbytes, dtype=np.uint8)
            self._ksbuf = np.empty(nbytes, dtype=np.uint8)
        ks = self._ksbuf[:nbytes]
        self._cipher.encrypt_blocks(xctr_blocks(self._iv, self.counter, nblocks, self._ctrbuf),
                                    ks)
        self.counter += nblocks
        return ks

    def update(self, src: np.ndarray, dst: np.ndarray) -> None:
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        n = s.size
        if d.size != n:
            raise ValueError(f"dst: length {d.size} differs from src length {n}")
        pos = 0
        if self._ks_off < BS and n:
            take = min(n, BS - self._ks_off)
            np.bitwise_xor(s[:take], self._ks[self._ks_off:self._ks_off + take], out=d[:take])
            self._ks_off += take
            pos = take
        while pos < n:
            rem = n - pos
            nblocks = min(-(-rem // BS), _CHUNK_BLOCKS)
            ks = self._keystream(nblocks)
            take = min(rem, nblocks * BS)
            np.bitwise_xor(s[pos:pos + take], ks[:take], out=d[pos:pos + take])
            pos += take
            tail = take % BS
            if tail:
                self._ks[:] = ks[take - tail:take - tail + BS]
                self._ks_off = tail
