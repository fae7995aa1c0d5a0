"""The skcipher API logic both worlds share (crypto/skcipher.c,
include/crypto/skcipher.h, include/crypto/internal/skcipher.h).

Everything about an skcipher that does not depend on how a request
describes its buffers lives here: the tfm type and its accessors, setkey,
registration and allocation against a world's Registry, the request
header and its life cycle, and the checks done before a driver is called.
Each world (``sgl.skcipher``, ``iovcrypto.skcipher``) subclasses
:class:`CryptoSkcipherBase` and :class:`SkcipherRequestBase` and binds the
registry-taking helpers to its own Registry under the kernel names; the
accessors and setkey are the kernel functions themselves and are
re-exported as they are.

A driver is an object with ``alg`` (a ``CryptoAlg`` of type "skcipher")
and ``setkey(ctx, key: bytes) -> int``, ``encrypt(req) -> int``,
``decrypt(req) -> int``; optionally ``init``/``exit``/``new_ctx``/
``reqsize``/``export``/``import_`` (see ciphers.crypto_api).
"""

from __future__ import annotations

import types

import kmem
from ciphers.algapi import CRYPTO_ALG_ASYNC, CRYPTO_TFM_NEED_KEY, CryptoAlg, Registry
from ciphers.crypto_api import (
    SIZEOF_REQUEST,
    CryptoAsyncRequest,
    CryptoCompletion,
    CryptoTfm,
    _alloc_tfm,
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

MAX_SYNC_SKCIPHER_REQSIZE = 384
CRYPTO_SKCIPHER_REQ_CONT = 0x00000001
CRYPTO_SKCIPHER_REQ_NOTFINAL = 0x00000002


class CryptoSkcipherBase(CryptoTfm):
    """``struct crypto_skcipher`` (also ``crypto_sync_skcipher``); each
    world's tfm class derives from it."""

    __slots__ = ()


class SkcipherRequestBase:
    """``struct skcipher_request``: ``cryptlen``, ``iv`` (a writable buffer
    of ivsize bytes -- bytearray, numpy uint8 array or kernel address -- or
    None; the algorithm writes the next IV into it), ``src``/``dst`` (what
    the world describes buffers with), ``base`` (flags, completion, data,
    tfm) and ``ctx`` (the driver's per-request context,
    ``skcipher_request_ctx``)."""

    __slots__ = ("__weakref__", "addr", "base", "cryptlen", "ctx", "dst", "iv", "on_stack",
                 "src")

    def __init__(self, tfm: CryptoSkcipherBase, addr: int = 0, on_stack: bool = False) -> None:
        self.base = CryptoAsyncRequest(tfm)
        self.cryptlen = 0
        self.iv: object = None
        self.src: object = None
        self.dst: object = None
        self.ctx = types.SimpleNamespace()
        self.addr = addr
        self.on_stack = on_stack


def _tfm(tfm: object, what: str, cls: type = CryptoSkcipherBase) -> CryptoSkcipherBase:
    if not isinstance(tfm, cls):
        raise TypeError(f"{what}: tfm must be a {cls.__name__}, got {type(tfm).__name__}")
    return tfm


# Registration (crypto_register_skcipher), against a world's registry.

def register_skcipher(registry: Registry, drv: object) -> int:
    return register_driver(registry, drv, "skcipher")


def unregister_skcipher(registry: Registry, drv: object) -> int:
    return unregister_driver(registry, drv)


def register_skciphers(registry: Registry, drvs: list) -> int:
    return register_drivers(registry, drvs, "skcipher")


def unregister_skciphers(registry: Registry, drvs: list) -> None:
    unregister_drivers(registry, drvs)


# Allocation.

def alloc_skcipher(registry: Registry, cls: type, alg_name: str, type: int,
                   mask: int) -> CryptoSkcipherBase | int:
    """``crypto_alloc_skcipher()``: a ``cls`` tfm, or an ERR_PTR (negative
    errno int): -ENOENT for an unknown name, -ENOMEM, or the driver init's
    error.  The tfm starts with CRYPTO_TFM_NEED_KEY if the algorithm takes
    a key."""
    tfm = _alloc_tfm(registry, cls, alg_name, "skcipher", type, mask)
    if isinstance(tfm, int):
        return tfm
    if tfm.alg.max_keysize:
        tfm.crt_flags |= CRYPTO_TFM_NEED_KEY
    err = _init_tfm(tfm)
    return err or tfm


def alloc_sync_skcipher(registry: Registry, cls: type, alg_name: str, type: int,
                        mask: int) -> CryptoSkcipherBase | int:
    """Only synchronous implementations, with a small enough reqsize."""
    mask |= CRYPTO_ALG_ASYNC
    type &= ~CRYPTO_ALG_ASYNC
    tfm = alloc_skcipher(registry, cls, alg_name, type, mask)
    if not isinstance(tfm, int) and tfm.reqsize > MAX_SYNC_SKCIPHER_REQSIZE:
        crypto_free_skcipher(tfm)
        return -E.EINVAL
    return tfm


def crypto_free_skcipher(tfm: CryptoSkcipherBase | int | None) -> None:
    """NULL and ERR_PTR values are tolerated."""
    _free_tfm(tfm)


crypto_free_sync_skcipher = crypto_free_skcipher


# Accessors.

def crypto_skcipher_alg(tfm: CryptoSkcipherBase) -> CryptoAlg:
    return _tfm(tfm, "crypto_skcipher_alg").alg


def crypto_skcipher_ctx(tfm: CryptoSkcipherBase) -> object:
    return _tfm(tfm, "crypto_skcipher_ctx").ctx


def crypto_skcipher_ivsize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_ivsize").alg.ivsize


def crypto_skcipher_blocksize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_blocksize").alg.cra_blocksize


def crypto_skcipher_chunksize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_chunksize").alg.chunksize


def crypto_skcipher_walksize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_walksize").alg.walksize


def crypto_skcipher_statesize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_statesize").alg.statesize


def crypto_skcipher_min_keysize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_min_keysize").alg.min_keysize


def crypto_skcipher_max_keysize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_max_keysize").alg.max_keysize


def crypto_skcipher_alignmask(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_alignmask").alg.cra_alignmask


def crypto_skcipher_driver_name(tfm: CryptoSkcipherBase) -> str:
    return _tfm(tfm, "crypto_skcipher_driver_name").alg.cra_driver_name


def crypto_skcipher_alg_name(tfm: CryptoSkcipherBase) -> str:
    return _tfm(tfm, "crypto_skcipher_alg_name").alg.cra_name


def crypto_skcipher_reqsize(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_reqsize").reqsize


def crypto_skcipher_set_reqsize(tfm: CryptoSkcipherBase, reqsize: int) -> None:
    _tfm(tfm, "crypto_skcipher_set_reqsize").reqsize = reqsize


def crypto_skcipher_get_flags(tfm: CryptoSkcipherBase) -> int:
    return _tfm(tfm, "crypto_skcipher_get_flags").crt_flags


def crypto_skcipher_set_flags(tfm: CryptoSkcipherBase, flags: int) -> None:
    _tfm(tfm, "crypto_skcipher_set_flags").crt_flags |= flags


def crypto_skcipher_clear_flags(tfm: CryptoSkcipherBase, flags: int) -> None:
    _tfm(tfm, "crypto_skcipher_clear_flags").crt_flags &= ~flags


crypto_sync_skcipher_ivsize = crypto_skcipher_ivsize
crypto_sync_skcipher_blocksize = crypto_skcipher_blocksize


# Keys.

def crypto_skcipher_setkey(tfm: CryptoSkcipherBase, key: object, keylen: int) -> int:
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

def request_alloc(cls: type, tfm_cls: type, tfm: CryptoSkcipherBase,
                  gfp: int) -> SkcipherRequestBase | None:
    """``skcipher_request_alloc()`` for a world: ``tfm`` must be that
    world's (``tfm_cls``); None when kmalloc fails."""
    tfm = _tfm(tfm, "skcipher_request_alloc", tfm_cls)
    addr = kmem.kmalloc(SIZEOF_REQUEST + tfm.reqsize, gfp)
    if not addr:
        return None
    return cls(tfm, addr)


def skcipher_request_free(req: SkcipherRequestBase | None) -> None:
    """Zeroising free; NULL tolerated."""
    if req is None:
        return
    if req.addr:
        kmem.kfree_sensitive(req.addr)
        req.addr = 0


def crypto_skcipher_reqtfm(req: SkcipherRequestBase) -> CryptoSkcipherBase:
    return req.base.tfm  # type: ignore[return-value]


def skcipher_request_ctx(req: SkcipherRequestBase) -> object:
    return req.ctx


def skcipher_request_set_callback(req: SkcipherRequestBase, flags: int,
                                  compl: CryptoCompletion | None, data: object) -> None:
    """Flags: CRYPTO_TFM_REQ_MAY_SLEEP, CRYPTO_TFM_REQ_MAY_BACKLOG, ...;
    ``compl(data, err)`` is called by asynchronous drivers."""
    if not isinstance(flags, int):
        raise TypeError("flags must be an int")
    req.base.flags = flags
    req.base.complete = compl
    req.base.data = data


def crypt_check(req: object, cls: type, tfm_cls: type, op: str) -> int:
    """What crypto_skcipher_{en,de}crypt() check before the driver runs:
    the request type of the world (TypeError), a live tfm, -ENOKEY while
    NEED_KEY is set, -EAGAIN for an on-stack request on an async tfm."""
    if not isinstance(req, cls):
        raise TypeError(f"req must be a {cls.__name__}, got {type(req).__name__}")
    tfm = _tfm(req.base.tfm, f"crypto_skcipher_{op}", tfm_cls)
    _check_live(tfm, f"crypto_skcipher_{op}")
    if tfm.crt_flags & CRYPTO_TFM_NEED_KEY:
        return -E.ENOKEY
    if req.on_stack and tfm.alg.cra_flags & CRYPTO_ALG_ASYNC:
        return -E.EAGAIN
    return 0


def call_driver(req: SkcipherRequestBase, op: str) -> int:
    """The driver's encrypt/decrypt, its result checked to be an errno."""
    return _errno(getattr(req.base.tfm.impl, op)(req), op)


def crypto_skcipher_export(req: SkcipherRequestBase, out: object) -> int:
    """The driver's ``export(req, out)``; 0 if it has none (noexport)."""
    fn = getattr(crypto_skcipher_reqtfm(req).impl, "export", None)
    return 0 if fn is None else _errno(fn(req, out), "export")


def crypto_skcipher_import(req: SkcipherRequestBase, in_: object) -> int:
    fn = getattr(crypto_skcipher_reqtfm(req).impl, "import_", None)
    return 0 if fn is None else _errno(fn(req, in_), "import")
