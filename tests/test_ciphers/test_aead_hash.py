"""GHASH, Poly1305 and CBC-MAC cores: against references and under any
split of their input."""

from __future__ import annotations

import os

import numpy as np
import pytest
from Crypto.Cipher import AES as PyAES
from Crypto.Cipher._mode_gcm import _GHASH, _ghash_clmul, _ghash_portable
from cryptography.hazmat.primitives.poly1305 import Poly1305 as RefPoly1305
from hypothesis import given
from hypothesis import strategies as st

import ciphers.ghash as ghash_mod
from ciphers.aes import AesBlockCipher
from ciphers.cbcmac import CbcMac
from ciphers.ghash import GHASH_MAX_POWERS, Ghash, GhashKey, gf128_mul
from ciphers.poly1305 import Poly1305
from tests.test_ciphers.splits import pieces

_GHASH_IMPL = _ghash_clmul or _ghash_portable




def ref_ghash(h: bytes, data: bytes) -> bytes:
    padded = data + bytes(-len(data) % 16)
    return _GHASH(h, _GHASH_IMPL).update(padded).digest()


def horner_ghash(h: bytes, data: bytes) -> bytes:
    hi, y = int.from_bytes(h, "big"), 0
    padded = data + bytes(-len(data) % 16)
    for off in range(0, len(padded), 16):
        y = gf128_mul(y ^ int.from_bytes(padded[off:off + 16], "big"), hi)
    return y.to_bytes(16, "big")


def test_gcm_spec_test_case_2_ghash() -> None:
    # McGrew-Viega GCM spec, test case 2: GHASH(H, {}, C) with the length block.
    h = bytes.fromhex("66e94bd4ef8a2c3b884cfa59ca342b2e")
    c = bytes.fromhex("0388dace60b6a392f328c2b971b2fe78")
    g = Ghash(GhashKey(h))
    g.update(c)
    g.update((0).to_bytes(8, "big") + (128).to_bytes(8, "big"))
    assert g.digest().hex() == "f38cbb1ad69223dcc3457ae5b6b0f885"


@pytest.mark.parametrize("nbytes", [0, 1, 15, 16, 17, 31, 33, 16 * GHASH_MAX_POWERS,
                                    16 * GHASH_MAX_POWERS + 1, 16 * GHASH_MAX_POWERS * 3 + 40,
                                    16 * GHASH_MAX_POWERS * 40 + 7])
def test_ghash_matches_references(nbytes: int) -> None:
    h, data = os.urandom(16), os.urandom(nbytes)
    g = Ghash(GhashKey(h))
    g.update(np.frombuffer(data, dtype=np.uint8))
    want = ref_ghash(h, data)
    assert g.digest() == want
    if nbytes <= 200:
        assert horner_ghash(h, data) == want


def test_ghash_key_is_shared_and_tables_grow() -> None:
    key = GhashKey(os.urandom(16))
    a, b = os.urandom(48), os.urandom(300 << 10)
    ga = Ghash(key)
    ga.update(a)
    assert key.npowers == 0                    # 3 blocks: no table, block by block
    gb = Ghash(key)
    gb.update(b[:4096])
    assert 1 < key.npowers < GHASH_MAX_POWERS  # grows with what H has hashed
    gb.update(b[4096:])
    assert key.npowers == GHASH_MAX_POWERS
    assert ga.digest() == ref_ghash(key.h.to_bytes(16, "big"), a)
    assert gb.digest() == ref_ghash(key.h.to_bytes(16, "big"), b)
    # Another key with the same H (another tfm, same AES key) starts with
    # the tables already built.
    assert GhashKey(key.h.to_bytes(16, "big")).npowers == GHASH_MAX_POWERS


def test_ghash_tables_evicted_under_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # Room for one key's numpy tables and its chain tables (one per power
    # of two up to 64).
    monkeypatch.setattr(ghash_mod, "GHASH_SHARED_BYTES",
                        64 * 16 * 256 * 16 + 8 * ghash_mod._CHAIN_BYTES)
    keys = [os.urandom(16) for _ in range(6)]
    data = os.urandom(300 << 10)
    for h in keys:
        g = Ghash(GhashKey(h))
        g.update(data)
        assert g.digest() == ref_ghash(h, data)
    assert ghash_mod._shared_bytes[0] <= ghash_mod.GHASH_SHARED_BYTES
    assert int.from_bytes(keys[-1], "big") in ghash_mod._shared
    assert int.from_bytes(keys[0], "big") not in ghash_mod._shared
    g = Ghash(GhashKey(keys[0]))          # rebuilt after eviction, still right
    g.update(data[:1000])
    assert g.digest() == ref_ghash(keys[0], data[:1000])


def test_fresh_keys_hashing_a_little_are_evicted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key that never grows numpy tables still holds a chain table: many
    fresh keys (a conformance run, a benchmark) stay inside the budget."""
    monkeypatch.setattr(ghash_mod, "GHASH_SHARED_BYTES", 10 * ghash_mod._CHAIN_BYTES)
    monkeypatch.setattr(ghash_mod, "_shared", type(ghash_mod._shared)())
    monkeypatch.setattr(ghash_mod, "_shared_bytes", [0])
    for _ in range(50):
        h = os.urandom(16)
        g = Ghash(GhashKey(h))
        g.update(b"x" * 100)
        assert g.digest() == ref_ghash(h, b"x" * 100)
    assert len(ghash_mod._shared) <= 10
    assert ghash_mod._shared_bytes[0] <= ghash_mod.GHASH_SHARED_BYTES


def test_ghash_pad_separates_sections() -> None:
    h, a, c = os.urandom(16), os.urandom(20), os.urandom(7)
    g = Ghash(GhashKey(h))
    g.update(a)
    g.pad()
    g.update(c)
    assert g.digest() == ref_ghash(h, a + bytes(12) + c)


def test_ghash_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="h must be 16"):
        GhashKey(bytes(15))
    with pytest.raises(TypeError):
        Ghash(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Ghash(GhashKey(bytes(16))).update([1, 2, 3])  # type: ignore[arg-type]


@given(st.binary(max_size=1200), st.lists(st.integers(0, 1200), max_size=6),
       st.binary(min_size=16, max_size=16))
def test_ghash_any_split(data: bytes, cuts: list[int], h: bytes) -> None:
    key = GhashKey(h)
    g = Ghash(key)
    for p in pieces(data, cuts):
        g.update(p)
    assert g.digest() == ref_ghash(h, data)


# ---------------------------------------------------------------- Poly1305

@pytest.mark.parametrize("nbytes", [0, 1, 15, 16, 17, 16 * 23, 16 * 24, 16 * 24 + 3,
                                    16 * 1024, 16 * 1025 + 9, 16 * 3000 + 1])
def test_poly1305_matches_cryptography(nbytes: int) -> None:
    key, data = os.urandom(32), os.urandom(nbytes)
    p = Poly1305(key)
    p.update(data)
    assert p.final() == RefPoly1305.generate_tag(key, data)


def test_poly1305_extreme_values() -> None:
    # All-ones r (after clamping), s and message limbs: the largest sums.
    key, data = b"\xff" * 32, b"\xff" * (16 * 2100)
    p = Poly1305(key)
    p.update(data)
    assert p.final() == RefPoly1305.generate_tag(key, data)


def test_poly1305_state_is_spent() -> None:
    p = Poly1305(bytes(32))
    p.final()
    with pytest.raises(ValueError):
        p.update(b"x")
    with pytest.raises(ValueError):
        p.final()
    with pytest.raises(ValueError, match="32 bytes"):
        Poly1305(bytes(31))


@given(st.binary(max_size=1500), st.lists(st.integers(0, 1500), max_size=6),
       st.binary(min_size=32, max_size=32))
def test_poly1305_any_split(data: bytes, cuts: list[int], key: bytes) -> None:
    p = Poly1305(key)
    for piece in pieces(data, cuts):
        p.update(piece)
    assert p.final() == RefPoly1305.generate_tag(key, data)


# ---------------------------------------------------------------- CBC-MAC

def ref_cbcmac(key: bytes, data: bytes) -> bytes:
    padded = data + bytes(-len(data) % 16)
    if not padded:
        return bytes(16)
    return PyAES.new(key, PyAES.MODE_CBC, iv=bytes(16)).encrypt(padded)[-16:]


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=5),
       st.sampled_from([16, 24, 32]))
def test_cbcmac_any_split(data: bytes, cuts: list[int], keylen: int) -> None:
    key = os.urandom(keylen)
    m = CbcMac(AesBlockCipher(key))
    for piece in pieces(data, cuts):
        m.update(piece)
    assert m.final() == ref_cbcmac(key, data)


def test_cbcmac_pad_between_sections() -> None:
    key, a, b = os.urandom(16), os.urandom(5), os.urandom(40)
    m = CbcMac(AesBlockCipher(key))
    m.update(a)
    m.pad()
    m.update(b)
    assert m.final() == ref_cbcmac(key, a + bytes(11) + b)
