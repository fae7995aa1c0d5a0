"""CBC-MAC over AES (the "cbcmac(aes)" shash of ``crypto/ccm.c``).

Models ``crypto_cbcmac_digest_init``/``_update``/``_final``: a zero
16-byte chaining value, input XORed in as it arrives and the block cipher
applied each time a block completes; at the end a partially filled block is
encrypted as it stands, which is the same as zero padding it.  CBC-MAC is
inherently serial, so this is a per-block loop over the cipher's raw
bytes-to-bytes block function (:attr:`AesBlockCipher.encrypt_bytes`) with
the chaining value kept as a Python int.
"""

from __future__ import annotations

from typing import Any

from ciphers.aes import BlockCipher, u8_view

__all__ = ["CBCMAC_DIGEST_SIZE", "CbcMac"]

CBCMAC_DIGEST_SIZE = 16


class CbcMac:
    """One CBC-MAC computation.

    Call order: ``update(data)`` any number of times with any lengths;
    ``pad()`` closes a partial block (zero padding, as CCM needs between the
    AD and the payload); ``final()`` pads and returns the 16-byte MAC (it
    may be called again; further updates continue from the padded state).
    """

    __slots__ = ("_buf", "_cipher", "_dg")

    def __init__(self, cipher: BlockCipher) -> None:
        if not isinstance(cipher, BlockCipher):
            raise TypeError("cipher: expected a BlockCipher")
        if cipher.block_size != 16:
            raise ValueError(f"cipher: cbcmac here takes 16-byte blocks, {cipher.cra_name} "
                             f"has {cipher.block_size}")
        self._cipher = cipher
        self._dg = 0
        self._buf = b""

    def _blocks(self, raw: bytes) -> None:
        enc = self._cipher.encrypt_bytes
        dg = self._dg
        for off in range(0, len(raw), 16):
            x = dg ^ int.from_bytes(raw[off:off + 16], "big")
            dg = int.from_bytes(enc(x.to_bytes(16, "big")), "big")
        self._dg = dg

    def update(self, data: Any) -> None:
        """Absorb bytes; any length, any split."""
        raw = u8_view(data, "data").tobytes()
        if self._buf:
            raw = self._buf + raw
        whole = len(raw) - len(raw) % 16
        if whole:
            self._blocks(raw[:whole])
        self._buf = raw[whole:]

    def pad(self) -> None:
        """Zero-pad and absorb a pending partial block (no-op when aligned)."""
        if self._buf:
            self._blocks(self._buf + bytes(16 - len(self._buf)))
            self._buf = b""

    def final(self) -> bytes:
        """Pad, then return the 16-byte MAC (the chaining value)."""
        self.pad()
        return self._dg.to_bytes(16, "big")
