"""Accelerated skcipher twins against the generic cores (as testmgr checks a
driver against the generic implementation): same output and IV output on
random keys, IVs, lengths and splits, in place and out of place."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciphers.accel import (
    AccelCbc,
    AccelChaCha20,
    AccelCtr,
    AccelCts,
    AccelEcb,
    AccelEssivCbc,
    AccelXChaCha20,
    AccelXts,
)
from ciphers.aes import AesBlockCipher
from ciphers.cbc import Cbc
from ciphers.chacha import ChaCha20, XChaCha20
from ciphers.ctr import Ctr
from ciphers.cts import Cts, cts_final_len
from ciphers.ecb import Ecb
from ciphers.essiv import EssivCbc
from ciphers.xts import Xts


def rnd(n: int) -> np.ndarray:
    return np.frombuffer(os.urandom(n), dtype=np.uint8).copy()


def feed(update, data: np.ndarray, out: np.ndarray, cuts: list[int]) -> None:
    prev = 0
    for c in [*sorted(c % (data.size + 1) for c in cuts), data.size]:
        update(data[prev:c], out[prev:c])
        prev = c


def both(gen, acc, data: np.ndarray, cuts: list[int], inplace: bool) -> tuple[bytes, bytes]:
    outs = []
    for core in (gen, acc):
        src = data.copy()
        out = src if inplace else np.empty_like(src)
        feed(core.update, src, out, cuts)
        outs.append(out.tobytes())
    return outs[0], outs[1]


cuts_st = st.lists(st.integers(0, 5000), max_size=8)
keylen_st = st.sampled_from([16, 24, 32])


@given(keylen_st, st.integers(0, 200), cuts_st, st.booleans(), st.booleans())
def test_ecb_cbc_essiv(keylen: int, nblocks: int, cuts: list[int], enc: bool,
                       inplace: bool) -> None:
    key, iv, data = os.urandom(keylen), os.urandom(16), rnd(16 * nblocks)
    a = AesBlockCipher(key)
    g, x = both(Ecb(a, enc), AccelEcb(key, enc), data, cuts, inplace)
    assert g == x
    for gen, acc in ((Cbc(a, iv, enc), AccelCbc(key, iv, enc)),
                     (EssivCbc(key, iv, enc), AccelEssivCbc(key, iv, enc))):
        g, x = both(gen, acc, data, cuts, inplace)
        assert g == x
        assert gen.next_iv() == acc.next_iv()
        assert acc.pending == 0 and acc.processed == data.size


def test_accel_cbc_inplace_decrypt_saves_iv() -> None:
    key, iv = os.urandom(16), os.urandom(16)
    data = rnd(64)
    ct = data.copy()
    AccelCbc(key, iv).update(ct, ct)
    last = ct[-16:].tobytes()
    dec = AccelCbc(key, iv, encrypt=False)
    dec.update(ct[:32], ct[:32])
    dec.update(ct[32:], ct[32:])
    assert (ct == data).all()
    assert dec.next_iv() == last


@given(keylen_st, st.integers(0, 3000), cuts_st, st.booleans(),
       st.sampled_from([None, 2**64 - 2, 2**128 - 3]))
def test_ctr(keylen: int, n: int, cuts: list[int], inplace: bool, start: int | None) -> None:
    key, data = os.urandom(keylen), rnd(n)
    iv = os.urandom(16) if start is None else start.to_bytes(16, "big")
    gen, acc = Ctr(AesBlockCipher(key), iv), AccelCtr(key, iv)
    g, x = both(gen, acc, data, cuts, inplace)
    assert g == x
    assert gen.next_iv() == acc.next_iv()


@given(st.integers(0, 3000), cuts_st, st.booleans(),
       st.sampled_from([0, 2**32 - 5, 2**32 - 1, 12345]))
def test_chacha20_and_xchacha20(n: int, cuts: list[int], inplace: bool, counter: int) -> None:
    key, data = os.urandom(32), rnd(n)
    iv = counter.to_bytes(4, "little") + os.urandom(12)
    gen, acc = ChaCha20(key, iv), AccelChaCha20(key, iv)
    g, x = both(gen, acc, data, cuts, inplace)
    assert g == x
    assert gen.next_iv() == acc.next_iv()
    xiv = os.urandom(24) + counter.to_bytes(4, "little") + os.urandom(4)
    xgen, xacc = XChaCha20(key, xiv), AccelXChaCha20(key, xiv)
    g, x = both(xgen, xacc, data, cuts, inplace)
    assert g == x
    assert xgen.next_iv() == xacc.next_iv()


@given(st.sampled_from([32, 48, 64]), st.integers(16, 3000), st.booleans(), st.booleans(),
       st.booleans())
def test_xts(keylen: int, n: int, enc: bool, inplace: bool, equal_halves: bool) -> None:
    key, iv, data = os.urandom(keylen), os.urandom(16), rnd(n)
    if equal_halves:
        key = key[:keylen // 2] * 2
    acc = AccelXts(key, iv, enc)
    assert acc.uses_library == (keylen != 48 and not equal_halves)
    outs = []
    for core in (Xts(key, iv, enc), acc):
        src = data.copy()
        out = src if inplace else np.empty_like(src)
        core.final(src, out)
        outs.append(out.tobytes())
        assert core.next_iv() == iv
    assert outs[0] == outs[1]


def test_accel_xts_rules() -> None:
    with pytest.raises(ValueError, match="key"):
        AccelXts(bytes(40), bytes(16))
    with pytest.raises(ValueError, match="identical"):
        AccelXts(bytes(32), bytes(16), forbid_weak_keys=True)
    core = AccelXts(os.urandom(32), bytes(16))
    with pytest.raises(ValueError, match="shorter than 16"):
        core.final(np.zeros(8, np.uint8), np.zeros(8, np.uint8))
    core.final(np.zeros(16, np.uint8), np.zeros(16, np.uint8))
    with pytest.raises(ValueError, match="finalized"):
        core.final(np.zeros(16, np.uint8), np.zeros(16, np.uint8))


@given(keylen_st, st.integers(16, 1000), cuts_st, st.booleans(), st.booleans())
def test_cts(keylen: int, n: int, cuts: list[int], enc: bool, inplace: bool) -> None:
    key, iv, data = os.urandom(keylen), os.urandom(16), rnd(n)
    head = n - cts_final_len(n)
    outs, ivs = [], []
    for core in (Cts(AesBlockCipher(key), iv, enc), AccelCts(key, iv, enc)):
        src = data.copy()
        out = src if inplace else np.empty_like(src)
        feed(core.update, src[:head], out[:head], cuts)
        core.final(src[head:], out[head:])
        outs.append(out.tobytes())
        ivs.append(core.next_iv())
    assert outs[0] == outs[1]
    assert ivs[0] == ivs[1]


def test_accel_key_errors() -> None:
    for make in (lambda: AccelEcb(bytes(20)), lambda: AccelCbc(bytes(20), bytes(16)),
                 lambda: AccelCtr(bytes(20), bytes(16)), lambda: AccelCts(bytes(20), bytes(16))):
        with pytest.raises(ValueError, match="key"):
            make()
    with pytest.raises(ValueError, match="iv"):
        AccelCbc(bytes(16), bytes(15))
    with pytest.raises(ValueError, match="key"):
        AccelChaCha20(bytes(31), bytes(16))
    with pytest.raises(ValueError, match="iv"):
        AccelXChaCha20(bytes(32), bytes(16))
