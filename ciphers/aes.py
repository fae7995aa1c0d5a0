"""AES block encryption of many blocks at once (the kernel's lib/crypto/aes.c
and the "aes" cipher of crypto/aes_generic.c).

The kernel's ``crypto_cipher_encrypt_one()`` works on one 16-byte block; the
model instead takes any number of whole blocks per call so that the modes
built on top (ECB, CBC decryption, CTR, XTS, the AEADs) can be vectorised.
The block function itself is delegated to ``cryptography``'s AES-ECB with a
context created once per key and reused for every call: ECB has no chaining
state, so a reused context is exactly the raw block function.

``update_into`` insists on an output buffer at least ``len + 15`` bytes long
(it reserves room for a partial block it might buffer). So all blocks but
the last are written straight into ``dst`` (which is 16 bytes longer than
that input) and only the last block goes through a small reusable scratch:
no large temporary is ever allocated, which also avoids the page faults a
fresh large ``bytes`` result costs on this VM.

Also here: :func:`u8_view`, the argument normaliser every core in
``ciphers`` uses for its ``src``/``dst`` parameters, and
:func:`lib_update_into`, the one place a ``cryptography`` context is asked
to write into our memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "AES_BLOCK_SIZE",
    "AES_KEYSIZES",
    "AesBlockCipher",
    "BlockCipher",
    "aes_check_keylen",
    "as_key_bytes",
    "lib_update_into",
    "u8_view",
]

AES_BLOCK_SIZE = 16
AES_KEYSIZES = (16, 24, 32)


def u8_view(buf: Any, name: str, *, writable: bool = False) -> np.ndarray:
    """Return ``buf`` as a 1-D contiguous uint8 numpy array without copying.

    Accepts numpy arrays (any dtype, reinterpreted as bytes), memoryviews,
    ``bytes`` and ``bytearray``. Raises TypeError naming ``name`` for
    anything else, for non-contiguous arrays, and for read-only buffers
    when ``writable`` is set.
    """
    if isinstance(buf, np.ndarray):
        if not buf.flags.c_contiguous:
            raise TypeError(f"{name}: array must be C-contiguous")
        arr = buf.reshape(-1).view(np.uint8) if buf.dtype != np.uint8 or buf.ndim != 1 else buf
    elif isinstance(buf, (bytes, bytearray, memoryview)):
        try:
            arr = np.frombuffer(buf, dtype=np.uint8)
        except (ValueError, TypeError) as e:
            raise TypeError(f"{name}: buffer must be contiguous bytes ({e})") from None
    else:
        raise TypeError(f"{name}: expected a uint8 numpy array or bytes-like, "
                        f"got {type(buf).__name__}")
    if writable and not arr.flags.writeable:
        raise TypeError(f"{name}: buffer is read-only")
    return arr


#: In-place library calls go through a scratch buffer this long at a time.
LIB_CHUNK = 1 << 16
_lib_scratch = np.empty(LIB_CHUNK + 2 * AES_BLOCK_SIZE, dtype=np.uint8)


def _addr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def lib_update_into(ctx: Any, src: np.ndarray, dst: np.ndarray, *,
                    stream: bool = True) -> None:
    """Feed ``src`` to the ``cryptography`` context ``ctx`` and put the
    output at the start of ``dst``.

    ``update_into`` forbids any overlap between its input and output from
    cryptography 51 on, an exact in-place call included (earlier releases
    allowed it). Every request the kernel calls "in place" overlaps, so an
    overlapping pair is fed a cache-sized piece at a time into a scratch
    buffer and copied back (safe when dst does not start after src: each
    piece is read before anything overwrites it); disjoint buffers keep the
    zero-copy call.  ``stream=False`` says the context takes its whole input
    in one call (an XTS data unit): it is then split only if it fits one
    piece, else ``update`` returns fresh bytes that are copied back.
    ``np.may_share_memory`` only compares bounds, so the test is O(1).
    """
    if not np.may_share_memory(src, dst):
        ctx.update_into(src, dst)
        return
    n = src.size
    if _addr(dst) > _addr(src) or (not stream and n > LIB_CHUNK):
        out = ctx.update(src)
        dst[:len(out)] = np.frombuffer(out, dtype=np.uint8)
        return
    scratch = _lib_scratch
    pos = 0
    for off in range(0, n, LIB_CHUNK):
        got = ctx.update_into(src[off:off + LIB_CHUNK], scratch)
        dst[pos:pos + got] = scratch[:got]
        pos += got


def as_key_bytes(key: Any, name: str = "key") -> bytes:
    """Return a key given as bytes-like or uint8 array as ``bytes``."""
    return u8_view(key, name).tobytes()


def aes_check_keylen(keylen: int) -> bool:
    """True when ``keylen`` is a valid AES key length (models the check of
    the kernel's ``aes_check_keylen()``, which returns -EINVAL otherwise)."""
    return keylen in AES_KEYSIZES


class BlockCipher:
    """A block cipher with an expanded key, encrypting/decrypting whole
    blocks: the kernel's ``struct crypto_cipher`` (crypto_cipher_setkey +
    crypto_cipher_encrypt_one/decrypt_one), generalised to many blocks per
    call.  ``algorithm`` is a ``cryptography`` block cipher algorithm
    object holding the key; its ECB context, created once and reused, is
    the raw block function (ECB keeps no chaining state).

    ``src`` and ``dst`` are uint8 arrays of the same length, a multiple of
    :attr:`block_size`; ``dst`` may be ``src`` (in place) but must not
    partially overlap it.  Subclasses check their key and name the cipher
    (:attr:`cra_name`, the kernel's cipher name: "aes", "des3_ede", …).
    """

    __slots__ = ("_dec", "_enc", "_scratch", "_scratch_view", "block_size", "key_length")

    cra_name = ""

    def __init__(self, algorithm: Any, key_length: int) -> None:
        cipher = Cipher(algorithm, modes.ECB())
        self._enc = cipher.encryptor()
        self._dec = cipher.decryptor()
        self.block_size = algorithm.block_size // 8
        self._scratch = bytearray(2 * self.block_size)
        self._scratch_view = np.frombuffer(self._scratch, dtype=np.uint8)
        self.key_length = key_length

    def _run(self, ctx: Any, src: Any, dst: Any) -> None:
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        n = s.size
        bs = self.block_size
        if n % bs:
            raise ValueError(f"src: length {n} is not a multiple of the "
                             f"{self.cra_name} block size ({bs})")
        if d.size != n:
            raise ValueError(f"dst: length {d.size} differs from src length {n}")
        if n == 0:
            return
        # All but the last block go straight into dst: dst is then at least
        # a block longer than that input, as update_into demands. Only the
        # last block passes through the small scratch.
        if n > bs:
            lib_update_into(ctx, s[:n - bs], d)
        ctx.update_into(s[n - bs:], self._scratch)
        d[n - bs:] = self._scratch_view[:bs]

    def encrypt_blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Encrypt ``len(src) // block_size`` independent blocks from src into dst."""
        self._run(self._enc, src, dst)

    def decrypt_blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Decrypt ``len(src) // block_size`` independent blocks from src into dst."""
        self._run(self._dec, src, dst)

    @property
    def encrypt_bytes(self) -> Any:
        """Raw bytes-to-bytes block encryption (a bound method taking bytes
        whose length is a multiple of the block size). For inherently serial
        loops (CBC encryption) where a numpy call per block would cost more
        than the cipher; callers must pass whole blocks only."""
        return self._enc.update

    def _one(self, ctx: Any, block: bytes | np.ndarray) -> bytes:
        b = u8_view(block, "block")
        if b.size != self.block_size:
            raise ValueError(f"block: must be {self.block_size} bytes, got {b.size}")
        out = np.empty(self.block_size, dtype=np.uint8)
        self._run(ctx, b, out)
        return out.tobytes()

    def encrypt_block(self, block: bytes | np.ndarray) -> bytes:
        """Encrypt one block and return it as bytes (models
        ``crypto_cipher_encrypt_one()``; convenient for tweaks, ESSIV, H)."""
        return self._one(self._enc, block)

    def decrypt_block(self, block: bytes | np.ndarray) -> bytes:
        """Decrypt one block and return it as bytes."""
        return self._one(self._dec, block)


class AesBlockCipher(BlockCipher):
    """AES with an expanded key (``aes_expandkey()`` + ``aes_encrypt()``/
    ``aes_decrypt()`` of lib/crypto/aes.c), many blocks per call. ``key``
    is 16, 24 or 32 bytes (ValueError otherwise)."""

    __slots__ = ()

    cra_name = "aes"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if not aes_check_keylen(len(kb)):
            raise ValueError(f"key: AES key must be 16, 24 or 32 bytes, got {len(kb)}")
        super().__init__(algorithms.AES(kb), len(kb))
