"""The iov_iter skcipher API: crypto/skcipher.c and include/crypto/skcipher.h
duplicated on iov_iter (DESIGN §7).

The same API as sgl.skcipher, name for name, except that a request carries
iov_iters: ``skcipher_request_set_iter(req, src, dst, cryptlen, iv)``
replaces ``skcipher_request_set_crypt``.  Deliberate differences, enforced
here for every driver (iovcrypto.api.run_on_iters):

- on success ``src`` and ``dst`` have advanced by ``cryptlen`` each (one
  iterator passed as both, for in place, advances once; it must be
  ITER_DEST);
- src must be ITER_SOURCE and dst ITER_DEST: otherwise a WARN and -EINVAL
  before anything is touched;
- on any error both are exactly where they were;
- either iterator holding fewer than ``cryptlen`` bytes is -EINVAL before
  the driver runs.

A driver is the same object as in the scatterlist world (``alg``,
``setkey``, ``encrypt``, ``decrypt``, ...; see ciphers.skcipher_api) and
walks ``req.src``/``req.dst`` with iovcrypto.skcipher_walk, which works on
private copies of the iterators.  Register it with
:func:`crypto_register_skcipher` (the iov_iter world's registry).
"""

from __future__ import annotations

from functools import partial

from ciphers import skcipher_api as _api
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
from iovcrypto.api import crypto_registry, run_on_iters, set_iter_fields
from iovcrypto.uio import iov_iter


class CryptoSkcipher(CryptoSkcipherBase):
    """``struct crypto_skcipher`` of the iov_iter world."""

    __slots__ = ()


CryptoSyncSkcipher = CryptoSkcipher


class SkcipherRequest(SkcipherRequestBase):
    """``struct skcipher_request`` whose ``src``/``dst`` are iov_iters (see
    ciphers.skcipher_api.SkcipherRequestBase for the other fields)."""

    __slots__ = ()
    src: iov_iter | None
    dst: iov_iter | None


def crypto_register_skcipher(drv: object) -> int:
    """Register a driver object with the iov_iter world: 0, -EINVAL,
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
    """``skcipher_request_alloc()``: None when kmalloc fails; the tfm must
    be one of this world's."""
    return _api.request_alloc(SkcipherRequest, CryptoSkcipher, tfm, gfp)


def SYNC_SKCIPHER_REQUEST_ON_STACK(tfm: CryptoSkcipher) -> SkcipherRequest:
    """A request living in the caller's stack frame (no allocation)."""
    return SkcipherRequest(_api._tfm(tfm, "SYNC_SKCIPHER_REQUEST_ON_STACK", CryptoSkcipher), 0,
                           on_stack=True)


def skcipher_request_set_tfm(req: SkcipherRequest, tfm: CryptoSkcipher) -> None:
    req.base.tfm = _api._tfm(tfm, "skcipher_request_set_tfm", CryptoSkcipher)


skcipher_request_set_sync_tfm = skcipher_request_set_tfm


def skcipher_request_set_iter(req: SkcipherRequest, src: iov_iter | None,
                              dst: iov_iter | None, cryptlen: int, iv: object) -> None:
    """The iov_iter twin of ``skcipher_request_set_crypt()``, same order
    (src, dst, cryptlen, iv).  In place: the same iterator as both, or two
    iterators over the same memory.  The iterators are read from their
    current position; the operation moves them (module docstring)."""
    set_iter_fields(req, src, dst, cryptlen, iv)


def _crypt(req: SkcipherRequest, op: str) -> int:
    err = _api.crypt_check(req, SkcipherRequest, CryptoSkcipher, op)
    if err:
        return err
    n = req.cryptlen
    return run_on_iters(req, n, n, partial(_api.call_driver, req, op))


def crypto_skcipher_encrypt(req: SkcipherRequest) -> int:
    """``crypto_skcipher_encrypt()``: -ENOKEY while NEED_KEY is set,
    -EAGAIN for an on-stack request on an async tfm, -EINVAL if src or dst
    holds fewer than cryptlen bytes, else the driver's result; iterators
    advanced by cryptlen on success, unmoved on error."""
    return _crypt(req, "encrypt")


def crypto_skcipher_decrypt(req: SkcipherRequest) -> int:
    """As crypto_skcipher_encrypt()."""
    return _crypt(req, "decrypt")
