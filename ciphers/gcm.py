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

from typing import Any

from ciphers.aead_core import StreamAead
from ciphers.aes import AesBlockCipher, BlockCipher, as_key_bytes, u8_view
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
    """A keyed gcm(<cipher>) context: models ``crypto_gcm_setkey`` (key
    schedule for the ctr child, H = E_K(0^128), GHASH key).  ``cipher`` is
    the block cipher class the template was instantiated over (AES by
    default; ``crypto_gcm_create_common()`` takes any ctr(<cipher>) with
    16-byte blocks, gcm(aria) and gcm(sm4) among them).  Raises ValueError
    for a key the cipher refuses (the driver returns -EINVAL first)."""

    __slots__ = ("cipher", "ghash_key")

    def __init__(self, key: Any, cipher: type[BlockCipher] = AesBlockCipher) -> None:
        self.cipher = cipher(key)
        if self.cipher.block_size != 16:
            raise ValueError(f"cipher: gcm needs a 16-byte block, {cipher.cra_name} has "
                             f"{self.cipher.block_size}")
        self.ghash_key = GhashKey(self.cipher.encrypt_bytes(bytes(16)))


class Gcm(StreamAead):
    """One gcm(aes) request, incremental (see the module docstring)."""

    __slots__ = ("_mask",)
    min_tag = 1           # gcm verifies truncated tags (authsize 4..16)

    def __init__(self, key: GcmKey, iv: Any, *, decrypt: bool = False) -> None:
        if not isinstance(key, GcmKey):
            raise TypeError("key: expected a GcmKey")
        ivb = u8_view(iv, "iv").tobytes()
        if len(ivb) != GCM_AES_IV_SIZE:
            raise ValueError(f"iv: a gcm IV must be 12 bytes, got {len(ivb)}")
        # E_K(J0) masks the tag; the data's stream starts at J0 + 1 (the
        # low word goes 1 -> 2: no carry for the kernel's 128-bit counter).
        self._mask = key.cipher.encrypt_bytes(ivb + b"\x00\x00\x00\x01")
        self._start(Ctr(key.cipher, ivb + b"\x00\x00\x00\x02"), Ghash(key.ghash_key), decrypt)

    def _pad_mac(self, nbytes: int) -> None:
        self._mac.pad()

    def _finish_tag(self) -> bytes:
        bits = (self._adlen * 8).to_bytes(8, "big") + (self._ctlen * 8).to_bytes(8, "big")
        self._mac.update(bits)
        s = int.from_bytes(self._mac.digest(), "big")
        return (s ^ int.from_bytes(self._mask, "big")).to_bytes(16, "big")
