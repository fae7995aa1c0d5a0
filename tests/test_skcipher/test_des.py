"""Single DES (ecb/cbc/ctr(des), and authenc over cbc(des)): the weak and
semi-weak keys of FIPS 74 as crypto_des_verify_key() treats them, through
every des driver of both worlds."""

from __future__ import annotations

import os

import pytest

import iovcrypto
import sgl
from ciphers.des import DesBlockCipher, des_verify_key
from ciphers.skcipher_ciphers import cipher_impls
from kmem.errno import EINVAL, ENOKEY

# FIPS 74's four weak and twelve semi-weak keys.
WEAK = [
    "0101010101010101", "fefefefefefefefe", "e0e0e0e0f1f1f1f1", "1f1f1f1f0e0e0e0e",
    "01fe01fe01fe01fe", "fe01fe01fe01fe01", "1fe01fe00ef10ef1", "e01fe01ff10ef10e",
    "01e001e001f101f1", "e001e001f101f101", "1ffe1ffe0efe0efe", "fe1ffe1ffe0efe0e",
    "011f011f010e010e", "1f011f010e010e01", "e0fee0fef1fef1fe", "fee0fee0fef1fef1",
]
DRIVERS = [i.cra_driver_name for lst in cipher_impls().values() for i in lst
           if i.cra_name.endswith("(des)")]


def test_the_sixteen_keys_are_weak_whatever_their_parity_bits() -> None:
    for k in WEAK:
        key = bytes.fromhex(k)
        assert des_verify_key(key) == -ENOKEY
        flipped = bytes(b ^ 1 for b in key)          # the parity bits only
        assert des_verify_key(flipped) == -ENOKEY
    assert des_verify_key(bytes.fromhex("0123456789abcdef")) == 0
    rnd = [os.urandom(8) for _ in range(2000)]
    assert sum(des_verify_key(k) for k in rnd) == 0  # 16 of 2^56: never by chance


def test_bad_key_lengths() -> None:
    for n in (0, 7, 9, 24):
        with pytest.raises(ValueError, match="key"):
            DesBlockCipher(bytes(n))
        with pytest.raises(ValueError, match="key"):
            des_verify_key(bytes(n))


@pytest.mark.parametrize("api", [sgl, iovcrypto], ids=["sgl", "iovcrypto"])
@pytest.mark.parametrize("driver", DRIVERS)
def test_weak_keys_refused_only_when_forbidden(api, driver: str) -> None:
    assert len(DRIVERS) == 3
    tfm = api.crypto_alloc_skcipher(driver, 0, 0)
    try:
        assert tfm.alg.cra_priority == 100 and tfm.alg.min_keysize == 8
        for k in WEAK[::5]:
            key = bytes.fromhex(k)
            api.crypto_skcipher_clear_flags(tfm, ~0)
            assert api.crypto_skcipher_setkey(tfm, key, 8) == 0
            api.crypto_skcipher_set_flags(tfm, api.CRYPTO_TFM_REQ_FORBID_WEAK_KEYS)
            assert api.crypto_skcipher_setkey(tfm, key, 8) == -EINVAL
        assert api.crypto_skcipher_setkey(tfm, bytes.fromhex("0123456789abcdef"), 8) == 0
        assert api.crypto_skcipher_setkey(tfm, bytes(16), 16) == -EINVAL
    finally:
        api.crypto_free_skcipher(tfm)


@pytest.mark.parametrize("api", [sgl, iovcrypto], ids=["sgl", "iovcrypto"])
def test_authenc_over_cbc_des_is_registered_at_1100(api) -> None:
    tfm = api.crypto_alloc_aead("authenc(hmac(sha256),cbc(des))", 0, 0)
    try:
        assert tfm.alg.cra_driver_name == "authenc(hmac(sha256-generic),cbc(des-generic))"
        assert tfm.alg.cra_priority == 1100 and tfm.alg.ivsize == 8
    finally:
        api.crypto_free_aead(tfm)
