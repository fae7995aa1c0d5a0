"""The AEAD half of crypto/essiv.c: "essiv(authenc(hmac(sha256),cbc(aes)),sha256)"
as a plan over the inner authenc's (ciphers.essiv describes what the
template does with the key and the AD).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ciphers.aead_plan import AeadImpl, AeadPlan, KeySched, StartFn
from ciphers.authenc import (
    AuthencInstance,
    authenc_instances,
    authenc_start,
    crypto_authenc_extractkeys,
)
from ciphers.essiv import Essiv, essiv_aead_salt

__all__ = ["ESSIV_AEAD_INNER", "essiv_aead_impls"]

#: The AEAD instance v7.3's testmgr tests: essiv over this authenc, sha256.
ESSIV_AEAD_INNER = "authenc(hmac(sha256),cbc(aes))"


def _essiv_aead_setkey(inner: AuthencInstance) -> Callable[[bytes, int], tuple[int, KeySched]]:
    def setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
        err, sched = inner.setkey(key, flags)
        if err:
            return err, None
        _, keys = crypto_authenc_extractkeys(key)
        return 0, (sched, Essiv.from_salt(essiv_aead_salt(keys.enckey, keys.authkey)))
    return setkey


def _essiv_aead_start(inner: AuthencInstance) -> StartFn:
    inner_start = authenc_start(inner)

    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        sched, essiv = k
        eiv = essiv.generate_iv(iv)
        err, plan = inner_start(sched, eiv, authsize, assoclen, cryptlen, decrypt)
        return (err, None) if err or plan is None else (0, dataclasses.replace(plan, ad_iv=eiv))
    return start


def essiv_aead_impls(accelerated: bool) -> list[AeadImpl]:
    """essiv(<authenc instance>,sha256) over the generic (accelerated)
    inner authenc: names ``essiv(<inner>,<hash>)``, the inner's priority,
    blocksize, ivsize, chunksize and maxauthsize (essiv_create())."""
    out: list[AeadImpl] = []
    for inner in authenc_instances(accelerated):
        if inner.cra_name != ESSIV_AEAD_INNER:
            continue
        out.append(AeadImpl(
            f"essiv({inner.cra_name},sha256)", f"essiv({inner.cra_driver_name},sha256-generic)",
            "essiv", inner.cra_priority, inner.child.cra_blocksize, inner.child.ivsize,
            inner.child.chunksize, inner.maxauthsize, _essiv_aead_setkey(inner),
            None, _essiv_aead_start(inner), accelerated, key_flags=True))
    return out

