"""ECB mode over AES (the kernel's crypto/ecb.c, "ecb(aes)"), and the
partial-block carrying shared by every block-mode core in ``ciphers``.

Carrying partial blocks. The kernel's skcipher walk hands a mode whole
blocks at every step but the last, so a kernel mode never sees half a
block. The cores here must accept any split (1 byte at a time included)
and still produce what one call on the whole buffer produces. A block can
only be encrypted once all its 16 bytes are known, so :class:`BlockModeCore`
copies the bytes of an incomplete block into an internal buffer and
remembers the ``dst`` views they belong to; when the block completes, its
output is written into those remembered views. Consequence for callers:
the output of a carried partial block appears in ``dst`` only when a later
call completes the block, so a caller that hands in a temporary bounce
buffer must hand in whole blocks (the kernel's walk always does).
"""

from __future__ import annotations

import abc

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, BlockCipher, u8_view

__all__ = ["BlockModeCore", "Ecb", "check_pair"]

BS = AES_BLOCK_SIZE


def check_pair(src: object, dst: object) -> tuple[np.ndarray, np.ndarray]:
    """Normalise a ``(src, dst)`` pair: same length, dst writable."""
    s = u8_view(src, "src")
    d = u8_view(dst, "dst", writable=True)
    if d.size != s.size:
        raise ValueError(f"dst: length {d.size} differs from src length {s.size}")
    return s, d


class BlockModeCore(abc.ABC):
    """Base of the block-mode cores: whole blocks go to :meth:`_blocks`
    immediately, an incomplete block is carried (see the module docstring).

    Subclasses implement ``_blocks(src, dst)`` for a whole number of blocks
    (dst may be src). :attr:`processed` counts the bytes already turned
    into output; :attr:`pending` the bytes carried.  ``bs`` is the block
    size (16, or 8 for des3_ede).
    """

    def __init__(self, bs: int = BS) -> None:
        self._bs = bs
        self._pend = np.zeros(bs, dtype=np.uint8)
        self._npend = 0
        self._pend_dst: list[np.ndarray] = []
        self.processed = 0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete block carried to the next call."""
        return self._npend

    @abc.abstractmethod
    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Process a whole number of blocks (dst may be src)."""

    def _run_blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        if src.size:
            self._blocks(src, dst)
            self.processed += src.size

    @staticmethod
    def _scatter(out: np.ndarray, views: list[np.ndarray]) -> None:
        pos = 0
        for v in views:
            v[:] = out[pos:pos + v.size]
            pos += v.size

    def update(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Process ``src`` into ``dst`` (same length, dst may be src)."""
        s, d = check_pair(src, dst)
        self._feed(s, d)

    def _feed(self, s: np.ndarray, d: np.ndarray) -> None:
        n = s.size
        pos = 0
        bs = self._bs
        if self._npend and n:
            take = min(bs - self._npend, n)
            self._pend[self._npend:self._npend + take] = s[:take]
            self._pend_dst.append(d[:take])
            self._npend += take
            pos = take
            if self._npend == bs:
                out = np.empty(bs, dtype=np.uint8)
                self._run_blocks(self._pend, out)
                self._scatter(out, self._pend_dst)
                self._npend = 0
                self._pend_dst = []
        whole = (n - pos) // bs * bs
        self._run_blocks(s[pos:pos + whole], d[pos:pos + whole])
        pos += whole
        if pos < n:
            self._pend[:n - pos] = s[pos:]
            self._pend_dst = [d[pos:]]
            self._npend = n - pos

    def _take_pending(self, s: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Join the carried bytes with ``s`` into one contiguous array and
        return it with the list of dst views its output belongs to."""
        if not self._npend:
            return s.copy(), [d]
        data = np.concatenate([self._pend[:self._npend], s])
        views = [*self._pend_dst, d]
        self._npend = 0
        self._pend_dst = []
        return data, views

    def _feed_to_tail(self, s: np.ndarray, d: np.ndarray,
                      tail_len: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Process everything but the last ``tail_len`` bytes of (carried
        bytes ‖ s), which must end on a block boundary; return those last
        bytes as a small contiguous copy with the dst views they belong to.
        The bulk thus goes straight from s to d without a temporary."""
        cut = s.size - tail_len
        if cut >= 0:
            self._feed(s[:cut], d[:cut])
            return s[cut:].copy(), [d[cut:]]
        # The tail reaches back into the carried bytes; since the data before
        # the tail is block aligned, the tail is then all of them plus s.
        return self._take_pending(s, d)

    def finish(self) -> None:
        """Check that no partial block is left (ValueError otherwise): the
        kernel rejects such a request up front with -EINVAL."""
        if self._npend:
            raise ValueError(f"{self._npend} bytes of an incomplete block are left over")


class Ecb(BlockModeCore):
    """Incremental ECB (``ecb(aes)``, ``ecb(des3_ede)``, …): blocks are
    independent. ECB has no IV; :meth:`next_iv` returns ``b""``."""

    def __init__(self, cipher: BlockCipher, encrypt: bool = True) -> None:
        if not isinstance(cipher, BlockCipher):
            raise TypeError("cipher: expected a BlockCipher")
        super().__init__(cipher.block_size)
        self._fn = cipher.encrypt_blocks if encrypt else cipher.decrypt_blocks

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        self._fn(src, dst)

    def next_iv(self) -> bytes:
        """ECB has no IV (ivsize 0)."""
        return b""
