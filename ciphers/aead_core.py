"""The shape gcm and rfc7539 share: a stream cipher with a MAC over
``AD ‖ pad ‖ ciphertext ‖ pad ‖ lengths`` (encrypt-then-MAC).

A request core derived from :class:`StreamAead` supplies the stream, the
MAC, how the MAC is padded and how the lengths and the tag are finished;
the phases, the checks and the constant-time verification are here once.
Call order: ``update_ad(piece)`` …, ``update(src, dst)`` …, then
``finalize()`` (the tag) or ``verify(tag)``.  Encryption MACs the
ciphertext it wrote; decryption MACs the ciphertext before decrypting it,
so ``dst`` may be ``src``.
"""

from __future__ import annotations

import abc
import hmac
from typing import Any

from ciphers.aes import u8_view

_AD, _DATA, _DONE = 0, 1, 2


class StreamAead(abc.ABC):
    """Base of the incremental gcm and chacha20poly1305 request cores."""

    __slots__ = ("_adlen", "_ctlen", "_decrypt", "_mac", "_phase", "_stream", "_tag")
    min_tag = 16          # shortest tag verify() accepts

    def _start(self, stream: Any, mac: Any, decrypt: bool) -> None:
        self._stream = stream
        self._mac = mac
        self._decrypt = decrypt
        self._adlen = 0
        self._ctlen = 0
        self._phase = _AD
        self._tag: bytes | None = None

    # What a derived core supplies.

    @abc.abstractmethod
    def _pad_mac(self, nbytes: int) -> None:
        """Pad the MAC input after ``nbytes`` of AD or of text."""

    @abc.abstractmethod
    def _finish_tag(self) -> bytes:
        """Feed the lengths and return the full tag."""

    # The request.

    def set_decrypt(self, decrypt: bool) -> None:
        """Choose the direction of the next ``update`` (the lib/crypto
        faces learn it from which ``*_update`` function is called)."""
        self._decrypt = decrypt

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
            self._pad_mac(self._adlen)
            self._phase = _DATA
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        if d.size != s.size:
            raise ValueError(f"dst: length {d.size} differs from src length {s.size}")
        if self._decrypt:
            self._mac.update(s)
            self._stream.update(s, d)
        else:
            self._stream.update(s, d)
            self._mac.update(d)
        self._ctlen += s.size

    def finalize(self) -> bytes:
        """The full tag (idempotent; ends the request)."""
        if self._tag is None:
            if self._phase == _AD:
                self._pad_mac(self._adlen)
            self._pad_mac(self._ctlen)
            self._tag = self._finish_tag()
            self._phase = _DONE
        return self._tag

    def verify(self, tag: Any) -> bool:
        """Compare ``tag`` with the computed tag's prefix in constant time
        (the kernel's ``crypto_memneq``)."""
        tb = u8_view(tag, "tag").tobytes()
        full = self.finalize()
        if not self.min_tag <= len(tb) <= len(full):
            want = (f"{len(full)} bytes" if self.min_tag == len(full)
                    else f"{self.min_tag}..{len(full)} bytes")
            raise ValueError(f"tag: expected {want}, got {len(tb)}")
        return hmac.compare_digest(full[:len(tb)], tb)
