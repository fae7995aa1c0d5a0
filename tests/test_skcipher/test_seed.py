"""ecb(seed) (ciphers.seed): the one key length seed_set_key takes, and the
RFC 4269 examples through both worlds' drivers.  (They also run through
every driver and API in test_block_ciphers and the default conformance.)"""

from __future__ import annotations

import pytest

import iovcrypto
import sgl
from iovcrypto.tools.conformance.published_block import PUBLISHED_BLOCK
from kmem.errno import EINVAL

SEED_ROWS = [r for r in PUBLISHED_BLOCK if r[0] == "ecb(seed)"]


def test_the_rfc_examples_are_all_there() -> None:
    assert len(SEED_ROWS) == 4


@pytest.mark.parametrize("api", [sgl, iovcrypto], ids=["sgl", "iovcrypto"])
def test_setkey_takes_16_bytes_only(api) -> None:
    tfm = api.crypto_alloc_skcipher("ecb(seed)", 0, 0)
    try:
        assert tfm.alg.cra_driver_name == "ecb(seed-generic)"
        assert tfm.alg.cra_priority == 100
        assert api.crypto_skcipher_ivsize(tfm) == 0
        for n in range(0, 40):
            want = 0 if n == 16 else -EINVAL
            assert api.crypto_skcipher_setkey(tfm, bytes(range(n)), n) == want, n
    finally:
        api.crypto_free_skcipher(tfm)


@pytest.mark.parametrize("row", SEED_ROWS, ids=[r[-1] for r in SEED_ROWS])
def test_the_seed_core_gives_rfc_4269(row) -> None:
    from ciphers.seed import SeedBlockCipher

    _name, key, _iv, pt, ct = row[:5]
    got = SeedBlockCipher(bytes.fromhex(key)).encrypt_block(bytes.fromhex(pt))
    assert bytes(got) == bytes.fromhex(ct)
