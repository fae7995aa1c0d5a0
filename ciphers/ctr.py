"""CTR mode over a block cipher (the kernel's crypto/ctr.c, "ctr(aes)",
"ctr(des3_ede)", …; the counter helper is ``crypto_inc()`` of
crypto/algapi.c).

The counter block is the whole IV (one cipher block: 16 bytes, 8 for
des3_ede) read as one big-endian integer, incremented by one per block
with full carry and wrapping modulo 2^(8·blocksize), as
``crypto_inc(iv, bsize)`` does. A final partial block consumes a
whole counter value, exactly as ``crypto_ctr_crypt_final()`` does; the
unused rest of its keystream is kept so that the next ``update`` continues
seamlessly (the kernel's walk never needs that, because only the last step
may be partial, but an incremental core must allow any split).

Counter blocks for a whole span are built at once with numpy (low and high
64-bit halves, the carry computed from the wrap of the low half) and
encrypted in one :meth:`AesBlockCipher.encrypt_blocks` call per chunk.
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, BlockCipher, u8_view

__all__ = ["Ctr", "ctr_blocks", "ctr_blocks64"]

_MASK64 = (1 << 64) - 1
_MASK128 = (1 << 128) - 1
_CHUNK_BLOCKS = 4096  # 64 KiB of keystream per encrypt_blocks call


_ARANGE = np.arange(_CHUNK_BLOCKS, dtype=np.uint64)
_NATIVE_LITTLE = np.little_endian


def ctr_blocks(counter: int, nblocks: int, out: np.ndarray | None = None) -> np.ndarray:
    """Return ``nblocks`` consecutive 128-bit big-endian counter blocks
    starting at ``counter`` (wrapping mod 2^128) as a flat uint8 array.

    ``out``, if given, is a writable uint8 array of at least
    ``16 * nblocks`` bytes that receives the blocks (its prefix is returned).
    """
    if nblocks < 0:
        raise ValueError("nblocks: must be non-negative")
    counter &= _MASK128
    hi, lo = counter >> 64, counter & _MASK64
    nbytes = nblocks * AES_BLOCK_SIZE
    if out is None:
        out = np.empty(nbytes, dtype=np.uint8)
    # Fill native-endian halves, then byte-swap the whole span in one pass.
    buf = out[:nbytes].view(np.uint64).reshape(nblocks, 2)
    idx = _ARANGE[:nblocks] if nblocks <= _CHUNK_BLOCKS else np.arange(nblocks, dtype=np.uint64)
    np.add(idx, np.uint64(lo), out=buf[:, 1])  # wraps mod 2^64 elementwise
    buf[:, 0] = hi
    # Blocks from index 2^64 - lo on carried out of the low half.
    first_carry = (1 << 64) - lo
    if first_carry < nblocks:
        buf[first_carry:, 0] = (hi + 1) & _MASK64  # mod 2^128 wrap when hi is all ones
    if _NATIVE_LITTLE:
        buf.byteswap(inplace=True)
    return out[:nbytes]


def ctr_blocks64(counter: int, nblocks: int, out: np.ndarray | None = None) -> np.ndarray:
    """Return ``nblocks`` consecutive 64-bit big-endian counter blocks (an
    8-byte cipher's CTR, wrapping mod 2^64) as a flat uint8 array, into
    ``out`` when given."""
    if nblocks < 0:
        raise ValueError("nblocks: must be non-negative")
    nbytes = nblocks * 8
    if out is None:
        out = np.empty(nbytes, dtype=np.uint8)
    buf = out[:nbytes].view(np.uint64)
    idx = _ARANGE[:nblocks] if nblocks <= _CHUNK_BLOCKS else np.arange(nblocks, dtype=np.uint64)
    np.add(idx, np.uint64(counter & _MASK64), out=buf)  # wraps mod 2^64 elementwise
    if _NATIVE_LITTLE:
        buf.byteswap(inplace=True)
    return out[:nbytes]


class Ctr:
    """Incremental CTR: ``update(src, dst)`` any number of times with any
    lengths; the output equals one call on the concatenation.

    ``iv`` is the kernel's counter block (one cipher block). Encryption and
    decryption are the same operation. State is explicit: :attr:`counter` is
    the next counter value (an int), :attr:`iv` its big-endian form — the
    kernel's IV output (``req->iv`` after ``ctr(aes)``) once the request's
    data has been processed.
    """

    __slots__ = (
        "_blocks",
        "_bs",
        "_cipher",
        "_ctrbuf",
        "_ks",
        "_ks_off",
        "_ksbuf",
        "_mask",
        "counter",
    )

    def __init__(self, cipher: BlockCipher, iv: bytes | np.ndarray) -> None:
        if not isinstance(cipher, BlockCipher):
            raise TypeError("cipher: expected a BlockCipher")
        bs = cipher.block_size
        ivb = u8_view(iv, "iv")
        if ivb.size != bs:
            raise ValueError(f"iv: CTR IV must be {bs} bytes, got {ivb.size}")
        self._cipher = cipher
        self._bs = bs
        self._mask = _MASK128 if bs == AES_BLOCK_SIZE else _MASK64
        self._blocks = ctr_blocks if bs == AES_BLOCK_SIZE else ctr_blocks64
        self.counter = int.from_bytes(ivb.tobytes(), "big")
        self._ks = np.zeros(bs, dtype=np.uint8)
        self._ks_off = bs  # no keystream left over
        self._ctrbuf = np.empty(0, dtype=np.uint8)
        self._ksbuf = np.empty(0, dtype=np.uint8)

    @property
    def iv(self) -> bytes:
        """Next counter block: what the kernel leaves in ``req->iv``."""
        return self.counter.to_bytes(self._bs, "big")

    def next_iv(self) -> bytes:
        """Same as :attr:`iv` (the kernel's IV output)."""
        return self.iv

    def _keystream(self, nblocks: int) -> np.ndarray:
        nbytes = nblocks * self._bs
        if self._ctrbuf.size < nbytes:
            self._ctrbuf = np.empty(nbytes, dtype=np.uint8)
            self._ksbuf = np.empty(nbytes, dtype=np.uint8)
        ctr = self._blocks(self.counter, nblocks, self._ctrbuf)
        ks = self._ksbuf[:nbytes]
        self._cipher.encrypt_blocks(ctr, ks)
        self.counter = (self.counter + nblocks) & self._mask
        return ks

    def update(self, src: np.ndarray, dst: np.ndarray) -> None:
        """XOR ``src`` with the keystream into ``dst`` (same length; dst may
        be src)."""
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        n = s.size
        if d.size != n:
            raise ValueError(f"dst: length {d.size} differs from src length {n}")
        pos = 0
        bs = self._bs
        if self._ks_off < bs and n:
            take = min(n, bs - self._ks_off)
            np.bitwise_xor(s[:take], self._ks[self._ks_off:self._ks_off + take], out=d[:take])
            self._ks_off += take
            pos = take
        while pos < n:
            rem = n - pos
            nblocks = min(-(-rem // bs), _CHUNK_BLOCKS)
            ks = self._keystream(nblocks)
            take = min(rem, nblocks * bs)
            np.bitwise_xor(s[pos:pos + take], ks[:take], out=d[pos:pos + take])
            pos += take
            tail = take % bs
            if tail:
                self._ks[:] = ks[take - tail:take - tail + bs]
                self._ks_off = tail
