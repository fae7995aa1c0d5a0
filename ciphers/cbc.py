"""CBC mode over a block cipher (the kernel's crypto/cbc.c, "cbc(aes)",
"cbc(des3_ede)", …).

Encryption is serial by nature (each block needs the previous ciphertext)
and runs as a per-block loop on Python ints over a reused ECB context.
Decryption is vectorised: one ``decrypt_blocks`` call per span, then one
XOR with the ciphertext shifted by a block.

IV output, as ``crypto_cbc_encrypt()``/``crypto_cbc_decrypt()`` leave it in
``req->iv``: the last ciphertext block, in both directions; for an in-place
decryption that block is saved before it is overwritten.
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import BlockCipher, u8_view
from ciphers.ecb import BlockModeCore

__all__ = ["Cbc", "cbc_decrypt_span", "cbc_encrypt_span"]

_CHUNK = 64 * 1024


def cbc_encrypt_span(cipher: BlockCipher, iv: bytes, src: np.ndarray,
                     dst: np.ndarray) -> bytes:
    """CBC-encrypt whole blocks of ``src`` into ``dst`` chaining from ``iv``;
    return the last ciphertext block (the next IV). dst may be src."""
    enc = cipher.encrypt_bytes
    bs = cipher.block_size
    n = src.size
    for off in range(0, n, _CHUNK):
        end = min(off + _CHUNK, n)
        data = src[off:end].tobytes()
        chain = int.from_bytes(iv, "big")
        out = []
        for b in range(0, end - off, bs):
            iv = enc((int.from_bytes(data[b:b + bs], "big") ^ chain).to_bytes(bs, "big"))
            chain = int.from_bytes(iv, "big")
            out.append(iv)
        dst[off:end] = np.frombuffer(b"".join(out), dtype=np.uint8)
    return iv


def cbc_decrypt_span(cipher: BlockCipher, iv: bytes, src: np.ndarray, dst: np.ndarray,
                     scratch: np.ndarray | None = None) -> bytes:
    """CBC-decrypt whole blocks of ``src`` into ``dst`` chaining from ``iv``;
    return the last ciphertext block (the next IV). dst may be src."""
    n = src.size
    bs = cipher.block_size
    if scratch is None or scratch.size < min(n, _CHUNK):
        scratch = np.empty(min(n, _CHUNK), dtype=np.uint8)
    prev = np.frombuffer(iv, dtype=np.uint8)
    for off in range(0, n, _CHUNK):
        end = min(off + _CHUNK, n)
        s = src[off:end]
        tmp = scratch[:end - off]
        cipher.decrypt_blocks(s, tmp)
        last = s[-bs:].copy()  # saved before an in-place write replaces it
        tmp[:bs] ^= prev
        np.bitwise_xor(tmp[bs:], s[:-bs], out=tmp[bs:])
        dst[off:end] = tmp
        prev = last
    return prev.tobytes()


class Cbc(BlockModeCore):
    """Incremental CBC (``cbc(aes)``, ``cbc(des3_ede)``, …). ``update(src, dst)`` takes any
    split; a partial block is carried (see ciphers.ecb). :attr:`iv` /
    :meth:`next_iv` give the chaining value: the last ciphertext block
    processed, i.e. the kernel's IV output once the request is done."""

    def __init__(self, cipher: BlockCipher, iv: bytes | np.ndarray,
                 encrypt: bool = True) -> None:
        if not isinstance(cipher, BlockCipher):
            raise TypeError("cipher: expected a BlockCipher")
        ivb = u8_view(iv, "iv")
        if ivb.size != cipher.block_size:
            raise ValueError(f"iv: CBC IV must be {cipher.block_size} bytes, got {ivb.size}")
        super().__init__(cipher.block_size)
        self._cipher = cipher
        self.encrypt = encrypt
        self.iv = ivb.tobytes()
        self._scratch: np.ndarray | None = None

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        if self.encrypt:
            self.iv = cbc_encrypt_span(self._cipher, self.iv, src, dst)
        else:
            if self._scratch is None or self._scratch.size < min(src.size, _CHUNK):
                self._scratch = np.empty(min(max(src.size, 4096), _CHUNK), dtype=np.uint8)
            self.iv = cbc_decrypt_span(self._cipher, self.iv, src, dst, self._scratch)

    def next_iv(self) -> bytes:
        """The kernel's CBC IV output: the last ciphertext block."""
        return self.iv
