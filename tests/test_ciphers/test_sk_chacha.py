"""Generic ChaCha20 / XChaCha20 / HChaCha20 against ``cryptography`` and
pycryptodome, on random keys, IVs, lengths and splits; the kernel's 32-bit
counter wrap; IV layouts; errors."""

from __future__ import annotations

import os

import numpy as np
import pytest
from Crypto.Cipher import ChaCha20 as PyChaCha20
from Crypto.Cipher.ChaCha20 import _HChaCha20
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from hypothesis import given
from hypothesis import strategies as st

from ciphers.accel import HChaCha20Lib, hchacha20_lib
from ciphers.chacha import ChaCha20, XChaCha20, chacha_blocks, hchacha20, xchacha_real_iv


def rnd(n: int) -> np.ndarray:
    return np.frombuffer(os.urandom(n), dtype=np.uint8).copy()


def feed(update, data: np.ndarray, out: np.ndarray, cuts: list[int]) -> None:
    prev = 0
    for c in [*sorted(min(c, data.size) for c in cuts), data.size]:
        update(data[prev:c], out[prev:c])
        prev = c


def lib_chacha(key: bytes, iv16: bytes, data: bytes) -> bytes:
    return Cipher(algorithms.ChaCha20(key, iv16), None).encryptor().update(data)


cuts_st = st.lists(st.integers(0, 40_000), max_size=10)


@given(st.integers(0, 40_000), cuts_st, st.booleans(), st.integers(0, 2**32 - 1 - 700))
def test_chacha20_any_split(n: int, cuts: list[int], inplace: bool, counter: int) -> None:
    key = os.urandom(32)
    iv = counter.to_bytes(4, "little") + os.urandom(12)
    data = rnd(n)
    want = lib_chacha(key, iv, data.tobytes())
    core = ChaCha20(key, iv)
    out = data if inplace else np.empty_like(data)
    feed(core.update, data, out, cuts)
    assert out.tobytes() == want
    assert core.consumed == n
    assert core.next_iv() == ((counter + -(-n // 64)) % 2**32).to_bytes(4, "little") + iv[4:]


def test_chacha20_counter_wraps_like_the_kernel() -> None:
    key, nonce = os.urandom(32), os.urandom(12)
    iv = (2**32 - 3).to_bytes(4, "little") + nonce
    data = rnd(64 * 10 + 5)
    core = ChaCha20(key, iv)
    out = np.empty_like(data)
    feed(core.update, data, out, [1, 64 * 3 - 1, 64 * 3 + 1])
    # Three blocks before the wrap, then state word 12 restarts at 0; word 13
    # (the first nonce word) is not carried into.
    want = lib_chacha(key, iv, data[:192].tobytes()) + lib_chacha(
        key, bytes(4) + nonce, data[192:].tobytes())
    assert out.tobytes() == want
    assert core.counter == 8
    with pytest.raises(ValueError):  # the library refuses what the kernel does
        lib_chacha(key, iv, data.tobytes())


def test_chacha_blocks_helper_and_12_rounds() -> None:
    key, iv = os.urandom(32), os.urandom(16)
    ks = chacha_blocks(key, iv, 5)
    assert ks.tobytes() == lib_chacha(key, iv, bytes(320))
    # ChaCha12 differs from ChaCha20 (xchacha12 uses nrounds=12).
    assert chacha_blocks(key, iv, 1, nrounds=12).tobytes() != ks[:64].tobytes()
    c12 = ChaCha20(key, iv, nrounds=12)
    out = np.zeros(64, np.uint8)
    c12.update(np.zeros(64, np.uint8), out)
    assert out.tobytes() == chacha_blocks(key, iv, 1, nrounds=12).tobytes()


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=16, max_size=16))
def test_hchacha20_matches_pycryptodome(key: bytes, nonce: bytes) -> None:
    assert hchacha20(key, nonce) == _HChaCha20(key, nonce)


def test_hchacha20_from_library_block_is_bit_exact() -> None:
    """The accelerated XChaCha20's HChaCha20 (a library ChaCha20 block minus
    the input words) equals ours, whatever the words' carries."""
    rng = np.random.default_rng(5)
    cases = [(bytes(32), bytes(16)), (b"\xff" * 32, b"\xff" * 16)]
    cases += [(rng.bytes(32), rng.bytes(16)) for _ in range(200)]
    for key, nonce in cases:
        assert hchacha20_lib(key, nonce) == hchacha20(key, nonce)


@given(st.integers(0, 5000), cuts_st, st.booleans())
def test_xchacha20_matches_pycryptodome(n: int, cuts: list[int], inplace: bool) -> None:
    # pycryptodome's XChaCha20 = the kernel's with a zero stream position.
    key, nonce, data = os.urandom(32), os.urandom(24), rnd(n)
    want = PyChaCha20.new(key=key, nonce=nonce).encrypt(data.tobytes())
    core = XChaCha20(key, nonce + bytes(8))
    out = data if inplace else np.empty_like(data)
    feed(core.update, data, out, [c % (n + 1) for c in cuts])
    assert out.tobytes() == want
    assert core.next_iv() == nonce + (-(-n // 64)).to_bytes(4, "little") + bytes(4)


def test_xchacha20_iv_layout() -> None:
    key, nonce = os.urandom(32), os.urandom(24)
    pos = (7 << 32) | 5
    iv = nonce + pos.to_bytes(8, "little")
    assert xchacha_real_iv(iv) == pos.to_bytes(8, "little") + nonce[16:]
    data = rnd(300)
    core = XChaCha20(key, iv)
    out = np.empty_like(data)
    core.update(data, out)
    sub = _HChaCha20(key, nonce[:16])
    assert out.tobytes() == lib_chacha(sub, xchacha_real_iv(iv), data.tobytes())
    assert core.iv == nonce + (5 + 5).to_bytes(4, "little") + (7).to_bytes(4, "little")


def test_chacha_errors() -> None:
    with pytest.raises(ValueError, match="key"):
        ChaCha20(bytes(16), bytes(16))
    with pytest.raises(ValueError, match="iv"):
        ChaCha20(bytes(32), bytes(12))
    with pytest.raises(ValueError, match="iv"):
        XChaCha20(bytes(32), bytes(24))
    with pytest.raises(ValueError, match="nrounds"):
        ChaCha20(bytes(32), bytes(16), nrounds=8)
    with pytest.raises(ValueError, match="dst"):
        ChaCha20(bytes(32), bytes(16)).update(np.zeros(4, np.uint8), np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="nonce16"):
        hchacha20(bytes(32), bytes(12))


def test_hchacha20_kept_context_serves_every_nonce() -> None:
    """The accelerated xchacha20's key schedule keeps one library context
    and re-aims it per request: every call, in any order and interleaved
    with another key's, equals HChaCha20 from scratch."""
    rng = np.random.default_rng(6)
    keys = [rng.bytes(32), rng.bytes(32)]
    kept = [HChaCha20Lib(k) for k in keys]
    for i in range(100):
        j = int(rng.integers(0, 2))
        nonce = rng.bytes(16) if i % 5 else b"\xff" * 4 + rng.bytes(12)
        assert kept[j](nonce) == hchacha20(keys[j], nonce), i
