"""The ChaCha20-Poly1305 library (lib/crypto/chacha20poly1305.c,
``include/crypto/chacha20poly1305.h``), in the kernel since v5.5 (the
WireGuard library): one-shot RFC 8439 AEAD with a 64-bit nonce, and the
XChaCha20 variant with a 24-byte nonce.

A thin face over :class:`ciphers.chacha20poly1305.ChaChaPoly` (the
"rfc7539" template's incremental core): the 64-bit nonce becomes the
12-byte IV ``0^4 ‖ le64(nonce)``; XChaCha20 derives a subkey with
HChaCha20 over the first 16 nonce bytes and uses ``0^4 ‖ nonce[16:24]``.

What the library does, and the face with it: encryption writes the 16-byte
tag right after the ciphertext (``dst`` holds ``src_len + 16`` bytes);
decryption's ``src_len`` includes the tag, it returns False for
``src_len < 16``, and it verifies the tag *before* decrypting, so ``dst``
is untouched on failure (the AES-GCM/CCM libraries decrypt first and zero
instead).  ``chacha20poly1305_{en,de}crypt_sg_inplace()`` take a
scatterlist and are not modelled in ``ciphers`` (which knows neither
world); a caller that holds an iov_iter uses the template through the
request API, or walks its iterator and calls these one-shot functions on
a linear buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ciphers.aes import u8_view
from ciphers.chacha import hchacha20
from ciphers.chacha20poly1305 import ChaChaPoly

__all__ = [
    "CHACHA20POLY1305_AUTHTAG_SIZE",
    "CHACHA20POLY1305_KEY_SIZE",
    "XCHACHA20POLY1305_NONCE_SIZE",
    "chacha20poly1305_decrypt",
    "chacha20poly1305_encrypt",
    "xchacha20poly1305_decrypt",
    "xchacha20poly1305_encrypt",
]

XCHACHA20POLY1305_NONCE_SIZE = 24
CHACHA20POLY1305_KEY_SIZE = 32
CHACHA20POLY1305_AUTHTAG_SIZE = 16
_TAG = CHACHA20POLY1305_AUTHTAG_SIZE


def _buf(buf: Any, name: str, n: int, writable: bool = False) -> np.ndarray:
    if n == 0:
        return np.empty(0, dtype=np.uint8)
    v = u8_view(buf, name, writable=writable)
    if v.size < n:
        raise ValueError(f"{name}: needs {n} bytes, has {v.size}")
    return v[:n]


def _len(name: str, v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ValueError(f"{name}: must be a non-negative int, got {v!r}")
    return v


def _key(key: Any) -> bytes:
    return _buf(key, "key", CHACHA20POLY1305_KEY_SIZE).tobytes()


def _iv64(nonce: int) -> bytes:
    if not isinstance(nonce, int) or isinstance(nonce, bool) or not 0 <= nonce < 1 << 64:
        raise ValueError(f"nonce: must be a u64, got {nonce!r}")
    return bytes(4) + nonce.to_bytes(8, "little")


def _xkey_iv(nonce: Any, key: Any) -> tuple[bytes, bytes]:
    nv = _buf(nonce, "nonce", XCHACHA20POLY1305_NONCE_SIZE)
    return hchacha20(_key(key), nv[:16]), bytes(4) + nv[16:24].tobytes()


def _encrypt(dst: Any, src: Any, src_len: int, ad: Any, ad_len: int, key: bytes,
             iv: bytes) -> None:
    s = _buf(src, "src", _len("src_len", src_len))
    d = _buf(dst, "dst", src_len + _TAG, writable=True)
    core = ChaChaPoly(key, iv)
    core.update_ad(_buf(ad, "ad", _len("ad_len", ad_len)))
    core.update(s, d[:src_len])
    d[src_len:] = np.frombuffer(core.finalize(), dtype=np.uint8)


def _decrypt(dst: Any, src: Any, src_len: int, ad: Any, ad_len: int, key: bytes,
             iv: bytes) -> bool:
    if _len("src_len", src_len) < _TAG:
        return False
    n = src_len - _TAG
    s = _buf(src, "src", src_len)
    a = _buf(ad, "ad", _len("ad_len", ad_len))
    check = ChaChaPoly(key, iv, decrypt=True)
    check.update_ad(a)
    # Authenticate first: MAC the ciphertext into a scratch keystream pass.
    scratch = np.empty(n, dtype=np.uint8)
    check.update(s[:n], scratch)
    if not check.verify(s[n:]):
        return False
    d = _buf(dst, "dst", n, writable=True)
    if n:
        d[:] = scratch
    return True


def chacha20poly1305_encrypt(dst: Any, src: Any, src_len: int, ad: Any, ad_len: int,
                             nonce: int, key: Any) -> None:
    """``chacha20poly1305_encrypt()``: ``dst`` gets ciphertext ‖ tag."""
    _encrypt(dst, src, src_len, ad, ad_len, _key(key), _iv64(nonce))


def chacha20poly1305_decrypt(dst: Any, src: Any, src_len: int, ad: Any, ad_len: int,
                             nonce: int, key: Any) -> bool:
    """``chacha20poly1305_decrypt()``: True and the plaintext in ``dst``,
    or False with ``dst`` untouched."""
    return _decrypt(dst, src, src_len, ad, ad_len, _key(key), _iv64(nonce))


def xchacha20poly1305_encrypt(dst: Any, src: Any, src_len: int, ad: Any, ad_len: int,
                              nonce: Any, key: Any) -> None:
    """``xchacha20poly1305_encrypt()``: 24-byte nonce."""
    k, iv = _xkey_iv(nonce, key)
    _encrypt(dst, src, src_len, ad, ad_len, k, iv)


def xchacha20poly1305_decrypt(dst: Any, src: Any, src_len: int, ad: Any, ad_len: int,
                              nonce: Any, key: Any) -> bool:
    """``xchacha20poly1305_decrypt()``: 24-byte nonce."""
    k, iv = _xkey_iv(nonce, key)
    return _decrypt(dst, src, src_len, ad, ad_len, k, iv)
