"""The scatterlist AEAD API (crypto/aead.c, include/crypto/aead.h,
include/crypto/internal/aead.h).

A driver is an object with ``alg`` (a ``ciphers.algapi.CryptoAlg`` of type
"aead", with ``ivsize`` and ``maxauthsize``), ``setkey(ctx, key: bytes) ->
int``, ``encrypt(req) -> int``, ``decrypt(req) -> int`` and optionally
``setauthsize(ctx, authsize) -> int`` (plus init/exit/new_ctx/reqsize, see
sgl.api).  Buffer layout (spec §4.3): src = AD ‖ text, dst = AD space ‖
text ‖ tag on encrypt; on decrypt ``cryptlen`` includes the tag.
"""

from __future__ import annotations

import types

import kmem
from ciphers.algapi import CRYPTO_TFM_NEED_KEY, CryptoAlg
from kmem import errno as E
from sgl.api import (
    SIZEOF_REQUEST,
    CryptoAsyncRequest,
    CryptoCompletion,
    CryptoTfm,
    _alloc_tfm,
    _check_crypt_args,
    _check_iv,
    _check_live,
    _errno,
    _free_tfm,
    _init_tfm,
    _key_bytes,
    crypto_registry,
)
from sgl.scatterlist import Scatterlist, ScatterlistPtr, _ptr


class CryptoAead(CryptoTfm):
    """``struct crypto_aead``: a tfm with its current ``authsize``."""

    __slots__ = ("authsize",)

    def __init__(self, alg: CryptoAlg, impl: object, addr: int) -> None:
        super().__init__(alg, impl, addr)
        self.authsize = alg.maxauthsize


class AeadRequest:
    """``struct aead_request``: ``assoclen``, ``cryptlen``, ``iv``,
    ``src``/``dst``, ``base`` and the driver's ``ctx``."""

    __slots__ = ("__weakref__", "addr", "assoclen", "base", "cryptlen", "ctx", "dst", "iv",
                 "src")

    def __init__(self, tfm: CryptoAead, addr: int = 0) -> None:
        self.base = CryptoAsyncRequest(tfm)
        self.assoclen = 0
        self.cryptlen = 0
        self.iv: object = None
        self.src: Scatterlist | None = None
        self.dst: Scatterlist | None = None
        self.ctx = types.SimpleNamespace()
        self.addr = addr


def _tfm(tfm: object, what: str) -> CryptoAead:
    if not isinstance(tfm, CryptoAead):
        raise TypeError(f"{what}: tfm must be a CryptoAead, got {type(tfm).__name__}")
    return tfm


def crypto_register_aead(drv: object) -> int:
    """Register an AEAD driver object: 0, -EINVAL, -EEXIST."""
    alg = getattr(drv, "alg", None)
    if not isinstance(alg, CryptoAlg):
        raise TypeError("an aead driver needs an 'alg' CryptoAlg attribute")
    for cb in ("setkey", "encrypt", "decrypt"):
        if not callable(getattr(drv, cb, None)):
            raise TypeError(f"an aead driver needs a {cb}() method")
    if alg.type != "aead":
        return -E.EINVAL
    return crypto_registry.register(alg, drv)


def crypto_unregister_aead(drv: object) -> int:
    return crypto_registry.unregister(getattr(drv, "alg", drv))


def crypto_alloc_aead(alg_name: str, type: int = 0, mask: int = 0) -> CryptoAead | int:
    """``crypto_alloc_aead()``: a tfm (authsize = maxauthsize, NEED_KEY set)
    or an ERR_PTR: -ENOENT, -ENOMEM or the driver init's error."""
    tfm = _alloc_tfm(CryptoAead, alg_name, "aead", type, mask)
    if isinstance(tfm, int):
        return tfm
    tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
    err = _init_tfm(tfm)
    return err or tfm


def crypto_free_aead(tfm: CryptoAead | int | None) -> None:
    _free_tfm(tfm)


def crypto_has_aead(alg_name: str, type: int = 0, mask: int = 0) -> bool:
    return crypto_registry.has(alg_name, "aead", type, mask)


def crypto_aead_alg(tfm: CryptoAead) -> CryptoAlg:
    return _tfm(tfm, "crypto_aead_alg").alg


def crypto_aead_ctx(tfm: CryptoAead) -> object:
    return _tfm(tfm, "crypto_aead_ctx").ctx


def crypto_aead_ivsize(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_ivsize").alg.ivsize


def crypto_aead_authsize(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_authsize").authsize


def crypto_aead_maxauthsize(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_maxauthsize").alg.maxauthsize


def crypto_aead_blocksize(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_blocksize").alg.cra_blocksize


def crypto_aead_chunksize(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_chunksize").alg.chunksize


def crypto_aead_alignmask(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_alignmask").alg.cra_alignmask


def crypto_aead_driver_name(tfm: CryptoAead) -> str:
    return _tfm(tfm, "crypto_aead_driver_name").alg.cra_driver_name


def crypto_aead_alg_name(tfm: CryptoAead) -> str:
    return _tfm(tfm, "crypto_aead_alg_name").alg.cra_name


def crypto_aead_reqsize(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_reqsize").reqsize


def crypto_aead_set_reqsize(tfm: CryptoAead, reqsize: int) -> None:
    _tfm(tfm, "crypto_aead_set_reqsize").reqsize = reqsize


def crypto_aead_get_flags(tfm: CryptoAead) -> int:
    return _tfm(tfm, "crypto_aead_get_flags").crt_flags


def crypto_aead_set_flags(tfm: CryptoAead, flags: int) -> None:
    _tfm(tfm, "crypto_aead_set_flags").crt_flags |= flags


def crypto_aead_clear_flags(tfm: CryptoAead, flags: int) -> None:
    _tfm(tfm, "crypto_aead_clear_flags").crt_flags &= ~flags


def crypto_aead_setkey(tfm: CryptoAead, key: object, keylen: int) -> int:
    """``crypto_aead_setkey()``: no generic length check (each algorithm
    validates); error -> NEED_KEY set, success -> cleared."""
    tfm = _tfm(tfm, "crypto_aead_setkey")
    _check_live(tfm, "crypto_aead_setkey")
    kb = _key_bytes(key, keylen, tfm.alg.cra_alignmask)
    err = kb if isinstance(kb, int) else _errno(tfm.impl.setkey(tfm.ctx, kb), "setkey")
    if err:
        tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
        return err
    tfm.crt_flags &= ~CRYPTO_TFM_NEED_KEY
    return 0


def crypto_aead_setauthsize(tfm: CryptoAead, authsize: int) -> int:
    """``crypto_aead_setauthsize()``: -EINVAL for 0 (when maxauthsize is
    not) or above maxauthsize; then the driver's setauthsize may refuse;
    on success the tfm's authsize changes."""
    tfm = _tfm(tfm, "crypto_aead_setauthsize")
    if not isinstance(authsize, int) or isinstance(authsize, bool) or authsize < 0:
        raise ValueError(f"authsize must be an int >= 0, got {authsize!r}")
    maxauth = tfm.alg.maxauthsize
    if (authsize == 0 and maxauth) or authsize > maxauth:
        return -E.EINVAL
    fn = getattr(tfm.impl, "setauthsize", None)
    if fn is not None:
        err = _errno(fn(tfm.ctx, authsize), "setauthsize")
        if err:
            return err
    tfm.authsize = authsize
    return 0


def aead_request_alloc(tfm: CryptoAead, gfp: int) -> AeadRequest | None:
    tfm = _tfm(tfm, "aead_request_alloc")
    addr = kmem.kmalloc(SIZEOF_REQUEST + tfm.reqsize, gfp)
    if not addr:
        return None
    return AeadRequest(tfm, addr)


def aead_request_free(req: AeadRequest | None) -> None:
    if req is not None and req.addr:
        kmem.kfree_sensitive(req.addr)
        req.addr = 0


def aead_request_set_tfm(req: AeadRequest, tfm: CryptoAead) -> None:
    req.base.tfm = _tfm(tfm, "aead_request_set_tfm")


def crypto_aead_reqtfm(req: AeadRequest) -> CryptoAead:
    return req.base.tfm  # type: ignore[return-value]


def aead_request_ctx(req: AeadRequest) -> object:
    return req.ctx


def aead_request_set_callback(req: AeadRequest, flags: int, compl: CryptoCompletion | None,
                              data: object) -> None:
    if not isinstance(flags, int):
        raise TypeError("flags must be an int")
    req.base.flags = flags
    req.base.complete = compl
    req.base.data = data


def aead_request_set_crypt(req: AeadRequest, src: ScatterlistPtr | None,
                           dst: ScatterlistPtr | None, cryptlen: int, iv: object) -> None:
    """Order (src, dst, cryptlen, iv); on decrypt cryptlen includes the tag."""
    _check_crypt_args(cryptlen)
    _check_iv(iv)
    req.src = _ptr(src, "src")
    req.dst = _ptr(dst, "dst")
    req.cryptlen = cryptlen
    req.iv = iv


def aead_request_set_ad(req: AeadRequest, assoclen: int) -> None:
    _check_crypt_args(assoclen)
    req.assoclen = assoclen


def _crypt(req: AeadRequest, op: str) -> int:
    if not isinstance(req, AeadRequest):
        raise TypeError(f"req must be an AeadRequest, got {type(req).__name__}")
    tfm = _tfm(req.base.tfm, f"crypto_aead_{op}")
    _check_live(tfm, f"crypto_aead_{op}")
    if tfm.crt_flags & CRYPTO_TFM_NEED_KEY:
        return -E.ENOKEY
    if op == "decrypt" and req.cryptlen < tfm.authsize:
        return -E.EINVAL
    return _errno(getattr(tfm.impl, op)(req), op)


def crypto_aead_encrypt(req: AeadRequest) -> int:
    """-ENOKEY while NEED_KEY is set; else the driver's result."""
    return _crypt(req, "encrypt")


def crypto_aead_decrypt(req: AeadRequest) -> int:
    """-ENOKEY; -EINVAL if cryptlen < authsize; else the driver's result
    (-EBADMSG on authentication failure)."""
    return _crypt(req, "decrypt")
