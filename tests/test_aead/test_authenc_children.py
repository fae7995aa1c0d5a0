"""Every authenc instance (crypto/authenc.c over each child skcipher the
project registers: cbc(aes), ctr(aes), rfc3686(ctr(aes)), with every hash
v7.3's testmgr pairs them with), generic and accelerated, in both worlds,
against an independent composition: ``cryptography``'s CBC/CTR (and
TripleDES for a cbc(des3_ede) child) and the standard library's HMAC.
The default conformance run samples these instances; this test runs every
one of them once per world."""

from __future__ import annotations

import hashlib
import hmac
import zlib

import numpy as np
import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ciphers.aead_algs import aead_impls
from ciphers.authenc import authenc_key_blob
from kmem import errno as E
from tests.test_aead.helpers import iov_run, run

IMPLS = aead_impls("authenc")


def _child_ref(child: str, key: bytes, iv: bytes, pt: bytes) -> bytes:
    alg = algorithms.AES
    if child == "cbc(aes)":
        mode, k = modes.CBC(iv), key
    elif child == "ctr(aes)":
        mode, k = modes.CTR(iv), key
    elif child == "rfc3686(ctr(aes))":   # nonce(4, key tail) ‖ iv(8) ‖ be32 1
        mode, k = modes.CTR(key[-4:] + iv + (1).to_bytes(4, "big")), key[:-4]
    elif child == "cbc(des)":           # DES as TripleDES keyed k ‖ k ‖ k
        alg, mode, k = TripleDES, modes.CBC(iv), key * 3
    else:
        assert child == "cbc(des3_ede)", child
        alg, mode, k = TripleDES, modes.CBC(iv), key
    enc = Cipher(alg(k), mode).encryptor()
    return enc.update(pt) + enc.finalize()


def _enckey_len(child: str, rng: np.random.Generator) -> int:
    if child in ("cbc(des3_ede)", "cbc(des)"):
        return 24 if child == "cbc(des3_ede)" else 8
    return int(rng.choice([16, 24, 32])) + (4 if child.startswith("rfc3686") else 0)


def _vector(impl, seed: int):
    rng = np.random.default_rng(seed)
    rb = lambda n: rng.integers(0, 256, n, dtype=np.uint8).tobytes()  # noqa: E731
    hname = impl.cra_name[len("authenc(hmac("):impl.cra_name.index(")")]
    child = impl.cra_name[impl.cra_name.index("),") + 2:-1]
    enckey = rb(_enckey_len(child, rng))
    authkey = rb(int(rng.integers(0, 140)))
    iv = rb(impl.ivsize)
    ad = rb(int(rng.integers(0, 40)))
    n = int(rng.integers(1, 300))
    if impl.cra_blocksize > 1:
        n -= n % impl.cra_blocksize
    pt = rb(n)
    authsize = int(rng.integers(1, impl.maxauthsize + 1))
    ct = _child_ref(child, enckey, iv, pt)
    tag = hmac.new(authkey, ad + ct, getattr(hashlib, hname)).digest()[:authsize]
    return authenc_key_blob(authkey, enckey), iv, ad, pt, ct + tag, authsize


@pytest.mark.parametrize("impl", IMPLS, ids=lambda i: i.cra_driver_name)
def test_every_authenc_instance_matches_the_reference_in_both_worlds(impl):
    key, iv, ad, pt, ct, authsize = _vector(impl, zlib.crc32(impl.cra_driver_name.encode()))
    rng = np.random.default_rng(5)
    drv = impl.cra_driver_name
    alen = len(ad)
    for shape in ("inplace", "oop"):
        r = run(drv, key, authsize, iv, ad + pt, alen, len(pt), False, shape, rng)
        assert r.ret == 0 and r.dst[alen:] == ct, (shape, "sg encrypt")
        r = run(drv, key, authsize, iv, ad + ct, alen, len(ct), True, shape, rng)
        assert r.ret == 0 and r.dst[alen:alen + len(pt)] == pt, (shape, "sg decrypt")
    r = iov_run(drv, key, authsize, iv, ad + pt, alen, len(pt), False,
                src_kind="bvec", dst_kind="kvec", rng=rng)
    assert r.ret == 0 and r.dst[alen:alen + len(ct)] == ct, "iter encrypt"
    r = iov_run(drv, key, authsize, iv, ad + ct, alen, len(ct), True,
                src_kind="kvec", dst_kind="same", rng=rng)
    assert r.ret == 0 and r.dst[alen:alen + len(pt)] == pt, "iter decrypt"
    bad = bytearray(ad + ct)
    bad[-1] ^= 1
    r = iov_run(drv, key, authsize, iv, bytes(bad), alen, len(ct), True,
                src_kind="kvec", dst_kind="kvec", rng=rng)
    assert r.ret == -E.EBADMSG
