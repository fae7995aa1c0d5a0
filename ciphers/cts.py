"""CBC with ciphertext stealing (the kernel's crypto/cts.c,
"cts(cbc(aes))").

The kernel implements the CS3 variant of NIST SP 800-38A's addendum (the
RFC 2040 / RFC 3962 form): for a message longer than one block the last two
ciphertext blocks are always swapped, even when the length is a multiple of
16; the final, possibly partial, block is C(n-1) truncated, and the block
before it is C(n) computed over the zero-padded last plaintext. A message of
exactly 16 bytes is plain CBC; shorter ones are rejected (-EINVAL).

IV output, as ``crypto_cts_encrypt()``/``crypto_cts_decrypt()`` leave
``req->iv`` after their inner cbc(aes) sub-requests: the ciphertext block at
offset ``round_up(len, 16) - 32``, i.e. the second-to-last block of the
ciphertext as stored (C(n) after the swap), in both directions; for 16-byte
messages, the ciphertext block.
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import AES_BLOCK_SIZE, BlockCipher
from ciphers.cbc import Cbc
from ciphers.ecb import BlockModeCore, check_pair

__all__ = ["Cts", "cts_final_len"]

BS = AES_BLOCK_SIZE


def cts_final_len(cryptlen: int) -> int:
    """Bytes the final step must cover for a ``cryptlen``-byte request: the
    last two (CS3-swapped) blocks, the last one possibly partial; the whole
    message when it is at most one block."""
    if cryptlen <= BS:
        return cryptlen
    return BS + (cryptlen - 1) % BS + 1


class Cts:
    """Incremental CTS-CBC over a CBC body core.

    ``update(src, dst)`` streams the CBC part (any split, partial blocks
    carried); ``final(src, dst)`` must receive, together with carried
    bytes, at least :func:`cts_final_len` ``(cryptlen)`` bytes and ends the
    message (ValueError otherwise, and for messages shorter than 16 bytes).

    ``body`` is the CBC core for the leading blocks (default: the generic
    :class:`~ciphers.cbc.Cbc`; the accelerated twin passes its own); the
    two stolen blocks always go through ``cipher``.
    """

    def __init__(self, cipher: BlockCipher, iv: bytes | np.ndarray, encrypt: bool = True,
                 body: BlockModeCore | None = None) -> None:
        if not isinstance(cipher, BlockCipher):
            raise TypeError("cipher: expected a BlockCipher")
        if cipher.block_size != BS:
            raise ValueError(f"cipher: the model's CTS takes 16-byte blocks, "
                             f"{cipher.cra_name} has {cipher.block_size}")
        self._cipher = cipher
        self.encrypt = encrypt
        self._body = body if body is not None else Cbc(cipher, iv, encrypt)
        self.finalized = False

    @property
    def processed(self) -> int:
        """Bytes already turned into output."""
        return self._body.processed

    @property
    def pending(self) -> int:
        """Bytes of an incomplete block carried to the next call."""
        return self._body.pending

    @property
    def iv(self) -> bytes:
        """Current CBC chaining value; after :meth:`final`, the kernel's IV
        output."""
        return self._body.iv  # type: ignore[attr-defined, no-any-return]

    def next_iv(self) -> bytes:
        """The kernel's IV output (valid once :meth:`final` has run)."""
        return self.iv

    def update(self, src: np.ndarray, dst: np.ndarray) -> None:
        """CBC-process a leading part of the message."""
        if self.finalized:
            raise ValueError("CTS message already finalized")
        self._body.update(src, dst)

    def final(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Process the end of the message, swapping the last two blocks."""
        s, d = check_pair(src, dst)
        if self.finalized:
            raise ValueError("CTS message already finalized")
        body = self._body
        have = body.pending + s.size
        total = body.processed + have
        if total < BS:
            raise ValueError(f"CTS message of {total} bytes is shorter than 16")
        need = cts_final_len(total)
        if total > BS and have < need:
            raise ValueError(f"final: the last two blocks must reach final() together "
                             f"({need} bytes)")
        if total <= BS:
            body.update(s, d)  # a single block is plain CBC
            self.finalized = True
            return
        data, views = body._feed_to_tail(s, d, need)
        lastn = need - BS
        out = np.empty(need, dtype=np.uint8)
        enc, dec = self._cipher.encrypt_blocks, self._cipher.decrypt_blocks
        prev = np.frombuffer(body.iv, dtype=np.uint8)  # type: ignore[attr-defined]
        a, b = data[:BS], data[BS:]
        if self.encrypt:
            c1 = a ^ prev
            enc(c1, c1)  # C(n-1): an ordinary CBC block
            cn = np.zeros(BS, dtype=np.uint8)
            cn[:lastn] = b
            cn ^= c1
            enc(cn, cn)  # C(n): zero-padded last plaintext chained to C(n-1)
            out[:BS] = cn
            out[BS:] = c1[:lastn]
        else:
            dn = np.empty(BS, dtype=np.uint8)
            dec(a, dn)
            c1 = dn.copy()
            c1[:lastn] = b  # rebuild C(n-1) from its stored prefix
            pn = dn[:lastn] ^ b
            p1 = np.empty(BS, dtype=np.uint8)
            dec(c1, p1)
            p1 ^= prev
            out[:BS] = p1
            out[BS:] = pn
        # Both directions end with the stored C(n) as the chaining value.
        cn_stored = out[:BS] if self.encrypt else a
        body.iv = cn_stored.tobytes()  # type: ignore[attr-defined]
        body.processed += need
        body._scatter(out, views)
        self.finalized = True
