"""GCM over our CTR and GHASH (the kernel's ``crypto/gcm.c`` "gcm(aes)"
template, with the rfc4106/rfc4543 key and nonce derivations and the checks
of ``include/crypto/gcm.h``).

What the template does, and this core with it: setkey expands the AES key
and takes H = E_K(0^128) as the GHASH key; a request with 12-byte IV runs
one ``ctr(aes)`` stream from J0 = IV ‖ 0x00000001 over a 16-byte zero block
(giving the tag mask E_K(J0)) and then over the data (from J0 + 1); GHASH
covers AD ‖ pad ‖ ciphertext ‖ pad ‖ be64(AD bits) ‖ be64(CT bits); the tag
is the first authsize bytes of GHASH ⊕ E_K(J0).  The kernel's ``ctr(aes)``
increments all 128 bits where the GCM spec says inc32; with a 12-byte IV the
two differ only after 2^32 blocks, which no request reaches.

Call order for one request (:class:`Gcm`)::

    g = Gcm(key, iv12, decrypt=False)
    g.update_ad(piece) ...        # AD in any split (possibly none)
    g.update(src, dst) ...        # data in any split; output per piece
    tag = g.finalize()            # encrypt: 16 bytes, truncate to authsize
    ok = g.verify(tag)            # decrypt: constant-time, any 1..16 bytes

On decrypt the GHASH reads ``src`` before ``dst`` is written, so
``dst is src`` (in place) is fine in both directions.
"""

from __future__ import annotations

import hmac
from typing import Any

import numpy as np

from ciphers.aes import AesBlockCipher, as_key_bytes, u8_view
from ciphers.ctr import Ctr
from ciphers.ghash import Ghash, GhashKey
from kmem import errno

__all__ = [
    "GCM_AES_IV_SIZE",
    "GCM_RFC4106_IV_SIZE",
    "GCM_RFC4543_IV_SIZE",
    "Gcm",
    "GcmKey",
    "crypto_gcm_check_authsize",
    "crypto_ipsec_check_assoclen",
    "crypto_rfc4106_check_authsize",
    "crypto_rfc4543_check_authsize",
    "rfc4106_nonce",
    "rfc4106_split_key",
]

GCM_AES_IV_SIZE = 12
GCM_RFC4106_IV_SIZE = 8
GCM_RFC4543_IV_SIZE = 8
_ZERO16 = np.zeros(16, dtype=np.uint8)

_AD, _DATA, _DONE = 0, 1, 2


def crypto_gcm_check_authsize(authsize: int) -> int:
    """0 for authsize 4, 8, 12..16, else -EINVAL (include/crypto/gcm.h)."""
    return 0 if authsize in (4, 8, 12, 13, 14, 15, 16) else -errno.EINVAL


def crypto_rfc4106_check_authsize(authsize: int) -> int:
    """0 for authsize 8, 12 or 16, else -EINVAL (include/crypto/gcm.h)."""
    return 0 if authsize in (8, 12, 16) else -errno.EINVAL


def crypto_rfc4543_check_authsize(authsize: int) -> int:
    """0 for authsize 16, else -EINVAL (include/crypto/gcm.h)."""
    return 0 if authsize == 16 else -errno.EINVAL


def crypto_ipsec_check_assoclen(assoclen: int) -> int:
    """0 for assoclen 16 or 20 (SPI ‖ seq ‖ IV copy, with or without the
    extended sequence number), else -EINVAL (include/crypto/gcm.h); used by
    rfc4106, rfc4543 and rfc4309."""
    return 0 if assoclen in (16, 20) else -errno.EINVAL


def rfc4106_split_key(key: Any, keylen: int | None = None) -> tuple[int, bytes, bytes]:
    """Split an rfc4106/rfc4543 key into (ret, AES key, 4-byte salt).

    Models ``crypto_rfc4106_setkey``/``crypto_rfc4543_setkey``: keylen < 4
    gives -EINVAL; the salt is the last four bytes.  The AES key length is
    checked by the child's setkey, not here.
    """
    kb = as_key_bytes(key)
    if keylen is None:
        keylen = len(kb)
    if keylen < 0 or keylen > len(kb):
        raise ValueError(f"keylen: {keylen} outside the key buffer of {len(kb)} bytes")
    if keylen < 4:
        return -errno.EINVAL, b"", b""
    return 0, kb[:keylen - 4], kb[keylen - 4:keylen]


def rfc4106_nonce(salt: bytes, iv: Any) -> bytes:
    """The 12-byte GCM IV of rfc4106/rfc4543: salt(4) ‖ iv(8)."""
    ivb = as_key_bytes(iv, "iv")
    if len(salt) != 4 or len(ivb) != 8:
        raise ValueError("salt/iv: rfc4106 needs a 4-byte salt and an 8-byte IV")
    return bytes(salt) + ivb


class GcmKey:
    """A keyed gcm(aes) context: models ``crypto_gcm_setkey`` (AES key
    schedule for the ctr child, H = E_K(0^128), GHASH key).  Raises
    ValueError for a key that is not 16, 24 or 32 bytes (the driver returns
    -EINVAL first)."""

    __slots__ = ("cipher", "ghash_key")

    def __init__(self, key: Any) -> None:
        self.cipher = AesBlockCipher(key)
        self.ghash_key = GhashKey(self.cipher.encrypt_block(_ZERO16))


class Gcm:
    """One gcm(aes) request, incremental (see the module docstring)."""

    __slots__ = ("_adlen", "_ctlen", "_ctr", "_decrypt", "_ghash", "_mask", "_phase", "_tag")

    def __init__(self, key: GcmKey, iv: Any, *, decrypt: bool = False) -> None:
        if not isinstance(key, GcmKey):
            raise TypeError("key: expected a GcmKey")
        ivb = u8_view(iv, "iv").tobytes()
        if len(ivb) != GCM_AES_IV_SIZE:
            raise ValueError(f"iv: gcm(aes) IV must be 12 bytes, got {len(ivb)}")
        self._ctr = Ctr(key.cipher, ivb + b"\x00\x00\x00\x01")
        mask = np.zeros(16, dtype=np.uint8)
        self._ctr.update(_ZERO16, mask)
        self._mask = mask.tobytes()
        self._ghash = Ghash(key.ghash_key)
        self._decrypt = decrypt
        self._adlen = 0
        self._ctlen = 0
        self._phase = _AD
        self._tag: bytes | None = None

    def update_ad(self, data: Any) -> None:
        """Authenticate associated data; only before the first ``update``."""
        if self._phase != _AD:
            raise ValueError("update_ad: associated data must come before the data")
        src = u8_view(data, "data")
        self._ghash.update(src)
        self._adlen += src.size

    def update(self, src: Any, dst: Any) -> None:
        """En/decrypt a piece of data from src into dst (same length)."""
        if self._phase == _DONE:
            raise ValueError("update: request already finalized")
        if self._phase == _AD:
            self._ghash.pad()
            self._phase = _DATA
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        if d.size != s.size:
            raise ValueError(f"dst: length {d.size} differs from src length {s.size}")
        if self._decrypt:
            self._ghash.update(s)
            self._ctr.update(s, d)
        else:
            self._ctr.update(s, d)
            self._ghash.update(d)
        self._ctlen += s.size

    def finalize(self) -> bytes:
        """Return the full 16-byte tag (idempotent; ends the data phase)."""
        if self._tag is None:
            self._ghash.pad()
            self._ghash.update((self._adlen * 8).to_bytes(8, "big")
                               + (self._ctlen * 8).to_bytes(8, "big"))
            s = int.from_bytes(self._ghash.digest(), "big")
            self._tag = (s ^ int.from_bytes(self._mask, "big")).to_bytes(16, "big")
            self._phase = _DONE
        return self._tag

    def verify(self, tag: Any) -> bool:
        """Compare ``tag`` (1..16 bytes) with the computed tag's prefix in
        constant time (the kernel's ``crypto_memneq``)."""
        tb = u8_view(tag, "tag").tobytes()
        if not 1 <= len(tb) <= 16:
            raise ValueError(f"tag: length must be 1..16, got {len(tb)}")
        return hmac.compare_digest(self.finalize()[:len(tb)], tb)
