"""The scatterlist skcipher API (crypto/skcipher.c, include/crypto/skcipher.h,
include/crypto/internal/skcipher.h).

A driver is an object with ``alg`` (a ``ciphers.algapi.CryptoAlg`` of type
"skcipher") and ``setkey(ctx, key: bytes) -> int``, ``encrypt(req) -> int``,
``decrypt(req) -> int``; optionally ``init``/``exit``/``new_ctx``/
``reqsize``/``export``/``import_`` (see ciphers.crypto_api).  Register it
with :func:`crypto_register_skcipher`.  ``encrypt``/``decrypt`` find their
tfm with ``crypto_skcipher_reqtfm(req)`` and their key schedule with
``crypto_skcipher_ctx(tfm)``, and walk ``req.src``/``req.dst`` with
sgl.skcipher_walk.

What does not depend on scatterlists (accessors, setkey, the request
header, the pre-driver checks) is shared with the iov_iter world in
ciphers.skcipher_api; this module binds it to this world's registry and
request type.  Allocation returns a tfm or a negative errno int (the
model's ERR_PTR; test with ``IS_ERR``/``PTR_ERR``).
"""

from __future__ import annotations

from ciphers import skcipher_api as _api
from ciphers.crypto_api import _check_crypt_args, _check_iv
from ciphers.skcipher_api import (  # noqa: F401  (re-exported kernel names)
    CRYPTO_SKCIPHER_REQ_CONT,
    CRYPTO_SKCIPHER_REQ_NOTFINAL,
    MAX_SYNC_SKCIPHER_REQSIZE,
    CryptoSkcipherBase,
    SkcipherRequestBase,
    crypto_free_skcipher,
    crypto_free_sync_skcipher,
    crypto_skcipher_alg,
    crypto_skcipher_alg_name,
    crypto_skcipher_alignmask,
    crypto_skcipher_blocksize,
    crypto_skcipher_chunksize,
    crypto_skcipher_clear_flags,
    crypto_skcipher_ctx,
    crypto_skcipher_driver_name,
    crypto_skcipher_export,
    crypto_skcipher_get_flags,
    crypto_skcipher_import,
    crypto_skcipher_ivsize,
    crypto_skcipher_max_keysize,
    crypto_skcipher_min_keysize,
    crypto_skcipher_reqsize,
    crypto_skcipher_reqtfm,
    crypto_skcipher_set_flags,
    crypto_skcipher_set_reqsize,
    crypto_skcipher_setkey,
    crypto_skcipher_statesize,
    crypto_skcipher_walksize,
    crypto_sync_skcipher_blocksize,
    crypto_sync_skcipher_ivsize,
    crypto_sync_skcipher_setkey,
    skcipher_request_ctx,
    skcipher_request_free,
    skcipher_request_set_callback,
)
from sgl.api import crypto_registry
from sgl.scatterlist import Scatterlist, ScatterlistPtr, _ptr


class CryptoSkcipher(CryptoSkcipherBase):
    """``struct crypto_skcipher`` of the scatterlist world."""

    __slots__ = ()


CryptoSyncSkcipher = CryptoSkcipher


class SkcipherRequest(SkcipherRequestBase):
    """``struct skcipher_request`` with ``src``/``dst`` scatterlist
    pointers (see ciphers.skcipher_api.SkcipherRequestBase)."""

    __slots__ = ()
    src: Scatterlist | None
    dst: Scatterlist | None


def crypto_register_skcipher(drv: object) -> int:
    """Register a driver object (see the module docstring): 0, -EINVAL,
    -EEXIST."""
    return _api.register_skcipher(crypto_registry, drv)


def crypto_unregister_skcipher(drv: object) -> int:
    return _api.unregister_skcipher(crypto_registry, drv)


def crypto_register_skciphers(drvs: list) -> int:
    return _api.register_skciphers(crypto_registry, drvs)


def crypto_unregister_skciphers(drvs: list) -> None:
    _api.unregister_skciphers(crypto_registry, drvs)


def crypto_alloc_skcipher(alg_name: str, type: int = 0, mask: int = 0) -> CryptoSkcipher | int:
    """``crypto_alloc_skcipher()``: a tfm, or an ERR_PTR (negative errno
    int): -ENOENT for an unknown name, -ENOMEM, or the driver init's error.
    The tfm starts with CRYPTO_TFM_NEED_KEY if the algorithm takes a key."""
    return _api.alloc_skcipher(crypto_registry, CryptoSkcipher, alg_name, type, mask)


def crypto_alloc_sync_skcipher(alg_name: str, type: int = 0,
                               mask: int = 0) -> CryptoSkcipher | int:
    """Only synchronous implementations, with a small enough reqsize."""
    return _api.alloc_sync_skcipher(crypto_registry, CryptoSkcipher, alg_name, type, mask)


def crypto_has_skcipher(alg_name: str, type: int = 0, mask: int = 0) -> bool:
    return crypto_registry.has(alg_name, "skcipher", type, mask)


def skcipher_request_alloc(tfm: CryptoSkcipher, gfp: int) -> SkcipherRequest | None:
    """``skcipher_request_alloc()``: None when kmalloc fails."""
    return _api.request_alloc(SkcipherRequest, CryptoSkcipher, tfm, gfp)


def SYNC_SKCIPHER_REQUEST_ON_STACK(tfm: CryptoSkcipher) -> SkcipherRequest:
    """A request living in the caller's stack frame (no allocation)."""
    return SkcipherRequest(_api._tfm(tfm, "SYNC_SKCIPHER_REQUEST_ON_STACK", CryptoSkcipher), 0,
                           on_stack=True)


def skcipher_request_set_tfm(req: SkcipherRequest, tfm: CryptoSkcipher) -> None:
    req.base.tfm = _api._tfm(tfm, "skcipher_request_set_tfm", CryptoSkcipher)


skcipher_request_set_sync_tfm = skcipher_request_set_tfm


def skcipher_request_set_crypt(req: SkcipherRequest, src: ScatterlistPtr | None,
                               dst: ScatterlistPtr | None, cryptlen: int, iv: object) -> None:
    """Order (src, dst, cryptlen, iv); src and dst may be the same list or
    two lists over the same memory (in place)."""
    _check_crypt_args(cryptlen)
    _check_iv(iv)
    req.src = _ptr(src, "src")
    req.dst = _ptr(dst, "dst")
    req.cryptlen = cryptlen
    req.iv = iv


def _crypt(req: SkcipherRequest, op: str) -> int:
    err = _api.crypt_check(req, SkcipherRequest, CryptoSkcipher, op)
    return err or _api.call_driver(req, op)


def crypto_skcipher_encrypt(req: SkcipherRequest) -> int:
    """``crypto_skcipher_encrypt()``: -ENOKEY while NEED_KEY is set,
    -EAGAIN for an on-stack request on an async tfm, else the driver's
    result (async drivers may return -EINPROGRESS/-EBUSY)."""
    return _crypt(req, "encrypt")


def crypto_skcipher_decrypt(req: SkcipherRequest) -> int:
    return _crypt(req, "decrypt")
