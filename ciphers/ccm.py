"""CCM over our CTR and CBC-MAC (the kernel's ``crypto/ccm.c`` "ccm(aes)"
template, with the rfc4309 key/IV derivation and the checks it makes).

The kernel's 16-byte CCM IV is ``L' ‖ nonce ‖ counter`` with L' = L - 1 in
iv[0]; ``crypto_ccm_check_iv`` rejects L' outside 1..7 with -EINVAL and
``crypto_ccm_init_crypt`` zeroes the last L bytes (the counter), whatever
the caller put there.  The MAC input is

    B0 ‖ [enc(assoclen) ‖ AD ‖ zero pad]  ‖ payload ‖ zero pad

where B0 is that IV with flags |= 8 * ((authsize - 2) / 2) and |= 64 when
there is AD, and the message length big-endian in its last L bytes
(``set_msg_len``: -EOVERFLOW when L < 4 and cryptlen > 2^(8L); note the
kernel's ``>``, so cryptlen == 2^(8L) passes and is encoded as zero);
enc(a) is be16(a) for a < 0xff00, else 0xfffe ‖ be32(a).  One ``ctr(aes)``
stream from A0 (the zeroed-counter IV) covers the 16-byte MAC block first
(tag = MAC ⊕ E_K(A0)) and the payload from A1, with the kernel's 128-bit
carry.  Encryption MACs the plaintext before encrypting it; decryption
decrypts and then MACs the plaintext it produced.

Call order for one request (:class:`Ccm`; the lengths are fixed up front
because B0 encodes them)::

    ret, c = Ccm.new(cipher, iv16, authsize, assoclen, cryptlen, decrypt=...)
    c.update_ad(piece) ...        # exactly assoclen bytes in any split
    c.update(src, dst) ...        # exactly cryptlen bytes in any split
    tag = c.finalize()            # encrypt: authsize bytes
    ok = c.verify(tag)            # decrypt: constant-time
"""

from __future__ import annotations

import abc
import hmac
from typing import Any

import numpy as np

from ciphers.aes import BlockCipher, as_key_bytes, u8_view
from ciphers.cbcmac import CbcMac
from ciphers.ctr import Ctr
from kmem import errno

__all__ = [
    "CCM_AES_IV_SIZE",
    "Ccm",
    "ccm_format_adata",
    "ccm_format_input",
    "crypto_ccm_check_authsize",
    "crypto_ccm_check_iv",
    "crypto_rfc4309_check_authsize",
    "rfc4309_iv",
    "rfc4309_split_key",
]

CCM_AES_IV_SIZE = 16
_ZERO16 = np.zeros(16, dtype=np.uint8)
_AD, _DATA, _DONE = 0, 1, 2


def crypto_ccm_check_iv(iv: Any) -> int:
    """0 when iv[0] (L' = L - 1) is 1..7, else -EINVAL."""
    ivb = u8_view(iv, "iv")
    if ivb.size != CCM_AES_IV_SIZE:
        raise ValueError(f"iv: CCM IV must be 16 bytes, got {ivb.size}")
    return 0 if 1 <= int(ivb[0]) <= 7 else -errno.EINVAL


def crypto_ccm_check_authsize(authsize: int) -> int:
    """0 for authsize 4, 6, ..., 16, else -EINVAL (``crypto_ccm_setauthsize``)."""
    return 0 if authsize in (4, 6, 8, 10, 12, 14, 16) else -errno.EINVAL


def crypto_rfc4309_check_authsize(authsize: int) -> int:
    """0 for authsize 8, 12 or 16, else -EINVAL (``crypto_rfc4309_setauthsize``)."""
    return 0 if authsize in (8, 12, 16) else -errno.EINVAL


def rfc4309_split_key(key: Any, keylen: int | None = None) -> tuple[int, bytes, bytes]:
    """Split an rfc4309 key into (ret, AES key, 3-byte salt); keylen < 3
    gives -EINVAL (``crypto_rfc4309_setkey``)."""
    kb = as_key_bytes(key)
    if keylen is None:
        keylen = len(kb)
    if keylen < 0 or keylen > len(kb):
        raise ValueError(f"keylen: {keylen} outside the key buffer of {len(kb)} bytes")
    if keylen < 3:
        return -errno.EINVAL, b"", b""
    return 0, kb[:keylen - 3], kb[keylen - 3:keylen]


def rfc4309_iv(salt: bytes, iv: Any) -> bytes:
    """The inner ccm IV of rfc4309: [L' = 3] ‖ salt(3) ‖ iv(8) ‖ 0000
    (``crypto_rfc4309_crypt``; the counter bytes are zeroed by ccm anyway)."""
    ivb = as_key_bytes(iv, "iv")
    if len(salt) != 3 or len(ivb) != 8:
        raise ValueError("salt/iv: rfc4309 needs a 3-byte salt and an 8-byte IV")
    return b"\x03" + bytes(salt) + ivb + b"\x00\x00\x00\x00"


def ccm_format_input(iv: Any, authsize: int, assoclen: int,
                     cryptlen: int) -> tuple[int, bytes]:
    """Build B0 (models ``format_input`` + ``set_msg_len``): returns
    (0, b0) or (-EOVERFLOW, b"").  The IV's counter bytes are taken as
    zero, as ``crypto_ccm_init_crypt`` leaves them."""
    ivb = bytearray(u8_view(iv, "iv").tobytes())
    if len(ivb) != CCM_AES_IV_SIZE:
        raise ValueError(f"iv: CCM IV must be 16 bytes, got {len(ivb)}")
    if cryptlen < 0 or assoclen < 0:
        raise ValueError("assoclen/cryptlen: must be non-negative")
    lsize = (ivb[0] & 7) + 1
    ivb[16 - lsize:] = bytes(lsize)
    ivb[0] |= 8 * ((authsize - 2) // 2)
    if assoclen:
        ivb[0] |= 64
    csize = min(lsize, 4)
    if lsize < 4 and cryptlen > (1 << (8 * lsize)):
        return -errno.EOVERFLOW, b""
    # The kernel stores the low csize bytes of a be32 (cryptlen is a u32).
    ivb[16 - csize:] = (cryptlen & 0xFFFFFFFF).to_bytes(4, "big")[4 - csize:]
    return 0, bytes(ivb)


def ccm_format_adata(assoclen: int) -> bytes:
    """The AD length encoding (models ``format_adata``)."""
    if assoclen < 65280:
        return assoclen.to_bytes(2, "big")
    return b"\xff\xfe" + (assoclen & 0xFFFFFFFF).to_bytes(4, "big")


class CcmBase(abc.ABC):
    """The CCM frame shared by the generic request and the one on the
    library's pieces: B0 and the AD length into the MAC, the AD phase, the
    payload MACed as plaintext, the tag masked by the first counter block.
    A subclass's ``_start(a0)`` sets ``_ctr``, ``_mac`` (``update``, ``pad``,
    ``final``) and ``_mask`` (an int); its ``_crypt(s, d)`` runs the
    counter stream over one piece."""

    __slots__ = (
        "_adlen",
        "_assoclen",
        "_authsize",
        "_cryptlen",
        "_ctlen",
        "_ctr",
        "_decrypt",
        "_mac",
        "_mask",
        "_phase",
        "_tag",
    )

    @abc.abstractmethod
    def _start(self, a0: bytes) -> None:
        """Start the counter stream at ``a0`` and the MAC."""

    @abc.abstractmethod
    def _crypt(self, s: np.ndarray, d: np.ndarray) -> None:
        """Run the counter stream over one piece."""

    def _format(self, iv: Any, authsize: int, assoclen: int, cryptlen: int,
                decrypt: bool) -> int:
        """The kernel's IV and length checks, then the stream and the MAC
        started; 0 or the errno ``crypto_ccm_init_crypt`` would return."""
        ret = crypto_ccm_check_iv(iv)
        if ret:
            return ret
        ret, b0 = ccm_format_input(iv, authsize, assoclen, cryptlen)
        if ret:
            return ret
        lsize = b0[0] % 8 + 1
        self._start(u8_view(iv, "iv").tobytes()[:16 - lsize] + bytes(lsize))
        self._mac.update(b0)
        if assoclen:
            self._mac.update(ccm_format_adata(assoclen))
        self._authsize = authsize
        self._assoclen = assoclen
        self._cryptlen = cryptlen
        self._adlen = 0
        self._ctlen = 0
        self._decrypt = decrypt
        self._phase = _AD
        self._tag: bytes | None = None
        return 0

    def update_ad(self, data: Any) -> None:
        """Feed associated data (assoclen bytes in total, before the data)."""
        if self._phase != _AD:
            raise ValueError("update_ad: associated data must come before the data")
        src = u8_view(data, "data")
        if self._adlen + src.size > self._assoclen:
            raise ValueError("update_ad: more associated data than assoclen")
        self._mac.update(src)
        self._adlen += src.size

    def _end_ad(self) -> None:
        if self._adlen != self._assoclen:
            raise ValueError(f"ccm: got {self._adlen} bytes of AD, assoclen is "
                             f"{self._assoclen}")
        self._mac.pad()
        self._phase = _DATA

    def update(self, src: Any, dst: Any) -> None:
        """En/decrypt a piece of the payload from src into dst (same length).
        Encryption MACs the plaintext before it is overwritten (in place);
        decryption MACs the plaintext it produced."""
        if self._phase == _DONE:
            raise ValueError("update: request already finalized")
        if self._phase == _AD:
            self._end_ad()
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        if d.size != s.size:
            raise ValueError(f"dst: length {d.size} differs from src length {s.size}")
        if self._ctlen + s.size > self._cryptlen:
            raise ValueError("update: more data than cryptlen")
        if s.size:
            if self._decrypt:
                self._crypt(s, d)
                self._mac.update(d)
            else:
                self._mac.update(s)
                self._crypt(s, d)
        self._ctlen += s.size

    def _compute(self) -> bytes:
        """The authsize-byte tag, computed once; ends the request."""
        if self._tag is None:
            if self._phase == _AD:
                self._end_ad()
            if self._ctlen != self._cryptlen:
                raise ValueError(f"ccm: got {self._ctlen} bytes of data, cryptlen is "
                                 f"{self._cryptlen}")
            t = int.from_bytes(self._mac.final(), "big") ^ self._mask
            self._tag = t.to_bytes(16, "big")[:self._authsize]
            self._phase = _DONE
        return self._tag

    def _check_tag(self, tag: Any) -> bytes:
        tb = u8_view(tag, "tag").tobytes()
        if len(tb) != self._authsize:
            raise ValueError(f"tag: expected {self._authsize} bytes, got {len(tb)}")
        return tb


class Ccm(CcmBase):
    """One ccm(aes) request, incremental (see the module docstring).

    Build it with :meth:`new`, which returns the kernel's error for a bad IV
    or an unrepresentable length; the constructor raises ValueError for the
    same conditions.
    """

    __slots__ = ("_cipher",)

    def __init__(self, cipher: BlockCipher, iv: Any, authsize: int, assoclen: int,
                 cryptlen: int, *, decrypt: bool = False) -> None:
        ret = self._setup(cipher, iv, authsize, assoclen, cryptlen, decrypt)
        if ret:
            raise ValueError(f"ccm: request rejected with {errno.errname(ret)}")

    @classmethod
    def new(cls, cipher: BlockCipher, iv: Any, authsize: int, assoclen: int,
            cryptlen: int, *, decrypt: bool = False) -> tuple[int, Ccm | None]:
        """Return (0, request) or (-EINVAL / -EOVERFLOW, None), as
        ``crypto_ccm_init_crypt`` and ``crypto_ccm_auth`` would fail.
        ``cryptlen`` is the payload length (without the tag)."""
        obj = cls.__new__(cls)
        ret = obj._setup(cipher, iv, authsize, assoclen, cryptlen, decrypt)
        return (ret, None) if ret else (0, obj)

    def _setup(self, cipher: BlockCipher, iv: Any, authsize: int, assoclen: int,
               cryptlen: int, decrypt: bool) -> int:
        if not isinstance(cipher, BlockCipher):
            raise TypeError("cipher: expected a BlockCipher")
        if cipher.block_size != 16:
            raise ValueError(f"cipher: ccm needs a 16-byte block, {cipher.cra_name} has "
                             f"{cipher.block_size}")
        if not 1 <= authsize <= 16:
            raise ValueError(f"authsize: must be 1..16, got {authsize}")
        self._cipher = cipher
        return self._format(iv, authsize, assoclen, cryptlen, decrypt)

    def _start(self, a0: bytes) -> None:
        self._ctr = Ctr(self._cipher, a0)
        mask = np.zeros(16, dtype=np.uint8)
        self._ctr.update(_ZERO16, mask)
        self._mask = int.from_bytes(mask.tobytes(), "big")
        self._mac = CbcMac(self._cipher)

    def _crypt(self, s: np.ndarray, d: np.ndarray) -> None:
        self._ctr.update(s, d)

    def set_decrypt(self, decrypt: bool) -> None:
        """Choose the direction of the next ``update`` (the lib/crypto
        faces learn it from which ``*_update`` function is called)."""
        self._decrypt = decrypt

    def finalize(self) -> bytes:
        """Return the authsize-byte tag (idempotent; ends the request)."""
        return self._compute()

    def verify(self, tag: Any) -> bool:
        """Compare an authsize-byte tag in constant time."""
        tb = self._check_tag(tag)
        return hmac.compare_digest(self.finalize(), tb)
