"""The AEAD API logic both worlds share (crypto/aead.c,
include/crypto/aead.h, include/crypto/internal/aead.h).

As ciphers.skcipher_api is for skciphers: the tfm type and its accessors,
setkey and setauthsize, registration and allocation against a world's
Registry, the request header, and the checks done before a driver runs
(-ENOKEY; -EINVAL for a decryption shorter than the tag).  Each world
(``sgl.aead``, ``iovcrypto.aead``) subclasses :class:`CryptoAeadBase` and
:class:`AeadRequestBase` and binds the helpers to its Registry.

A driver is an object with ``alg`` (a ``CryptoAlg`` of type "aead", with
``ivsize`` and ``maxauthsize``), ``setkey(ctx, key: bytes) -> int``,
``encrypt(req) -> int``, ``decrypt(req) -> int`` and optionally
``setauthsize(ctx, authsize) -> int`` (plus init/exit/new_ctx/reqsize).
Buffer layout (spec §4.3): src = AD ‖ text, dst = AD space ‖ text ‖ tag
on encrypt; on decrypt ``cryptlen`` includes the tag.
"""

from __future__ import annotations

import types

import kmem
from ciphers.algapi import CRYPTO_TFM_NEED_KEY, CryptoAlg, Registry
from ciphers.crypto_api import (
    SIZEOF_REQUEST,
    CryptoAsyncRequest,
    CryptoCompletion,
    CryptoTfm,
    _alloc_tfm,
    _check_crypt_args,
    _check_live,
    _errno,
    _free_tfm,
    _init_tfm,
    _key_bytes,
    register_driver,
    register_drivers,
    unregister_driver,
    unregister_drivers,
)
from kmem import errno as E

# No AEAD of the model takes a longer key (authenc's, the longest, is an
# rtattr, a cipher key and an HMAC key): longer is -EINVAL, unread.
AEAD_MAX_KEYLEN = 4096


class CryptoAeadBase(CryptoTfm):
    """``struct crypto_aead``: a tfm with its current ``authsize``."""

    __slots__ = ("authsize",)

    def __init__(self, alg: CryptoAlg, impl: object, addr: int) -> None:
        if not isinstance(alg, CryptoAlg):
            raise TypeError(f"{type(self).__name__}(): alg must be CryptoAlg, "
                            f"got {type(alg).__name__}")
        super().__init__(alg, impl, addr)
        self.authsize = alg.maxauthsize


class AeadRequestBase:
    """``struct aead_request``: ``assoclen``, ``cryptlen``, ``iv``,
    ``src``/``dst`` (what the world describes buffers with), ``base`` and
    the driver's ``ctx``."""

    __slots__ = ("__weakref__", "addr", "assoclen", "base", "cryptlen", "ctx", "dst", "iv",
                 "src")

    def __init__(self, tfm: CryptoAeadBase, addr: int = 0) -> None:
        self.base = CryptoAsyncRequest(tfm)
        self.assoclen = 0
        self.cryptlen = 0
        self.iv: object = None
        self.src: object = None
        self.dst: object = None
        self.ctx = types.SimpleNamespace()
        self.addr = addr


def _tfm(tfm: object, what: str, cls: type = CryptoAeadBase) -> CryptoAeadBase:
    if not isinstance(tfm, cls):
        raise TypeError(f"{what}: tfm must be a {cls.__name__}, got {type(tfm).__name__}")
    return tfm


def register_aead(registry: Registry, drv: object) -> int:
    return register_driver(registry, drv, "aead")


def unregister_aead(registry: Registry, drv: object) -> int:
    return unregister_driver(registry, drv)


def register_aeads(registry: Registry, drvs: list) -> int:
    return register_drivers(registry, drvs, "aead")


def unregister_aeads(registry: Registry, drvs: list) -> None:
    unregister_drivers(registry, drvs)


def alloc_aead(registry: Registry, cls: type, alg_name: str, type: int,
               mask: int) -> CryptoAeadBase | int:
    """``crypto_alloc_aead()``: a ``cls`` tfm (authsize = maxauthsize,
    NEED_KEY set) or an ERR_PTR: -ENOENT, -ENOMEM or the driver init's
    error."""
    tfm = _alloc_tfm(registry, cls, alg_name, "aead", type, mask)
    if isinstance(tfm, int):
        return tfm
    tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
    err = _init_tfm(tfm)
    return err or tfm


def crypto_free_aead(tfm: CryptoAeadBase | int | None) -> None:
    _free_tfm(tfm)


def crypto_aead_alg(tfm: CryptoAeadBase) -> CryptoAlg:
    return _tfm(tfm, "crypto_aead_alg").alg


def crypto_aead_ctx(tfm: CryptoAeadBase) -> object:
    return _tfm(tfm, "crypto_aead_ctx").ctx


def crypto_aead_ivsize(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_ivsize").alg.ivsize


def crypto_aead_authsize(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_authsize").authsize


def crypto_aead_maxauthsize(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_maxauthsize").alg.maxauthsize


def crypto_aead_blocksize(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_blocksize").alg.cra_blocksize


def crypto_aead_chunksize(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_chunksize").alg.chunksize


def crypto_aead_alignmask(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_alignmask").alg.cra_alignmask


def crypto_aead_driver_name(tfm: CryptoAeadBase) -> str:
    return _tfm(tfm, "crypto_aead_driver_name").alg.cra_driver_name


def crypto_aead_alg_name(tfm: CryptoAeadBase) -> str:
    return _tfm(tfm, "crypto_aead_alg_name").alg.cra_name


def crypto_aead_reqsize(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_reqsize").reqsize


def crypto_aead_set_reqsize(tfm: CryptoAeadBase, reqsize: int) -> None:
    _tfm(tfm, "crypto_aead_set_reqsize").reqsize = reqsize


def crypto_aead_get_flags(tfm: CryptoAeadBase) -> int:
    return _tfm(tfm, "crypto_aead_get_flags").crt_flags


def crypto_aead_set_flags(tfm: CryptoAeadBase, flags: int) -> None:
    _tfm(tfm, "crypto_aead_set_flags").crt_flags |= flags


def crypto_aead_clear_flags(tfm: CryptoAeadBase, flags: int) -> None:
    _tfm(tfm, "crypto_aead_clear_flags").crt_flags &= ~flags


def crypto_aead_setkey(tfm: CryptoAeadBase, key: object, keylen: int) -> int:
    """``crypto_aead_setkey()``: no generic length check (each algorithm
    validates); error -> NEED_KEY set, success -> cleared."""
    tfm = _tfm(tfm, "crypto_aead_setkey")
    _check_live(tfm, "crypto_aead_setkey")
    if isinstance(keylen, int) and keylen > AEAD_MAX_KEYLEN:
        # The algorithms check the length before they read the key.
        tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
        return -E.EINVAL
    kb = _key_bytes(key, keylen, tfm.alg.cra_alignmask)
    err = kb if isinstance(kb, int) else _errno(tfm.impl.setkey(tfm.ctx, kb), "setkey")
    if err:
        tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
        return err
    tfm.crt_flags &= ~CRYPTO_TFM_NEED_KEY
    return 0


def crypto_aead_setauthsize(tfm: CryptoAeadBase, authsize: int) -> int:
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


def request_alloc(cls: type, tfm_cls: type, tfm: CryptoAeadBase,
                  gfp: int) -> AeadRequestBase | None:
    """``aead_request_alloc()`` for a world: ``tfm`` must be that world's."""
    tfm = _tfm(tfm, "aead_request_alloc", tfm_cls)
    addr = kmem.kmalloc(SIZEOF_REQUEST + tfm.reqsize, gfp)
    if not addr:
        return None
    return cls(tfm, addr)


def aead_request_free(req: AeadRequestBase | None) -> None:
    if req is not None and req.addr:
        kmem.kfree_sensitive(req.addr)
        req.addr = 0


def crypto_aead_reqtfm(req: AeadRequestBase) -> CryptoAeadBase:
    return req.base.tfm  # type: ignore[return-value]


def aead_request_ctx(req: AeadRequestBase) -> object:
    return req.ctx


def aead_request_set_callback(req: AeadRequestBase, flags: int,
                              compl: CryptoCompletion | None, data: object) -> None:
    if not isinstance(flags, int):
        raise TypeError("flags must be an int")
    req.base.flags = flags
    req.base.complete = compl
    req.base.data = data


def aead_request_set_ad(req: AeadRequestBase, assoclen: int) -> None:
    _check_crypt_args(assoclen)
    req.assoclen = assoclen


def crypt_check(req: object, cls: type, tfm_cls: type, op: str) -> int:
    """What crypto_aead_{en,de}crypt() check before the driver runs: the
    request type of the world (TypeError), a live tfm, -ENOKEY while
    NEED_KEY is set, and on decrypt -EINVAL if cryptlen < authsize."""
    if not isinstance(req, cls):
        raise TypeError(f"req must be a {cls.__name__}, got {type(req).__name__}")
    tfm = _tfm(req.base.tfm, f"crypto_aead_{op}", tfm_cls)
    _check_live(tfm, f"crypto_aead_{op}")
    if tfm.crt_flags & CRYPTO_TFM_NEED_KEY:
        return -E.ENOKEY
    if op == "decrypt" and req.cryptlen < tfm.authsize:
        return -E.EINVAL
    return 0


def call_driver(req: AeadRequestBase, op: str) -> int:
    """The driver's encrypt/decrypt, its result checked to be an errno."""
    return _errno(getattr(req.base.tfm.impl, op)(req), op)
