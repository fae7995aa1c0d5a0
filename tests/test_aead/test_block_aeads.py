"""gcm and ccm over the other block ciphers (gcm(aria), gcm(sm4), ccm(sm4);
ciphers.aead_algs): their published vectors (RFC 8269, RFC 8998) through
the generic template in both worlds and against the conformance
references, a flipped tag bit refused, and the kernel's names, priorities
and key checks."""

from __future__ import annotations

import numpy as np
import pytest

import iovcrypto
import sgl
from iovcrypto.tools.conformance.published_block import PUBLISHED_BLOCK_AEAD
from iovcrypto.tools.conformance.refs import SPECS
from kmem.errno import EBADMSG, EINVAL
from tests.test_aead.helpers import iov_run, run

DRIVERS = {"gcm(aria)": "gcm_base(ctr(aria-generic),ghash-generic)",
           "gcm(sm4)": "gcm_base(ctr(sm4-generic),ghash-generic)",
           "ccm(sm4)": "ccm_base(ctr(sm4-generic),cbcmac(sm4-generic))"}
VECS = [(row[0], *(bytes.fromhex(x) for x in row[1:6])) for row in PUBLISHED_BLOCK_AEAD]


@pytest.mark.parametrize("vec", VECS, ids=[f"{v[0]}-{i}" for i, v in enumerate(VECS)])
def test_published_vectors_in_both_worlds(vec) -> None:
    name, key, iv, ad, pt, ct = vec
    drv = DRIVERS[name]
    rng = np.random.default_rng(len(key) + len(pt))
    alen, authsize = len(ad), len(ct) - len(pt)
    assert SPECS[name].encrypt(key, iv, ad, pt, authsize) == ct
    for shape in ("inplace", "oop"):
        r = run(drv, key, authsize, iv, ad + pt, alen, len(pt), False, shape, rng)
        assert r.ret == 0 and r.dst[alen:] == ct, shape
        r = run(drv, key, authsize, iv, ad + ct, alen, len(ct), True, shape, rng)
        assert r.ret == 0 and r.dst[alen:alen + len(pt)] == pt, shape
    r = iov_run(drv, key, authsize, iv, ad + pt, alen, len(pt), False,
                src_kind="bvec", dst_kind="kvec", rng=rng)
    assert r.ret == 0 and r.dst[alen:alen + len(ct)] == ct
    bad = bytearray(ad + ct)
    bad[-1] ^= 1
    r = iov_run(drv, key, authsize, iv, bytes(bad), alen, len(ct), True,
                src_kind="kvec", dst_kind="kvec", rng=rng)
    assert r.ret == -EBADMSG


@pytest.mark.parametrize("api", [sgl, iovcrypto], ids=["sgl", "iovcrypto"])
@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_generic_template_at_100_with_the_ciphers_key_sizes(api, name: str) -> None:
    tfm = api.crypto_alloc_aead(name, 0, 0)
    try:
        assert tfm.alg.cra_driver_name == DRIVERS[name] and tfm.alg.cra_priority == 100
        assert tfm.alg.ivsize == (12 if name.startswith("gcm") else 16)
        sizes = (16, 24, 32) if "aria" in name else (16,)
        for n in range(0, 40):
            want = 0 if n in sizes else -EINVAL
            assert api.crypto_aead_setkey(tfm, bytes(n), n) == want, n
    finally:
        api.crypto_free_aead(tfm)


def test_every_registered_block_aead_has_a_published_vector() -> None:
    assert {v[0] for v in VECS} == set(DRIVERS)
