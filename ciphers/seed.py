"""SEED (RFC 4269; the "seed" cipher of crypto/seed.c): 128-bit blocks and
keys, 16 rounds.  The block function is ``cryptography``'s SEED in ECB (its
"decrepit" package), one context per key (see
:class:`ciphers.aes.BlockCipher`)."""

from __future__ import annotations

import numpy as np

from ciphers.aes import BlockCipher, as_key_bytes

try:  # cryptography keeps SEED in its "decrepit" package
    from cryptography.hazmat.decrepit.ciphers.algorithms import SEED as _SEED
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import SEED as _SEED

__all__ = ["SEED_KEY_SIZE", "SeedBlockCipher", "seed_algorithm"]

#: SEED_KEY_SIZE (crypto/seed.c): SEED has one key length.
SEED_KEY_SIZE = 16


def seed_algorithm(key: bytes) -> object:
    """The library's SEED for a 16-byte key."""
    return _SEED(bytes(key))


class SeedBlockCipher(BlockCipher):
    """seed with an expanded key (``seed_set_key()``), many 16-byte blocks
    per call (ValueError for a key other than 16 bytes)."""

    __slots__ = ()

    cra_name = "seed"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) != SEED_KEY_SIZE:
            raise ValueError(f"key: a seed key is 16 bytes, got {len(kb)}")
        super().__init__(seed_algorithm(kb), len(kb))
