"""Accelerated AEAD cores: the same algorithms as ``gcm``, ``ccm`` and
``chacha20poly1305``, delegated to streaming contexts of ``cryptography``
(OpenSSL) — the counterpart of the kernel's arch
drivers (``gcm-aes-aesni``, ``ccm-aes-ce``, ``rfc7539-chacha20-poly1305``
with SIMD), which keep the generic template's semantics and swap the
arithmetic.

Each class has the interface and call order of its generic twin
(``update_ad`` pieces, ``update(src, dst)`` pieces, ``finalize`` on
encrypt, ``verify`` on decrypt), so a driver can switch cores without
touching its walk loop.  Differences, all deliberate:

* GCM and CCM decryption can only ``verify`` (the library checks the tag
  and never exposes the expected one); ``finalize`` there raises.
* GCM: ``modes.GCM`` streams with ``update_into`` and verifies a truncated
  tag through ``finalize_with_tag`` with ``min_tag_length=4``, so tags of
  1..3 bytes (never valid for gcm(aes)) are rejected with ValueError.
* CCM: built from the library's AES-CBC (as CBC-MAC) and AES-CTR, the
  way arch drivers build it from their AES instructions, with the generic
  template's formatting; OpenSSL has no streaming CCM, and pycryptodome's
  ran at half the speed of a one-shot.
* ChaCha20: the stream is :class:`ciphers.accel.AccelChaCha20`, which wraps
  the 32-bit block counter as the kernel does (OpenSSL alone refuses).

GCM and ChaCha20 streams ``update_into`` exactly the input length, so output
lands straight in ``dst`` with no copy (in place takes one copy: see
:func:`ciphers.aes.lib_update_into`).
"""

from __future__ import annotations

import hmac
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import poly1305 as _c_poly1305
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from ciphers.accel import AccelChaCha20, lib_cipher_ctx, unit_scratch
from ciphers.aes import AES_KEYSIZES, LIB_CHUNK, as_key_bytes, lib_update_into, u8_view
from ciphers.ccm import CcmBase
from ciphers.chacha20poly1305 import CHACHAPOLY_IV_SIZE
from ciphers.gcm import GCM_AES_IV_SIZE
from kmem import errno

__all__ = ["AccelCcm", "AccelCcmKey", "AccelChaChaPoly", "AccelGcm", "AccelGcmKey"]

_AD, _DATA, _DONE = 0, 1, 2


def _check_pair(src: Any, dst: Any) -> tuple[np.ndarray, np.ndarray]:
    s = u8_view(src, "src")
    d = u8_view(dst, "dst", writable=True)
    if d.size != s.size:
        raise ValueError(f"dst: length {d.size} differs from src length {s.size}")
    return s, d


class AccelGcmKey:
    """A keyed accelerated gcm(aes) context (ValueError for a bad key length)."""

    __slots__ = ("_alg",)

    def __init__(self, key: Any) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in AES_KEYSIZES:
            raise ValueError(f"key: AES key must be 16, 24 or 32 bytes, got {len(kb)}")
        self._alg = algorithms.AES(kb)

    def cipher(self, iv: bytes) -> Cipher:
        """A GCM cipher object for one request (truncated tags down to 4)."""
        return Cipher(self._alg, modes.GCM(iv, None, 4))


class AccelGcm:
    """One gcm(aes) request through OpenSSL's streaming GCM."""

    __slots__ = ("_ctx", "_decrypt", "_phase", "_tag")

    def __init__(self, key: AccelGcmKey, iv: Any, *, decrypt: bool = False) -> None:
        if not isinstance(key, AccelGcmKey):
            raise TypeError("key: expected an AccelGcmKey")
        ivb = u8_view(iv, "iv").tobytes()
        if len(ivb) != GCM_AES_IV_SIZE:
            raise ValueError(f"iv: gcm(aes) IV must be 12 bytes, got {len(ivb)}")
        c = key.cipher(ivb)
        self._ctx = c.decryptor() if decrypt else c.encryptor()
        self._decrypt = decrypt
        self._phase = _AD
        self._tag: bytes | None = None

    def update_ad(self, data: Any) -> None:
        """Authenticate associated data; only before the first ``update``."""
        if self._phase != _AD:
            raise ValueError("update_ad: associated data must come before the data")
        src = u8_view(data, "data")
        if src.size:
            self._ctx.authenticate_additional_data(src)

    def update(self, src: Any, dst: Any) -> None:
        """En/decrypt a piece of data from src into dst (same length)."""
        if self._phase == _DONE:
            raise ValueError("update: request already finalized")
        self._phase = _DATA
        s, d = _check_pair(src, dst)
        if s.size:
            lib_update_into(self._ctx, s, d)

    def finalize(self) -> bytes:
        """Encrypt only: the full 16-byte tag (idempotent)."""
        if self._decrypt:
            raise ValueError("finalize: an accelerated GCM decryption can only verify")
        if self._tag is None:
            self._ctx.finalize()
            self._tag = self._ctx.tag
            self._phase = _DONE
        return self._tag

    def verify(self, tag: Any) -> bool:
        """Decrypt only: check a 4..16-byte tag (OpenSSL compares in
        constant time).  Call once."""
        if not self._decrypt:
            raise ValueError("verify: not a decryption")
        if self._phase == _DONE:
            raise ValueError("verify: request already finalized")
        tb = u8_view(tag, "tag").tobytes()
        if not 4 <= len(tb) <= 16:
            raise ValueError(f"tag: length must be 4..16, got {len(tb)}")
        self._phase = _DONE
        try:
            self._ctx.finalize_with_tag(tb)
        except InvalidTag:
            return False
        return True


# Where CBC-MAC's ciphertext goes to be dropped (update_into wants room for
# a chunk plus a block).
_mac_scratch = np.empty(LIB_CHUNK + 2 * 16, dtype=np.uint8)


class _CbcMacStream:
    """CBC-MAC from the library's AES-CBC (zero IV): the MAC state is the
    last ciphertext block, so the encryptor's output goes through a
    reusable cache-sized scratch buffer and only its last block is kept."""

    __slots__ = ("_ctx", "_fed", "_last")

    def __init__(self, alg: algorithms.AES) -> None:
        self._ctx = lib_cipher_ctx(alg, modes.CBC(_ZERO_IV), True)
        self._fed = 0
        self._last = np.zeros(16, dtype=np.uint8)

    def update(self, data: np.ndarray | bytes) -> None:
        v = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
        n = v.size
        if not n:
            return
        scratch, ctx = _mac_scratch, self._ctx
        for off in range(0, n, LIB_CHUNK):
            got = ctx.update_into(v[off:off + LIB_CHUNK], scratch)
            if got:
                self._last[:] = scratch[got - 16:got]
        self._fed += n

    def pad(self) -> None:
        """Zero-fill to a block boundary (CCM pads AD and payload)."""
        if self._fed % 16:
            self.update(bytes(16 - self._fed % 16))

    def final(self) -> bytes:
        self.pad()
        return self._last.tobytes()


_ZERO_IV = bytes(16)

class AccelCcmKey:
    """A keyed accelerated ccm(aes) (the driver's key schedule): the
    library's AES object for the CTR and CBC-MAC pieces and its one-shot
    AESCCM per tag length, made once per key as an arch driver expands
    its round keys once at setkey.  ValueError for a bad key length."""

    __slots__ = ("_ccm", "alg", "kb")

    def __init__(self, key: Any) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in AES_KEYSIZES:
            raise ValueError(f"key: AES key must be 16, 24 or 32 bytes, got {len(kb)}")
        self.kb = kb
        self.alg = algorithms.AES(kb)
        self._ccm: dict[int, AESCCM] = {}

    def aesccm(self, authsize: int) -> AESCCM:
        c = self._ccm.get(authsize)
        if c is None:
            c = self._ccm[authsize] = AESCCM(self.kb, authsize)
        return c


class AccelCcm(CcmBase):
    """One ccm(aes) request on the library's pieces: CBC-MAC through its
    AES-CBC (:class:`_CbcMacStream`) and the payload through its AES-CTR
    from A1 (OpenSSL's 128-bit counter carries as the kernel's ctr(aes)
    does, so even cryptlen == 2^(8L) needs no fallback).  The frame (B0,
    the AD length, the padding, the phases) is ``ciphers.ccm.CcmBase``'s.
    Same constructor arguments and :meth:`new` as :class:`ciphers.ccm.Ccm`;
    ``key`` is the raw AES key or an :class:`AccelCcmKey`.

    A driver whose request lies in one run of memory per side hands it
    all to :meth:`one_shot`: the library's one-pass CCM (OpenSSL's, which
    interleaves the CTR and CBC-MAC passes as an arch driver's assembly
    does, where two library calls cannot)."""

    __slots__ = ("_key", "_nonce")

    def __init__(self, key: Any, iv: Any, authsize: int, assoclen: int, cryptlen: int, *,
                 decrypt: bool = False) -> None:
        ret = self._setup(key, iv, authsize, assoclen, cryptlen, decrypt)
        if ret:
            raise ValueError(f"ccm: request rejected with {errno.errname(ret)}")

    @classmethod
    def new(cls, key: Any, iv: Any, authsize: int, assoclen: int, cryptlen: int, *,
            decrypt: bool = False) -> tuple[int, AccelCcm | None]:
        """(0, request) or (-EINVAL / -EOVERFLOW, None); ``key`` is the raw
        AES key or an :class:`AccelCcmKey` (the library keys its own
        contexts)."""
        obj = cls.__new__(cls)
        ret = obj._setup(key, iv, authsize, assoclen, cryptlen, decrypt)
        return (ret, None) if ret else (0, obj)

    def _setup(self, key: Any, iv: Any, authsize: int, assoclen: int, cryptlen: int,
               decrypt: bool) -> int:
        self._key = key if type(key) is AccelCcmKey else AccelCcmKey(key)
        if authsize not in (4, 6, 8, 10, 12, 14, 16):
            raise ValueError(f"authsize: CCM needs 4, 6, ..., 16, got {authsize}")
        return self._format(iv, authsize, assoclen, cryptlen, decrypt)

    def _start(self, a0: bytes) -> None:
        # One CTR stream from A0: its first block masks the MAC, the
        # payload follows from A1.
        alg = self._key.alg
        self._nonce = a0[1:16 - (a0[0] & 7) - 1]
        self._ctr = lib_cipher_ctx(alg, modes.CTR(a0), True)
        self._mask = int.from_bytes(self._ctr.update(_ZERO_IV), "big")
        self._mac = _CbcMacStream(alg)

    def _crypt(self, s: np.ndarray, d: np.ndarray) -> None:
        lib_update_into(self._ctr, s, d)

    def one_shot(self, ad: np.ndarray, src: np.ndarray, dst: np.ndarray) -> bool:
        """The whole untouched request in one library call: ``ad`` the
        assoclen bytes of AD, ``src`` the payload (decryption: ciphertext ‖
        tag), ``dst`` where ciphertext ‖ tag (decryption: the plaintext)
        go.  False, with the request as it was, where the streaming pieces
        must do it: a length the library refuses (cryptlen == 2^(8L),
        which the kernel encodes as 0), or a decryption whose tag does not
        match (the kernel then leaves the plaintext in dst, which only the
        pieces produce)."""
        if self._phase != _AD or self._adlen:
            raise ValueError("one_shot: the request has already started")
        n = self._cryptlen
        lsize = 15 - len(self._nonce)
        if ad.size != self._assoclen or src.size != n + (self._authsize if self._decrypt else 0) \
                or dst.size != n + (0 if self._decrypt else self._authsize):
            raise ValueError("one_shot: ad/src/dst do not match the request's lengths")
        if lsize < 8 and n >> (8 * lsize):
            return False
        ccm = self._key.aesccm(self._authsize)
        overlap = np.may_share_memory(src, dst) or np.may_share_memory(ad, dst)
        out = unit_scratch(dst.size) if overlap else dst
        try:
            if self._decrypt:
                if out is None:
                    res = ccm.decrypt(self._nonce, src, ad)
                else:
                    ccm.decrypt_into(self._nonce, src, ad, out)
            elif out is None:
                res = ccm.encrypt(self._nonce, src, ad)
            else:
                ccm.encrypt_into(self._nonce, src, ad, out)
        except InvalidTag:
            # (Out of place the library has wiped dst; the pieces rewrite it.)
            return False
        if out is None:
            dst[:] = np.frombuffer(res, dtype=np.uint8)
        elif overlap:
            dst[:] = out
        self._ctlen = n
        self._phase = _DONE
        return True

    def finalize(self) -> bytes:
        """Encrypt only: the authsize-byte tag (idempotent)."""
        if self._decrypt:
            raise ValueError("finalize: an accelerated CCM decryption can only verify")
        return self._compute()

    def verify(self, tag: Any) -> bool:
        """Decrypt only: check an authsize-byte tag in constant time.  Call once."""
        if not self._decrypt:
            raise ValueError("verify: not a decryption")
        if self._phase == _DONE:
            raise ValueError("verify: request already finalized")
        tb = self._check_tag(tag)
        return hmac.compare_digest(self._compute(), tb)


class AccelChaChaPoly:
    """One rfc7539 request through OpenSSL's ChaCha20 and Poly1305 streams
    (the composition the kernel's template makes, with both halves fast)."""

    __slots__ = ("_adlen", "_ctlen", "_decrypt", "_mac", "_phase", "_stream", "_tag")

    def __init__(self, key: Any, nonce: Any, *, decrypt: bool = False) -> None:
        kb = as_key_bytes(key)
        nb = as_key_bytes(nonce, "nonce")
        if len(kb) != 32:
            raise ValueError(f"key: must be 32 bytes, got {len(kb)}")
        if len(nb) != CHACHAPOLY_IV_SIZE:
            raise ValueError(f"nonce: must be 12 bytes (salt ‖ iv), got {len(nb)}")
        block0 = Cipher(algorithms.ChaCha20(kb, b"\x00\x00\x00\x00" + nb), None).encryptor()
        self._mac = _c_poly1305.Poly1305(block0.update(bytes(32)))
        self._stream = AccelChaCha20(kb, b"\x01\x00\x00\x00" + nb)
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
        self._mac.update(src)
        self._adlen += src.size

    def update(self, src: Any, dst: Any) -> None:
        """En/decrypt a piece of data from src into dst (same length)."""
        if self._phase == _DONE:
            raise ValueError("update: request already finalized")
        if self._phase == _AD:
            self._mac.update(bytes(-self._adlen % 16))
            self._phase = _DATA
        s, d = _check_pair(src, dst)
        if not s.size:
            return
        if self._decrypt:
            self._mac.update(s)
            self._stream.update(s, d)
        else:
            self._stream.update(s, d)
            self._mac.update(d)
        self._ctlen += s.size

    def _tag_now(self) -> bytes:
        if self._tag is None:
            if self._phase == _AD:
                self._mac.update(bytes(-self._adlen % 16))
            self._mac.update(bytes(-self._ctlen % 16) + self._adlen.to_bytes(8, "little")
                             + self._ctlen.to_bytes(8, "little"))
            self._tag = self._mac.finalize()
            self._phase = _DONE
        return self._tag

    def finalize(self) -> bytes:
        """The 16-byte tag (idempotent; both directions, as the MAC is ours
        to finish here)."""
        return self._tag_now()

    def verify(self, tag: Any) -> bool:
        """Check a 16-byte tag in constant time."""
        tb = u8_view(tag, "tag").tobytes()
        if len(tb) != 16:
            raise ValueError(f"tag: expected 16 bytes, got {len(tb)}")
        return hmac.compare_digest(self._tag_now(), tb)
