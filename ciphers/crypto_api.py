"""The crypto API core both worlds share (crypto/api.c, crypto/algapi.c,
include/linux/crypto.h): the tfm base, the async request header, the
completion helpers, and the tfm life cycle (allocate from a world's
:class:`~ciphers.algapi.Registry`, run the driver's init, free).

Nothing here knows how a request describes its buffers: the scatterlist
world (``sgl.api``) and the iov_iter world (``iovcrypto.api``) each own a
Registry and their request types, and call into this module for the rest.
A driver is an object with an ``alg`` attribute (a
``ciphers.algapi.CryptoAlg``) and the callbacks of its type (see
ciphers.skcipher_api and ciphers.aead_api); it may also provide
``init(tfm) -> int``, ``exit(tfm)``, ``new_ctx() -> object`` (the per-tfm
context, ``crypto_*_ctx(tfm)``; a SimpleNamespace by default) and
``reqsize`` (bytes of per-request context it needs).
"""

from __future__ import annotations

import types
from collections.abc import Callable

import numpy as np

import kmem
from ciphers.algapi import (
    CRYPTO_ALG_ASYNC,
    CRYPTO_MINALIGN,
    CRYPTO_TFM_NEED_KEY,
    ERR_PTR,
    IS_ERR,
    IS_ERR_OR_NULL,
    PTR_ERR,
    CryptoAlg,
    Registry,
)
from kmem import errno as E
from kmem.access import Buffer, buffer_views
from kmem.softirq import wait_event

SIZEOF_CRYPTO_TFM = 64          # struct crypto_tfm + the type's wrapper, roughly
SIZEOF_REQUEST = 80             # struct skcipher_request / aead_request header

CryptoCompletion = Callable[[object, int], None]

__all__ = ["ERR_PTR", "IS_ERR", "IS_ERR_OR_NULL", "PTR_ERR", "Registry"]


class CryptoAsyncRequest:
    """``struct crypto_async_request``: ``flags`` (CRYPTO_TFM_REQ_*),
    ``complete(data, err)``, ``data`` and the ``tfm``."""

    __slots__ = ("complete", "data", "flags", "tfm")

    def __init__(self, tfm: object) -> None:
        self.tfm = tfm
        self.flags = 0
        self.complete: CryptoCompletion | None = None
        self.data: object = None


class CryptoTfm:
    """What every transform object has (``struct crypto_tfm``): the
    algorithm description and implementation it was instantiated from, its
    flags (``crt_flags``), the driver's context, reqsize, and the kmalloc
    address of its memory."""

    __slots__ = ("addr", "alg", "crt_flags", "ctx", "freed", "impl", "reqsize")

    def __init__(self, alg: CryptoAlg, impl: object, addr: int) -> None:
        self.alg = alg
        self.impl = impl
        self.addr = addr
        self.crt_flags = 0
        self.reqsize = int(getattr(impl, "reqsize", 0) or 0)
        new_ctx = getattr(impl, "new_ctx", None)
        self.ctx = new_ctx() if callable(new_ctx) else types.SimpleNamespace()
        self.freed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.alg.cra_driver_name}>"


def crypto_tfm_get_flags(tfm: CryptoTfm) -> int:
    return tfm.crt_flags


def crypto_tfm_set_flags(tfm: CryptoTfm, flags: int) -> None:
    tfm.crt_flags |= flags


def crypto_tfm_clear_flags(tfm: CryptoTfm, flags: int) -> None:
    tfm.crt_flags &= ~flags


def crypto_tfm_alg_is_async(tfm: CryptoTfm) -> bool:
    return bool(tfm.alg.cra_flags & CRYPTO_ALG_ASYNC)


def register_driver(registry: Registry, drv: object, alg_type: str) -> int:
    """``crypto_register_skcipher()``/``crypto_register_aead()`` against a
    world's registry: 0, -EINVAL (wrong type), -EEXIST."""
    alg = getattr(drv, "alg", None)
    if not isinstance(alg, CryptoAlg):
        raise TypeError(f"a {alg_type} driver needs an 'alg' CryptoAlg attribute")
    for cb in ("setkey", "encrypt", "decrypt"):
        if not callable(getattr(drv, cb, None)):
            raise TypeError(f"a {alg_type} driver needs a {cb}() method")
    if alg.type != alg_type:
        return -E.EINVAL
    return registry.register(alg, drv)


def unregister_driver(registry: Registry, drv: object) -> int:
    return registry.unregister(getattr(drv, "alg", drv))


def register_drivers(registry: Registry, drvs: list, alg_type: str) -> int:
    """All or nothing: on an error the ones already registered are removed."""
    for i, drv in enumerate(drvs):
        err = register_driver(registry, drv, alg_type)
        if err:
            for done in drvs[:i]:
                unregister_driver(registry, done)
            return err
    return 0


def unregister_drivers(registry: Registry, drvs: list) -> None:
    for drv in drvs:
        unregister_driver(registry, drv)


def _alloc_tfm(registry: Registry, cls: type, name: str, alg_type: str, type: int,
               mask: int) -> CryptoTfm | int:
    """crypto_alloc_tfm: look ``name`` up in ``registry`` and allocate the
    tfm (the driver's init runs in :func:`_init_tfm`)."""
    if not isinstance(name, str):
        raise TypeError(f"alg_name must be a str, got {name.__class__.__name__}")
    found = registry.lookup(name, alg_type, type, mask)
    if isinstance(found, int):
        return found
    alg, impl = found
    addr = kmem.kzalloc(SIZEOF_CRYPTO_TFM, kmem.GFP_KERNEL)
    if not addr:
        return -E.ENOMEM
    tfm = cls(alg, impl, addr)
    return tfm


def _init_tfm(tfm: CryptoTfm) -> int:
    init = getattr(tfm.impl, "init", None)
    if init is None:
        return 0
    err = init(tfm)
    if err:
        kmem.kfree(tfm.addr)
        tfm.freed = True
        return _errno(err, "init")
    return 0


def _free_tfm(tfm: object) -> None:
    """crypto_destroy_tfm: NULL and ERR_PTR are tolerated."""
    if IS_ERR_OR_NULL(tfm):
        return
    if not isinstance(tfm, CryptoTfm):
        raise TypeError(f"tfm must be a transform, got {type(tfm).__name__}")
    if tfm.freed:
        kmem.report("double-free", f"crypto_free of {tfm!r} twice")
        return
    exit_ = getattr(tfm.impl, "exit", None)
    if exit_ is not None:
        exit_(tfm)
    tfm.freed = True
    kmem.kfree_sensitive(tfm.addr)


def _check_live(tfm: CryptoTfm, what: str) -> None:
    if not isinstance(tfm, CryptoTfm):
        raise TypeError(f"{what}: tfm must be a transform, got {type(tfm).__name__}")
    if tfm.freed:
        kmem.report("use-after-free", f"{what} on freed {tfm!r}")


def _errno(ret: object, what: str) -> int:
    """A driver callback's return value, checked to be an int errno."""
    if ret is None:
        raise TypeError(f"driver {what}() returned None; it must return 0 or -errno")
    if not isinstance(ret, int) or isinstance(ret, bool):
        raise TypeError(f"driver {what}() returned {type(ret).__name__}, not an int")
    return ret


def _key_bytes(key: Buffer | None, keylen: int, alignmask: int) -> bytes | int:
    """The key as bytes; a misaligned key address is bounced through a
    kmalloc'd buffer first (setkey_unaligned).  -ENOMEM on failure."""
    if not isinstance(keylen, int) or isinstance(keylen, bool) or keylen < 0:
        raise ValueError(f"keylen must be an int >= 0, got {keylen!r}")
    if keylen == 0:
        return b""
    if key is None:
        raise kmem.KernelBug("setkey: NULL key with keylen > 0")
    if isinstance(key, int) and not isinstance(key, bool) and key & alignmask:
        buf = kmem.kmalloc(keylen + alignmask, kmem.GFP_ATOMIC)
        if not buf:
            return -E.ENOMEM
        aligned = (buf + alignmask) & ~alignmask
        kmem.memcpy(aligned, key, keylen)
        out = kmem.gather(buffer_views(aligned, keylen)).tobytes()
        kmem.kfree_sensitive(buf)
        return out
    return kmem.gather(buffer_views(key, keylen)).tobytes()


def _check_iv(iv: object) -> None:
    if iv is None or isinstance(iv, (bytearray, memoryview)):
        if isinstance(iv, memoryview) and iv.readonly:
            raise TypeError("iv must be writable (the algorithm may write the next IV)")
        return
    if isinstance(iv, np.ndarray):
        if iv.dtype != np.uint8 or iv.ndim != 1:
            raise TypeError("an iv array must be a 1-D uint8 numpy array")
        return
    if isinstance(iv, int) and not isinstance(iv, bool):
        return
    if isinstance(iv, bytes):
        raise TypeError("iv must be writable (bytearray, numpy uint8 array or a kernel "
                        "address): the algorithm may write the next IV into it")
    raise TypeError(f"iv must be a bytearray, numpy uint8 array, kernel address or None, "
                    f"got {type(iv).__name__}")


def _check_crypt_args(cryptlen: object) -> None:
    if not isinstance(cryptlen, int) or isinstance(cryptlen, bool):
        raise TypeError(f"cryptlen must be an int, got {type(cryptlen).__name__}")
    if not 0 <= cryptlen <= 0xFFFFFFFF:
        raise ValueError(f"cryptlen must be in 0..UINT_MAX, got {cryptlen}")


# Waiting for asynchronous completion (include/linux/crypto.h).

class CryptoWait:
    """``struct crypto_wait`` (DECLARE_CRYPTO_WAIT)."""

    __slots__ = ("completed", "err")

    def __init__(self) -> None:
        self.completed = False
        self.err = 0


def crypto_init_wait(wait: CryptoWait) -> None:
    wait.completed, wait.err = False, 0


def crypto_req_done(data: object, err: int) -> None:
    """The completion callback to pass with a CryptoWait as ``data``;
    -EINPROGRESS (a backlogged request starting) is not the end."""
    if err == -E.EINPROGRESS:
        return
    if not isinstance(data, CryptoWait):
        raise TypeError("crypto_req_done needs a CryptoWait as callback data")
    data.err = err
    data.completed = True


def crypto_wait_req(err: int, wait: CryptoWait) -> int:
    """``crypto_wait_req()``: for -EINPROGRESS/-EBUSY, the error the
    completion delivered.  Waiting lets the model's devices, interrupts
    and timers run (kmem.softirq.wait_event) until the completion comes;
    a wait nothing can end is the hung task it would be (KernelBug)."""
    if err in (-E.EINPROGRESS, -E.EBUSY):
        kmem.might_sleep("crypto_wait_req()")
        wait_event(lambda: wait.completed, "crypto_wait_req")
        err = wait.err
        wait.completed = False
    return err


def crypto_request_complete(base: CryptoAsyncRequest, err: int) -> None:
    """``crypto_request_complete()``: what an async driver calls when done."""
    if base.complete is not None:
        base.complete(base.data, err)


NEED_KEY = CRYPTO_TFM_NEED_KEY
MINALIGN = CRYPTO_MINALIGN
