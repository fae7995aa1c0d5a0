"""Differential checks of every AEAD driver on random inputs against
independent compositions on ``cryptography`` (AESGCM, AESCCM,
ChaCha20Poly1305, AES-CBC + HMAC in the kernel's authenc layout; the ESP
variants as salt ‖ IV nonce with the AD's trailing IV copy left out) and
against ``pycryptodome``, on random scatterlist divisions, in place, over
two lists aliasing the same memory, and out of place."""

from __future__ import annotations

import numpy as np
import pytest
from Crypto.Cipher import AES, ChaCha20_Poly1305
from hypothesis import given
from hypothesis import strategies as st

from tests.test_aead.helpers import (
    AUTHSIZES,
    NAMES,
    drivers,
    rand_ad,
    rand_iv,
    rand_key,
    rand_text,
    reference_encrypt,
    run,
)

SHAPES = ("inplace", "alias", "oop")


@pytest.mark.parametrize("name", NAMES)
@given(seed=st.integers(0, 2**32 - 1))
def test_against_cryptography(name, seed):
    rng = np.random.default_rng(seed)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad, pt = rand_ad(name, iv, rng), rand_text(name, rng)
    authsize = int(rng.choice(AUTHSIZES[name]))
    ref = reference_encrypt(name, key, authsize, iv, ad, pt)
    for drv in drivers(name):
        shape = str(rng.choice(SHAPES))
        r = run(drv, key, authsize, iv, ad + pt, len(ad), len(pt), False, shape, rng)
        assert r.ret == 0
        assert r.dst[len(ad):] == ref, (drv, shape)
        shape = str(rng.choice(SHAPES))
        r = run(drv, key, authsize, iv, ad + ref, len(ad), len(ref), True, shape, rng)
        assert r.ret == 0, (drv, shape)
        assert r.dst[len(ad):len(ad) + len(pt)] == pt, (drv, shape)


def _pycryptodome(name: str, key: bytes, authsize: int, iv: bytes, ad: bytes,
                  pt: bytes) -> bytes:
    if name == "gcm(aes)":
        c = AES.new(key, AES.MODE_GCM, nonce=iv, mac_len=authsize)
    elif name == "rfc4106(gcm(aes))":
        c = AES.new(key[:-4], AES.MODE_GCM, nonce=key[-4:] + iv, mac_len=authsize)
        ad = ad[:-8]
    elif name == "ccm(aes)":
        c = AES.new(key, AES.MODE_CCM, nonce=iv[1:15 - iv[0]], mac_len=authsize)
    elif name == "rfc4309(ccm(aes))":
        c = AES.new(key[:-3], AES.MODE_CCM, nonce=key[-3:] + iv, mac_len=authsize)
        ad = ad[:-8]
    elif name == "rfc7539(chacha20,poly1305)":
        c = ChaCha20_Poly1305.new(key=key, nonce=iv)
    else:
        c = ChaCha20_Poly1305.new(key=key[:32], nonce=key[32:] + iv)
        ad = ad[:-8]
    c.update(ad)
    ct, tag = c.encrypt_and_digest(pt)
    return ct + tag


PYCRYPTODOME = ("gcm(aes)", "rfc4106(gcm(aes))", "ccm(aes)", "rfc4309(ccm(aes))",
                "rfc7539(chacha20,poly1305)", "rfc7539esp(chacha20,poly1305)")


@pytest.mark.parametrize("name", PYCRYPTODOME)
def test_against_pycryptodome(name):
    rng = np.random.default_rng(len(name))
    for _ in range(12):
        key, iv = rand_key(name, rng), rand_iv(name, rng)
        ad, pt = rand_ad(name, iv, rng), rand_text(name, rng, 2000)
        authsize = int(rng.choice(AUTHSIZES[name]))
        ref = _pycryptodome(name, key, authsize, iv, ad, pt)
        for drv in drivers(name):
            r = run(drv, key, authsize, iv, ad + pt, len(ad), len(pt), False, "oop", rng)
            assert r.ret == 0 and r.dst[len(ad):] == ref, drv


def test_rfc4543_is_gmac_over_ad_and_payload():
    # GMAC: nothing is encrypted; the tag covers AD (with the IV copy) ‖ payload.
    rng = np.random.default_rng(5)
    name = "rfc4543(gcm(aes))"
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad, pt = rand_ad(name, iv, rng, 8), rand_text(name, rng)
    for drv in drivers(name):
        r = run(drv, key, 16, iv, ad + pt, len(ad), len(pt), False, "oop", rng)
        assert r.ret == 0
        assert r.dst[:len(ad) + len(pt)] == ad + pt           # copied, not encrypted
        g = AES.new(key[:-4], AES.MODE_GCM, nonce=key[-4:] + iv)
        g.update(ad + pt)
        assert r.dst[len(ad) + len(pt):] == g.digest()
