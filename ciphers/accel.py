"""Accelerated twins of the skcipher cores: the same interfaces as the
generic cores, delegating the mode itself to ``cryptography``'s streaming
contexts (OpenSSL with AES-NI/VAES). They play the part of the kernel's
arch drivers (aesni_intel, chacha-x86_64, ...) and are what the generic
cores are checked against, as testmgr checks a driver against the generic
implementation.

Where the library does not fit the kernel's semantics:

* CTR / ChaCha20 / XTS contexts accept ``update_into`` with an output of
  exactly the input length, so they write straight into ``dst`` (in place
  goes through :func:`ciphers.aes.lib_update_into`, as cryptography 51
  refuses overlapping buffers); ECB/CBC need ``len + 15`` bytes, so all blocks but the last go
  straight into ``dst`` and the last through a scratch (as in ciphers.aes).
* ChaCha20: ``cryptography`` refuses to wrap the 32-bit block counter, the
  kernel wraps it silently; the twin opens a fresh context at counter 0 at
  the wrap point.
* XChaCha20: no library offers the kernel's layout (pycryptodome clears the
  high position word), so the subkey is HChaCha20 taken from one library
  ChaCha20 block (:class:`HChaCha20Lib`, its context kept per key) and the stream is
  ``cryptography``'s ChaCha20 with the kernel's real IV.
* XTS: a ``cryptography`` XTS context restarts the data unit on every
  ``update``, so :class:`AccelXts` is one-shot (``final`` only). It rejects
  AES-192-XTS and equal key halves, which the kernel accepts; those keys
  fall back to the generic core.
* CTS: no library mode; the CBC body is the accelerated CBC and the two
  stolen blocks go through the block cipher (as the kernel's cts template
  does over an arch cbc(aes)).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:    # what Cipher.encryptor()/decryptor() end in (cryptography >= 42)
    from cryptography.hazmat.bindings._rust import openssl as _rust_openssl
    _create_enc = _rust_openssl.ciphers.create_encryption_ctx
    _create_dec = _rust_openssl.ciphers.create_decryption_ctx
except (ImportError, AttributeError):  # pragma: no cover - an older or newer layout
    _create_enc = _create_dec = None

from ciphers.aes import (
    AES_BLOCK_SIZE,
    AesBlockCipher,
    BlockCipher,
    aes_check_keylen,
    as_key_bytes,
    lib_update_into,
    u8_view,
)
from ciphers.chacha import (
    CHACHA_BLOCK_SIZE,
    CHACHA_IV_SIZE,
    CHACHA_KEY_SIZE,
    XCHACHA_IV_SIZE,
    xchacha_real_iv,
)
from ciphers.cts import Cts
from ciphers.ecb import BlockModeCore, check_pair
from ciphers.essiv import Essiv
from ciphers.xts import XTS_KEYSIZES, Xts, xts_verify_key

__all__ = [
    "AccelCbc",
    "AccelChaCha20",
    "AccelCtr",
    "AccelCts",
    "AccelEcb",
    "AccelEssivCbc",
    "AccelXChaCha20",
    "AccelXts",
    "HChaCha20Lib",
    "hchacha20_lib",
    "lib_cipher_ctx",
    "unit_scratch",
]

BS = AES_BLOCK_SIZE
_M128 = (1 << 128) - 1


def _aes_key(key: Any) -> bytes:
    kb = as_key_bytes(key)
    if not aes_check_keylen(len(kb)):
        raise ValueError(f"key: AES key must be 16, 24 or 32 bytes, got {len(kb)}")
    return kb


def _iv16(iv: Any, what: str, size: int = BS) -> bytes:
    ivb = u8_view(iv, "iv")
    if ivb.size != size:
        raise ValueError(f"iv: {what} IV must be {size} bytes, got {ivb.size}")
    return ivb.tobytes()


#: ``algorithm(key)`` -> a ``cryptography`` block cipher algorithm object.
#: The default is AES (key length checked); the other ciphers' drivers pass
#: ``algorithms.SM4``, ciphers.des.des3_ede_algorithm, … with keys their
#: setkey has checked.
Algorithm = Callable[[bytes], Any]


def lib_cipher_ctx(algorithm: Any, mode: Any, encrypt: bool) -> Any:
    """A ``cryptography`` context for an ``algorithm`` object and a ``mode``
    this project has already checked against each other (key sizes at
    setkey, IV length here).  ``Cipher(...).encryptor()`` repeats those
    checks through abstract-base-class isinstance tests, which cost more
    per request than OpenSSL's own context set-up; so the context comes
    from the function those methods end in, and from ``Cipher`` where a
    release lays its internals out differently."""
    if _create_enc is None:
        c = Cipher(algorithm, mode)
        return c.encryptor() if encrypt else c.decryptor()
    return _create_enc(algorithm, mode) if encrypt else _create_dec(algorithm, mode)


# Where a one-shot library call that takes a whole request (an XTS data
# unit, a CCM message) puts its output when src and dst overlap (the
# library refuses overlapping buffers): kept, and grown to the largest such
# request up to UNIT_SCRATCH_MAX bytes, so an in-place request costs one
# copy and no fresh pages.
UNIT_SCRATCH_MAX = 1 << 24
_unit_scratch = np.empty(0, dtype=np.uint8)


def unit_scratch(n: int) -> np.ndarray | None:
    """A kept scratch array of ``n`` bytes, or None above UNIT_SCRATCH_MAX
    (the caller then lets the library return fresh bytes).  Valid until
    the next call."""
    global _unit_scratch
    if n > UNIT_SCRATCH_MAX:
        return None
    if _unit_scratch.size < n:
        _unit_scratch = np.empty(max(n, min(2 * _unit_scratch.size, UNIT_SCRATCH_MAX)),
                                 dtype=np.uint8)
    return _unit_scratch[:n]


def _algorithm(key: Any, algorithm: Algorithm | None) -> Any:
    if algorithm is None:
        return algorithms.AES(_aes_key(key))
    return algorithm(as_key_bytes(key))


class _AccelBlockMode(BlockModeCore):
    """A cryptography ECB/CBC context behind the BlockModeCore carrying."""

    def __init__(self, ctx: Any, bs: int = BS) -> None:
        super().__init__(bs)
        self._ctx = ctx
        self._scratch = bytearray(2 * bs)
        self._sv = np.frombuffer(self._scratch, dtype=np.uint8)

    def _lib_blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        n = src.size
        bs = self._bs
        if n > bs:
            lib_update_into(self._ctx, src[:n - bs], dst)
        self._ctx.update_into(src[n - bs:], self._scratch)
        dst[n - bs:] = self._sv[:bs]


class AccelEcb(_AccelBlockMode):
    """ECB through one reused ``cryptography`` ECB context (ecb-aes-openssl,
    ecb-des3_ede-openssl, …)."""

    def __init__(self, key: bytes | np.ndarray, encrypt: bool = True, *,
                 algorithm: Algorithm | None = None) -> None:
        alg = _algorithm(key, algorithm)
        c = Cipher(alg, modes.ECB())
        super().__init__(c.encryptor() if encrypt else c.decryptor(), alg.block_size // 8)

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        self._lib_blocks(src, dst)

    def next_iv(self) -> bytes:
        """ECB has no IV."""
        return b""


class AccelCbc(_AccelBlockMode):
    """CBC through one streaming ``cryptography`` CBC context
    (cbc-aes-openssl). :attr:`iv` tracks the last ciphertext block; when
    decrypting in place it is saved before the library overwrites it."""

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray,
                 encrypt: bool = True, *, algorithm: Algorithm | None = None) -> None:
        alg = _algorithm(key, algorithm)
        bs = alg.block_size // 8
        ivb = _iv16(iv, "CBC", bs)
        c = Cipher(alg, modes.CBC(ivb))
        super().__init__(c.encryptor() if encrypt else c.decryptor(), bs)
        self.encrypt = encrypt
        self.iv = ivb

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        if self.encrypt:
            self._lib_blocks(src, dst)
            self.iv = dst[-self._bs:].tobytes()
        else:
            last = src[-self._bs:].tobytes()
            self._lib_blocks(src, dst)
            self.iv = last

    def next_iv(self) -> bytes:
        """The kernel's CBC IV output: the last ciphertext block."""
        return self.iv


class AccelCtr:
    """CTR through one streaming ``cryptography`` CTR context
    (ctr-aes-openssl); the library carries partial blocks itself and its
    128-bit big-endian counter wraps like ``crypto_inc()``."""

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray, *,
                 algorithm: Algorithm | None = None) -> None:
        alg = _algorithm(key, algorithm)
        if alg.block_size != 8 * BS:
            raise ValueError("algorithm: the library's CTR needs 16-byte blocks")
        ivb = _iv16(iv, "CTR")
        self._ctx = Cipher(alg, modes.CTR(ivb)).encryptor()
        self._counter0 = int.from_bytes(ivb, "big")
        self.consumed = 0

    @property
    def counter(self) -> int:
        """Next counter value (a started partial block counts as used)."""
        return (self._counter0 + -(-self.consumed // BS)) & _M128

    @property
    def iv(self) -> bytes:
        """The kernel's IV output: the next counter block."""
        return self.counter.to_bytes(BS, "big")

    def next_iv(self) -> bytes:
        """Same as :attr:`iv`."""
        return self.iv

    def update(self, src: np.ndarray, dst: np.ndarray) -> None:
        """XOR src with the keystream into dst (any length, dst may be src)."""
        s, d = check_pair(src, dst)
        if s.size:
            lib_update_into(self._ctx, s, d)
            self.consumed += s.size


class AccelChaCha20:
    """ChaCha20 through ``cryptography`` (chacha20-openssl) with the kernel's
    16-byte IV (LE32 counter ‖ nonce), wrapping the counter like the
    kernel instead of failing like the library."""

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray) -> None:
        # The driver hands in bytes (its key schedule, its IV copy): only
        # other callers' arrays and views need converting.
        kb = key if type(key) is bytes else as_key_bytes(key)
        ivb = iv if type(iv) is bytes else as_key_bytes(iv, "iv")
        if len(kb) != CHACHA_KEY_SIZE:
            raise ValueError(f"key: ChaCha20 key must be 32 bytes, got {len(kb)}")
        if len(ivb) != CHACHA_IV_SIZE:
            raise ValueError(f"iv: ChaCha20 IV must be 16 bytes, got {len(ivb)}")
        self._start(kb, ivb)

    def _start(self, kb: bytes, ivb: bytes) -> None:
        """The stream at (32-byte key, 16-byte IV), both checked."""
        self._key = kb
        self._nonce = ivb[4:]
        self._counter0 = counter = int.from_bytes(ivb[:4], "little")
        self._ctx = lib_cipher_ctx(algorithms.ChaCha20(kb, ivb), None, True)
        self._room = ((1 << 32) - counter) * CHACHA_BLOCK_SIZE  # bytes before the wrap
        self.consumed = 0

    def _open(self, counter: int) -> None:
        iv = counter.to_bytes(4, "little") + self._nonce
        self._ctx = lib_cipher_ctx(algorithms.ChaCha20(self._key, iv), None, True)
        self._room = ((1 << 32) - counter) * CHACHA_BLOCK_SIZE  # bytes before the wrap

    @property
    def counter(self) -> int:
        """Block counter of the next unused block (mod 2^32)."""
        return (self._counter0 + -(-self.consumed // CHACHA_BLOCK_SIZE)) & 0xFFFFFFFF

    @property
    def iv(self) -> bytes:
        """16-byte IV continuing the stream at the next block."""
        return self.counter.to_bytes(4, "little") + self._nonce

    def next_iv(self) -> bytes:
        """Same as :attr:`iv`. The kernel's chacha20 does not write it back."""
        return self.iv

    def update(self, src: np.ndarray, dst: np.ndarray) -> None:
        """XOR src with the keystream into dst (any length, dst may be src)."""
        s, d = check_pair(src, dst)
        n = s.size
        if n <= self._room and not np.may_share_memory(s, d):
            # The usual step: out of place, no counter wrap inside it.
            self._ctx.update_into(s, d)
            self._room -= n
            self.consumed += n
            return
        pos = 0
        while pos < n:
            if self._room == 0:
                self._open(0)  # the kernel's state word 12 wraps to 0
            take = min(n - pos, self._room)
            lib_update_into(self._ctx, s[pos:pos + take], d[pos:pos + take])
            self._room -= take
            pos += take
        self.consumed += n


_SIGMA_WORDS = struct.unpack("<4I", b"expand 32-byte k")
_WORDS4 = struct.Struct("<4I")
_WORDS16 = struct.Struct("<16I")
_WORDS8 = struct.Struct("<8I")
_ZERO_BLOCK = bytes(CHACHA_BLOCK_SIZE)


class HChaCha20Lib:
    """HChaCha20 under one key from the library's ChaCha20 block function.

    A ChaCha20 block is the permuted state plus the input state; HChaCha20
    is the permuted state's words 0..3 and 12..15 alone.  So one library
    block over the state (constants, key, ``nonce16`` as counter ‖ nonce)
    minus those input words (mod 2^32) gives HChaCha20 bit for bit,
    without the 80 Python-level quarter rounds of ciphers.chacha.hchacha20().
    The library context is made once per key (the accelerated xchacha20's
    key schedule) and re-aimed at each nonce (``reset_nonce``, cryptography
    >= 43), as the kernel keeps the key in the tfm and runs HChaCha20 per
    request; a context made per call costs more than the block itself."""

    __slots__ = ("_ctx", "key")

    def __init__(self, key: bytes) -> None:
        if type(key) is not bytes or len(key) != CHACHA_KEY_SIZE:
            raise ValueError("key: HChaCha20 key must be 32 bytes")
        self.key = key
        self._ctx = lib_cipher_ctx(algorithms.ChaCha20(key, bytes(CHACHA_IV_SIZE)), None, True)

    def __call__(self, nonce16: bytes) -> bytes:
        """The 32-byte HChaCha20 output for a 16-byte ``nonce16``."""
        ctx = self._ctx
        ctx.reset_nonce(nonce16)
        w = _WORDS16.unpack(ctx.update(_ZERO_BLOCK))
        n = _WORDS4.unpack(nonce16)
        return _WORDS8.pack((w[0] - _SIGMA_WORDS[0]) & 0xFFFFFFFF,
                            (w[1] - _SIGMA_WORDS[1]) & 0xFFFFFFFF,
                            (w[2] - _SIGMA_WORDS[2]) & 0xFFFFFFFF,
                            (w[3] - _SIGMA_WORDS[3]) & 0xFFFFFFFF,
                            (w[12] - n[0]) & 0xFFFFFFFF, (w[13] - n[1]) & 0xFFFFFFFF,
                            (w[14] - n[2]) & 0xFFFFFFFF, (w[15] - n[3]) & 0xFFFFFFFF)


def hchacha20_lib(key: bytes, nonce16: bytes) -> bytes:
    """HChaCha20(key, nonce16) from one library block (:class:`HChaCha20Lib`
    for a one-off key)."""
    return HChaCha20Lib(key)(nonce16)


class AccelXChaCha20(AccelChaCha20):
    """XChaCha20 with the kernel's 32-byte IV: HChaCha20 for the subkey (from
    the library's block, :class:`HChaCha20Lib`), then :class:`AccelChaCha20`
    with ``IV[24:32] ‖ IV[16:24]``.  ``key`` is the 32-byte key or the
    key's kept :class:`HChaCha20Lib` (the accelerated driver's schedule)."""

    def __init__(self, key: bytes | np.ndarray | HChaCha20Lib, iv: bytes | np.ndarray) -> None:
        if type(key) is HChaCha20Lib:
            hchacha = key
        else:
            kb = key if type(key) is bytes else as_key_bytes(key)
            if len(kb) != CHACHA_KEY_SIZE:
                raise ValueError(f"key: XChaCha20 key must be 32 bytes, got {len(kb)}")
            hchacha = HChaCha20Lib(kb)
        ivb = iv if type(iv) is bytes else as_key_bytes(iv, "iv")
        if len(ivb) != XCHACHA_IV_SIZE:
            raise ValueError(f"iv: XChaCha20 IV must be 32 bytes, got {len(ivb)}")
        # The subkey (32 bytes) and the real IV (16) are right by construction.
        self._start(hchacha(ivb[:16]), xchacha_real_iv(ivb))
        self.xiv = ivb

    @property
    def iv(self) -> bytes:
        """32-byte XChaCha IV continuing the stream at the next block."""
        return self.xiv[:24] + self.counter.to_bytes(4, "little") + self.xiv[28:32]


class AccelXts:
    """One-shot XTS (xts-aes-openssl): :meth:`final` processes a whole data
    unit (≥ 16 bytes) in one ``cryptography`` XTS call. Keys the library
    refuses (48 bytes, equal halves) use the generic :class:`Xts`."""

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray,
                 encrypt: bool = True, *, forbid_weak_keys: bool = False) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in XTS_KEYSIZES:
            raise ValueError(f"key: XTS key must be 32, 48 or 64 bytes, got {len(kb)}")
        if xts_verify_key(kb, forbid_weak_keys):
            raise ValueError("key: the two XTS key halves are identical")
        self.iv = _iv16(iv, "XTS")
        self.encrypt = encrypt
        self._key = kb
        half = len(kb) // 2
        self.uses_library = len(kb) != 48 and kb[:half] != kb[half:]
        self.finalized = False

    def final(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Process the whole data unit (dst may be src)."""
        s, d = check_pair(src, dst)
        if self.finalized:
            raise ValueError("XTS data unit already finalized")
        if s.size < BS:
            raise ValueError(f"XTS data unit of {s.size} bytes is shorter than 16")
        if self.uses_library:
            c = Cipher(algorithms.AES(self._key), modes.XTS(self.iv))
            ctx = c.encryptor() if self.encrypt else c.decryptor()
            lib_update_into(ctx, s, d, stream=False)
        else:
            Xts(self._key, self.iv, self.encrypt).final(s, d)
        self.finalized = True

    def next_iv(self) -> bytes:
        """xts(aes) does not write an IV back: the IV as given."""
        return self.iv


class AccelCts(Cts):
    """cts(cbc-aes-openssl): :class:`~ciphers.cts.Cts` with an
    :class:`AccelCbc` body; ``cipher`` and ``algorithm`` give another
    16-byte cipher (cts(cbc-sm4-openssl))."""

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray,
                 encrypt: bool = True, *, cipher: BlockCipher | None = None,
                 algorithm: Algorithm | None = None) -> None:
        kb = _aes_key(key) if algorithm is None else as_key_bytes(key)
        super().__init__(cipher if cipher is not None else AesBlockCipher(kb), iv, encrypt,
                         body=AccelCbc(kb, iv, encrypt, algorithm=algorithm))


class AccelEssivCbc(AccelCbc):
    """essiv(cbc-aes-openssl,sha256): :class:`AccelCbc` from the
    ESSIV-encrypted IV (see ciphers.essiv)."""

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray, encrypt: bool = True,
                 *, essiv: Essiv | None = None) -> None:
        gen = essiv if essiv is not None else Essiv(key)
        self.essiv_iv = gen.generate_iv(iv)
        super().__init__(key, self.essiv_iv, encrypt)
