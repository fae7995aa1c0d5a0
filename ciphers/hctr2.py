"""HCTR2 (crypto/hctr2.c, "hctr2(aes)"): a wide-block, length-preserving
mode (fscrypt filenames), layout-agnostic and incremental.

    M ‖ N = plaintext (M the first 16 bytes), T = the 32-byte tweak (IV)
    MM = M ⊕ H(T, N);  UU = E_K(MM);  S = MM ⊕ UU ⊕ L
    V = XCTR_K(S, N);  U = UU ⊕ H(T, V);  ciphertext = U ‖ V

with L = E_K(1), POLYVAL keyed with E_K(0), and H(T, X) = POLYVAL over
the tweak-length block (le64(2·8·32 + 2 + [|X| mod 16 ≠ 0])), T, and X
padded with 0x01 and zeros to a block.  Decryption runs the same steps
with D_K.  The bulk must be hashed from src before anything can be
XCTR'd, so a driver walks the request twice: :class:`Hctr2` takes the
first pass's spans (``hash_in``), then the second pass's (``stream``,
which also hashes the output it has just written -- crypto/hctr2.c reads
dst a third time instead) and never needs the bulk in one buffer.  The
first block is the one handled apart (``block_offset`` 0, the bulk
starts at 16).

Key setup precomputes, like the kernel, the POLYVAL states after the two
possible tweak-length blocks.
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, AesBlockCipher, aes_check_keylen
from ciphers.polyval import Polyval, PolyvalKey
from ciphers.xctr import Xctr
from kmem import errno as E

__all__ = ["HCTR2_TWEAK_SIZE", "Hctr2", "Hctr2Key", "hctr2_setkey"]

BS = AES_BLOCK_SIZE
HCTR2_TWEAK_SIZE = 32
_PAD = np.array([1] + [0] * 15, dtype=np.uint8)


class Hctr2Key:
    """``hctr2_setkey``: the block cipher, POLYVAL key, L and the hashed
    tweak-length blocks."""

    def __init__(self, key: bytes) -> None:
        self.cipher = AesBlockCipher(key)
        self.polyval = PolyvalKey(self.cipher.encrypt_block(bytes(16)))
        self.L = self.cipher.encrypt_block(b"\x01" + bytes(15))
        self.tweaklen_state = {}
        for rem in (False, True):
            h = Polyval(self.polyval)
            blk = (HCTR2_TWEAK_SIZE * 8 * 2 + 2 + rem).to_bytes(8, "little") + bytes(8)
            h.update(np.frombuffer(blk, dtype=np.uint8))
            self.tweaklen_state[rem] = h.export()


def hctr2_setkey(key: bytes) -> tuple[int, Hctr2Key | None]:
    if not aes_check_keylen(len(key)):
        return -E.EINVAL, None
    return 0, Hctr2Key(key)


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(16, "little")


class Hctr2:
    """One HCTR2 request.  Call order: :meth:`begin` with the first block
    of src; :meth:`hash_in` over src's bulk; :meth:`stream` over the bulk
    src → dst; :meth:`finish` gives the first block of dst."""

    def __init__(self, key: Hctr2Key, tweak: bytes, encrypt: bool) -> None:
        if len(tweak) != HCTR2_TWEAK_SIZE:
            raise ValueError(f"tweak: must be {HCTR2_TWEAK_SIZE} bytes, got {len(tweak)}")
        self.key = key
        self.tweak = np.frombuffer(bytes(tweak), dtype=np.uint8)
        self.encrypt = encrypt
        self._stream: Xctr | None = None

    @staticmethod
    def block_offset(cryptlen: int) -> int:
        """Where the block handled apart sits: the first one."""
        return 0

    @staticmethod
    def bulk_offset(cryptlen: int) -> int:
        return BS

    def _hash_start(self) -> Polyval:
        h = Polyval(self.key.polyval, self.key.tweaklen_state[bool(self._bulk % BS)])
        h.update(self.tweak)
        return h

    def _hash_end(self, h: Polyval) -> bytes:
        if self._bulk % BS:
            h.update(_PAD[:BS - self._bulk % BS])
        return h.final()

    def begin(self, cryptlen: int, block: np.ndarray) -> None:
        self._bulk = cryptlen - BS
        self._first = bytes(block)
        self._h = self._hash_start()

    def hash_in(self, view: np.ndarray) -> None:
        self._h.update(view)

    def _middle(self) -> None:
        mm = _xor(self._first, self._hash_end(self._h))
        c = self.key.cipher
        uu = c.encrypt_block(mm) if self.encrypt else c.decrypt_block(mm)
        self._uu = uu
        self._stream = Xctr(c, _xor(_xor(mm, uu), self.key.L))
        self._h = self._hash_start()

    def stream(self, src: np.ndarray, dst: np.ndarray) -> None:
        if self._stream is None:
            self._middle()
        self._stream.update(src, dst)
        self._h.update(dst)

    def finish(self) -> bytes:
        if self._stream is None:       # no bulk: the stream pass had nothing
            self._middle()
        return _xor(self._uu, self._hash_end(self._h))

    def next_iv(self) -> bytes:
        """hctr2 writes no IV back."""
        return bytes(self.tweak)
