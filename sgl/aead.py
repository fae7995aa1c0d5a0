"""The scatterlist AEAD API (crypto/aead.c, include/crypto/aead.h,
include/crypto/internal/aead.h).

A driver is an object with ``alg`` (a ``ciphers.algapi.CryptoAlg`` of type
"aead", with ``ivsize`` and ``maxauthsize``), ``setkey(ctx, key: bytes) ->
int``, ``encrypt(req) -> int``, ``decrypt(req) -> int`` and optionally
``setauthsize(ctx, authsize) -> int`` (plus init/exit/new_ctx/reqsize, see
ciphers.crypto_api).  Buffer layout (spec §4.3): src = AD ‖ text, dst = AD
space ‖ text ‖ tag on encrypt; on decrypt ``cryptlen`` includes the tag.

What does not depend on scatterlists is shared with the iov_iter world in
ciphers.aead_api; this module binds it to this world's registry and
request type.
"""

from __future__ import annotations

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
from ciphers.crypto_api import _check_crypt_args, _check_iv
from sgl.api import crypto_registry
from sgl.scatterlist import Scatterlist, ScatterlistPtr, _ptr


class CryptoAead(CryptoAeadBase):
    """``struct crypto_aead`` of the scatterlist world."""

    __slots__ = ()


class AeadRequest(AeadRequestBase):
    """``struct aead_request`` with ``src``/``dst`` scatterlist pointers."""

    __slots__ = ()
    src: Scatterlist | None
    dst: Scatterlist | None


def crypto_register_aead(drv: object) -> int:
    """Register an AEAD driver object: 0, -EINVAL, -EEXIST."""
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
    return _api.request_alloc(AeadRequest, CryptoAead, tfm, gfp)


def aead_request_set_tfm(req: AeadRequest, tfm: CryptoAead) -> None:
    req.base.tfm = _api._tfm(tfm, "aead_request_set_tfm", CryptoAead)


def aead_request_set_crypt(req: AeadRequest, src: ScatterlistPtr | None,
                           dst: ScatterlistPtr | None, cryptlen: int, iv: object) -> None:
    """Order (src, dst, cryptlen, iv); on decrypt cryptlen includes the tag."""
    _check_crypt_args(cryptlen)
    _check_iv(iv)
    req.src = _ptr(src, "src")
    req.dst = _ptr(dst, "dst")
    req.cryptlen = cryptlen
    req.iv = iv


def _crypt(req: AeadRequest, op: str) -> int:
    err = _api.crypt_check(req, AeadRequest, CryptoAead, op)
    return err or _api.call_driver(req, op)


def crypto_aead_encrypt(req: AeadRequest) -> int:
    """-ENOKEY while NEED_KEY is set; else the driver's result."""
    return _crypt(req, "encrypt")


def crypto_aead_decrypt(req: AeadRequest) -> int:
    """-ENOKEY; -EINVAL if cryptlen < authsize; else the driver's result
    (-EBADMSG on authentication failure)."""
    return _crypt(req, "decrypt")
