"""Blowfish (the "blowfish" cipher of crypto/blowfish_generic.c): 64-bit
blocks, 4- to 56-byte keys.  The block function is ``cryptography``'s
Blowfish in ECB (its "decrepit" package), one context per key (see
:class:`ciphers.aes.BlockCipher`)."""

from __future__ import annotations

import numpy as np

from ciphers.aes import BlockCipher, as_key_bytes

try:  # cryptography keeps Blowfish in its "decrepit" package
    from cryptography.hazmat.decrepit.ciphers.algorithms import Blowfish as _Blowfish
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import Blowfish as _Blowfish

__all__ = ["BF_KEYSIZES", "BlowfishBlockCipher", "blowfish_algorithm"]

#: BF_MIN_KEY_SIZE .. BF_MAX_KEY_SIZE (include/crypto/blowfish.h).
BF_KEYSIZES = tuple(range(4, 57))


def blowfish_algorithm(key: bytes) -> object:
    """The library's Blowfish for a 4..56-byte key."""
    return _Blowfish(bytes(key))


class BlowfishBlockCipher(BlockCipher):
    """blowfish with an expanded key (``blowfish_setkey()``), many 8-byte
    blocks per call (ValueError for a key outside 4..56 bytes)."""

    __slots__ = ()

    cra_name = "blowfish"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in BF_KEYSIZES:
            raise ValueError(f"key: a blowfish key is 4 to 56 bytes, got {len(kb)}")
        super().__init__(blowfish_algorithm(kb), len(kb))
