"""Library contexts never see overlapping input and output.

cryptography 51 refuses ``update_into`` whenever input and output share
memory, exact in-place calls included; 50 and older allowed it. Every core
reaches the library through :func:`ciphers.aes.lib_update_into`, so these
tests hold it to the strictest contract whatever release is installed."""

from __future__ import annotations

import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ciphers.aes import LIB_CHUNK, lib_update_into


class StrictContext:
    """A cryptography context that refuses any overlap, as release 51 does."""

    def __init__(self, ctx) -> None:
        self._ctx = ctx
        self.calls: list[str] = []

    def update(self, data):
        self.calls.append("update")
        return self._ctx.update(data)

    def update_into(self, data, buf):
        if np.may_share_memory(np.asarray(data), np.asarray(buf)):
            raise ValueError("data and buf must not overlap")
        self.calls.append("update_into")
        return self._ctx.update_into(data, buf)


def _ctr(key: bytes, iv: bytes):
    return Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()


@pytest.mark.parametrize("n", [256, 3 * LIB_CHUNK + 48])
@pytest.mark.parametrize("shift", [0, 16, -16, 5, -5])
def test_overlapping_buffers_give_the_disjoint_result(shift: int, n: int) -> None:
    key, iv = os.urandom(16), os.urandom(16)
    mem = np.frombuffer(os.urandom(n + 64), dtype=np.uint8).copy()
    base = 32
    src = mem[base:base + n]
    want = np.empty(n, np.uint8)
    _ctr(key, iv).update_into(src.copy(), want)
    dst = mem[base + shift:base + shift + n]
    ctx = StrictContext(_ctr(key, iv))
    lib_update_into(ctx, src, dst)
    # In place or dst before src: piece by piece through a scratch buffer
    # (each piece read before it is overwritten); dst after src: one
    # update() returning fresh bytes.
    pieces = -(-n // LIB_CHUNK)
    assert ctx.calls == (["update"] if shift > 0 else ["update_into"] * pieces)
    assert dst.tobytes() == want.tobytes()


def test_disjoint_buffers_take_the_zero_copy_call() -> None:
    key, iv = os.urandom(16), os.urandom(16)
    src = np.frombuffer(os.urandom(100), dtype=np.uint8).copy()
    dst = np.zeros(100, np.uint8)
    ctx = StrictContext(_ctr(key, iv))
    lib_update_into(ctx, src, dst)
    assert ctx.calls == ["update_into"]
    want = np.empty(100, np.uint8)
    _ctr(key, iv).update_into(src, want)
    assert dst.tobytes() == want.tobytes()


def test_ecb_in_place_with_a_longer_dst() -> None:
    # The block-mode cores hand all blocks but the last with a dst 16 bytes
    # longer than the input; the overlapping branch must write only the
    # input's length.
    key = os.urandom(16)
    mem = np.frombuffer(os.urandom(80), dtype=np.uint8).copy()
    tail = mem[64:].copy()
    want = Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(mem[:64].tobytes())
    ctx = StrictContext(Cipher(algorithms.AES(key), modes.ECB()).encryptor())
    lib_update_into(ctx, mem[:64], mem)
    assert mem[:64].tobytes() == want
    assert mem[64:].tobytes() == tail.tobytes()
