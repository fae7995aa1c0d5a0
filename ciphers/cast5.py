"""CAST-128 (RFC 2144; the "cast5" cipher of crypto/cast5_generic.c):
64-bit blocks, 5- to 16-byte keys (12 rounds up to 10 bytes, 16 above).
The block function is ``cryptography``'s CAST5 in ECB (its "decrepit"
package), one context per key (see :class:`ciphers.aes.BlockCipher`)."""

from __future__ import annotations

import numpy as np

from ciphers.aes import BlockCipher, as_key_bytes

try:  # cryptography keeps CAST5 in its "decrepit" package
    from cryptography.hazmat.decrepit.ciphers.algorithms import CAST5 as _CAST5
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import CAST5 as _CAST5

__all__ = ["CAST5_KEYSIZES", "Cast5BlockCipher", "cast5_algorithm"]

#: CAST5_MIN_KEY_SIZE .. CAST5_MAX_KEY_SIZE (include/crypto/cast5.h).
CAST5_KEYSIZES = tuple(range(5, 17))


def cast5_algorithm(key: bytes) -> object:
    """The library's CAST5 for a 5..16-byte key."""
    return _CAST5(bytes(key))


class Cast5BlockCipher(BlockCipher):
    """cast5 with an expanded key (``cast5_setkey()``), many 8-byte blocks
    per call (ValueError for a key outside 5..16 bytes)."""

    __slots__ = ()

    cra_name = "cast5"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in CAST5_KEYSIZES:
            raise ValueError(f"key: a cast5 key is 5 to 16 bytes, got {len(kb)}")
        super().__init__(cast5_algorithm(kb), len(kb))
