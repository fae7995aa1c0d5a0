"""The scatterlist skcipher API (crypto/skcipher.c, include/crypto/skcipher.h,
include/crypto/internal/skcipher.h).

A driver is an object with ``alg`` (a ``ciphers.algapi.CryptoAlg`` of type
"skcipher") and ``setkey(ctx, key: bytes) -> int``, ``encrypt(req) -> int``,
``decrypt(req) -> int``; optionally ``init``/``exit``/``new_ctx``/
``reqsize``/``export``/``import_`` (see sgl.api).  Register it with
:func:`crypto_register_skcipher`.  ``encrypt``/``decrypt`` find their tfm
with ``crypto_skcipher_reqtfm(req)`` and their key schedule with
``crypto_skcipher_ctx(tfm)``, and walk ``req.src``/``req.dst`` with
sgl.skcipher_walk.

Allocation returns a tfm or a negative errno int (the model's ERR_PTR; test
with ``IS_ERR``/``PTR_ERR``).  The skcipher_walk lives in
sgl/skcipher_walk.py.
"""

from __future__ import annotations

import types

import kmem
from ciphers.algapi import (
    CRYPTO_ALG_ASYNC,
    CRYPTO_TFM_NEED_KEY,
    CryptoAlg,
)
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

MAX_SYNC_SKCIPHER_REQSIZE = 384
CRYPTO_SKCIPHER_REQ_CONT = 0x00000001
CRYPTO_SKCIPHER_REQ_NOTFINAL = 0x00000002


class CryptoSkcipher(CryptoTfm):
    """``struct crypto_skcipher`` (also ``crypto_sync_skcipher``)."""

    __slots__ = ()


CryptoSyncSkcipher = CryptoSkcipher


class SkcipherRequest:
    """``struct skcipher_request``: ``cryptlen``, ``iv`` (a writable buffer
    of ivsize bytes -- bytearray, numpy uint8 array or kernel address -- or
    None; the algorithm writes the next IV into it), ``src``/``dst``
    (scatterlist pointers), ``base`` (flags, completion, data, tfm) and
    ``ctx`` (the driver's per-request context, ``skcipher_request_ctx``)."""

    __slots__ = ("__weakref__", "addr", "base", "cryptlen", "ctx", "dst", "iv", "on_stack",
                 "src")

    def __init__(self, tfm: CryptoSkcipher, addr: int = 0, on_stack: bool = False) -> None:
        self.base = CryptoAsyncRequest(tfm)
        self.cryptlen = 0
        self.iv: object = None
        self.src: Scatterlist | None = None
        self.dst: Scatterlist | None = None
        self.ctx = types.SimpleNamespace()
        self.addr = addr
        self.on_stack = on_stack


def _tfm(tfm: object, what: str) -> CryptoSkcipher:
    if not isinstance(tfm, CryptoSkcipher):
        raise TypeError(f"{what}: tfm must be a CryptoSkcipher, got {type(tfm).__name__}")
    return tfm


# Registration (crypto_register_skcipher, crypto/skcipher.c).

def crypto_register_skcipher(drv: object) -> int:
    """Register a driver object (see the module docstring): 0, -EINVAL,
    -EEXIST."""
    alg = getattr(drv, "alg", None)
    if not isinstance(alg, CryptoAlg):
        raise TypeError("a skcipher driver needs an 'alg' CryptoAlg attribute")
    for cb in ("setkey", "encrypt", "decrypt"):
        if not callable(getattr(drv, cb, None)):
            raise TypeError(f"a skcipher driver needs a {cb}() method")
    if alg.type != "skcipher":
        return -E.EINVAL
    return crypto_registry.register(alg, drv)


def crypto_unregister_skcipher(drv: object) -> int:
    return crypto_registry.unregister(getattr(drv, "alg", drv))


def crypto_register_skciphers(drvs: list) -> int:
    for i, drv in enumerate(drvs):
        err = crypto_register_skcipher(drv)
        if err:
            for done in drvs[:i]:
                crypto_unregister_skcipher(done)
            return err
    return 0


def crypto_unregister_skciphers(drvs: list) -> None:
    for drv in drvs:
        crypto_unregister_skcipher(drv)


# Allocation.

def crypto_alloc_skcipher(alg_name: str, type: int = 0, mask: int = 0) -> CryptoSkcipher | int:
    """``crypto_alloc_skcipher()``: a tfm, or an ERR_PTR (negative errno
    int): -ENOENT for an unknown name, -ENOMEM, or the driver init's error.
    The tfm starts with CRYPTO_TFM_NEED_KEY if the algorithm takes a key."""
    tfm = _alloc_tfm(CryptoSkcipher, alg_name, "skcipher", type, mask)
    if isinstance(tfm, int):
        return tfm
    if tfm.alg.max_keysize:
        tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
    err = _init_tfm(tfm)
    return err or tfm


def crypto_alloc_sync_skcipher(alg_name: str, type: int = 0,
                               mask: int = 0) -> CryptoSkcipher | int:
    """Only synchronous implementations, with a small enough reqsize."""
    mask |= CRYPTO_ALG_ASYNC
    type &= ~CRYPTO_ALG_ASYNC
    tfm = crypto_alloc_skcipher(alg_name, type, mask)
    if not isinstance(tfm, int) and tfm.reqsize > MAX_SYNC_SKCIPHER_REQSIZE:
        crypto_free_skcipher(tfm)
        return -E.EINVAL
    return tfm


def crypto_free_skcipher(tfm: CryptoSkcipher | int | None) -> None:
    """NULL and ERR_PTR values are tolerated."""
    _free_tfm(tfm)


crypto_free_sync_skcipher = crypto_free_skcipher


def crypto_has_skcipher(alg_name: str, type: int = 0, mask: int = 0) -> bool:
    return crypto_registry.has(alg_name, "skcipher", type, mask)


# Accessors.

def crypto_skcipher_alg(tfm: CryptoSkcipher) -> CryptoAlg:
    return _tfm(tfm, "crypto_skcipher_alg").alg


def crypto_skcipher_ctx(tfm: CryptoSkcipher) -> object:
    return _tfm(tfm, "crypto_skcipher_ctx").ctx


def crypto_skcipher_ivsize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_ivsize").alg.ivsize


def crypto_skcipher_blocksize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_blocksize").alg.cra_blocksize


def crypto_skcipher_chunksize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_chunksize").alg.chunksize


def crypto_skcipher_walksize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_walksize").alg.walksize


def crypto_skcipher_statesize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_statesize").alg.statesize


def crypto_skcipher_min_keysize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_min_keysize").alg.min_keysize


def crypto_skcipher_max_keysize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_max_keysize").alg.max_keysize


def crypto_skcipher_alignmask(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_alignmask").alg.cra_alignmask


def crypto_skcipher_driver_name(tfm: CryptoSkcipher) -> str:
    return _tfm(tfm, "crypto_skcipher_driver_name").alg.cra_driver_name


def crypto_skcipher_alg_name(tfm: CryptoSkcipher) -> str:
    return _tfm(tfm, "crypto_skcipher_alg_name").alg.cra_name


def crypto_skcipher_reqsize(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_reqsize").reqsize


def crypto_skcipher_set_reqsize(tfm: CryptoSkcipher, reqsize: int) -> None:
    _tfm(tfm, "crypto_skcipher_set_reqsize").reqsize = reqsize


def crypto_skcipher_get_flags(tfm: CryptoSkcipher) -> int:
    return _tfm(tfm, "crypto_skcipher_get_flags").crt_flags


def crypto_skcipher_set_flags(tfm: CryptoSkcipher, flags: int) -> None:
    _tfm(tfm, "crypto_skcipher_set_flags").crt_flags |= flags


def crypto_skcipher_clear_flags(tfm: CryptoSkcipher, flags: int) -> None:
    _tfm(tfm, "crypto_skcipher_clear_flags").crt_flags &= ~flags


crypto_sync_skcipher_ivsize = crypto_skcipher_ivsize
crypto_sync_skcipher_blocksize = crypto_skcipher_blocksize


# Keys.

def crypto_skcipher_setkey(tfm: CryptoSkcipher, key: object, keylen: int) -> int:
    """``crypto_skcipher_setkey()``: -EINVAL outside [min_keysize,
    max_keysize] (before the driver sees it); a misaligned key address is
    bounced; any error sets CRYPTO_TFM_NEED_KEY, success clears it."""
    tfm = _tfm(tfm, "crypto_skcipher_setkey")
    _check_live(tfm, "crypto_skcipher_setkey")
    alg = tfm.alg
    if not isinstance(keylen, int) or isinstance(keylen, bool) or keylen < 0:
        raise ValueError(f"keylen must be an int >= 0, got {keylen!r}")
    if keylen < alg.min_keysize or keylen > alg.max_keysize:
        return -E.EINVAL
    kb = _key_bytes(key, keylen, alg.cra_alignmask)
    err = kb if isinstance(kb, int) else _errno(tfm.impl.setkey(tfm.ctx, kb), "setkey")
    if err:
        if alg.max_keysize:
            tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
        return err
    tfm.crt_flags &= ~CRYPTO_TFM_NEED_KEY
    return 0


crypto_sync_skcipher_setkey = crypto_skcipher_setkey


# Requests.

def skcipher_request_alloc(tfm: CryptoSkcipher, gfp: int) -> SkcipherRequest | None:
    """``skcipher_request_alloc()``: None when kmalloc fails."""
    tfm = _tfm(tfm, "skcipher_request_alloc")
    addr = kmem.kmalloc(SIZEOF_REQUEST + tfm.reqsize, gfp)
    if not addr:
        return None
    return SkcipherRequest(tfm, addr)


def skcipher_request_free(req: SkcipherRequest | None) -> None:
    """Zeroising free; NULL tolerated."""
    if req is None:
        return
    if req.addr:
        kmem.kfree_sensitive(req.addr)
        req.addr = 0


def SYNC_SKCIPHER_REQUEST_ON_STACK(tfm: CryptoSkcipher) -> SkcipherRequest:
    """A request living in the caller's stack frame (no allocation)."""
    return SkcipherRequest(_tfm(tfm, "SYNC_SKCIPHER_REQUEST_ON_STACK"), 0, on_stack=True)


def skcipher_request_set_tfm(req: SkcipherRequest, tfm: CryptoSkcipher) -> None:
    req.base.tfm = _tfm(tfm, "skcipher_request_set_tfm")


skcipher_request_set_sync_tfm = skcipher_request_set_tfm


def crypto_skcipher_reqtfm(req: SkcipherRequest) -> CryptoSkcipher:
    return req.base.tfm  # type: ignore[return-value]


def skcipher_request_ctx(req: SkcipherRequest) -> object:
    return req.ctx


def skcipher_request_set_callback(req: SkcipherRequest, flags: int,
                                  compl: CryptoCompletion | None, data: object) -> None:
    """Flags: CRYPTO_TFM_REQ_MAY_SLEEP, CRYPTO_TFM_REQ_MAY_BACKLOG, ...;
    ``compl(data, err)`` is called by asynchronous drivers."""
    if not isinstance(flags, int):
        raise TypeError("flags must be an int")
    req.base.flags = flags
    req.base.complete = compl
    req.base.data = data


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
    if not isinstance(req, SkcipherRequest):
        raise TypeError(f"req must be a SkcipherRequest, got {type(req).__name__}")
    tfm = _tfm(req.base.tfm, f"crypto_skcipher_{op}")
    _check_live(tfm, f"crypto_skcipher_{op}")
    if tfm.crt_flags & CRYPTO_TFM_NEED_KEY:
        return -E.ENOKEY
    if req.on_stack and tfm.alg.cra_flags & CRYPTO_ALG_ASYNC:
        return -E.EAGAIN
    return _errno(getattr(tfm.impl, op)(req), op)


def crypto_skcipher_encrypt(req: SkcipherRequest) -> int:
    """``crypto_skcipher_encrypt()``: -ENOKEY while NEED_KEY is set,
    -EAGAIN for an on-stack request on an async tfm, else the driver's
    result (async drivers may return -EINPROGRESS/-EBUSY)."""
    return _crypt(req, "encrypt")


def crypto_skcipher_decrypt(req: SkcipherRequest) -> int:
    return _crypt(req, "decrypt")


def crypto_skcipher_export(req: SkcipherRequest, out: object) -> int:
    """The driver's ``export(req, out)``; 0 if it has none (noexport)."""
    fn = getattr(crypto_skcipher_reqtfm(req).impl, "export", None)
    return 0 if fn is None else _errno(fn(req, out), "export")


def crypto_skcipher_import(req: SkcipherRequest, in_: object) -> int:
    fn = getattr(crypto_skcipher_reqtfm(req).impl, "import_", None)
    return 0 if fn is None else _errno(fn(req, in_), "import")

