"""Camellia (RFC 3713; the "camellia" cipher of crypto/camellia_generic.c):
128-bit blocks, 128/192/256-bit keys.  The block function is
``cryptography``'s Camellia in ECB, one context per key (see
:class:`ciphers.aes.BlockCipher`)."""

from __future__ import annotations

import numpy as np

from ciphers.aes import BlockCipher, as_key_bytes

try:  # cryptography moved Camellia to its "decrepit" package
    from cryptography.hazmat.decrepit.ciphers.algorithms import Camellia as _Camellia
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import Camellia as _Camellia

__all__ = ["CAMELLIA_KEYSIZES", "CamelliaBlockCipher", "camellia_algorithm"]

CAMELLIA_KEYSIZES = (16, 24, 32)


def camellia_algorithm(key: bytes) -> object:
    """The library's Camellia algorithm object for a 16/24/32-byte key."""
    return _Camellia(key)


class CamelliaBlockCipher(BlockCipher):
    """camellia with an expanded key (``camellia_set_key()``): 16-byte
    blocks, 16/24/32-byte keys (ValueError otherwise)."""

    __slots__ = ()

    cra_name = "camellia"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in CAMELLIA_KEYSIZES:
            raise ValueError(f"key: a Camellia key is 16, 24 or 32 bytes, got {len(kb)}")
        super().__init__(camellia_algorithm(kb), len(kb))
