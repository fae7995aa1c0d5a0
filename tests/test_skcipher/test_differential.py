"""Differential checks: every driver against the reference libraries on
random keys, IVs and lengths (hypothesis), and generic against
accelerated on random scatterlist divisions over every memory kind, in
place (same list, two lists over the same memory) and out of place."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.test_skcipher.helpers import (
    ALGS,
    ALL_DRIVERS,
    DRIVERS,
    expected_iv,
    rand_iv,
    rand_key,
    rand_len,
    reference,
    segments,
    sgl_crypt,
)


@pytest.mark.parametrize("name,driver", ALL_DRIVERS)
@given(seed=st.integers(0, 2**32 - 1))
def test_against_reference(name: str, driver: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    alg = ALGS[name]
    key, iv = rand_key(rng, alg), rand_iv(rng, alg)
    if name == "xts(aes)" and rng.random() < 0.1:
        key = key[:len(key) // 2] * 2  # equal halves: accepted unless FORBID_WEAK_KEYS
    data = rng.bytes(rand_len(rng, alg, 2500))
    style = ("one", "mixed", "pages")[seed % 3]
    enc = sgl_crypt(driver, key, iv, data, True, src_segs=segments(rng, len(data), style),
                    seed=seed)
    assert enc.err == 0 and enc.fields_ok
    assert enc.out == reference(name, key, iv, data, True)
    assert enc.iv == expected_iv(name, iv, data, enc.out, True)
    dec = sgl_crypt(driver, key, iv, enc.out, False, src_segs=segments(rng, len(data), style),
                    inplace="same", seed=seed + 1)
    assert dec.err == 0 and dec.out == data
    assert dec.iv == expected_iv(name, iv, enc.out, data, False)


STYLES = ["mixed", "bytes", "vmalloc", "pages"]


@pytest.mark.parametrize("name", list(ALGS))
@pytest.mark.parametrize("style", STYLES)
def test_generic_vs_accelerated_layouts(name: str, style: str) -> None:
    rng = np.random.default_rng(hash((name, style)) & 0xFFFFFFFF)
    alg = ALGS[name]
    gen, acc = DRIVERS[name]
    hi = 300 if style == "bytes" else 9000
    for trial in range(3):
        key, iv = rand_key(rng, alg), rand_iv(rng, alg)
        n = rand_len(rng, alg, hi)
        data = rng.bytes(n)
        for encrypt in (True, False):
            results = []
            for drv, inplace in ((gen, ""), (acc, ""), (gen, "same"), (acc, "alias")):
                r = sgl_crypt(drv, key, iv, data, encrypt, inplace=inplace,
                              src_segs=segments(rng, n, style),
                              dst_segs=segments(rng, n, "mixed"), seed=trial)
                assert r.err == 0, (drv, n, r.err)
                results.append((r.out, r.iv))
            assert all(x == results[0] for x in results), (name, style, n, encrypt)
