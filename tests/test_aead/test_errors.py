"""The kernel's error paths of every AEAD algorithm and driver: -EINVAL
for bad authsizes, keys, malformed authenc blobs, assoclen, CCM IVs,
cryptlen < authsize and partial CBC blocks; -ENOKEY; -EBADMSG for any
corrupted bit; the registry's view of the algorithms."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pytest

import kmem
from ciphers.algapi import CRYPTO_ALG_ASYNC, CRYPTO_TFM_NEED_KEY
from ciphers.authenc import authenc_key_blob
from kmem import errno as E
from sgl import (
    aead_request_alloc,
    aead_request_free,
    aead_request_set_ad,
    aead_request_set_crypt,
    crypto_aead_authsize,
    crypto_aead_blocksize,
    crypto_aead_chunksize,
    crypto_aead_driver_name,
    crypto_aead_encrypt,
    crypto_aead_get_flags,
    crypto_aead_ivsize,
    crypto_aead_maxauthsize,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_free_aead,
)
from tests.test_aead.helpers import (
    AUTHSIZES,
    ESP,
    MARK,
    NAMES,
    alloc,
    drivers,
    ivsize,
    rand_ad,
    rand_iv,
    rand_key,
    reference_encrypt,
    run,
)
from tests.test_sgl.layouts import build

PROPS = {  # ivsize, maxauthsize, blocksize, chunksize
    "gcm(aes)": (12, 16, 1, 16), "rfc4106(gcm(aes))": (8, 16, 1, 16),
    "rfc4543(gcm(aes))": (8, 16, 1, 16), "ccm(aes)": (16, 16, 1, 16),
    "rfc4309(ccm(aes))": (8, 16, 1, 16), "rfc7539(chacha20,poly1305)": (12, 16, 1, 64),
    "rfc7539esp(chacha20,poly1305)": (8, 16, 1, 64),
    "authenc(hmac(sha1),cbc(aes))": (16, 20, 16, 16),
    "authenc(hmac(sha256),cbc(aes))": (16, 32, 16, 16),
    "authenc(hmac(sha512),cbc(aes))": (16, 64, 16, 16),
}


@pytest.mark.parametrize("name", NAMES)
def test_registry_properties_and_priorities(name):
    gen, acc = drivers(name)
    # Among synchronous drivers the accelerated one wins (the DMA engine's
    # gcm-aes-engine, asynchronous, outranks both, as hardware does).
    best = crypto_alloc_aead(name, 0, CRYPTO_ALG_ASYNC)
    assert crypto_aead_driver_name(best) == acc
    for drv in (gen, acc):
        tfm = crypto_alloc_aead(drv)
        assert crypto_aead_driver_name(tfm) == drv
        props = (crypto_aead_ivsize(tfm), crypto_aead_maxauthsize(tfm),
                 crypto_aead_blocksize(tfm), crypto_aead_chunksize(tfm))
        assert props == PROPS[name]
        assert crypto_aead_authsize(tfm) == PROPS[name][1]
        crypto_free_aead(tfm)
    crypto_free_aead(best)


@pytest.mark.parametrize("name", NAMES)
def test_setauthsize_rules(name):
    rng = np.random.default_rng(0)
    for drv in drivers(name):
        tfm = crypto_alloc_aead(drv)
        maxauth = crypto_aead_maxauthsize(tfm)
        for a in range(0, maxauth + 3):
            want = 0 if a in AUTHSIZES[name] else -E.EINVAL
            before = crypto_aead_authsize(tfm)
            assert crypto_aead_setauthsize(tfm, a) == want, (drv, a)
            assert crypto_aead_authsize(tfm) == (a if want == 0 else before)
        key = rand_key(name, rng)
        assert crypto_aead_setkey(tfm, key, len(key)) == 0
        crypto_free_aead(tfm)


def _bad_keys(name: str) -> list[bytes]:
    z = bytes
    if name in ("gcm(aes)", "ccm(aes)"):
        return [z(0), z(15), z(17), z(20), z(33), z(64)]
    if name in ("rfc4106(gcm(aes))", "rfc4543(gcm(aes))"):
        return [z(0), z(3), z(4), z(19), z(21), z(32)]
    if name == "rfc4309(ccm(aes))":
        return [z(0), z(2), z(3), z(18), z(20), z(32)]
    if name == "rfc7539(chacha20,poly1305)":
        return [z(0), z(16), z(31), z(33), z(36)]
    if name == "rfc7539esp(chacha20,poly1305)":
        return [z(0), z(32), z(35), z(37)]
    good = authenc_key_blob(b"k" * 20, b"e" * 16)
    return [
        z(0), z(3), good[:7],                                     # shorter than the rtattr
        b"\x03\x00" + good[2:],                                   # rta_len < 4
        b"\xff\x00" + good[2:],                                   # rta_len > keylen
        good[:2] + b"\x02\x00" + good[4:],                        # wrong rta_type
        b"\x0c\x00" + good[2:8] + b"\x00\x00\x00\x00" + good[8:],  # payload of 8 bytes
        good[:4] + (100).to_bytes(4, "big") + good[8:],           # enckeylen > what is left
        authenc_key_blob(b"k" * 20, b"e" * 15),                   # AES key of 15 bytes
        authenc_key_blob(b"k" * 20, b"e" * 17),
        authenc_key_blob(b"", b""),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_bad_keys_are_einval_and_leave_need_key(name):
    rng = np.random.default_rng(1)
    for drv in drivers(name):
        tfm = crypto_alloc_aead(drv)
        lay = build([("page", 256)], seed=1)
        req = aead_request_alloc(tfm, kmem.GFP_KERNEL)
        aead_request_set_crypt(req, lay.sgl, lay.sgl, 32, bytearray(ivsize(name)))
        aead_request_set_ad(req, 16)
        assert crypto_aead_encrypt(req) == -E.ENOKEY              # never keyed
        for key in _bad_keys(name):
            assert crypto_aead_setkey(tfm, key, len(key)) == -E.EINVAL, (drv, key.hex())
            assert crypto_aead_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
            assert crypto_aead_encrypt(req) == -E.ENOKEY
        good = rand_key(name, rng)
        assert crypto_aead_setkey(tfm, good, len(good)) == 0
        assert not crypto_aead_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
        aead_request_free(req)
        lay.free()
        crypto_free_aead(tfm)


@pytest.mark.parametrize("name", NAMES)
def test_decrypt_shorter_than_the_tag_is_einval(name):
    rng = np.random.default_rng(2)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = rand_ad(name, iv, rng, 8)
    for drv in drivers(name):
        authsize = max(AUTHSIZES[name])
        blob = bytes(authsize - 1)
        r = run(drv, key, authsize, iv, ad + blob, len(ad), len(blob), True, "oop", rng,
                dst_len=len(ad) + len(blob))
        assert r.ret == -E.EINVAL
        assert r.dst == bytes([MARK]) * (len(ad) + len(blob))


@pytest.mark.parametrize("name", [n for n in ESP if not n.startswith("rfc7539esp")])
@pytest.mark.parametrize("assoclen", [0, 8, 12, 15, 17, 24, 32])
def test_ipsec_assoclen_must_be_16_or_20(name, assoclen):
    rng = np.random.default_rng(assoclen)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = rng.integers(0, 256, assoclen, dtype=np.uint8).tobytes()
    pt = bytes(range(40))
    for drv in drivers(name):
        for decrypt in (False, True):
            clen = len(pt) + (16 if decrypt else 0)
            src = ad + pt + bytes(16)
            r = run(drv, key, 16, iv, src[:len(ad) + clen], len(ad), clen, decrypt, "oop", rng)
            assert r.ret == -E.EINVAL
            assert set(r.dst) == {MARK}                         # nothing touched


def test_rfc7539esp_short_assoclen():
    name = "rfc7539esp(chacha20,poly1305)"
    rng = np.random.default_rng(3)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    pt = bytes(range(50))
    for drv in drivers(name):
        for assoclen in (0, 4, 7):
            ad = bytes(assoclen)
            d = run(drv, key, 16, iv, ad + pt + bytes(16), assoclen, len(pt) + 16, True,
                    "oop", rng)
            assert d.ret == -E.EINVAL and set(d.dst) == {MARK}
            # poly_genkey rejects it only after chacha_encrypt has run: the
            # ciphertext is in dst, the tag is not.
            e = run(drv, key, 16, iv, ad + pt, assoclen, len(pt), False, "oop", rng)
            assert e.ret == -E.EINVAL
            full = reference_encrypt(name, key, 16, iv, bytes(8), pt)
            assert e.dst[assoclen:assoclen + len(pt)] == full[:len(pt)]
            assert e.dst[assoclen + len(pt):] == bytes([MARK]) * 16


@pytest.mark.parametrize("lprime", [0, 8, 9, 255])
def test_ccm_iv_lprime_outside_1_to_7(lprime):
    name = "ccm(aes)"
    rng = np.random.default_rng(lprime)
    key = rand_key(name, rng)
    iv = bytes([lprime]) + bytes(range(15))
    for drv in drivers(name):
        for decrypt in (False, True):
            src = bytes(64)
            r = run(drv, key, 16, iv, src, 16, 48, decrypt, "oop", rng)
            assert r.ret == -E.EINVAL and set(r.dst) == {MARK}


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("authenc")])
def test_authenc_partial_blocks(name):
    rng = np.random.default_rng(4)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = bytes(range(16))
    for drv in drivers(name):
        for n in (1, 15, 17, 40):
            e = run(drv, key, 12, iv, ad + bytes(n), 16, n, False, "inplace", rng)
            assert e.ret == -E.EINVAL
        # Decryption checks the HMAC first: a wrong tag is -EBADMSG even
        # for a partial block; a right one reaches CBC, which refuses.
        good = reference_encrypt(name, key, 12, iv, ad, bytes(32))
        ct = good[:20]
        tfm = alloc(drv, key, 12)
        hname = name[len("authenc(hmac("):name.index(")")]
        authkey = key[8:len(key) - int.from_bytes(key[4:8], "big")]
        tag = hmac.new(authkey, ad + ct, getattr(hashlib, hname)).digest()[:12]
        ok = run(tfm, None, 12, iv, ad + ct + tag, 16, 32, True, "oop", rng)
        assert ok.ret == -E.EINVAL
        bad = run(tfm, None, 12, iv, ad + ct + bytes(12), 16, 32, True, "oop", rng)
        assert bad.ret == -E.EBADMSG
        crypto_free_aead(tfm)


@pytest.mark.parametrize("name", NAMES)
def test_any_flipped_bit_is_ebadmsg(name):
    rng = np.random.default_rng(5)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = rand_ad(name, iv, rng, 12 if name in ESP else 13)
    pt = bytes(range(48))
    authsize = min(AUTHSIZES[name][-1], 16)
    ct = reference_encrypt(name, key, authsize, iv, ad, pt)
    blob = ad + ct
    # AD bits the template authenticates (not the ESP IV copy), text, tag.
    ad_auth = len(ad) - (8 if name in ESP and not name.startswith("rfc4543") else 0)
    positions = [0, ad_auth - 1, len(ad), len(blob) - authsize - 1, len(blob) - 1]
    for drv in drivers(name):
        tfm = alloc(drv, key, authsize)
        assert run(tfm, None, authsize, iv, blob, len(ad), len(ct), True, "alias",
                   rng).ret == 0
        for pos in positions:
            bad = bytearray(blob)
            bad[pos] ^= 1 << int(rng.integers(8))
            r = run(tfm, None, authsize, iv, bytes(bad), len(ad), len(ct), True, "alias", rng)
            assert r.ret == -E.EBADMSG, (drv, pos)
        crypto_free_aead(tfm)


def test_null_iv_is_a_kernel_bug():
    tfm = alloc(drivers("gcm(aes)")[0], bytes(16), 16)
    lay = build([("page", 64)], seed=2)
    req = aead_request_alloc(tfm, kmem.GFP_KERNEL)
    aead_request_set_crypt(req, lay.sgl, lay.sgl, 16, None)
    aead_request_set_ad(req, 0)
    with pytest.raises(kmem.KernelBug):
        crypto_aead_encrypt(req)
    aead_request_free(req)
    lay.free()
    crypto_free_aead(tfm)
