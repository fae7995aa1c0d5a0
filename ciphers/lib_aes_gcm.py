"""The AES-GCM library of lib/crypto/aes.c (``include/crypto/aes-gcm.h``):
one-shot :func:`aes_gcm_encrypt`/:func:`aes_gcm_decrypt` and the
incremental ``aes_gcm_init`` → ``aes_gcm_auth_update`` … →
``aes_gcm_{en,de}crypt_update`` … → ``aes_gcm_{en,de}crypt_final``.

New in v7.3, the release the model follows: Eric Biggers' AES-modes
series (``20260707053503.209874-1-ebiggers@kernel.org``, in linux-next
from 2026-08-18, v7.3 merge window; it replaced the old one-shot
``aesgcm_*`` library).  Signatures as merged in torvalds/linux.

A thin face over :class:`ciphers.gcm.Gcm` (the "gcm(aes)" template's
incremental core): partial blocks are carried across calls inside the
core, so updates may have any length.  What the library does and the
face with it: the tag length is fixed when the key is prepared
(``crypto_gcm_check_authsize`` rules: 4, 8, 12..16); the final calls zero
the context; ``aes_gcm_decrypt_final`` compares in constant time and
returns -EBADMSG; only the one-shot :func:`aes_gcm_decrypt` zeroes the
plaintext it wrote on failure (an incremental caller must do that itself —
the library-road caller of ``iovcrypto.tools.roads`` does).

Implementations, as in the kernel (which dispatches to arch code, e.g.
VAES/PCLMUL on x86, when the CPU has it): the arch twin
(:class:`ciphers.aead_accel.AccelGcm`, OpenSSL's streaming GCM) by default,
the generic core when :data:`LIB_ARCH` is False (the tests run both and
check them against each other and the vectors).  The arch twin fixes the
direction when it is created, and the library learns it only at the first
``*_update`` or ``*_final`` call: until then the face keeps a copy of the
AD pieces (typically the 20-byte SMB transform header), which the kernel's
arch code does not need.

Deliberate difference: associated data after data has begun is a WARN in
the kernel, which then hashes it anyway; the model records the WARN and
drops those bytes (the tag is wrong either way).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ciphers.aead_accel import AccelGcm, AccelGcmKey
from ciphers.aes import u8_view
from ciphers.gcm import GCM_AES_IV_SIZE, Gcm, GcmKey, crypto_gcm_check_authsize
from ciphers.lib_aes import aes_check_keylen
from kmem import errno
from kmem.sanitizer import WARN

__all__ = [
    "LIB_ARCH",
    "LazyCore",
    "aes_gcm_auth_update",
    "aes_gcm_ctx",
    "aes_gcm_decrypt",
    "aes_gcm_decrypt_final",
    "aes_gcm_decrypt_update",
    "aes_gcm_encrypt",
    "aes_gcm_encrypt_final",
    "aes_gcm_encrypt_update",
    "aes_gcm_init",
    "aes_gcm_key",
    "aes_gcm_preparekey",
]


#: Use the arch twin (True) or the generic core (False) for contexts
#: initialised from now on.
LIB_ARCH = True


class LazyCore:
    """A request core whose direction is fixed at the first data or final
    call: ``make(decrypt)`` builds it; AD given before that is kept and
    replayed (see the module docstring)."""

    __slots__ = ("_ad", "_make", "core")

    def __init__(self, make: Any) -> None:
        self._make = make
        self._ad: list[bytes] = []
        self.core: Any = None

    def update_ad(self, data: np.ndarray) -> None:
        if self.core is None:
            self._ad.append(data.tobytes())
        else:
            self.core.update_ad(data)

    def direction(self, decrypt: bool) -> Any:
        if self.core is None:
            self.core = self._make(decrypt)
            for piece in self._ad:
                self.core.update_ad(piece)
            self._ad = []
        elif hasattr(self.core, "set_decrypt"):
            self.core.set_decrypt(decrypt)
        return self.core


class aes_gcm_key:
    """``struct aes_gcm_key``: AES key schedule, GHASH key, tag length."""

    __slots__ = ("accel_key", "authtag_len", "core_key")

    def __init__(self) -> None:
        self.core_key: GcmKey | None = None
        self.accel_key: AccelGcmKey | None = None
        self.authtag_len = 0


class aes_gcm_ctx:
    """``struct aes_gcm_ctx``: one message in progress."""

    __slots__ = ("ad_len", "core", "data_len", "key")

    def __init__(self) -> None:
        self.key: aes_gcm_key | None = None
        self.core: LazyCore | None = None
        self.ad_len = 0
        self.data_len = 0

    def _zero(self) -> None:
        self.key = None
        self.core = None
        self.ad_len = 0
        self.data_len = 0


def aes_gcm_preparekey(key: aes_gcm_key, in_key: Any, key_len: int, authtag_len: int) -> int:
    """``aes_gcm_preparekey()``: 0, or -EINVAL for a bad tag length
    (checked first) or key length."""
    if not isinstance(key, aes_gcm_key):
        raise TypeError("key: expected an aes_gcm_key")
    kb = u8_view(in_key, "in_key")
    if not isinstance(key_len, int) or key_len < 0 or key_len > kb.size:
        raise ValueError(f"key_len: {key_len!r} outside the key buffer of {kb.size} bytes")
    if crypto_gcm_check_authsize(authtag_len):
        return -errno.EINVAL
    if not aes_check_keylen(key_len):
        return -errno.EINVAL
    key.core_key = GcmKey(kb[:key_len])
    key.accel_key = AccelGcmKey(kb[:key_len])
    key.authtag_len = authtag_len
    return 0


def _ctx(ctx: Any) -> LazyCore:
    if not isinstance(ctx, aes_gcm_ctx):
        raise TypeError("ctx: expected an aes_gcm_ctx")
    if ctx.core is None:
        raise ValueError("ctx: not initialised (aes_gcm_init) or already finalised")
    return ctx.core


def aes_gcm_init(ctx: aes_gcm_ctx, nonce: Any, key: aes_gcm_key) -> None:
    """``aes_gcm_init()``: start a message under a 12-byte ``nonce``."""
    if not isinstance(ctx, aes_gcm_ctx):
        raise TypeError("ctx: expected an aes_gcm_ctx")
    if not isinstance(key, aes_gcm_key) or key.core_key is None:
        raise TypeError("key: expected an aes_gcm_key prepared by aes_gcm_preparekey()")
    nv = u8_view(nonce, "nonce")
    if nv.size < GCM_AES_IV_SIZE:
        raise ValueError(f"nonce: needs 12 bytes, got {nv.size}")
    ctx.key = key
    iv = nv[:GCM_AES_IV_SIZE].tobytes()
    if LIB_ARCH:
        ak = key.accel_key
        ctx.core = LazyCore(lambda decrypt: AccelGcm(ak, iv, decrypt=decrypt))
    else:
        gk = key.core_key
        ctx.core = LazyCore(lambda decrypt: Gcm(gk, iv, decrypt=decrypt))
    ctx.ad_len = 0
    ctx.data_len = 0


def _span(buf: Any, name: str, len: int, writable: bool = False) -> np.ndarray:
    if not isinstance(len, int) or isinstance(len, bool) or len < 0:
        raise ValueError(f"len: must be a non-negative int, got {len!r}")
    if len == 0:
        return np.empty(0, dtype=np.uint8)
    v = u8_view(buf, name, writable=writable)
    if v.size < len:
        raise ValueError(f"len: {len} is longer than {name} ({v.size} bytes)")
    return v[:len]


def aes_gcm_auth_update(ctx: aes_gcm_ctx, ad: Any, len: int) -> None:
    """``aes_gcm_auth_update()``: associated data, any split, before data."""
    core = _ctx(ctx)
    a = _span(ad, "ad", len)
    if WARN(ctx.data_len != 0, "aes_gcm_auth_update: associated data after data"):
        return
    core.update_ad(a)
    ctx.ad_len += len


def _crypt_update(ctx: aes_gcm_ctx, dst: Any, src: Any, len: int, decrypt: bool) -> None:
    core = _ctx(ctx)
    s = _span(src, "src", len)
    d = _span(dst, "dst", len, writable=True)
    core.direction(decrypt).update(s, d)
    ctx.data_len += len


def aes_gcm_encrypt_update(ctx: aes_gcm_ctx, dst: Any, src: Any, len: int) -> None:
    """``aes_gcm_encrypt_update()``: encrypt the next ``len`` bytes (any
    length; in place or out of place)."""
    _crypt_update(ctx, dst, src, len, False)


def aes_gcm_decrypt_update(ctx: aes_gcm_ctx, dst: Any, src: Any, len: int) -> None:
    """``aes_gcm_decrypt_update()``: decrypt the next ``len`` bytes.  Not
    authentic until :func:`aes_gcm_decrypt_final` returns 0."""
    _crypt_update(ctx, dst, src, len, True)


def aes_gcm_encrypt_final(ctx: aes_gcm_ctx, authtag: Any) -> None:
    """``aes_gcm_encrypt_final()``: write the authtag_len-byte tag; zero
    ``ctx``."""
    core = _ctx(ctx)
    assert ctx.key is not None
    n = ctx.key.authtag_len
    t = _span(authtag, "authtag", n, writable=True)
    t[:] = np.frombuffer(core.direction(False).finalize()[:n], dtype=np.uint8)
    ctx._zero()


def aes_gcm_decrypt_final(ctx: aes_gcm_ctx, authtag: Any) -> int:
    """``aes_gcm_decrypt_final()``: 0 when the stored tag matches
    (constant-time), else -EBADMSG; zero ``ctx`` either way."""
    core = _ctx(ctx)
    assert ctx.key is not None
    t = _span(authtag, "authtag", ctx.key.authtag_len)
    ok = core.direction(True).verify(t)
    ctx._zero()
    return 0 if ok else -errno.EBADMSG


def aes_gcm_encrypt(dst: Any, src: Any, data_len: int, authtag: Any, ad: Any, ad_len: int,
                    nonce: Any, key: aes_gcm_key) -> None:
    """``aes_gcm_encrypt()``: one-shot; the tag goes to ``authtag``."""
    ctx = aes_gcm_ctx()
    aes_gcm_init(ctx, nonce, key)
    aes_gcm_auth_update(ctx, ad, ad_len)
    aes_gcm_encrypt_update(ctx, dst, src, data_len)
    aes_gcm_encrypt_final(ctx, authtag)


def aes_gcm_decrypt(dst: Any, src: Any, data_len: int, authtag: Any, ad: Any, ad_len: int,
                    nonce: Any, key: aes_gcm_key) -> int:
    """``aes_gcm_decrypt()``: one-shot; 0, or -EBADMSG with the
    ``data_len`` bytes of ``dst`` zeroed."""
    ctx = aes_gcm_ctx()
    aes_gcm_init(ctx, nonce, key)
    aes_gcm_auth_update(ctx, ad, ad_len)
    aes_gcm_decrypt_update(ctx, dst, src, data_len)
    err = aes_gcm_decrypt_final(ctx, authtag)
    if err and data_len:
        _span(dst, "dst", data_len, writable=True)[:] = 0
    return err
