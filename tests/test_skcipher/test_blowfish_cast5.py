"""blowfish and cast5 under ecb/cbc/ctr (ciphers.skcipher_ciphers): the key
lengths their setkeys take, in both worlds.  (Their published vectors run
through every driver in test_block_ciphers.)"""

from __future__ import annotations

import pytest

import iovcrypto
import sgl
from kmem.errno import EINVAL

RANGES = {"blowfish": range(4, 57), "cast5": range(5, 17)}


@pytest.mark.parametrize("api", [sgl, iovcrypto], ids=["sgl", "iovcrypto"])
@pytest.mark.parametrize("name", [f"{m}({c})" for c in RANGES for m in ("ecb", "cbc", "ctr")])
def test_setkey_takes_the_ciphers_key_range(api, name: str) -> None:
    cipher = name[4:-1]
    tfm = api.crypto_alloc_skcipher(name, 0, 0)
    try:
        # ecb and cbc have the library's (x86 glue's) driver at 300 over the
        # generic template's 100; the library has no ctr for 8-byte blocks.
        if name.startswith("ctr"):
            assert (tfm.alg.cra_driver_name, tfm.alg.cra_priority) == (
                f"ctr({cipher}-generic)", 100)
        else:
            assert (tfm.alg.cra_driver_name, tfm.alg.cra_priority) == (
                f"{name[:3]}-{cipher}-openssl", 300)
        for n in range(0, 70):
            want = 0 if n in RANGES[cipher] else -EINVAL
            assert api.crypto_skcipher_setkey(tfm, bytes(range(n)), n) == want, n
    finally:
        api.crypto_free_skcipher(tfm)
