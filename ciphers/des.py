"""DES and Triple DES (the "des" and "des3_ede" ciphers of
crypto/des_generic.c and lib/crypto/des.c, with the key checks of
include/crypto/internal/des.h).

Single DES's setkey (``des_setkey()`` through ``crypto_des_verify_key()``)
refuses the weak and semi-weak keys -- the sixteen keys whose halves C
and D after Permuted Choice 1 are each all zeros, all ones or an
alternating pattern, so that the key schedule repeats (FIPS 74) -- with
-EINVAL, and only when the caller set CRYPTO_TFM_REQ_FORBID_WEAK_KEYS
(``des_expand_key()`` reports them as -ENOKEY, :func:`des_verify_key`
here).  Its block function is ``cryptography``'s TripleDES keyed
k ‖ k ‖ k, which is DES under k.

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
    "DES_BLOCK_SIZE",
    "DES_KEY_SIZE",
    "Des3EdeBlockCipher",
    "DesBlockCipher",
    "des3_ede_algorithm",
    "des3_ede_verify_key",
    "des_algorithm",
    "des_verify_key",
]

DES3_EDE_KEY_SIZE = 24
DES3_EDE_BLOCK_SIZE = 8
DES_KEY_SIZE = 8
DES_BLOCK_SIZE = 8

# FIPS 46-3 Permuted Choice 1: the key bits (1 = the first byte's MSB) that
# form the 28-bit registers C and D; every eighth bit is parity, left out.
_PC1_C = (57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
          10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36)
_PC1_D = (63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
          14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4)
# A register the one- and two-bit rotations of the schedule leave with
# period 2 at most: all zeros, all ones, 0101..., 1010....
_DUAL = (0, (1 << 28) - 1, 0x5555555, 0xAAAAAAA)


def _pc1(key: bytes, table: tuple[int, ...]) -> int:
    k = int.from_bytes(key, "big")
    out = 0
    for pos in table:
        out = out << 1 | (k >> (64 - pos)) & 1
    return out


def des_verify_key(key: bytes | np.ndarray) -> int:
    """Model of ``des_expand_key()``'s verdict on an 8-byte key: -ENOKEY
    for the 4 weak and 12 semi-weak keys (parity bits ignored), else 0."""
    kb = as_key_bytes(key)
    if len(kb) != DES_KEY_SIZE:
        raise ValueError(f"key: a des key is 8 bytes, got {len(kb)}")
    if _pc1(kb, _PC1_C) in _DUAL and _pc1(kb, _PC1_D) in _DUAL:
        return -ENOKEY
    return 0


def des_algorithm(key: bytes) -> object:
    """The library's DES for an 8-byte key: TripleDES keyed k ‖ k ‖ k
    (the library deprecates the 8-byte form)."""
    return _TripleDES(bytes(key) * 3)


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


class DesBlockCipher(BlockCipher):
    """des with an expanded key (``des_expand_key()``), many 8-byte blocks
    per call.  ``key`` is 8 bytes (ValueError otherwise); the weak-key
    policy is the setkey's (see :func:`des_verify_key`)."""

    __slots__ = ()

    cra_name = "des"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) != DES_KEY_SIZE:
            raise ValueError(f"key: a des key is 8 bytes, got {len(kb)}")
        super().__init__(des_algorithm(kb), len(kb))
