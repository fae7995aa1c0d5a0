"""GHASH: the universal hash of GCM, incremental and vectorised.

Models the kernel's generic GHASH (``crypto/ghash-generic.c`` over
``lib/crypto/gf128mul.c``): a key H, a running 16-byte digest, data fed in
any split with a partial block carried inside, zero padding on flush.

The arithmetic is our own.  Multiplication by a fixed power of H is linear
over GF(2), so ``X * H^p`` is the XOR of sixteen table entries, one per byte
of X (an 8-bit table per power, as ``gf128mul_4k`` does per nibble).  A run
of m blocks folds, Horner-style, into

    Y' = (Y ^ X_0) * H^m  ^  X_1 * H^(m-1)  ^ ... ^  X_(m-1) * H

so with tables for H^1..H^K every block of a K-block chunk is one gather of
sixteen 16-byte rows, and the whole chunk is one XOR reduction: no shifts and
no reduction at run time.  Chunks are chained by a multiplication by H^K on
Python ints.  Tables are built lazily, growing with what H has hashed up to
``GHASH_MAX_POWERS``; until H has hashed ``SERIAL_BLOCKS`` blocks it gets no
table at all and each block is one byte-at-a-time multiplication, so a key
that only ever hashes a few blocks stays cheap.

Bit order is GCM's: the first bit of a block (the MSB of byte 0) is the
coefficient of x^0; a block read as a big-endian integer ``v`` is multiplied
by x with ``v >> 1`` and a conditional XOR of 0xE1 << 120.
"""

from __future__ import annotations

from collections import OrderedDict
from math import isqrt
from typing import Any

import numpy as np

from ciphers.aes import u8_view

__all__ = ["GHASH_BLOCK_SIZE", "GHASH_DIGEST_SIZE", "GHASH_MAX_POWERS", "Ghash", "GhashKey",
           "gf128_mul"]

GHASH_BLOCK_SIZE = 16
GHASH_DIGEST_SIZE = 16
#: Powers of H kept in tables (64 KiB of table per power).
GHASH_MAX_POWERS = 64
# Chunks gathered per numpy pass: keeps the gathered rows (256 B per block)
# cache-resident instead of streaming 16x the input through memory.
_BATCH_CHUNKS = 32

_R = 0xE1 << 120
_MASK64 = (1 << 64) - 1


def gf128_mul(a: int, b: int) -> int:
    """Multiply two GF(2^128) elements in GCM bit order (big-endian ints).

    The plain shift-and-add method of NIST SP 800-38D, Algorithm 1; used to
    build tables and as the reference the vectorised path is tested against.
    """
    z = 0
    for i in range(127, -1, -1):
        if (a >> i) & 1:
            z ^= b
        b = (b >> 1) ^ _R if b & 1 else b >> 1
    return z


def _u64_pairs(values: list[int]) -> np.ndarray:
    """Big-endian 128-bit ints -> (n, 2) uint64 [high, low]."""
    out = np.empty((len(values), 2), dtype=np.uint64)
    out[:, 0] = [v >> 64 for v in values]
    out[:, 1] = [v & _MASK64 for v in values]
    return out


def _xor_rows(g: np.ndarray) -> np.ndarray:
    """XOR-reduce (c, L, 2) uint64 along axis 1 by halving (a strided
    ``bitwise_xor.reduce`` over the middle axis is several times slower)."""
    while g.shape[1] > 1:
        length = g.shape[1]
        half = length // 2
        folded = g[:, :half] ^ g[:, half:2 * half]
        if length & 1:
            folded[:, 0] ^= g[:, -1]
        g = folded
    return g[:, 0]


# Multiplying by x^8 shifts a value right by 8 bits; what falls off the low
# byte comes back reduced.  _RED8[b] is that reduction for low byte b.
def _mulx(v: int) -> int:
    return (v >> 1) ^ _R if v & 1 else v >> 1


def _red8(b: int) -> int:
    for _ in range(8):
        b = _mulx(b)
    return b


_RED8 = [_red8(b) for b in range(256)]

#: Blocks an H hashes, in all, before it gets tables: up to here a
#: byte-at-a-time multiplication per block (a 256-entry table of Python
#: ints, built in microseconds) costs less than tabulating even 4 powers
#: (256 KiB of numpy tables), so a fresh key hashing a few KiB builds none.
SERIAL_BLOCKS = 128

#: Table bytes kept for all keys together (tables are shared by H).
GHASH_SHARED_BYTES = 64 << 20
# What one 256-entry chain table of Python ints holds (a 128-bit int is
# 44 bytes, plus its list slot): counted so that keys that only ever got
# chain tables (every fresh key hashing a little) are evicted too.
_CHAIN_BYTES = 256 * 52


class _Tables:
    """Everything derived from one H: the powers, their numpy tables, the
    byte tables that chain chunks, and how many blocks H has hashed (which
    decides how many powers are worth building)."""

    __slots__ = ("chain", "flat", "h", "powers", "seen", "table")

    def __init__(self, h: int) -> None:
        self.h = h
        self.powers: list[int] = [h]            # H^1, H^2, ...
        self.table = np.zeros((0, 16, 256, 2), dtype=np.uint64)
        self.flat = self.table.reshape(-1).view(np.complex128)
        self.chain: dict[int, list[int]] = {}   # k -> byte table of H^k
        self.seen = 0

    @property
    def nbytes(self) -> int:
        return self.table.nbytes + len(self.chain) * _CHAIN_BYTES


# Keys with the same H (the same AES key: every request of a tfm, every tfm
# a test suite sets to the same key) share one _Tables, least recently used
# first out once the tables outgrow GHASH_SHARED_BYTES.
_shared: OrderedDict[int, _Tables] = OrderedDict()
_shared_bytes = [0]


def _tables_for(h: int) -> _Tables:
    t = _shared.get(h)
    if t is None:
        t = _shared[h] = _Tables(h)
    else:
        _shared.move_to_end(h)
    return t


def _account(t: _Tables, grown: int) -> None:
    if _shared.get(t.h) is not t:
        return      # evicted already: only the keys holding it keep it alive
    _shared_bytes[0] += grown
    while _shared_bytes[0] > GHASH_SHARED_BYTES and len(_shared) > 1:
        h, old = _shared.popitem(last=False)
        if old is t:            # never evict the tables being grown
            _shared[h] = old
            _shared.move_to_end(h)
            continue
        _shared_bytes[0] -= old.nbytes


def _powers_worth(seen: int) -> int:
    """How many powers of H to tabulate once H has hashed ``seen`` blocks.

    A power costs a 64 KiB table; fewer powers cost one chaining
    multiplication per chunk.  Balancing the two gives about sqrt(seen)/2
    powers (a power of two, at most GHASH_MAX_POWERS): a fresh key that
    hashes 1 KiB builds 4 tables, not 64, and a key that keeps hashing
    grows to the full set."""
    k = max(1, isqrt(seen) >> 1)
    return min(GHASH_MAX_POWERS, 1 << (k.bit_length() - 1))


class GhashKey:
    """The expanded GHASH key: H and lazily built multiplication tables.

    Models ``ghash_setkey`` (the kernel builds a 4k table for H); shared by
    every request of a tfm, never modified by hashing.  The tables
    themselves are shared by every GhashKey with the same H, and grow with
    the data hashed (see _powers_worth).
    """

    __slots__ = ("_t", "h")

    def __init__(self, h: Any) -> None:
        hb = u8_view(h, "h").tobytes()
        if len(hb) != GHASH_BLOCK_SIZE:
            raise ValueError(f"h must be {GHASH_BLOCK_SIZE} bytes, not {len(hb)}")
        self.h = int.from_bytes(hb, "big")
        self._t = _tables_for(self.h)

    @property
    def npowers(self) -> int:
        """Number of powers of H with tables built so far."""
        return self._t.table.shape[0]

    def _ensure(self, m: int) -> None:
        t = self._t
        have = t.table.shape[0]
        if m <= have:
            return
        want = GHASH_MAX_POWERS if m > GHASH_MAX_POWERS else 1 << (m - 1).bit_length()
        while len(t.powers) < want:
            t.powers.append(gf128_mul(t.powers[-1], t.h))
        new = self._build(t.powers[have:want])
        t.table = np.concatenate([t.table, new]) if have else new
        t.flat = t.table.reshape(-1).view(np.complex128)
        _account(t, new.nbytes)

    @staticmethod
    def _basis_vectorised(powers: list[int]) -> np.ndarray:
        """basis[:, i] = P * x^i for each power P, stepping all powers at once."""
        k = len(powers)
        pairs = _u64_pairs(powers)
        hi, lo = pairs[:, 0].copy(), pairs[:, 1].copy()
        basis = np.empty((k, 128, 2), dtype=np.uint64)
        one, sixty_three = np.uint64(1), np.uint64(63)
        rhi = np.uint64(0xE1 << 56)
        for i in range(128):
            basis[:, i, 0] = hi
            basis[:, i, 1] = lo
            carry = lo & one
            lo = (lo >> one) | (hi << sixty_three)
            hi = (hi >> one) ^ (carry * rhi)
        return basis

    @staticmethod
    def _build(powers: list[int]) -> np.ndarray:
        k = len(powers)
        if k <= 8:
            # A few powers: stepping Python ints beats 128 tiny numpy passes.
            steps = []
            for p in powers:
                for _ in range(128):
                    steps.append(p)
                    p = (p >> 1) ^ _R if p & 1 else p >> 1
            basis = _u64_pairs(steps).reshape(k, 128, 2)
        else:
            basis = GhashKey._basis_vectorised(powers)
        # Byte j of a block holds x^(8j) in its MSB: value bit (7-t) -> basis 8j+t.
        per_byte = basis.reshape(k, 16, 8, 2)
        table = np.zeros((k, 16, 256, 2), dtype=np.uint64)
        for b in range(8):
            lo_end = 1 << b
            table[:, :, lo_end:2 * lo_end] = (table[:, :, :lo_end]
                                              ^ per_byte[:, :, 7 - b, None, :])
        return table

    def _chain_mul(self, y: int, k: int) -> int:
        """y * H^k on Python ints, a byte of y at a time (Shoup's method:
        a 256-entry table of byte * H^k, and x^8 steps reduced by _RED8)."""
        tab = self._chain_table(k)
        z = 0
        red = _RED8
        for byte in y.to_bytes(16, "little"):      # the last byte first
            z = (z >> 8) ^ red[z & 0xFF] ^ tab[byte]
        return z

    def _chain_table(self, k: int) -> list[int]:
        tab = self._t.chain.get(k)
        if tab is None:
            # tab[b] for a byte b whose MSB is x^0: XOR of H^k * x^t per bit,
            # built by doubling (the entries with bit i set are those
            # without it, each XORed with that bit's basis value).
            basis = [self._t.powers[k - 1]]
            for _ in range(7):
                basis.append(_mulx(basis[-1]))
            tab = [0]
            for i in range(8):
                bi = basis[7 - i]
                tab += [t ^ bi for t in tab]
            self._t.chain[k] = tab
            _account(self._t, _CHAIN_BYTES)
        return tab

    def _chunk_sums(self, blocks: np.ndarray, m: int, y: int) -> np.ndarray:
        """Per chunk of m blocks, XOR_i X_i * H^(m-i) with y folded into the
        very first block; returns (chunks, 2) uint64."""
        chunks = blocks.shape[0] // m
        base = ((np.arange(m - 1, -1, -1, dtype=np.int32)[:, None] * 16
                 + np.arange(16, dtype=np.int32)[None, :]) * 256)
        idx = np.add(blocks.reshape(chunks, m, 16), base, dtype=np.int32)
        if y:
            first = blocks[0] ^ np.frombuffer(y.to_bytes(16, "big"), dtype=np.uint8)
            idx[0, 0] = base[0] + first
        g = self._t.flat.take(idx.reshape(-1)).view(np.uint64)
        return _xor_rows(g.reshape(chunks, m * 16, 2))

    def _hash_serial(self, y: int, blocks: np.ndarray) -> int:
        """Horner's rule on Python ints, each step a byte-at-a-time
        multiplication by H (the chaining multiplication with k = 1)."""
        data = blocks.tobytes()
        tab, red = self._chain_table(1), _RED8
        for off in range(0, len(data), 16):
            z = 0
            for byte in (y ^ int.from_bytes(data[off:off + 16], "big")).to_bytes(16, "little"):
                z = (z >> 8) ^ red[z & 0xFF] ^ tab[byte]
            y = z
        return y

    def hash_blocks(self, y: int, blocks: np.ndarray) -> int:
        """Fold whole 16-byte blocks ((n, 16) uint8) into digest y; return it."""
        n = blocks.shape[0]
        if n == 0:
            return y
        t = self._t
        if t.seen + n <= SERIAL_BLOCKS and not t.table.shape[0]:
            # A young H: Horner a block at a time beats building any table.
            t.seen += n
            return self._hash_serial(y, blocks)
        t.seen += n
        k = _powers_worth(t.seen)
        full, tail = divmod(n, k)
        self._ensure(k if full else tail)
        for start in range(0, full, _BATCH_CHUNKS):
            stop = min(start + _BATCH_CHUNKS, full)
            s = self._chunk_sums(blocks[start * k:stop * k], k, y)
            hi, lo = s[:, 0].tolist(), s[:, 1].tolist()
            y = (hi[0] << 64) | lo[0]
            for c in range(1, stop - start):
                y = self._chain_mul(y, k) ^ (hi[c] << 64) ^ lo[c]
        if tail:
            s = self._chunk_sums(blocks[full * k:], tail, y)
            y = (int(s[0, 0]) << 64) | int(s[0, 1])
        return y


class Ghash:
    """One GHASH computation over a ``GhashKey``.

    Call order: ``update(data)`` any number of times with any lengths;
    ``pad()`` zero-fills a pending partial block (GCM pads the AD and the
    ciphertext separately); ``digest()`` pads and returns the 16-byte digest
    (it may be called more than once; further updates continue from the
    padded state).  Models ``ghash_update``/``ghash_final`` of
    ``crypto/ghash-generic.c``, which XOR partial bytes into the digest and
    multiply when a block completes; we buffer the bytes instead.
    """

    __slots__ = ("_buf", "_key", "_nbuf", "_y")

    def __init__(self, key: GhashKey) -> None:
        if not isinstance(key, GhashKey):
            raise TypeError("key must be a GhashKey")
        self._key = key
        self._y = 0
        self._buf = np.zeros(16, dtype=np.uint8)
        self._nbuf = 0

    def update(self, data: Any) -> None:
        """Absorb bytes; any length, any split."""
        src = u8_view(data, "data")
        n = src.shape[0]
        if n == 0:
            return
        pos = 0
        if self._nbuf:
            take = min(16 - self._nbuf, n)
            self._buf[self._nbuf:self._nbuf + take] = src[:take]
            self._nbuf += take
            pos = take
            if self._nbuf < 16:
                return
            self._y = self._key.hash_blocks(self._y, self._buf.reshape(1, 16))
            self._nbuf = 0
        nblocks = (n - pos) // 16
        if nblocks:
            end = pos + nblocks * 16
            self._y = self._key.hash_blocks(self._y, src[pos:end].reshape(nblocks, 16))
            pos = end
        rest = n - pos
        if rest:
            self._buf[:rest] = src[pos:]
            self._nbuf = rest

    def pad(self) -> None:
        """Zero-pad and absorb a pending partial block (no-op when aligned)."""
        if self._nbuf:
            self._buf[self._nbuf:] = 0
            self._y = self._key.hash_blocks(self._y, self._buf.reshape(1, 16))
            self._nbuf = 0

    def digest(self) -> bytes:
        """Pad, then return the 16-byte digest."""
        self.pad()
        return self._y.to_bytes(16, "big")
