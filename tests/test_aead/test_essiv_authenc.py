"""essiv(authenc(hmac(sha256),cbc(aes)),sha256) (crypto/essiv.c, the AEAD
flavour dm-crypt uses) in both worlds against an independent composition,
and the ways it places the encrypted IV in the AD: written into dst in
place and when decrypting, spliced in when encrypting out of place, with
the kernel's answers for an AD shorter than the IV."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ciphers.authenc import authenc_key_blob
from kmem import errno as E
from kmem.errno import KernelBug
from tests.test_aead.helpers import MARK, iov_run, run

NAME = "essiv(authenc(hmac(sha256),cbc(aes)),sha256)"
GEN = "essiv(authenc(hmac(sha256-generic),cbc(aes-generic)),sha256-generic)"
ACC = "essiv(authenc(hmac(sha256-generic),cbc-aes-openssl),sha256-generic)"


def _aes(key: bytes, mode, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), mode).encryptor()
    return enc.update(data) + enc.finalize()


def _vector(seed: int, adlen: int = 40, n: int = 64):
    rng = np.random.default_rng(seed)
    authkey, enckey = rng.bytes(int(rng.integers(0, 70))), rng.bytes(int(rng.choice([16, 24, 32])))
    iv, pt, head = rng.bytes(16), rng.bytes(n), rng.bytes(adlen - 16)
    eiv = _aes(hashlib.sha256(enckey + authkey).digest(), modes.ECB(), iv)
    ct = _aes(enckey, modes.CBC(eiv), pt)
    tag = hmac.new(authkey, head + eiv + ct, hashlib.sha256).digest()
    return authenc_key_blob(authkey, enckey), iv, head, eiv, pt, ct + tag


@pytest.mark.parametrize("drv", [GEN, ACC])
def test_both_worlds_match_the_reference_and_place_the_encrypted_iv(drv):
    key, iv, head, eiv, pt, ct = _vector(1)
    rng = np.random.default_rng(2)
    alen = len(head) + 16
    stale = head + bytes(16)                       # the AD's IV slot not yet filled
    # Encryption: the output AD ends with the encrypted IV however it is laid out.
    for shape in ("inplace", "oop"):
        r = run(drv, key, 32, iv, stale + pt, alen, len(pt), False, shape, rng)
        assert r.ret == 0 and r.dst == head + eiv + ct, shape
        assert r.iv == ct[len(pt) - 16:len(pt)]    # CBC's IV output replaced the encrypted IV
        if shape == "oop":
            assert r.src[:alen] == stale           # src's AD is left alone
    # Decryption authenticates the AD src holds: out of place it must already
    # carry the encrypted IV; dst's IV slot gets it written either way.
    for shape in ("inplace", "oop"):
        r = run(drv, key, 32, iv, head + eiv + ct, alen, len(ct), True, shape, rng)
        # Out of place, dst's AD head is not the decryption's business (MARK stays).
        want_head = head if shape == "inplace" else bytes([MARK]) * len(head)
        assert r.ret == 0 and r.dst[:alen + len(pt)] == want_head + eiv + pt, shape
    r = run(drv, key, 32, iv, stale + ct, alen, len(ct), True, "oop", rng)
    assert r.ret == -E.EBADMSG
    r = run(drv, key, 32, iv, stale + ct, alen, len(ct), True, "inplace", rng)
    assert r.ret == 0                              # in place the slot is filled before the MAC
    r = iov_run(drv, key, 32, iv, stale + pt, alen, len(pt), False,
                src_kind="bvec", dst_kind="kvec", rng=rng)
    assert r.ret == 0 and r.dst[:alen + len(ct)] == head + eiv + ct
    r = iov_run(drv, key, 32, iv, head + eiv + ct, alen, len(ct), True,
                src_kind="kvec", dst_kind="same", rng=rng)
    assert r.ret == 0 and r.dst[alen:alen + len(pt)] == pt


def test_an_ad_shorter_than_the_iv():
    key, iv, _, _, pt, _ = _vector(3)
    rng = np.random.default_rng(4)
    short = bytes(8)
    r = run(GEN, key, 32, iv, short + pt, 8, len(pt), False, "oop", rng)
    assert r.ret == -E.EINVAL
    with pytest.raises(KernelBug):
        run(GEN, key, 32, iv, short + pt, 8, len(pt), False, "inplace", rng)


def test_the_salt_hashes_both_keys():
    # The AEAD flavour's salt is SHA-256(enckey ‖ authkey): a different auth
    # key gives a different encrypted IV, hence different ciphertext.
    key, iv, head, eiv, pt, ct = _vector(5)
    rng = np.random.default_rng(6)
    enckeylen = int.from_bytes(key[4:8], "big")
    other = authenc_key_blob(key[8:len(key) - enckeylen] + b"x", key[len(key) - enckeylen:])
    r = run(GEN, other, 32, iv, head + eiv + pt, len(head) + 16, len(pt), False, "oop", rng)
    assert r.ret == 0 and r.dst[len(head) + 16:len(head) + 16 + len(pt)] != ct[:len(pt)]


def test_registration_follows_essiv_create():
    from sgl import crypto_alloc_aead, crypto_free_aead
    tfm = crypto_alloc_aead(NAME)
    alg = tfm.alg
    assert alg.cra_driver_name == ACC and alg.cra_priority == 3100
    assert (alg.ivsize, alg.maxauthsize, alg.cra_blocksize, alg.chunksize) == (16, 32, 16, 16)
    crypto_free_aead(tfm)
