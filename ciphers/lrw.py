"""LRW over a 16-byte block cipher (the kernel's crypto/lrw.c,
"lrw(aes)", "lrw(camellia)"; the multiplication of
include/crypto/gf128mul.h in its "bbe" convention).

Key: the block cipher's key followed by a 16-byte tweak key K2
(``lrw_setkey()`` hands ``keylen - 16`` bytes to the child ecb(cipher) and
keeps the last 16 as K2).  Block i of a request is

    C_i = E_K1(P_i ⊕ T_i) ⊕ T_i,   T_i = K2 ⊗ (I + i)

with I the IV as a 128-bit big-endian integer (the block index; the
addition wraps mod 2^128) and ⊗ the GF(2^128) product in the "bbe"
representation: the big-endian integer's bit k is the coefficient of x^k,
reduced by x^128 + x^7 + x^2 + x + 1.

The kernel steps T from block to block with a precomputed table of
K2 ⊗ (2^(k+1) - 1) (what the index's increment flips); the model instead
multiplies every index of a span at once through a 64K table (one
256-entry row per byte position, as ``gf128mul_init_64k_bbe()`` builds):
sixteen numpy gathers and XORs per span, no per-block Python.  Both give
the same tweaks; the conformance reference uses the kernel's stepping.

IV output: crypto/lrw.c writes the index after the last block back to
``req->iv`` (I + number of blocks, big-endian), so a request can continue
where the previous one stopped.
"""

from __future__ import annotations

import functools

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, BlockCipher, as_key_bytes, u8_view
from ciphers.ctr import ctr_blocks
from ciphers.ecb import BlockModeCore
from ciphers.xts import gf128_mul, gf128mul_x_ble

__all__ = ["LRW_BLOCK_SIZE", "Lrw", "LrwTable", "LrwTweak", "gf128mul_bbe"]

LRW_BLOCK_SIZE = AES_BLOCK_SIZE
_M128 = (1 << 128) - 1
_CHUNK = 64 * 1024


# K2 ⊗ I on big-endian ints: the field arithmetic is XTS's (see gf128_mul).
gf128mul_bbe = gf128_mul


@functools.lru_cache(maxsize=256)
def _table_rows(k2: bytes) -> np.ndarray:
    """The 64K table of K2 (read-only, shared by every key with this K2: a
    disk's tfms share it, and a setkey per request stays cheap)."""
    products = []
    b = int.from_bytes(k2, "big")
    for _ in range(128):  # K2 ⊗ x^k, k = 0..127
        products.append(b.to_bytes(16, "big"))
        b = gf128mul_x_ble(b)   # times x: the same on a big-endian int
    # basis[p, bit]: K2 ⊗ x^(8(15-p) + bit).  Entries v in [2^bit, 2^(bit+1))
    # are the ones below 2^bit XOR basis[bit]: eight doublings fill all
    # sixteen rows.
    basis = np.frombuffer(b"".join(products), dtype=np.uint64).reshape(16, 8, 2)[::-1]
    rows = np.zeros((16, 256, 2), dtype=np.uint64)
    for bit in range(8):
        half = 1 << bit
        np.bitwise_xor(rows[:, :half], basis[:, bit, None, :], out=rows[:, half:2 * half])
    rows.flags.writeable = False
    return rows


class LrwTable:
    """Multiplication by a fixed K2 (``gf128mul_init_64k_bbe()``): for byte
    position p (0 = most significant) and byte value v, ``K2 ⊗ (v·x^(8(15-p)))``
    stored as 16 big-endian bytes, viewed as two uint64 words so that a
    product is 16 gathers XORed together (XOR does not care about byte
    order).  The table is 64 KiB, built from the 128 products K2 ⊗ x^k by
    XOR combinations, one numpy pass per bit of the byte."""

    __slots__ = ("_rows",)

    def __init__(self, k2: bytes | np.ndarray) -> None:
        kb = as_key_bytes(k2, "k2")
        if len(kb) != LRW_BLOCK_SIZE:
            raise ValueError(f"k2: the LRW tweak key is 16 bytes, got {len(kb)}")
        self._rows = _table_rows(kb)

    def mul(self, blocks: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """K2 ⊗ each 16-byte big-endian value of ``blocks`` (flat uint8, a
        multiple of 16 long); the products as flat uint8 (into ``out``)."""
        idx = u8_view(blocks, "blocks").reshape(-1, LRW_BLOCK_SIZE)
        n = idx.shape[0]
        acc = np.zeros((n, 2), dtype=np.uint64) if out is None else \
            out[:16 * n].view(np.uint64).reshape(n, 2)
        if out is not None:
            acc[:] = 0
        for p in range(16):
            acc ^= self._rows[p][idx[:, p]]
        return acc.reshape(-1).view(np.uint8)

    def mul_int(self, value: int) -> bytes:
        """K2 ⊗ one 128-bit integer, as 16 big-endian bytes."""
        blk = np.frombuffer((value & _M128).to_bytes(16, "big"), dtype=np.uint8)
        return self.mul(blk).tobytes()


class LrwTweak:
    """The tweaks of one request, a span at a time: T_i = K2 ⊗ (I + i) from
    the 16-byte index ``iv``.  :meth:`xor` XORs them into whole blocks
    (lrw_xor_tweak()'s step); :attr:`index` is the next block's index."""

    __slots__ = ("_idx", "_table", "_tw", "index")

    def __init__(self, table: LrwTable, iv: bytes | np.ndarray) -> None:
        if not isinstance(table, LrwTable):
            raise TypeError("table: expected an LrwTable")
        ivb = u8_view(iv, "iv")
        if ivb.size != LRW_BLOCK_SIZE:
            raise ValueError(f"iv: LRW IV must be 16 bytes, got {ivb.size}")
        self._table = table
        self.index = int.from_bytes(ivb.tobytes(), "big")
        self._idx = np.empty(0, dtype=np.uint8)
        self._tw = np.empty(0, dtype=np.uint8)

    def tweaks(self, nblocks: int) -> np.ndarray:
        """The next ``nblocks`` tweaks (flat uint8, valid until the next
        call), advancing :attr:`index`."""
        nbytes = nblocks * LRW_BLOCK_SIZE
        if self._tw.size < nbytes:
            self._idx = np.empty(nbytes, dtype=np.uint8)
            self._tw = np.empty(nbytes, dtype=np.uint8)
        tw = self._table.mul(ctr_blocks(self.index, nblocks, self._idx), self._tw)
        self.index = (self.index + nblocks) & _M128
        return tw

    def xor(self, src: np.ndarray, dst: np.ndarray) -> None:
        """dst = src ⊕ T for whole blocks (dst may be src)."""
        n = src.size
        if n % LRW_BLOCK_SIZE:
            raise ValueError(f"src: {n} bytes is not a whole number of blocks")
        for off in range(0, n, _CHUNK):
            end = min(off + _CHUNK, n)
            np.bitwise_xor(src[off:end], self.tweaks((end - off) // LRW_BLOCK_SIZE),
                           out=dst[off:end])

    def next_iv(self) -> bytes:
        """The kernel's IV output: the index after the last block."""
        return self.index.to_bytes(LRW_BLOCK_SIZE, "big")


class Lrw(BlockModeCore):
    """Incremental LRW for one request: ``update(src, dst)`` with any split
    (a partial block is carried, see ciphers.ecb); lengths must end on a
    block boundary (``finish`` checks, the driver returns -EINVAL first).
    The three steps of crypto/lrw.c (tweak, block cipher, tweak) per span.

    ``cipher`` is the block cipher keyed with K1 (16-byte blocks), ``table``
    the :class:`LrwTable` of K2, ``iv`` the 16-byte starting index.
    """

    def __init__(self, cipher: BlockCipher, table: LrwTable, iv: bytes | np.ndarray,
                 encrypt: bool = True) -> None:
        if not isinstance(cipher, BlockCipher):
            raise TypeError("cipher: expected a BlockCipher")
        if cipher.block_size != LRW_BLOCK_SIZE:
            raise ValueError(f"cipher: LRW needs 16-byte blocks, {cipher.cra_name} has "
                             f"{cipher.block_size}")
        super().__init__(LRW_BLOCK_SIZE)
        self._fn = cipher.encrypt_blocks if encrypt else cipher.decrypt_blocks
        self._tweak = LrwTweak(table, iv)
        self._tmp = np.empty(0, dtype=np.uint8)

    @property
    def index(self) -> int:
        """The next block's index."""
        return self._tweak.index

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        n = src.size
        step = min(n, _CHUNK)
        if self._tmp.size < step:
            self._tmp = np.empty(step, dtype=np.uint8)
        for off in range(0, n, step):
            end = min(off + step, n)
            tw = self._tweak.tweaks((end - off) // LRW_BLOCK_SIZE)
            tmp = self._tmp[:end - off]
            np.bitwise_xor(src[off:end], tw, out=tmp)
            self._fn(tmp, tmp)
            np.bitwise_xor(tmp, tw, out=dst[off:end])

    def next_iv(self) -> bytes:
        """The kernel's IV output: the index after the last block."""
        return self._tweak.next_iv()
