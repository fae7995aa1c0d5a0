"""Conformance of the library road: the ``lib`` API of the runner.

The library road has no request API: a caller walks its own iov_iters and
feeds lib/crypto (:mod:`iovcrypto.tools.roads.lib_aead`).  To hold it to
exactly the same vectors, configurations, iterator realisations and checks
as the request APIs (poison after the output, iterators advanced by what
was consumed/produced or left alone on error, dst's plaintext zeroed on
-EBADMSG, request fields and segment arrays untouched, a clean ledger), the
runner drives it through this module, which has the request API's face
and nothing else: ``crypto_alloc_aead`` names the library, setkey and
setauthsize keep the key and tag length as a library caller holds them
(``aes_*_preparekey`` is called with both, as SMB does per message), and
``crypto_aead_encrypt``/``_decrypt`` hand the request's iterators, IV and
lengths to :func:`~iovcrypto.tools.roads.lib_aead.lib_aead_crypt`.

The algorithms are the ones the library serves (:data:`LIB_AEADS`:
gcm(aes), ccm(aes)); each is one target, driver ``lib-aes-gcm`` /
``lib-aes-ccm``.  Kernel: v7.3 (linux-next 2026-08-18).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import kmem
from ciphers.algapi import (
    CRYPTO_TFM_NEED_KEY,
    CryptoAlg,
)
from ciphers.crypto_api import CryptoWait, crypto_req_done, crypto_wait_req
from ciphers.gcm import crypto_gcm_check_authsize
from ciphers.lib_aes import aes_check_keylen
from iovcrypto.tools.roads.lib_aead import LIB_AEADS, lib_aead_crypt, lib_aead_setkey
from kmem import errno as E

__all__ = ["CryptoWait", "crypto_registry", "crypto_req_done", "crypto_wait_req"]

_ALGS = {
    name: CryptoAlg(cra_name=name, cra_driver_name=f"lib-aes-{kind}", type="aead",
                    cra_priority=0, cra_blocksize=1, ivsize=12 if kind == "gcm" else 16,
                    min_keysize=16, max_keysize=32, maxauthsize=16,
                    cra_module="lib/crypto/aes.c")
    for name, kind in LIB_AEADS.items()
}


class _Registry:
    """What the runner asks of a world's registry."""

    def algorithms(self, type: str | None = None) -> list[tuple[CryptoAlg, None]]:
        return [(a, None) for a in _ALGS.values() if type in (None, a.type)]

    def lookup(self, name: str, type: str | None = None) -> Any:
        for a in _ALGS.values():
            if name in (a.cra_name, a.cra_driver_name):
                return a, None
        return -E.ENOENT


crypto_registry = _Registry()


@dataclass
class LibTfm:
    """The library caller's keyed state (what a tfm is on the request roads)."""

    alg: CryptoAlg
    raw_key: bytes = b""
    authsize: int = 16
    flags: int = CRYPTO_TFM_NEED_KEY
    key: Any = None


@dataclass
class _Base:
    tfm: LibTfm
    flags: int = 0
    complete: Any = None
    data: Any = None


@dataclass
class LibRequest:
    base: _Base
    src: Any = None
    dst: Any = None
    cryptlen: int = 0
    assoclen: int = 0
    iv: Any = None
    extra: dict = field(default_factory=dict)


def crypto_alloc_aead(name: str, type: int = 0, mask: int = 0) -> LibTfm | int:
    found = crypto_registry.lookup(name)
    return found if isinstance(found, int) else LibTfm(found[0])


def crypto_free_aead(tfm: LibTfm) -> None:
    tfm.key = None
    tfm.raw_key = b""


def crypto_aead_alignmask(tfm: LibTfm) -> int:
    return 0


def crypto_aead_ivsize(tfm: LibTfm) -> int:
    return tfm.alg.ivsize


def crypto_aead_get_flags(tfm: LibTfm) -> int:
    return tfm.flags


def crypto_aead_set_flags(tfm: LibTfm, flags: int) -> None:
    tfm.flags |= flags


def crypto_aead_clear_flags(tfm: LibTfm, flags: int) -> None:
    tfm.flags &= ~flags


def _prepare(tfm: LibTfm) -> int:
    err, key = lib_aead_setkey(tfm.alg.cra_name, tfm.raw_key, tfm.authsize)
    tfm.key = key
    return err


def crypto_aead_setkey(tfm: LibTfm, key: Any, keylen: int) -> int:
    """Keep the raw key (the address of a key buffer is read, as the
    kernel's setkey reads the pointer); -EINVAL for a length AES refuses."""
    raw = kmem.read_virt(key, keylen) if isinstance(key, int) else bytes(key)[:keylen]
    if not aes_check_keylen(keylen):
        tfm.flags |= CRYPTO_TFM_NEED_KEY
        return -E.EINVAL
    tfm.raw_key = raw
    tfm.flags &= ~CRYPTO_TFM_NEED_KEY
    return _prepare(tfm)


def crypto_aead_setauthsize(tfm: LibTfm, authsize: int) -> int:
    """The tag lengths ``aes_{gcm,ccm}_preparekey`` accept."""
    if tfm.alg.cra_name == "gcm(aes)":
        bad = crypto_gcm_check_authsize(authsize) != 0
    else:
        bad = authsize < 4 or authsize > 16 or authsize % 2 != 0
    if bad:
        return -E.EINVAL
    tfm.authsize = authsize
    return _prepare(tfm) if tfm.raw_key else 0


def aead_request_alloc(tfm: LibTfm, gfp: int) -> LibRequest:
    return LibRequest(_Base(tfm))


def aead_request_free(req: LibRequest) -> None:
    req.src = req.dst = None


def aead_request_set_callback(req: LibRequest, flags: int, complete: Any, data: Any) -> None:
    req.base.flags, req.base.complete, req.base.data = flags, complete, data


def aead_request_set_iter(req: LibRequest, src: Any, dst: Any, cryptlen: int, iv: Any) -> None:
    req.src, req.dst, req.cryptlen, req.iv = src, dst, cryptlen, iv


def aead_request_set_ad(req: LibRequest, assoclen: int) -> None:
    req.assoclen = assoclen


def _crypt(req: LibRequest, enc: bool) -> int:
    tfm = req.base.tfm
    if tfm.flags & CRYPTO_TFM_NEED_KEY or tfm.key is None:
        return -E.ENOKEY
    iv = kmem.read_virt(req.iv, tfm.alg.ivsize) if isinstance(req.iv, int) else bytes(req.iv)
    dst = req.src if req.dst is req.src else req.dst
    return lib_aead_crypt(tfm.alg.cra_name, tfm.key, iv, req.src, dst, req.assoclen,
                          req.cryptlen, enc)


def crypto_aead_encrypt(req: LibRequest) -> int:
    return _crypt(req, True)


def crypto_aead_decrypt(req: LibRequest) -> int:
    return _crypt(req, False)
