"""ESSIV IV generation (the kernel's crypto/essiv.c, the skcipher
"essiv(cbc(aes),sha256)" and the AEAD
"essiv(authenc(hmac(sha256),cbc(aes)),sha256)").

``essiv_skcipher_setkey()`` keys the inner cbc(aes) with the key as given
(AES length rules apply) and a second AES, the "ESSIV cipher", with the salt
SHA-256(key) — 32 bytes, so AES-256. ``essiv_skcipher_crypt()`` then
encrypts the 16-byte request IV in place with the ESSIV cipher
(``crypto_cipher_encrypt_one(essiv_cipher, req->iv, req->iv)``) and runs
cbc(aes) with that IV. The whole IV is encrypted; nothing is assumed about
its contents (dm-crypt and fscrypt pass a little-endian sector number).

IV output: ``req->iv`` first becomes the encrypted IV, then cbc(aes) leaves
its usual output there: the last ciphertext block.

The AEAD flavour (``essiv_aead_setkey``/``essiv_aead_crypt``, in
ciphers.essiv_aead) is shaped by dm-crypt, which puts the IV in the last ivsize bytes of the AD:

- setkey keys the inner authenc with the whole blob, then salts the ESSIV
  cipher with SHA-256(enckey ‖ authkey) -- both keys, enc key first;
- a request encrypts ``req->iv`` in place, and the inner authenc sees an
  AD whose last 16 bytes are that encrypted IV: written into dst when the
  request is in place or decrypting (so an out-of-place decryption
  authenticates the AD src already holds), spliced into a new src list
  (AD head ‖ encrypted IV ‖ text) when encrypting out of place, where an
  assoclen below 16 is -EINVAL (in the other cases the kernel writes
  before dst's start: a crash, :class:`kmem.errno.KernelBug` here).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, AesBlockCipher, aes_check_keylen, as_key_bytes, u8_view
from ciphers.cbc import Cbc

__all__ = ["Essiv", "EssivCbc", "essiv_aead_salt", "essiv_iv"]


class Essiv:
    """The ESSIV IV generator of one key: salt cipher AES-256(SHA-256(key))."""

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if not aes_check_keylen(len(kb)):
            raise ValueError(f"key: AES key must be 16, 24 or 32 bytes, got {len(kb)}")
        self.salt = hashlib.sha256(kb).digest()
        self._essiv_cipher = AesBlockCipher(self.salt)

    @classmethod
    def from_salt(cls, salt: bytes) -> Essiv:
        """The generator of a salt computed elsewhere (the AEAD flavour's)."""
        gen = cls.__new__(cls)
        gen.salt = bytes(salt)
        gen._essiv_cipher = AesBlockCipher(gen.salt)
        return gen

    def generate_iv(self, iv: bytes | np.ndarray) -> bytes:
        """Return the IV the inner cbc(aes) runs with: AES_salt(iv)."""
        ivb = u8_view(iv, "iv")
        if ivb.size != AES_BLOCK_SIZE:
            raise ValueError(f"iv: ESSIV IV must be 16 bytes, got {ivb.size}")
        return self._essiv_cipher.encrypt_block(ivb)


def essiv_aead_salt(enckey: bytes, authkey: bytes) -> bytes:
    """The AEAD flavour's salt: SHA-256 over the enc key, then the auth key."""
    h = hashlib.sha256(enckey)
    h.update(authkey)
    return h.digest()


def essiv_iv(key: bytes | np.ndarray, iv: bytes | np.ndarray) -> bytes:
    """One-shot :meth:`Essiv.generate_iv`."""
    return Essiv(key).generate_iv(iv)


class EssivCbc(Cbc):
    """Incremental essiv(cbc(aes),sha256): CBC under ``key`` starting from
    the ESSIV-encrypted ``iv``. ``essiv`` may pass a prepared
    :class:`Essiv` of the same key (and ``cipher`` an AesBlockCipher of it)
    to avoid re-hashing per request. :attr:`essiv_iv` is the IV after the
    in-place encryption; :attr:`iv` the CBC chaining value."""

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray, encrypt: bool = True,
                 *, essiv: Essiv | None = None, cipher: AesBlockCipher | None = None) -> None:
        gen = essiv if essiv is not None else Essiv(key)
        self.essiv_iv = gen.generate_iv(iv)
        super().__init__(cipher if cipher is not None else AesBlockCipher(key),
                         self.essiv_iv, encrypt)

