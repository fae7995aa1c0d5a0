"""POLYVAL, XCTR, HCTR2 and XChaCha12 cores, and the wide-block driver's
two walks (no gathered copy of the request)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kmem
import sgl
from ciphers.aes import AesBlockCipher
from ciphers.hctr2 import Hctr2, hctr2_setkey
from ciphers.polyval import Polyval, PolyvalKey
from ciphers.xctr import Xctr
from iovcrypto.tools.conformance import refs
from tests.test_ciphers.splits import pieces

_h = bytes.fromhex


def _u8(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype=np.uint8)


@pytest.mark.parametrize("key, data, want", [
    # RFC 8452, Appendix A
    ("25629347589242761d31f826ba4b757b",
     "4f4f95668c83dfb6401762bb2d01a262d1a24ddd2721d006bbe45f20d3c9f362",
     "f7a3b47b846119fae5b7866cf5e5b77e"),
    # RFC 8452, the AES-GCM-SIV example's POLYVAL input
    ("310728d9911f1f3837b24316c3fab9a0",
     "6578616d706c650000000000000000004865 6c6c6f20776f726c6400000000003800"
     "0000000000005800000000000000", "ad7fcf0b5169851662672f3c5f95138f"),
])
def test_polyval_rfc8452(key: str, data: str, want: str) -> None:
    d = _h(data.replace(" ", ""))
    for cut in (0, 1, 15, 17, len(d) - 1):
        p = Polyval(PolyvalKey(_h(key)))
        for piece in pieces(d, [cut]):
            p.update(_u8(piece))
        assert p.final().hex() == want


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 20).map(lambda n: n * 16),
       st.lists(st.integers(0, 400), max_size=4))
def test_polyval_matches_the_plain_definition(h: bytes, n: int, cuts: list[int]) -> None:
    data = bytes(range(256)) * 2
    data = data[:n]
    p = Polyval(PolyvalKey(h))
    for piece in pieces(data, cuts):
        p.update(_u8(piece))
    assert p.final() == refs.polyval_ref(h, data)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([16, 24, 32]), st.integers(0, 300),
       st.lists(st.integers(0, 300), max_size=4))
def test_xctr_any_split(klen: int, n: int, cuts: list[int]) -> None:
    key, iv = bytes(range(klen)), bytes(range(100, 116))
    pt = bytes((7 * i) & 0xFF for i in range(n))
    x = Xctr(AesBlockCipher(key), iv)
    out = bytearray()
    for piece in pieces(pt, cuts):
        o = np.empty(len(piece), dtype=np.uint8)
        x.update(_u8(piece), o)
        out += o.tobytes()
    assert bytes(out) == refs.xctr_encrypt(key, iv, pt)


def _hctr2(key: bytes, tweak: bytes, data: bytes, enc: bool, cuts: list[int]) -> bytes:
    err, sched = hctr2_setkey(key)
    assert err == 0
    c = Hctr2(sched, tweak, enc)
    c.begin(len(data), _u8(data[:16]))
    for piece in pieces(data[16:], cuts):
        c.hash_in(_u8(piece))
    out = bytearray()
    for piece in pieces(data[16:], cuts[::-1]):
        o = np.empty(len(piece), dtype=np.uint8)
        c.stream(_u8(piece), o)
        out += o.tobytes()
    return c.finish() + bytes(out)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([16, 24, 32]), st.integers(16, 200),
       st.lists(st.integers(0, 200), max_size=3))
def test_hctr2_matches_the_plain_definition_and_inverts(klen: int, n: int,
                                                        cuts: list[int]) -> None:
    key, tweak = bytes(range(klen)), bytes(range(200, 232))
    pt = bytes((5 * i + 3) & 0xFF for i in range(n))
    ct = _hctr2(key, tweak, pt, True, cuts)
    assert ct == refs.hctr2_encrypt(key, tweak, pt)
    assert _hctr2(key, tweak, ct, False, cuts) == pt


def test_hctr2_rejects_short_keys_and_tweaks() -> None:
    assert hctr2_setkey(bytes(15))[0] < 0
    with pytest.raises(ValueError):
        Hctr2(hctr2_setkey(bytes(16))[1], bytes(16), True)


def test_xchacha12_reference_is_xchacha20_at_twenty_rounds() -> None:
    key, iv, pt = bytes(range(32)), bytes(range(24)) + (3).to_bytes(8, "little"), bytes(300)
    assert refs.xchacha12_encrypt(key, iv, pt, 20) == refs.xchacha20_encrypt(key, iv, pt)
    assert refs.xchacha12_encrypt(key, iv, pt) != refs.xchacha20_encrypt(key, iv, pt)


def test_the_wide_block_driver_hashes_entry_by_entry(monkeypatch) -> None:
    """Two walks over the bulk, each span straight from the scatterlist:
    the core never gets the request gathered into one buffer."""
    seen: list[tuple[str, int]] = []
    orig_in, orig_stream = Hctr2.hash_in, Hctr2.stream
    monkeypatch.setattr(Hctr2, "hash_in",
                        lambda self, v: (seen.append(("hash", v.size)), orig_in(self, v)))
    monkeypatch.setattr(Hctr2, "stream",
                        lambda self, s, d: (seen.append(("xctr", s.size)),
                                            orig_stream(self, s, d)))
    key, tweak = bytes(range(32)), bytes(32)
    lens = [1000, 3000, 4096, 904]
    pt = bytes((i * 13) & 0xFF for i in range(sum(lens)))
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in lens]
    sgs = sgl.sg_array(len(lens))
    sgl.sg_init_table(sgs, len(lens))
    pos = 0
    for i, (page, n) in enumerate(zip(pages, lens)):
        kmem.write_virt(kmem.page_address(page), pt[pos:pos + n])
        sgl.sg_set_page(sgs[i], page, n, 0)
        pos += n
    tfm = sgl.crypto_alloc_skcipher("hctr2(aes)")
    req = sgl.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    try:
        assert sgl.crypto_skcipher_setkey(tfm, key, 32) == 0
        iv = bytearray(tweak)
        sgl.skcipher_request_set_crypt(req, sgs, sgs, len(pt), iv)
        assert sgl.crypto_skcipher_encrypt(req) == 0
        got = b"".join(kmem.read_virt(kmem.page_address(p), n) for p, n in zip(pages, lens))
        assert got == refs.hctr2_encrypt(key, tweak, pt)
        hashes = [n for k, n in seen if k == "hash"]
        assert sum(hashes) == len(pt) - 16 and max(hashes) <= 4096 and len(hashes) >= 4
        assert max(n for k, n in seen if k == "xctr") < len(pt) - 16
    finally:
        sgl.skcipher_request_free(req)
        sgl.crypto_free_skcipher(tfm)
        for p in pages:
            kmem.__free_page(p)


def _wide(core_cls, sched, tweak: bytes, data: bytes, enc: bool, cuts: list[int]) -> bytes:
    c = core_cls(sched, tweak, enc)
    n = len(data)
    b0, d0 = c.block_offset(n), c.bulk_offset(n)
    bulk = data[d0:d0 + n - 16]
    c.begin(n, _u8(data[b0:b0 + 16]))
    for piece in pieces(bulk, cuts):
        c.hash_in(_u8(piece))
    out = bytearray()
    for piece in pieces(bulk, cuts[::-1]):
        o = np.empty(len(piece), dtype=np.uint8)
        c.stream(_u8(piece), o)
        out += o.tobytes()
    last = c.finish()
    return bytes(out) + last if b0 else last + bytes(out)


@pytest.mark.parametrize("nrounds", [12, 20])
@settings(max_examples=12, deadline=None)
@given(n=st.integers(16, 2600), cuts=st.lists(st.integers(0, 2600), max_size=3))
def test_adiantum_matches_the_plain_definition_and_inverts(nrounds: int, n: int,
                                                           cuts: list[int]) -> None:
    from ciphers.adiantum import Adiantum, adiantum_setkey

    key, tweak = bytes(range(1, 33)), bytes(range(32, 64))
    err, sched = adiantum_setkey(key, nrounds)
    assert err == 0
    pt = bytes((11 * i + 1) & 0xFF for i in range(n))
    ct = _wide(Adiantum, sched, tweak, pt, True, cuts)
    assert ct == refs._adiantum(nrounds)(key, tweak, pt)
    assert _wide(Adiantum, sched, tweak, ct, False, cuts) == pt


def test_nhpoly1305_any_split_and_chunk_boundaries() -> None:
    from ciphers.adiantum import NhPoly1305, NhPolyKey

    key = bytes((i * 7) & 0xFF for i in range(1088))
    for n in (0, 1, 16, 1023, 1024, 1025, 3000):
        msg = bytes((i * 3) & 0xFF for i in range(n))
        want = refs._nhpoly1305(key, msg)
        for cuts in ([], [1], [17, 1024], [n // 3, 2 * n // 3]):
            h = NhPoly1305(NhPolyKey(key))
            for piece in pieces(msg, cuts):
                h.update(_u8(piece))
            assert h.final() == want, (n, cuts)
