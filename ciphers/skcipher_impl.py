"""``SkcipherImpl``: one skcipher implementation as both worlds register
it (the layout-agnostic half of a ``struct skcipher_alg`` and its
driver), with the length rules and priorities every table shares.
ciphers.skcipher_algs (the AES and ChaCha families) and
ciphers.skcipher_ciphers (des3_ede, sm4, camellia and lrw) build their
tables from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ciphers.algapi import CryptoAlg
from kmem import errno as E

__all__ = [
    "ACCEL_PRIORITY",
    "GENERIC_PRIORITY",
    "LEN_ANY",
    "LEN_BLOCKS",
    "LEN_MIN_BLOCK",
    "Core",
    "KeySched",
    "SkcipherImpl",
]

GENERIC_PRIORITY = 100
ACCEL_PRIORITY = 300

# Length rules (kernel_api_spec §3.4).
LEN_BLOCKS = "blocks"   # ecb, cbc, essiv(cbc), lrw: whole blocks, 0 allowed
LEN_MIN_BLOCK = "min16"  # xts, cts: at least one block, any length above
LEN_ANY = "any"         # ctr, rfc3686, chacha: anything, 0 included

Core = Any
KeySched = Any


@dataclass(frozen=True)
class SkcipherImpl:
    """One skcipher implementation: its description (fresh
    :class:`CryptoAlg` per world from :meth:`make_alg`) and its
    layout-agnostic parts.

    - ``setkey(key, flags)`` -> ``(0, key schedule)`` or ``(-EINVAL, None)``
      (the driver's own checks, after the API's min/max check);
    - ``new_core(sched, iv, encrypt)`` -> a core with ``update``,
      (xts/cts) ``final`` and ``next_iv``;
    - ``final_len(cryptlen)`` -> bytes the core's ``final`` must get in one
      piece (xts/cts), None for modes without a final step;
    - ``iv_out``: the driver writes ``core.next_iv()`` back to ``req->iv``;
    - ``one_shot(sched, iv, encrypt, src, dst)`` -> True once it has
      processed a whole request held contiguously in one call (the arch
      glue's fast path), False where this key or IV needs the core; None
      for drivers without one.
    """

    cra_name: str
    cra_driver_name: str
    template: str
    cra_priority: int
    cra_blocksize: int
    ivsize: int
    chunksize: int
    walksize: int
    min_keysize: int
    max_keysize: int
    len_rule: str
    iv_out: bool
    setkey: Callable[[bytes, int], tuple[int, KeySched]]
    new_core: Callable[[KeySched, bytes, bool], Core]
    final_len: Callable[[int], int] | None = None
    accelerated: bool = False
    one_shot: Callable[[KeySched, bytes | None, bool, Any, Any], bool] | None = None

    def make_alg(self) -> CryptoAlg:
        """A fresh ``struct skcipher_alg`` description for one registry."""
        return CryptoAlg(self.cra_name, self.cra_driver_name, "skcipher",
                         cra_priority=self.cra_priority, cra_blocksize=self.cra_blocksize,
                         ivsize=self.ivsize, chunksize=self.chunksize, walksize=self.walksize,
                         min_keysize=self.min_keysize, max_keysize=self.max_keysize,
                         cra_module=self.template)

    def check_len(self, cryptlen: int) -> int:
        """The kernel's length rule: 0 or -EINVAL (checked before any
        byte is touched, so an invalid request writes nothing)."""
        if self.len_rule == LEN_BLOCKS:
            return -E.EINVAL if cryptlen % self.cra_blocksize else 0
        if self.len_rule == LEN_MIN_BLOCK:
            return -E.EINVAL if cryptlen < self.cra_blocksize else 0
        return 0
