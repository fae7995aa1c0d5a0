"""The AES mode library of lib/crypto/aes.c: prepared keys and the
unauthenticated modes ECB, CBC, CBC-CTS, CTR, XCTR and XTS
(``include/crypto/aes.h``, ``aes-ecb.h``, ``aes-cbc.h``, ``aes-ctr.h``,
``aes-xts.h``).

New in v7.3, the release the model follows: these functions come from
Eric Biggers' AES-modes series (v1 posted 2026-07-07,
``20260707053503.209874-1-ebiggers@kernel.org``), pushed to libcrypto-next
on 2026-07-22 and present in linux-next from 2026-08-18 (v7.3 merge
window).  The signatures are those of the merged headers in torvalds/linux
(``include/crypto/aes-*.h``), which is the version this model follows; the
one place they moved after v1 is ``aes_ccm_init()`` (see
:mod:`ciphers.lib_aes_gcm` and :mod:`ciphers.lib_aes_ccm` for the AEADs).

Each function is a thin face over the incremental core of the same mode
(:mod:`ciphers.ecb`, :mod:`ciphers.cbc`, :mod:`ciphers.cts`,
:mod:`ciphers.ctr`, :mod:`ciphers.xts`): no mode is implemented twice.
XCTR is a face over :class:`ciphers.xctr.Xctr` (the "xctr(aes)" template's
core); the library's counter is a u64, the template's core carries into
the upper half past 2^64 blocks, which no message reaches.

How C maps to Python here: ``struct aes_key``/``aes_enckey``/
``aes_xts_key`` are objects the caller allocates and a ``*_preparekey``
function fills (as in C); ``u8 *dst, const u8 *src, size_t len`` are
uint8 arrays (or bytes-like; ``dst`` writable) of at least ``len`` bytes,
and only the first ``len`` bytes are touched; an in/out ``u8 iv[16]`` /
``ctr[16]`` / ``tweak[16]`` is a writable 16-byte buffer updated in place;
the in/out ``u64 *ctr`` of :func:`aes_xctr` is an int argument whose new
value is returned.  Lengths the kernel documents as "must be a multiple of
AES_BLOCK_SIZE" (its behaviour otherwise is unspecified) raise ValueError
naming ``len``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, AesBlockCipher, aes_check_keylen, u8_view
from ciphers.cbc import Cbc
from ciphers.ctr import Ctr
from ciphers.cts import Cts
from ciphers.ecb import Ecb
from ciphers.xctr import Xctr
from ciphers.xts import XTS_KEYSIZES, Xts
from kmem import errno

__all__ = [
    "XTS_FORBID_WEAK_KEYS",
    "aes_cbc_cts_decrypt",
    "aes_cbc_cts_encrypt",
    "aes_cbc_decrypt",
    "aes_cbc_encrypt",
    "aes_ctr",
    "aes_ecb_decrypt",
    "aes_ecb_encrypt",
    "aes_enckey",
    "aes_key",
    "aes_prepareenckey",
    "aes_preparekey",
    "aes_xctr",
    "aes_xts_decrypt",
    "aes_xts_encrypt",
    "aes_xts_key",
    "aes_xts_preparekey",
]

BS = AES_BLOCK_SIZE
#: ``aes_xts_preparekey()`` flag: reject keys whose two halves are equal.
XTS_FORBID_WEAK_KEYS = 0x1


class aes_enckey:
    """``struct aes_enckey``: an AES key prepared for encryption only."""

    __slots__ = ("cipher", "len", "nrounds")

    def __init__(self) -> None:
        self.cipher: AesBlockCipher | None = None
        self.len = 0
        self.nrounds = 0


class aes_key(aes_enckey):
    """``struct aes_key``: an AES key prepared for both directions (the
    kernel's adds the inverse key schedule; it is an ``aes_enckey`` too,
    which is what lets it go where ``aes_encrypt_arg`` is taken)."""

    __slots__ = ()


def _prepare(key: aes_enckey, in_key: Any, key_len: int) -> int:
    kb = u8_view(in_key, "in_key")
    if not isinstance(key_len, int) or key_len < 0 or key_len > kb.size:
        raise ValueError(f"key_len: {key_len!r} outside the key buffer of {kb.size} bytes")
    if not aes_check_keylen(key_len):
        return -errno.EINVAL
    key.cipher = AesBlockCipher(kb[:key_len])
    key.len = key_len
    key.nrounds = 6 + key_len // 4
    return 0


def aes_preparekey(key: aes_key, in_key: Any, key_len: int) -> int:
    """``aes_preparekey()``: 0, or -EINVAL for a length other than 16/24/32."""
    if not isinstance(key, aes_key):
        raise TypeError("key: expected an aes_key")
    return _prepare(key, in_key, key_len)


def aes_prepareenckey(key: aes_enckey, in_key: Any, key_len: int) -> int:
    """``aes_prepareenckey()``: as :func:`aes_preparekey`, encryption only."""
    if not isinstance(key, aes_enckey):
        raise TypeError("key: expected an aes_enckey")
    return _prepare(key, in_key, key_len)


def _cipher(key: Any, decrypt: bool) -> AesBlockCipher:
    want = aes_key if decrypt else aes_enckey
    if not isinstance(key, want):
        # C would not compile: decryption takes a const struct aes_key *.
        raise TypeError(f"key: expected an {want.__name__}")
    if key.cipher is None:
        raise ValueError("key: not prepared (call aes_preparekey() first)")
    return key.cipher


def _pair(dst: Any, src: Any, len: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(len, int) or isinstance(len, bool) or len < 0:
        raise ValueError(f"len: must be a non-negative int, got {len!r}")
    s = u8_view(src, "src")
    d = u8_view(dst, "dst", writable=True)
    if s.size < len or d.size < len:
        raise ValueError(f"len: {len} is longer than src ({s.size}) or dst ({d.size})")
    return d[:len], s[:len]


def _block_len(len: int) -> None:
    if len % BS:
        raise ValueError(f"len: {len} is not a multiple of AES_BLOCK_SIZE")


def _inout16(buf: Any, name: str) -> np.ndarray:
    v = u8_view(buf, name, writable=True)
    if v.size < BS:
        raise ValueError(f"{name}: needs at least 16 bytes, got {v.size}")
    return v[:BS]


def aes_ecb_encrypt(dst: Any, src: Any, len: int, key: aes_enckey) -> None:
    """``aes_ecb_encrypt()``: ``len`` a multiple of 16; in place allowed."""
    d, s = _pair(dst, src, len)
    _block_len(len)
    core = Ecb(_cipher(key, False), encrypt=True)
    core.update(s, d)


def aes_ecb_decrypt(dst: Any, src: Any, len: int, key: aes_key) -> None:
    """``aes_ecb_decrypt()``: ``len`` a multiple of 16; in place allowed."""
    d, s = _pair(dst, src, len)
    _block_len(len)
    core = Ecb(_cipher(key, True), encrypt=False)
    core.update(s, d)


def _cbc(dst: Any, src: Any, len: int, iv: Any, key: Any, encrypt: bool) -> None:
    d, s = _pair(dst, src, len)
    _block_len(len)
    ivv = _inout16(iv, "iv")
    core = Cbc(_cipher(key, not encrypt), ivv.copy(), encrypt)
    core.update(s, d)
    ivv[:] = np.frombuffer(core.next_iv(), dtype=np.uint8)


def aes_cbc_encrypt(dst: Any, src: Any, len: int, iv: Any, key: aes_enckey) -> None:
    """``aes_cbc_encrypt()``: incremental; ``iv`` becomes the last
    ciphertext block (unchanged when ``len`` is 0)."""
    _cbc(dst, src, len, iv, key, True)


def aes_cbc_decrypt(dst: Any, src: Any, len: int, iv: Any, key: aes_key) -> None:
    """``aes_cbc_decrypt()``: incremental; ``iv`` becomes the last
    ciphertext block (saved before an in-place decryption overwrites it)."""
    _cbc(dst, src, len, iv, key, False)


def _cts(dst: Any, src: Any, len: int, iv: Any, key: Any, encrypt: bool) -> None:
    d, s = _pair(dst, src, len)
    if len < BS:
        raise ValueError(f"len: CBC-CTS needs at least AES_BLOCK_SIZE bytes, got {len}")
    ivv = _inout16(iv, "iv")
    core = Cts(_cipher(key, not encrypt), ivv.copy(), encrypt)
    core.final(s, d)
    ivv[:] = np.frombuffer(core.next_iv(), dtype=np.uint8)  # "clobbered"


def aes_cbc_cts_encrypt(dst: Any, src: Any, len: int, iv: Any, key: aes_enckey) -> None:
    """``aes_cbc_cts_encrypt()`` (CS3): one-shot, ``len`` >= 16."""
    _cts(dst, src, len, iv, key, True)


def aes_cbc_cts_decrypt(dst: Any, src: Any, len: int, iv: Any, key: aes_key) -> None:
    """``aes_cbc_cts_decrypt()`` (CS3): one-shot, ``len`` >= 16."""
    _cts(dst, src, len, iv, key, False)


def aes_ctr(dst: Any, src: Any, len: int, ctr: Any, key: aes_enckey) -> None:
    """``aes_ctr()``: 128-bit big-endian counter, advanced by
    ceil(len / 16); every call but the last must be whole blocks (a
    partial block's unused keystream is dropped, as in the kernel)."""
    d, s = _pair(dst, src, len)
    cv = _inout16(ctr, "ctr")
    core = Ctr(_cipher(key, False), cv.copy())
    core.update(s, d)
    cv[:] = np.frombuffer(core.next_iv(), dtype=np.uint8)


def aes_xctr(dst: Any, src: Any, len: int, ctr: int, iv: Any, key: aes_enckey) -> int:
    """``aes_xctr()``: XOR-counter mode (HCTR2): keystream block i is
    E_K(IV xor le128(ctr + i)) with a 64-bit host-order counter starting at
    1.  Returns the advanced ``ctr`` (the kernel's in/out ``u64 *ctr``)."""
    d, s = _pair(dst, src, len)
    if not isinstance(ctr, int) or isinstance(ctr, bool) or not 0 <= ctr < 1 << 64:
        raise ValueError(f"ctr: must be a u64, got {ctr!r}")
    ivv = u8_view(iv, "iv")
    if ivv.size < BS:
        raise ValueError(f"iv: needs 16 bytes, got {ivv.size}")
    core = Xctr(_cipher(key, False), ivv[:BS])
    core.counter = ctr       # the library's running u64 block counter
    core.update(s, d)
    return core.counter & ((1 << 64) - 1)


class aes_xts_key:
    """``struct aes_xts_key``: the data key and the tweak key."""

    __slots__ = ("raw",)

    def __init__(self) -> None:
        self.raw: bytes | None = None


def aes_xts_preparekey(key: aes_xts_key, in_key: Any, key_len: int, flags: int) -> int:
    """``aes_xts_preparekey()``: -EINVAL for a length other than 32/48/64,
    or for equal halves under XTS_FORBID_WEAK_KEYS (FIPS mode is off in the
    model)."""
    if not isinstance(key, aes_xts_key):
        raise TypeError("key: expected an aes_xts_key")
    kb = u8_view(in_key, "in_key")
    if not isinstance(key_len, int) or key_len < 0 or key_len > kb.size:
        raise ValueError(f"key_len: {key_len!r} outside the key buffer of {kb.size} bytes")
    raw = kb[:key_len].tobytes()
    if key_len not in XTS_KEYSIZES:
        return -errno.EINVAL
    if flags & XTS_FORBID_WEAK_KEYS and raw[:key_len // 2] == raw[key_len // 2:]:
        return -errno.EINVAL
    key.raw = raw
    return 0


def _xts(dst: Any, src: Any, len: int, tweak: Any, key: aes_xts_key, cont: bool,
         encrypt: bool) -> None:
    d, s = _pair(dst, src, len)
    if not isinstance(key, aes_xts_key):
        raise TypeError("key: expected an aes_xts_key")
    if key.raw is None:
        raise ValueError("key: not prepared (call aes_xts_preparekey() first)")
    if len < BS:
        raise ValueError(f"len: XTS needs at least AES_BLOCK_SIZE bytes, got {len}")
    tv = _inout16(tweak, "tweak")
    core = Xts(key.raw, tv.copy(), encrypt)
    if cont:
        # The caller hands back the running tweak: skip its encryption.
        core.tweak = int.from_bytes(tv.tobytes(), "little")
    if len % BS:
        core.final(s, d)
    else:
        core.update(s, d)
    tv[:] = np.frombuffer(core.tweak.to_bytes(BS, "little"), dtype=np.uint8)


def aes_xts_encrypt(dst: Any, src: Any, len: int, tweak: Any, key: aes_xts_key,
                    cont: bool) -> None:
    """``aes_xts_encrypt()``: ``cont`` False starts a data unit (``tweak``
    is the IV, encrypted with the tweak key), True continues one with the
    running tweak; non-final calls whole blocks, the final one any length
    >= 16 (ciphertext stealing)."""
    _xts(dst, src, len, tweak, key, cont, True)


def aes_xts_decrypt(dst: Any, src: Any, len: int, tweak: Any, key: aes_xts_key,
                    cont: bool) -> None:
    """``aes_xts_decrypt()``: as :func:`aes_xts_encrypt`, decrypting."""
    _xts(dst, src, len, tweak, key, cont, False)
