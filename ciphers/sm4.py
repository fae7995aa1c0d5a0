"""SM4 (GB/T 32907-2016; the "sm4" cipher of crypto/sm4_generic.c and
lib/crypto/sm4.c): 128-bit blocks and keys.  The block function is
``cryptography``'s SM4 in ECB, one context per key (see
:class:`ciphers.aes.BlockCipher`)."""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import algorithms

from ciphers.aes import BlockCipher, as_key_bytes

__all__ = ["SM4_KEY_SIZE", "Sm4BlockCipher"]

SM4_KEY_SIZE = 16


class Sm4BlockCipher(BlockCipher):
    """sm4 with an expanded key (``sm4_expandkey()``): 16-byte key and
    blocks (ValueError for another key length; the setkey returns -EINVAL
    before this is built)."""

    __slots__ = ()

    cra_name = "sm4"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) != SM4_KEY_SIZE:
            raise ValueError(f"key: an SM4 key is 16 bytes, got {len(kb)}")
        super().__init__(algorithms.SM4(kb), len(kb))
