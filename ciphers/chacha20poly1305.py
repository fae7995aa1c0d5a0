"""ChaCha20-Poly1305 per RFC 7539/8439 over our ChaCha20 and Poly1305 (the
kernel's ``crypto/chacha20poly1305.c`` "rfc7539" and "rfc7539esp"
templates).

What the templates do, and this core with it: the ChaCha20 IV is
``LE32(counter) ‖ salt ‖ iv`` (12 bytes after the counter; rfc7539 has no
salt and a 12-byte iv, rfc7539esp a 4-byte salt from the end of its 36-byte
key and an 8-byte iv); block 0 (counter 0) gives the 32-byte one-time
Poly1305 key, the data is XORed from counter 1; the tag is Poly1305 over
AD ‖ pad16 ‖ ciphertext ‖ pad16 ‖ le64(AD length) ‖ le64(ciphertext length).
For rfc7539esp the authenticated AD is assoclen - 8 bytes (the trailing IV
copy is left out; assoclen < 8 is -EINVAL).  Encryption MACs the ciphertext
it wrote; decryption MACs the ciphertext before decrypting it.

Call order for one request (:class:`ChaChaPoly`)::

    c = ChaChaPoly(key32, nonce12, decrypt=False)   # nonce = salt ‖ iv
    c.update_ad(piece) ...        # AD in any split (possibly none)
    c.update(src, dst) ...        # data in any split; output per piece
    tag = c.finalize()            # encrypt: 16 bytes
    ok = c.verify(tag)            # decrypt: constant-time
"""

from __future__ import annotations

from typing import Any

from ciphers.aead_core import StreamAead
from ciphers.aes import as_key_bytes
from ciphers.chacha import CHACHA_KEY_SIZE, ChaCha20, chacha_blocks
from ciphers.poly1305 import Poly1305
from kmem import errno

__all__ = [
    "CHACHAPOLY_IV_SIZE",
    "ChaChaPoly",
    "chacha_iv",
    "chachapoly_split_key",
    "rfc7539esp_check_assoclen",
]

#: Nonce bytes after the counter word: salt ‖ iv.
CHACHAPOLY_IV_SIZE = 12


def chacha_iv(counter: int, salt: bytes, iv: Any) -> bytes:
    """The 16-byte ChaCha20 IV ``LE32(counter) ‖ salt ‖ iv`` (models
    ``chacha_iv``); salt and iv together must be 12 bytes."""
    ivb = as_key_bytes(iv, "iv")
    if len(salt) + len(ivb) != CHACHAPOLY_IV_SIZE:
        raise ValueError("salt/iv: together they must be 12 bytes")
    return (counter & 0xFFFFFFFF).to_bytes(4, "little") + bytes(salt) + ivb


def chachapoly_split_key(key: Any, saltlen: int,
                         keylen: int | None = None) -> tuple[int, bytes, bytes]:
    """(ret, chacha key, salt) as ``chachapoly_setkey`` splits it: keylen
    must be exactly 32 + saltlen (0 for rfc7539, 4 for rfc7539esp), else
    -EINVAL; the salt is the last saltlen bytes."""
    kb = as_key_bytes(key)
    if keylen is None:
        keylen = len(kb)
    if keylen < 0 or keylen > len(kb):
        raise ValueError(f"keylen: {keylen} outside the key buffer of {len(kb)} bytes")
    if saltlen not in (0, 4):
        raise ValueError("saltlen: must be 0 (rfc7539) or 4 (rfc7539esp)")
    if keylen != CHACHA_KEY_SIZE + saltlen:
        return -errno.EINVAL, b"", b""
    return 0, kb[:CHACHA_KEY_SIZE], kb[CHACHA_KEY_SIZE:keylen]


def rfc7539esp_check_assoclen(assoclen: int) -> tuple[int, int]:
    """(ret, Poly1305 AD length) for rfc7539esp: assoclen < 8 is -EINVAL,
    else the IV copy's 8 bytes are not authenticated (``poly_genkey``)."""
    if assoclen < 8:
        return -errno.EINVAL, 0
    return 0, assoclen - 8


class ChaChaPoly(StreamAead):
    """One rfc7539 request, incremental (see the module docstring)."""

    __slots__ = ()

    def __init__(self, key: Any, nonce: Any, *, decrypt: bool = False) -> None:
        kb = as_key_bytes(key)
        nb = as_key_bytes(nonce, "nonce")
        if len(kb) != CHACHA_KEY_SIZE:
            raise ValueError(f"key: must be 32 bytes, got {len(kb)}")
        if len(nb) != CHACHAPOLY_IV_SIZE:
            raise ValueError(f"nonce: must be 12 bytes (salt ‖ iv), got {len(nb)}")
        block0 = chacha_blocks(kb, b"\x00\x00\x00\x00" + nb, 1)
        self._start(ChaCha20(kb, b"\x01\x00\x00\x00" + nb), Poly1305(block0[:32]), decrypt)

    def _pad_mac(self, nbytes: int) -> None:
        self._mac.update(bytes(-nbytes % 16))

    def _finish_tag(self) -> bytes:
        self._mac.update(self._adlen.to_bytes(8, "little") + self._ctlen.to_bytes(8, "little"))
        return self._mac.final()

