"""Triple DES (the "des3_ede" cipher of crypto/des_generic.c and
lib/crypto/des.c, with the key checks of include/crypto/internal/des.h).

The block function is ``cryptography``'s TripleDES in ECB, one context per
key (see :class:`ciphers.aes.BlockCipher`); the key checks are the
kernel's own:

- :func:`des3_ede_verify_key` (RFC 2451): a key whose first two or last
  two 64-bit thirds are equal reduces 3DES to single DES.  Outside FIPS
  mode it is refused (-ENOKEY from the helper, -EINVAL from setkey) only
  when the caller asked for CRYPTO_TFM_REQ_FORBID_WEAK_KEYS; k1 == k3
  alone is refused only in FIPS mode, which the model does not run in.
- the key is exactly 24 bytes (the generic cipher's min = max keysize).
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import BlockCipher, as_key_bytes
from kmem.errno import ENOKEY

try:  # cryptography moved TripleDES to its "decrepit" package (43+)
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as _TripleDES
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES as _TripleDES

__all__ = [
    "DES3_EDE_BLOCK_SIZE",
    "DES3_EDE_KEY_SIZE",
    "Des3EdeBlockCipher",
    "des3_ede_algorithm",
    "des3_ede_verify_key",
]

DES3_EDE_KEY_SIZE = 24
DES3_EDE_BLOCK_SIZE = 8


def des3_ede_algorithm(key: bytes) -> object:
    """The library's TripleDES algorithm object for a 24-byte key."""
    return _TripleDES(key)


def des3_ede_verify_key(key: bytes | np.ndarray, check_weak: bool) -> int:
    """Model of ``des3_ede_verify_key()`` outside FIPS mode: -ENOKEY when
    ``check_weak`` and k1 == k2 or k2 == k3, else 0.  ``key`` must be 24
    bytes (the caller's job, as in the kernel)."""
    kb = as_key_bytes(key)
    if len(kb) != DES3_EDE_KEY_SIZE:
        raise ValueError(f"key: a des3_ede key is 24 bytes, got {len(kb)}")
    k1, k2, k3 = kb[:8], kb[8:16], kb[16:]
    if check_weak and (k1 == k2 or k2 == k3):
        return -ENOKEY
    return 0


class Des3EdeBlockCipher(BlockCipher):
    """des3_ede with an expanded key (``des3_ede_expand_key()``), many 8-byte
    blocks per call.  ``key`` is 24 bytes (ValueError otherwise); the weak
    key policy is the setkey's (see :func:`des3_ede_verify_key`)."""

    __slots__ = ()

    cra_name = "des3_ede"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) != DES3_EDE_KEY_SIZE:
            raise ValueError(f"key: a des3_ede key is 24 bytes, got {len(kb)}")
        super().__init__(des3_ede_algorithm(kb), len(kb))
