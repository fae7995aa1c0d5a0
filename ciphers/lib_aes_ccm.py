"""The AES-CCM library of lib/crypto/aes.c (``include/crypto/aes-ccm.h``):
one-shot :func:`aes_ccm_encrypt`/:func:`aes_ccm_decrypt` and the
incremental ``aes_ccm_init`` → ``aes_ccm_auth_update`` … →
``aes_ccm_{en,de}crypt_update`` … → ``aes_ccm_{en,de}crypt_final``.

New in v7.3, the release the model follows: Eric Biggers' AES-modes
series (``20260707053503.209874-1-ebiggers@kernel.org``, in linux-next
from 2026-08-18, v7.3 merge window).  Names moved during review: v1's SMB
patch calls ``aes_ccm_init(ctx, nonce, nonce_len, ad_len, data_len,
key)``; the merged header (torvalds/linux ``include/crypto/aes-ccm.h``),
which the model follows, has ``aes_ccm_init(ctx, data_len, ad_len, nonce,
nonce_len, key)``.

The library takes the 7..13-byte CCM nonce itself, where the "ccm(aes)"
template takes a 16-byte IV whose first byte is L - 1; with L = 15 -
nonce_len the two are the same message.  A thin face over
:class:`ciphers.ccm.Ccm` (the template's incremental core): the lengths
are fixed by ``aes_ccm_init`` because B0 encodes them, data of any split
follows.  The library's length check is its own: ``data_len`` must fit in
L bytes (-EOVERFLOW otherwise; the template lets data_len == 2^(8L)
through).

Implementations: the arch twin (:class:`ciphers.aead_accel.AccelCcm`,
pycryptodome) unless :data:`ciphers.lib_aes_gcm.LIB_ARCH` is False, with
the same late choice of direction as the GCM face.

Deliberate differences: the kernel WARNs when the AD or data fed differs
from the lengths given to init and then computes a meaningless tag; the
model records the same WARN, computes no tag (encrypt_final writes zeros)
and decrypt_final returns -EBADMSG, as the kernel's does.  AD of 2^32
bytes or more (the 0xffff ‖ be64 encoding) is beyond the model's core.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ciphers import lib_aes_gcm
from ciphers.aead_accel import AccelCcm
from ciphers.aes import u8_view
from ciphers.ccm import Ccm, ccm_format_input
from ciphers.lib_aes import aes_enckey, aes_prepareenckey
from ciphers.lib_aes_gcm import LazyCore, _span
from kmem import errno
from kmem.sanitizer import WARN

__all__ = [
    "aes_ccm_auth_update",
    "aes_ccm_ctx",
    "aes_ccm_decrypt",
    "aes_ccm_decrypt_final",
    "aes_ccm_decrypt_update",
    "aes_ccm_encrypt",
    "aes_ccm_encrypt_final",
    "aes_ccm_encrypt_update",
    "aes_ccm_init",
    "aes_ccm_key",
    "aes_ccm_preparekey",
]


class aes_ccm_key:
    """``struct aes_ccm_key``: AES encryption key and tag length."""

    __slots__ = ("aes", "authtag_len", "raw")

    def __init__(self) -> None:
        self.aes = aes_enckey()
        self.authtag_len = 0
        self.raw = b""          # the arch twin keys its own context


class aes_ccm_ctx:
    """``struct aes_ccm_ctx``: one message in progress."""

    __slots__ = ("ad_remaining", "broken", "core", "data_len", "data_remaining", "key")

    def __init__(self) -> None:
        self.key: aes_ccm_key | None = None
        self.core: LazyCore | None = None
        self.ad_remaining = 0
        self.data_remaining = 0
        self.data_len = 0
        self.broken = False

    def _zero(self) -> None:
        self.key = None
        self.core = None
        self.ad_remaining = 0
        self.data_remaining = 0
        self.broken = False


def aes_ccm_preparekey(key: aes_ccm_key, in_key: Any, key_len: int, authtag_len: int) -> int:
    """``aes_ccm_preparekey()``: 0, or -EINVAL for a tag length outside
    4, 6, ..., 16 (checked first) or a bad key length."""
    if not isinstance(key, aes_ccm_key):
        raise TypeError("key: expected an aes_ccm_key")
    if not isinstance(authtag_len, int) or authtag_len < 4 or authtag_len > 16 \
            or authtag_len % 2:
        return -errno.EINVAL
    err = aes_prepareenckey(key.aes, in_key, key_len)
    if err:
        return err
    key.authtag_len = authtag_len
    key.raw = u8_view(in_key, "in_key")[:key_len].tobytes()
    return 0


def aes_ccm_init(ctx: aes_ccm_ctx, data_len: int, ad_len: int, nonce: Any, nonce_len: int,
                 key: aes_ccm_key) -> int:
    """``aes_ccm_init()``: 0, -EINVAL for a nonce length outside 7..13, or
    -EOVERFLOW when ``data_len`` does not fit in L = 15 - nonce_len bytes."""
    if not isinstance(ctx, aes_ccm_ctx):
        raise TypeError("ctx: expected an aes_ccm_ctx")
    if not isinstance(key, aes_ccm_key) or key.aes.cipher is None:
        raise TypeError("key: expected an aes_ccm_key prepared by aes_ccm_preparekey()")
    for name, v in (("data_len", data_len), ("ad_len", ad_len), ("nonce_len", nonce_len)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name}: must be a non-negative int, got {v!r}")
    if not 7 <= nonce_len <= 13:
        return -errno.EINVAL
    nv = u8_view(nonce, "nonce")
    if nv.size < nonce_len:
        raise ValueError(f"nonce_len: {nonce_len} is longer than nonce ({nv.size} bytes)")
    l_ = 15 - nonce_len
    if data_len >= 1 << (8 * l_):
        return -errno.EOVERFLOW
    iv = bytes([l_ - 1]) + nv[:nonce_len].tobytes() + bytes(l_)
    ret, _b0 = ccm_format_input(iv, key.authtag_len, ad_len, data_len)
    if ret:
        return ret
    cipher, raw, authsize = key.aes.cipher, key.raw, key.authtag_len
    if lib_aes_gcm.LIB_ARCH:
        def make(decrypt: bool) -> Any:
            return AccelCcm(raw, iv, authsize, ad_len, data_len, decrypt=decrypt)
    else:
        def make(decrypt: bool) -> Any:
            return Ccm(cipher, iv, authsize, ad_len, data_len, decrypt=decrypt)
    ctx.key = key
    ctx.core = LazyCore(make)
    ctx.ad_remaining = ad_len
    ctx.data_remaining = data_len
    ctx.data_len = data_len
    ctx.broken = False
    return 0


def _ctx(ctx: Any) -> LazyCore:
    if not isinstance(ctx, aes_ccm_ctx):
        raise TypeError("ctx: expected an aes_ccm_ctx")
    if ctx.core is None:
        raise ValueError("ctx: not initialised (aes_ccm_init) or already finalised")
    return ctx.core


def aes_ccm_auth_update(ctx: aes_ccm_ctx, ad: Any, len: int) -> None:
    """``aes_ccm_auth_update()``: associated data, any split; ad_len in
    total, before any data."""
    core = _ctx(ctx)
    a = _span(ad, "ad", len)
    if WARN(len > ctx.ad_remaining or ctx.data_remaining != ctx.data_len,
            "aes_ccm_auth_update: more associated data than ad_len, or after data"):
        ctx.broken = True
    if not ctx.broken:
        core.update_ad(a)
    ctx.ad_remaining -= len


def _crypt_update(ctx: aes_ccm_ctx, dst: Any, src: Any, len: int, decrypt: bool) -> None:
    core = _ctx(ctx)
    s = _span(src, "src", len)
    d = _span(dst, "dst", len, writable=True)
    if len == 0:
        return
    if WARN(ctx.ad_remaining != 0, "aes_ccm_crypt_update: ad_len not reached"):
        ctx.broken = True
    if len > ctx.data_remaining:
        ctx.broken = True
    if ctx.broken:
        # The keystream still flows in the kernel; without a tag it is moot.
        d[:] = s
    else:
        core.direction(decrypt).update(s, d)
    ctx.data_remaining -= len


def aes_ccm_encrypt_update(ctx: aes_ccm_ctx, dst: Any, src: Any, len: int) -> None:
    """``aes_ccm_encrypt_update()``: encrypt the next ``len`` bytes."""
    _crypt_update(ctx, dst, src, len, False)


def aes_ccm_decrypt_update(ctx: aes_ccm_ctx, dst: Any, src: Any, len: int) -> None:
    """``aes_ccm_decrypt_update()``: decrypt the next ``len`` bytes.  Not
    authentic until :func:`aes_ccm_decrypt_final` returns 0."""
    _crypt_update(ctx, dst, src, len, True)


def _lengths_ok(ctx: aes_ccm_ctx) -> bool:
    bad = WARN(ctx.ad_remaining != 0, "aes_ccm final: ad_len not reached") \
        or WARN(ctx.data_remaining != 0, "aes_ccm final: data_len not reached")
    return not (bad or ctx.broken)


def aes_ccm_encrypt_final(ctx: aes_ccm_ctx, authtag: Any) -> None:
    """``aes_ccm_encrypt_final()``: write the authtag_len-byte tag; zero
    ``ctx``."""
    core = _ctx(ctx)
    assert ctx.key is not None
    t = _span(authtag, "authtag", ctx.key.authtag_len, writable=True)
    if _lengths_ok(ctx):
        t[:] = np.frombuffer(core.direction(False).finalize(), dtype=np.uint8)
    else:
        t[:] = 0
    ctx._zero()


def aes_ccm_decrypt_final(ctx: aes_ccm_ctx, authtag: Any) -> int:
    """``aes_ccm_decrypt_final()``: 0 when the stored tag matches
    (constant-time), else -EBADMSG (also after a length mismatch); zero
    ``ctx`` either way."""
    core = _ctx(ctx)
    assert ctx.key is not None
    t = _span(authtag, "authtag", ctx.key.authtag_len)
    ok = _lengths_ok(ctx) and core.direction(True).verify(t)
    ctx._zero()
    return 0 if ok else -errno.EBADMSG


def aes_ccm_encrypt(dst: Any, src: Any, data_len: int, authtag: Any, ad: Any, ad_len: int,
                    nonce: Any, nonce_len: int, key: aes_ccm_key) -> int:
    """``aes_ccm_encrypt()``: one-shot; 0, -EINVAL or -EOVERFLOW."""
    ctx = aes_ccm_ctx()
    err = aes_ccm_init(ctx, data_len, ad_len, nonce, nonce_len, key)
    if err:
        return err
    aes_ccm_auth_update(ctx, ad, ad_len)
    aes_ccm_encrypt_update(ctx, dst, src, data_len)
    aes_ccm_encrypt_final(ctx, authtag)
    return 0


def aes_ccm_decrypt(dst: Any, src: Any, data_len: int, authtag: Any, ad: Any, ad_len: int,
                    nonce: Any, nonce_len: int, key: aes_ccm_key) -> int:
    """``aes_ccm_decrypt()``: one-shot; 0, -EINVAL, -EOVERFLOW, or -EBADMSG
    with the ``data_len`` bytes of ``dst`` zeroed."""
    ctx = aes_ccm_ctx()
    err = aes_ccm_init(ctx, data_len, ad_len, nonce, nonce_len, key)
    if err:
        return err
    aes_ccm_auth_update(ctx, ad, ad_len)
    aes_ccm_decrypt_update(ctx, dst, src, data_len)
    err = aes_ccm_decrypt_final(ctx, authtag)
    if err and data_len:
        _span(dst, "dst", data_len, writable=True)[:] = 0
    return err
