"""The library road for an AEAD caller that holds iov_iters: walk them
yourself and feed lib/crypto's incremental AES-GCM / AES-CCM.

Modelled on the SMB client after Eric Biggers' "smb: client: Use AES-GCM
and AES-CCM libraries" (``20260707053503.209874-32-ebiggers@kernel.org``,
v7.3 material): ``crypt_message()`` prepares a library key, initialises a
context with the nonce, feeds the transform header as AD, walks the
request's buffers with ``iterate_and_advance_kernel()`` calling
``smb3_crypt_step()`` (an in-place ``aes_{gcm,ccm}_{en,de}crypt_update``
per mapped piece), and finishes with ``aes_*_encrypt_final`` (tag out) or
``aes_*_decrypt_final`` (-EBADMSG).  No scatterlist, no request, no tfm.

:func:`lib_aead_crypt` is that shape generalised to the request API's
buffer layout so that it can run the same vectors and layouts as the
request roads: ``src`` holds AD ‖ text [‖ tag when decrypting], ``dst``
holds AD ‖ text [‖ tag when encrypting]; ``cryptlen`` counts the tag on
decryption.  What it does, step by step, and why:

- in place (``dst is src``) over a kernel-backed iterator: one walk with
  ``iterate_and_advance_kernel()`` and :func:`lib_crypt_step`, exactly
  SMB's loop;
- out of place, or over user memory: ``iterate_and_advance2()`` over
  ``dst`` with :func:`lib_copy_crypt_step` / :func:`lib_copy_crypt_ustep`:
  each dst piece is crypted from the matching source runs straight into
  place (the library takes dst and src apart), no copy.  User pieces come
  to the step resolved, the model's convention for every walker (the
  request roads' too); a C caller would pin them first, as SMB does by
  converting user iterators to ITER_BVEC higher up;
- the AD comes first (``auth_update`` per piece of ``src``; ``dst``'s AD
  area is stepped over, not written), the tag after the text;
- decryption writes plaintext into place, then verifies; on -EBADMSG it
  zeroes the plaintext it wrote before returning, as the library's
  one-shot ``aes_gcm_decrypt()`` does, so no unauthenticated byte reaches
  the caller;
- on success both iterators are advanced by what was consumed/produced;
  on any error they are reverted to where they were (DESIGN §7).

Errors: -EINVAL for a decryption shorter than the tag or iterators
shorter than the request, the library's -EINVAL/-EOVERFLOW from
``aes_ccm_init``, -EFAULT when a user piece faults, -EBADMSG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ciphers.lib_aes_ccm import (
    aes_ccm_auth_update,
    aes_ccm_ctx,
    aes_ccm_decrypt_final,
    aes_ccm_decrypt_update,
    aes_ccm_encrypt_final,
    aes_ccm_encrypt_update,
    aes_ccm_init,
    aes_ccm_key,
    aes_ccm_preparekey,
)
from ciphers.lib_aes_gcm import (
    aes_gcm_auth_update,
    aes_gcm_ctx,
    aes_gcm_decrypt_final,
    aes_gcm_decrypt_update,
    aes_gcm_encrypt_final,
    aes_gcm_encrypt_update,
    aes_gcm_init,
    aes_gcm_key,
    aes_gcm_preparekey,
)
from iovcrypto.iov_iter_position import iov_iter_advance, iov_iter_revert
from iovcrypto.iterate import iov_iter_spans, iterate_and_advance2, iterate_and_advance_kernel
from iovcrypto.uio import iov_iter, user_backed_iter
from kmem import errno
from kmem.stats import note_copy

__all__ = [
    "LIB_AEADS",
    "lib_aead_crypt",
    "lib_aead_setkey",
    "lib_copy_crypt_step",
    "lib_copy_crypt_ustep",
    "lib_crypt_ctx",
    "lib_crypt_step",
]

#: The request-API names the library road serves, and the library each
#: one uses.
LIB_AEADS = {"gcm(aes)": "gcm", "ccm(aes)": "ccm"}


@dataclass
class lib_crypt_ctx:
    """``struct smb3_crypt_ctx``: the library context, which library, and
    the direction; plus the source iterator for out-of-place walks."""

    kind: str
    enc: bool
    gcm: aes_gcm_ctx = field(default_factory=aes_gcm_ctx)
    ccm: aes_ccm_ctx = field(default_factory=aes_ccm_ctx)
    src: iov_iter | None = None
    fault: bool = False

    def update(self, data: np.ndarray, n: int) -> None:
        """One in-place ``aes_*_{en,de}crypt_update`` call."""
        if self.kind == "gcm":
            (aes_gcm_encrypt_update if self.enc else aes_gcm_decrypt_update)(
                self.gcm, data, data, n)
        else:
            (aes_ccm_encrypt_update if self.enc else aes_ccm_decrypt_update)(
                self.ccm, data, data, n)

    def update_from(self, dst: np.ndarray, src: np.ndarray, n: int) -> None:
        """One out-of-place ``aes_*_{en,de}crypt_update`` call."""
        if self.kind == "gcm":
            (aes_gcm_encrypt_update if self.enc else aes_gcm_decrypt_update)(
                self.gcm, dst, src, n)
        else:
            (aes_ccm_encrypt_update if self.enc else aes_ccm_decrypt_update)(
                self.ccm, dst, src, n)

    def auth(self, data: np.ndarray, n: int) -> None:
        if self.kind == "gcm":
            aes_gcm_auth_update(self.gcm, data, n)
        else:
            aes_ccm_auth_update(self.ccm, data, n)


def lib_crypt_step(data: np.ndarray, progress: int, len: int, priv: lib_crypt_ctx,
                   priv2: Any) -> int:
    """``smb3_crypt_step()``: en/decrypt one mapped piece in place."""
    priv.update(data, len)
    return 0


def _auth_step(data: np.ndarray, progress: int, len: int, priv: lib_crypt_ctx,
               priv2: Any) -> int:
    priv.auth(data, len)
    return 0


def lib_copy_crypt_step(data: np.ndarray, progress: int, len: int, priv: lib_crypt_ctx,
                        priv2: Any) -> int:
    """A piece of ``dst`` when the source is elsewhere: the library takes
    ``dst`` and ``src`` separately, so the matching source bytes (as many
    contiguous runs as the source has there) are crypted straight into the
    piece -- no copy -- and the source iterator moves on by the piece."""
    src = priv.src
    if src is None:
        priv.update(data, len)
        return 0
    views, got = iov_iter_spans(src, len)
    off = 0
    for v in views:
        priv.update_from(data[off:off + v.size], v, v.size)
        off += v.size
    iov_iter_advance(src, got)
    if got != len:
        priv.fault = True
        return len - got
    return 0


#: User pieces are handed to the step already resolved by the walker (the
#: model's convention for every iov_iter walker, request roads included),
#: so the same step serves them.
lib_copy_crypt_ustep = lib_copy_crypt_step


def lib_aead_setkey(name: str, key: bytes, authsize: int) -> tuple[int, Any]:
    """Prepare a library key for ``name`` (a :data:`LIB_AEADS` key):
    ``(0, key)`` or ``(-EINVAL, None)``.  The caller keeps it as it would
    keep a keyed tfm."""
    kind = LIB_AEADS.get(name)
    if kind is None:
        raise ValueError(f"name: the library road serves {sorted(LIB_AEADS)}, not {name!r}")
    k: Any = aes_gcm_key() if kind == "gcm" else aes_ccm_key()
    prep = aes_gcm_preparekey if kind == "gcm" else aes_ccm_preparekey
    err = prep(k, key, len(key), authsize)
    return (err, None) if err else (0, k)


def _copy_in(data: np.ndarray, progress: int, len: int, buf: np.ndarray, priv2: Any) -> int:
    data[:] = buf[progress:progress + len]
    note_copy(len)
    return 0


def _copy_out(data: np.ndarray, progress: int, len: int, buf: np.ndarray, priv2: Any) -> int:
    buf[progress:progress + len] = data
    note_copy(len)
    return 0


def _zero(data: np.ndarray, progress: int, len: int, priv: Any, priv2: Any) -> int:
    data[:] = 0
    return 0


def _xfer(it: iov_iter, buf: np.ndarray, n: int, into_iter: bool) -> int:
    """Copy the tag between ``buf`` and the next ``n`` bytes of ``it``.
    A walk rather than copy_to_iter()/copy_from_iter(): an in-place
    caller's single iterator is both source and destination."""
    step = _copy_in if into_iter else _copy_out
    return iterate_and_advance2(it, n, buf, None, step, step, write=into_iter)


def _walk_ad(ctx: lib_crypt_ctx, src: iov_iter, assoclen: int) -> int:
    if user_backed_iter(src):
        return iterate_and_advance2(src, assoclen, ctx, None, _auth_step, _auth_step)
    return iterate_and_advance_kernel(src, assoclen, ctx, None, _auth_step)


def lib_aead_crypt(name: str, key: Any, iv: bytes, src: iov_iter, dst: iov_iter,
                   assoclen: int, cryptlen: int, enc: bool) -> int:
    """Encrypt or decrypt one AEAD message held in iov_iters through the
    library (see the module docstring).  ``iv`` is the request API's IV
    (12 bytes for gcm, the 16-byte L' ‖ nonce ‖ counter block for ccm);
    returns 0 or a negative errno."""
    kind = LIB_AEADS.get(name)
    if kind is None:
        raise ValueError(f"name: the library road serves {sorted(LIB_AEADS)}, not {name!r}")
    authsize = key.authtag_len
    textlen = cryptlen if enc else cryptlen - authsize
    if textlen < 0:
        return -errno.EINVAL
    total_in = assoclen + cryptlen
    total_out = assoclen + textlen + (authsize if enc else 0)
    inplace = dst is src
    if src.count < total_in or dst.count < (total_in if inplace else total_out):
        return -errno.EINVAL
    ctx = lib_crypt_ctx(kind, enc)
    if kind == "gcm":
        aes_gcm_init(ctx.gcm, iv, key)
    else:
        ivb = bytes(iv)
        nonce_len = 14 - ivb[0] if 1 <= ivb[0] <= 7 else 0
        err = aes_ccm_init(ctx.ccm, textlen, assoclen, ivb[1:1 + nonce_len], nonce_len, key)
        if err:
            return err

    consumed = produced = 0
    err = 0
    try:
        # AD in front: authenticate it; dst's copy of it is not touched.
        if _walk_ad(ctx, src, assoclen) != assoclen:
            err = -errno.EFAULT
            return err
        consumed += assoclen
        if not inplace:
            iov_iter_advance(dst, assoclen)
            produced += assoclen
        # The text.
        if inplace and not user_backed_iter(src):
            did = iterate_and_advance_kernel(src, textlen, ctx, None, lib_crypt_step,
                                             write=True)
        else:
            ctx.src = None if inplace else src
            did = iterate_and_advance2(dst, textlen, ctx, None, lib_copy_crypt_ustep,
                                       lib_copy_crypt_step, write=True)
        consumed += did
        if not inplace:
            produced += did
        if did != textlen:
            err = -errno.EFAULT
            return err
        # The tag after the text.
        tagbuf = np.zeros(authsize, dtype=np.uint8)
        if enc:
            (aes_gcm_encrypt_final if kind == "gcm" else aes_ccm_encrypt_final)(
                ctx.gcm if kind == "gcm" else ctx.ccm, tagbuf)
            n = _xfer(dst, tagbuf, authsize, True)
            if inplace:
                consumed += n
            else:
                produced += n
            if n != authsize:
                err = -errno.EFAULT
            return err
        n = _xfer(src, tagbuf, authsize, False)
        consumed += n
        if n != authsize:
            err = -errno.EFAULT
            return err
        err = (aes_gcm_decrypt_final if kind == "gcm" else aes_ccm_decrypt_final)(
            ctx.gcm if kind == "gcm" else ctx.ccm, tagbuf)
        if err:
            # Decrypted into place already: take it back before anyone sees it.
            out = src if inplace else dst
            back = authsize + textlen if inplace else textlen
            iov_iter_revert(out, back)
            iterate_and_advance2(out, textlen, None, None, _zero, _zero, write=True)
            if inplace:
                iov_iter_advance(out, authsize)
        return err
    finally:
        if err:
            iov_iter_revert(src, consumed)
            if not inplace:
                iov_iter_revert(dst, produced)
