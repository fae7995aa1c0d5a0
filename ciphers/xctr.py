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
from ciphers.ctr import Ctr

__all__ = ["Xctr", "xctr_blocks"]

BS = AES_BLOCK_SIZE
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


class Xctr(Ctr):
    """Incremental AES-XCTR: ``update(src, dst)`` with any split.

    The carrying of a partial keystream block is CTR's (:class:`Ctr`); only
    the counter blocks differ, so this class replaces the keystream step."""

    __slots__ = ("_iv",)

    def __init__(self, cipher: AesBlockCipher, iv: bytes | np.ndarray) -> None:
        ivb = u8_view(iv, "iv")
        if ivb.size != BS:
            raise ValueError(f"iv: XCTR IV must be 16 bytes, got {ivb.size}")
        super().__init__(cipher, ivb)
        self._iv = ivb.tobytes()
        self.counter = 1

    @property
    def iv(self) -> bytes:
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
