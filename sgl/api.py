"""Crypto API core of the scatterlist world (crypto/api.c, crypto/algapi.c,
include/linux/crypto.h): the world's algorithm registry, the tfm base, the
async request header and the completion helpers.

The registry (:data:`crypto_registry`) is an instance of the layout-agnostic
``ciphers.algapi.Registry``; the iov_iter world has its own.  The tfm core
itself is layout-agnostic and shared with that world: it lives in
ciphers.crypto_api and is re-exported here under the same names.  A driver is
an object with an ``alg`` attribute (a ``ciphers.algapi.CryptoAlg``) and
the callbacks of its type (see sgl.skcipher and sgl.aead); it may also
provide ``init(tfm) -> int``, ``exit(tfm)``, ``new_ctx() -> object`` (the
per-tfm context, ``crypto_*_ctx(tfm)``; a SimpleNamespace by default) and
``reqsize`` (bytes of per-request context it needs).
"""

from __future__ import annotations

from ciphers.algapi import (  # noqa: F401  (re-exported)
    ERR_PTR,
    IS_ERR,
    IS_ERR_OR_NULL,
    PTR_ERR,
    Registry,
)
from ciphers.crypto_api import (  # noqa: F401  (re-exported)
    MINALIGN,
    NEED_KEY,
    SIZEOF_CRYPTO_TFM,
    SIZEOF_REQUEST,
    CryptoAsyncRequest,
    CryptoCompletion,
    CryptoTfm,
    CryptoWait,
    _check_crypt_args,
    _check_iv,
    _check_live,
    _errno,
    _free_tfm,
    _init_tfm,
    _key_bytes,
    crypto_init_wait,
    crypto_req_done,
    crypto_request_complete,
    crypto_tfm_alg_is_async,
    crypto_tfm_clear_flags,
    crypto_tfm_get_flags,
    crypto_tfm_set_flags,
    crypto_wait_req,
)

crypto_registry = Registry("sgl")
