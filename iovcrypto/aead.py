"""The iov_iter AEAD API: crypto/aead.c and include/crypto/aead.h duplicated
on iov_iter (DESIGN §7).

The same API as sgl.aead, name for name, except that a request carries
iov_iters: ``aead_request_set_iter(req, src, dst, cryptlen, iv)`` replaces
``aead_request_set_crypt``; ``aead_request_set_ad(req, assoclen)`` is
unchanged.  Same layout, read from each iterator's current position: src =
AD ‖ text (‖ tag on decrypt, ``cryptlen`` including it), dst = AD space ‖
text (‖ tag on encrypt).  Deliberate differences, enforced here for every
driver (iovcrypto.api.run_on_iters):

- on success src has advanced by ``assoclen + cryptlen`` and dst by
  ``assoclen + cryptlen + authsize`` (encrypt) or ``assoclen + cryptlen -
  authsize`` (decrypt); one iterator passed as both (it must be ITER_DEST)
  advances once, by the larger of the two (so past the tag it read on
  decrypt, past the tag it wrote on encrypt);
- on any error both are exactly where they were;
- when decryption fails in the driver (-EBADMSG, a fault, an allocation
  failure) the plaintext area of dst (``cryptlen - authsize`` bytes after
  the AD) is zeroed as far as it can be written, so no unauthenticated
  plaintext reaches the caller;
- src must be ITER_SOURCE and dst ITER_DEST: otherwise a WARN and -EINVAL
  before anything is touched;
- an iterator holding fewer bytes than the operation needs is -EINVAL
  before the driver runs.

Drivers walk the text with iovcrypto.skcipher_walk.skcipher_walk_aead_*
and read/write AD and tag with its positional helpers (iter_pcopy_from,
iter_pcopy_to, iter_pviews, iter_pcopy), which never move the iterators.
"""

from __future__ import annotations

from functools import partial

from ciphers import aead_api as _api
from ciphers.aead_api import (  # noqa: F401  (re-exported kernel names)
    AeadRequestBase,
    CryptoAeadBase,
    aead_request_ctx,
    aead_request_free,
    aead_request_set_ad,
    aead_request_set_callback,
    crypto_aead_alg,
    crypto_aead_alg_name,
    crypto_aead_alignmask,
    crypto_aead_authsize,
    crypto_aead_blocksize,
    crypto_aead_chunksize,
    crypto_aead_clear_flags,
    crypto_aead_ctx,
    crypto_aead_driver_name,
    crypto_aead_get_flags,
    crypto_aead_ivsize,
    crypto_aead_maxauthsize,
    crypto_aead_reqsize,
    crypto_aead_reqtfm,
    crypto_aead_set_flags,
    crypto_aead_set_reqsize,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_free_aead,
)
from iovcrypto.api import crypto_registry, run_on_iters, set_iter_fields
from iovcrypto.uio import iov_iter


class CryptoAead(CryptoAeadBase):
    """``struct crypto_aead`` of the iov_iter world."""

    __slots__ = ()


class AeadRequest(AeadRequestBase):
    """``struct aead_request`` whose ``src``/``dst`` are iov_iters."""

    __slots__ = ()
    src: iov_iter | None
    dst: iov_iter | None


def crypto_register_aead(drv: object) -> int:
    """Register an AEAD driver object with the iov_iter world: 0, -EINVAL,
    -EEXIST."""
    return _api.register_aead(crypto_registry, drv)


def crypto_unregister_aead(drv: object) -> int:
    return _api.unregister_aead(crypto_registry, drv)


def crypto_register_aeads(drvs: list) -> int:
    return _api.register_aeads(crypto_registry, drvs)


def crypto_unregister_aeads(drvs: list) -> None:
    _api.unregister_aeads(crypto_registry, drvs)


def crypto_alloc_aead(alg_name: str, type: int = 0, mask: int = 0) -> CryptoAead | int:
    """``crypto_alloc_aead()``: a tfm (authsize = maxauthsize, NEED_KEY set)
    or an ERR_PTR: -ENOENT, -ENOMEM or the driver init's error."""
    return _api.alloc_aead(crypto_registry, CryptoAead, alg_name, type, mask)


def crypto_has_aead(alg_name: str, type: int = 0, mask: int = 0) -> bool:
    return crypto_registry.has(alg_name, "aead", type, mask)


def aead_request_alloc(tfm: CryptoAead, gfp: int) -> AeadRequest | None:
    """``aead_request_alloc()``: None when kmalloc fails; the tfm must be
    one of this world's."""
    return _api.request_alloc(AeadRequest, CryptoAead, tfm, gfp)


def aead_request_set_tfm(req: AeadRequest, tfm: CryptoAead) -> None:
    req.base.tfm = _api._tfm(tfm, "aead_request_set_tfm", CryptoAead)


def aead_request_set_iter(req: AeadRequest, src: iov_iter | None, dst: iov_iter | None,
                          cryptlen: int, iv: object) -> None:
    """The iov_iter twin of ``aead_request_set_crypt()``, same order (src,
    dst, cryptlen, iv); on decrypt cryptlen includes the tag."""
    set_iter_fields(req, src, dst, cryptlen, iv)


def _crypt(req: AeadRequest, op: str) -> int:
    err = _api.crypt_check(req, AeadRequest, CryptoAead, op)
    if err:
        return err
    authsize = req.base.tfm.authsize
    ad, n = req.assoclen, req.cryptlen
    consumed = ad + n
    call = partial(_api.call_driver, req, op)
    if op == "encrypt":
        return run_on_iters(req, consumed, consumed + authsize, call)
    return run_on_iters(req, consumed, consumed - authsize, call,
                        zero_on_error=(ad, n - authsize))


def crypto_aead_encrypt(req: AeadRequest) -> int:
    """-ENOKEY while NEED_KEY is set; -EINVAL for iterators too short;
    else the driver's result.  Iterators advanced on success, unmoved on
    error."""
    return _crypt(req, "encrypt")


def crypto_aead_decrypt(req: AeadRequest) -> int:
    """-ENOKEY; -EINVAL if cryptlen < authsize (iterators unmoved) or for
    iterators too short; else the driver's result.  -EBADMSG on
    authentication failure, with dst's plaintext area zeroed."""
    return _crypt(req, "decrypt")
