"""The pieces of ``authenc(hmac(shaN),cbc(aes))`` that are not CBC: the key
blob (``crypto_authenc_extractkeys`` of ``crypto/authenc.c`` with the types
of ``include/crypto/authenc.h``) and an incremental HMAC (``crypto/hmac.c``
over SHA-1/256/512; the arithmetic is hashlib's).

Key blob, as the kernel reads it::

    struct rtattr { u16 rta_len; u16 rta_type; }   host endian (little here)
    rta_type == CRYPTO_AUTHENC_KEYA_PARAM (1), payload == be32 enckeylen
    key = rtattr(rta_len = 8) ‖ be32 enckeylen ‖ authkey ‖ enckey

-EINVAL when: keylen < 4 or rta_len < 4 or rta_len > keylen (``RTA_OK``);
rta_type != 1; payload length rta_len - 4 != 4; fewer than enckeylen bytes
after the rtattr.  The enc key is the *last* enckeylen bytes, the auth key
what lies between.  The model reads host-endian fields as little-endian
(x86); the kernel on a big-endian machine reads them big-endian.

HMAC call order (:class:`Hmac`, from :meth:`HmacKey.new`): ``update(data)``
any number of times with any lengths, then ``final()`` for the full digest
or ``verify(tag)`` to compare a truncated tag in constant time.  authenc
MACs AD ‖ ciphertext: on encrypt the ciphertext the CBC core wrote, on
decrypt the source ciphertext before it is decrypted.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from ciphers.aes import aes_check_keylen, as_key_bytes, u8_view
from kmem import errno

__all__ = [
    "AUTHENC_HASHES",
    "CRYPTO_AUTHENC_KEYA_PARAM",
    "CRYPTO_AUTHENC_KEYA_UNSPEC",
    "CryptoAuthencKeys",
    "Hmac",
    "HmacKey",
    "authenc_check_authsize",
    "authenc_key_blob",
    "crypto_authenc_extractkeys",
    "crypto_authenc_setkey",
]

CRYPTO_AUTHENC_KEYA_UNSPEC = 0
CRYPTO_AUTHENC_KEYA_PARAM = 1
_RTA_HDRLEN = 4            # sizeof(struct rtattr)
_PARAM_LEN = 4             # sizeof(struct crypto_authenc_key_param)

#: hash name -> (digest size, block size); the authenc maxauthsize is the digest size.
AUTHENC_HASHES: dict[str, tuple[int, int]] = {
    "sha1": (20, 64),
    "sha256": (32, 64),
    "sha512": (64, 128),
}


@dataclass(frozen=True)
class CryptoAuthencKeys:
    """``struct crypto_authenc_keys``: the two keys found in a blob."""

    authkey: bytes
    enckey: bytes

    @property
    def authkeylen(self) -> int:
        return len(self.authkey)

    @property
    def enckeylen(self) -> int:
        return len(self.enckey)


def crypto_authenc_extractkeys(key: Any,
                               keylen: int | None = None) -> tuple[int, CryptoAuthencKeys | None]:
    """Parse an authenc key blob: (0, keys) or (-EINVAL, None).

    Models ``crypto_authenc_extractkeys(keys, key, keylen)``; ``keys`` is
    the out-parameter, returned second.  ``keylen`` defaults to the length
    of ``key`` and may not exceed it.
    """
    kb = as_key_bytes(key)
    if keylen is None:
        keylen = len(kb)
    if not isinstance(keylen, int) or keylen < 0 or keylen > len(kb):
        raise ValueError(f"keylen: {keylen!r} outside the key buffer of {len(kb)} bytes")
    if keylen < _RTA_HDRLEN:
        return -errno.EINVAL, None
    rta_len = int.from_bytes(kb[0:2], "little")
    rta_type = int.from_bytes(kb[2:4], "little")
    if rta_len < _RTA_HDRLEN or rta_len > keylen:
        return -errno.EINVAL, None
    if rta_type != CRYPTO_AUTHENC_KEYA_PARAM:
        return -errno.EINVAL, None
    if rta_len - _RTA_HDRLEN != _PARAM_LEN:
        return -errno.EINVAL, None
    enckeylen = int.from_bytes(kb[_RTA_HDRLEN:_RTA_HDRLEN + _PARAM_LEN], "big")
    rest = kb[rta_len:keylen]
    if len(rest) < enckeylen:
        return -errno.EINVAL, None
    authkeylen = len(rest) - enckeylen
    return 0, CryptoAuthencKeys(authkey=rest[:authkeylen], enckey=rest[authkeylen:])


def authenc_key_blob(authkey: bytes, enckey: bytes) -> bytes:
    """Build the blob callers pass to setkey (what IPsec and testmgr build)."""
    header = (_RTA_HDRLEN + _PARAM_LEN).to_bytes(2, "little") \
        + CRYPTO_AUTHENC_KEYA_PARAM.to_bytes(2, "little")
    return header + len(enckey).to_bytes(4, "big") + bytes(authkey) + bytes(enckey)


def authenc_check_authsize(hash_name: str, authsize: int) -> int:
    """0 for 1 <= authsize <= digest size, else -EINVAL (the generic
    ``crypto_aead_setauthsize`` check; authenc has no hook of its own)."""
    digestsize = _hash_sizes(hash_name)[0]
    return 0 if 1 <= authsize <= digestsize else -errno.EINVAL


def _hash_sizes(hash_name: str) -> tuple[int, int]:
    try:
        return AUTHENC_HASHES[hash_name]
    except KeyError:
        raise ValueError(f"hash_name: unsupported hash {hash_name!r}") from None


class HmacKey:
    """hmac(shaN) with its key set (models ``hmac_setkey``: the padded
    inner and outer states are prepared once and copied per request).
    Any key length is valid, as in the kernel."""

    __slots__ = ("_base", "blocksize", "digestsize", "hash_name")

    def __init__(self, hash_name: str, key: Any) -> None:
        self.digestsize, self.blocksize = _hash_sizes(hash_name)
        self.hash_name = hash_name
        self._base = hmac.new(as_key_bytes(key), digestmod=getattr(hashlib, hash_name))

    def new(self) -> Hmac:
        """A fresh HMAC computation under this key."""
        return Hmac(self._base.copy(), self.digestsize)


class Hmac:
    """One HMAC computation (see the module docstring for the call order)."""

    __slots__ = ("_ctx", "_digest", "digestsize")

    def __init__(self, ctx: Any, digestsize: int) -> None:
        self._ctx = ctx
        self.digestsize = digestsize
        self._digest: bytes | None = None

    def update(self, data: Any) -> None:
        """Absorb bytes; any length, any split."""
        if self._digest is not None:
            raise ValueError("update: HMAC already finalized")
        self._ctx.update(u8_view(data, "data"))

    def final(self) -> bytes:
        """The full digest (idempotent)."""
        if self._digest is None:
            self._digest = self._ctx.digest()
        return self._digest

    def verify(self, tag: Any) -> bool:
        """Compare a tag of 1..digestsize bytes with the digest's prefix in
        constant time (``crypto_memneq``)."""
        tb = u8_view(tag, "tag").tobytes()
        if not 1 <= len(tb) <= self.digestsize:
            raise ValueError(f"tag: length must be 1..{self.digestsize}, got {len(tb)}")
        return hmac.compare_digest(self.final()[:len(tb)], tb)


def crypto_authenc_setkey(hash_name: str, key: Any,
                          keylen: int | None = None) -> tuple[int, HmacKey | None, bytes]:
    """Model of ``crypto_authenc_setkey`` for cbc(aes): parse the blob, key
    the HMAC, and check the AES key length.  Returns (0, hmac key, AES key)
    or (-EINVAL, None, b"")."""
    ret, keys = crypto_authenc_extractkeys(key, keylen)
    if ret or keys is None:
        return ret, None, b""
    if not aes_check_keylen(keys.enckeylen):
        return -errno.EINVAL, None, b""
    return 0, HmacKey(hash_name, keys.authkey), keys.enckey
