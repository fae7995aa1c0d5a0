"""XTS mode over AES (the kernel's crypto/xts.c, "xts(aes)";
``xts_verify_key()`` of include/crypto/xts.h; ``gf128mul_x_ble()`` of
include/crypto/gf128mul.h).

Key: two AES keys of equal size concatenated (32, 48 or 64 bytes); the first
half encrypts the data, the second half encrypts the IV into the first
tweak. The tweak is a 128-bit little-endian value multiplied by x in
GF(2^128) (reduction polynomial x^128 + x^7 + x^2 + x + 1) for each block.

Tweaks for a span are computed at once: the span is laid out as R rows of
S = 56 tweaks; the first tweak of each row is stepped by x^56 with Python
ints, then the whole (R, S) matrix follows with one broadcast shift by
0..55 bits (plus the 0x87 reduction of the bits shifted out), so there is no
per-block loop.

Ciphertext stealing (lengths not a multiple of 16, IEEE 1619): the last full
block and the partial tail are processed together by :meth:`Xts.final`.
The kernel's xts(aes) leaves ``req->iv`` untouched; :meth:`Xts.next_iv`
therefore returns the IV as given.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, AesBlockCipher, BlockCipher, as_key_bytes, u8_view
from ciphers.ecb import BlockModeCore, check_pair

__all__ = ["XTS_KEYSIZES", "Xts", "gf128_mul", "gf128mul_x_ble", "xts_final_len", "xts_tweaks",
           "xts_verify_key"]

BS = AES_BLOCK_SIZE
XTS_KEYSIZES = (32, 48, 64)
_M64 = (1 << 64) - 1
_M128 = (1 << 128) - 1
_S = 56  # row width of the tweak matrix; shifts stay below 57 bits
_J = np.arange(1, _S, dtype=np.uint64)
_CHUNK = 64 * 1024


def xts_verify_key(key: bytes | np.ndarray, forbid_weak_keys: bool = False) -> int:
    """Model of ``xts_verify_key()``: -EINVAL for an odd key length, and for
    key1 == key2 when FIPS mode or CRYPTO_TFM_REQ_FORBID_WEAK_KEYS is in
    force (``forbid_weak_keys``); 0 otherwise. The AES length check of
    each half is the underlying cipher's setkey (see :class:`Xts`)."""
    kb = as_key_bytes(key)
    if len(kb) % 2:
        return -errno.EINVAL
    half = len(kb) // 2
    if forbid_weak_keys and kb[:half] == kb[half:]:
        return -errno.EINVAL
    return 0


def gf128mul_x_ble(t: int) -> int:
    """Multiply the little-endian 128-bit tweak ``t`` by x."""
    t <<= 1
    if t >> 128:
        t = (t & _M128) ^ 0x87
    return t


def _mul_xk(t: int, k: int) -> int:
    # Multiply by x^k for k <= 121: the k bits shifted out are reduced with
    # x^128 = x^7 + x^2 + x + 1 in one fold, whose image (< 2^(k+7)) fits.
    t <<= k
    o = t >> 128
    return (t & _M128) ^ o ^ (o << 1) ^ (o << 2) ^ (o << 7)


def gf128_mul(a: int, b: int) -> int:
    """``a·b`` in GF(2^128) modulo x^128 + x^7 + x^2 + x + 1, with bit i of
    each int the coefficient of x^i.  XTS reads its blocks into such ints
    little-endian ("ble"), LRW big-endian ("bbe"); the arithmetic on the
    ints is the same, so both templates use this one."""
    z = 0
    while a:
        if a & 1:
            z ^= b
        a >>= 1
        b <<= 1
        if b >> 128:
            b = (b & _M128) ^ 0x87
    return z


@functools.lru_cache(maxsize=64)
def _x_pow(n: int) -> int:
    """``x^n`` in the XTS field; a walk asks for the same few step sizes."""
    r, base = 1, 2
    while n:
        if n & 1:
            r = gf128_mul(r, base)
        base = gf128_mul(base, base)
        n >>= 1
    return r


def xts_tweak_advance(t: int, nblocks: int) -> int:
    """The tweak ``nblocks`` blocks after ``t``: ``t·x^nblocks``.  Short
    advances shift and fold; long ones (a whole step of a walk) multiply by
    a cached ``x^nblocks`` instead of folding once per 121 blocks."""
    if nblocks > 4 * 121:
        return gf128_mul(t, _x_pow(nblocks))
    while nblocks >= 121:
        t = _mul_xk(t, 121)
        nblocks -= 121
    return _mul_xk(t, nblocks) if nblocks else t


def xts_tweaks(t0: int, nblocks: int, out: np.ndarray | None = None) -> np.ndarray:
    """Return the tweaks T0·x^i, i < nblocks, as a flat uint8 array of
    16-byte little-endian values (into ``out`` when given)."""
    if nblocks < 0:
        raise ValueError("nblocks: must be non-negative")
    nbytes = nblocks * BS
    if out is None:
        out = np.empty(nbytes, dtype=np.uint8)
    if nblocks == 0:
        return out[:0]
    rows = -(-nblocks // _S)
    col = []
    t = t0 & _M128
    for _ in range(rows):
        col.append(t)
        t = _mul_xk(t, _S)
    lo0 = np.array([c & _M64 for c in col], dtype=np.uint64)[:, None]
    hi0 = np.array([c >> 64 for c in col], dtype=np.uint64)[:, None]
    m = np.empty((rows, _S, 2), dtype="<u8")
    m[:, 0, 0] = lo0[:, 0]
    m[:, 0, 1] = hi0[:, 0]
    inv = np.uint64(64) - _J
    o = hi0 >> inv
    m[:, 1:, 1] = (hi0 << _J) | (lo0 >> inv)
    m[:, 1:, 0] = (lo0 << _J) ^ o ^ (o << np.uint64(1)) ^ (o << np.uint64(2)) \
        ^ (o << np.uint64(7))
    out[:nbytes] = m.reshape(-1).view(np.uint8)[:nbytes]
    return out[:nbytes]


def xts_final_len(cryptlen: int) -> int:
    """Bytes the final step must cover for a request of ``cryptlen`` bytes:
    the partial tail plus the full block before it, or 0 without a tail."""
    r = cryptlen % BS
    return BS + r if r else 0


class Xts(BlockModeCore):
    """Incremental AES-XTS for one data unit (one request).

    ``update(src, dst)`` processes any split of the data except the
    ciphertext-stealing part; ``final(src, dst)`` processes the rest and
    ends the data unit. With a partial tail of r bytes the last 16 + r bytes
    must reach :meth:`final` (carried bytes count), i.e. at least
    :func:`xts_final_len` ``(cryptlen)`` bytes; ``final`` raises ValueError
    otherwise, and for data units shorter than 16 bytes (the kernel's
    -EINVAL). Drivers in a walk loop split like the kernel's arch drivers:
    ``update`` on the first ``cryptlen - xts_final_len(cryptlen)`` bytes,
    ``final`` on the rest.

    ``key`` is key1 ‖ key2 (32/48/64 bytes, ValueError otherwise). Equal
    halves are accepted unless ``forbid_weak_keys`` (see
    :func:`xts_verify_key`).  ``cipher`` builds the block cipher from a
    half key (AES by default; xts(sm4), xts(camellia) pass theirs, which
    check the half's length).
    """

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray,
                 encrypt: bool = True, *, forbid_weak_keys: bool = False,
                 cipher: Callable[[bytes], BlockCipher] = AesBlockCipher) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in XTS_KEYSIZES:
            raise ValueError(f"key: XTS key must be 32, 48 or 64 bytes, got {len(kb)}")
        if xts_verify_key(kb, forbid_weak_keys):
            raise ValueError("key: the two XTS key halves are identical")
        ivb = u8_view(iv, "iv")
        if ivb.size != BS:
            raise ValueError(f"iv: XTS IV must be 16 bytes, got {ivb.size}")
        super().__init__()
        half = len(kb) // 2
        self._cipher = cipher(kb[:half])
        if self._cipher.block_size != BS:
            raise ValueError(f"cipher: XTS needs 16-byte blocks, {self._cipher.cra_name} has "
                             f"{self._cipher.block_size}")
        self.iv = ivb.tobytes()
        self.encrypt = encrypt
        tweak_cipher = cipher(kb[half:])
        self.tweak = int.from_bytes(tweak_cipher.encrypt_block(self.iv), "little")
        self.finalized = False
        self._tw = np.empty(0, dtype=np.uint8)
        self._tmp = np.empty(0, dtype=np.uint8)

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        if self.finalized:
            raise ValueError("XTS data unit already finalized")
        n = src.size
        step = min(n, _CHUNK)
        if self._tw.size < step:
            self._tw = np.empty(step, dtype=np.uint8)
            self._tmp = np.empty(step, dtype=np.uint8)
        fn = self._cipher.encrypt_blocks if self.encrypt else self._cipher.decrypt_blocks
        for off in range(0, n, step):
            end = min(off + step, n)
            nb = (end - off) // BS
            tw = xts_tweaks(self.tweak, nb, self._tw)
            tmp = self._tmp[:end - off]
            np.bitwise_xor(src[off:end], tw, out=tmp)
            fn(tmp, tmp)
            np.bitwise_xor(tmp, tw, out=dst[off:end])
            self.tweak = xts_tweak_advance(self.tweak, nb)

    def _one(self, block: np.ndarray, t: int, encrypt: bool) -> np.ndarray:
        tw = np.frombuffer(t.to_bytes(BS, "little"), dtype=np.uint8)
        x = block ^ tw
        if encrypt:
            self._cipher.encrypt_blocks(x, x)
        else:
            self._cipher.decrypt_blocks(x, x)
        return x ^ tw

    def final(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Process the last bytes of the data unit, with ciphertext
        stealing when its length is not a multiple of 16."""
        s, d = check_pair(src, dst)
        if self.finalized:
            raise ValueError("XTS data unit already finalized")
        total = self.processed + self._npend + s.size
        if total < BS:
            raise ValueError(f"XTS data unit of {total} bytes is shorter than 16")
        r = total % BS
        if r and self._npend + s.size < BS + r:
            raise ValueError("final: the last full block and the tail must reach final() "
                             f"together ({BS + r} bytes)")
        data, views = self._feed_to_tail(s, d, BS + r if r else 0)
        out = np.empty(data.size, dtype=np.uint8)
        if r:
            ta = self.tweak
            tb = gf128mul_x_ble(ta)
            last, tail = data[:BS], data[BS:]
            # The full block uses the later tweak when decrypting (IEEE 1619).
            first_t, second_t = (ta, tb) if self.encrypt else (tb, ta)
            cc = self._one(last, first_t, self.encrypt)
            pp = np.concatenate([tail, cc[r:]])
            out[BS:] = cc[:r]
            out[:BS] = self._one(pp, second_t, self.encrypt)
            self.processed += BS + r
            self.tweak = gf128mul_x_ble(tb)
        self._scatter(out, views)
        self.finalized = True

    def next_iv(self) -> bytes:
        """The kernel's xts(aes) does not write an IV back: the IV as given."""
        return self.iv
