"""des3_ede, sm4, camellia under the templates, and lrw (ciphers.skcipher_ciphers):
their published vectors through every driver of both worlds, des3_ede's weak
keys, the LRW and 64-bit CTR cores against the conformance references on
long, oddly split data, and how the default conformance run samples them."""

from __future__ import annotations

import numpy as np
import pytest

import iovcrypto
import sgl
from ciphers.aes import AesBlockCipher
from ciphers.camellia import CamelliaBlockCipher
from ciphers.ctr import Ctr
from ciphers.des import Des3EdeBlockCipher
from ciphers.lrw import Lrw, LrwTable, gf128mul_bbe
from ciphers.skcipher_ciphers import BLOCK_CIPHERS, cipher_impls
from iovcrypto.tools.conformance import refs_block
from iovcrypto.tools.conformance import session as S
from iovcrypto.tools.conformance.published_block import PUBLISHED_BLOCK
from kmem.errno import EINVAL
from tests.test_skcipher.test_published import _iov, _sgl

DRIVERS = {i.cra_name: [] for lst in cipher_impls().values() for i in lst}
for _lst in cipher_impls().values():
    for _i in _lst:
        DRIVERS[_i.cra_name].append(_i.cra_driver_name)

VECS = [(n, d, bytes.fromhex(k), bytes.fromhex(iv), bytes.fromhex(p), bytes.fromhex(c))
        for n, k, iv, p, c, _ivo, wk, err, _src in PUBLISHED_BLOCK if not wk and not err
        for d in DRIVERS[n]]


@pytest.mark.parametrize("world", [_sgl, _iov], ids=["sgl", "iovcrypto"])
@pytest.mark.parametrize(("name", "driver", "key", "iv", "ptext", "ctext"), VECS,
                         ids=[f"{d}-{i}" for i, (_, d, *_r) in enumerate(VECS)])
def test_published_vector_every_driver(world, name: str, driver: str, key: bytes, iv: bytes,
                                       ptext: bytes, ctext: bytes) -> None:
    assert world(driver, key, iv, ptext, True) == ctext
    assert world(driver, key, iv, ctext, False) == ptext


def test_every_cipher_family_has_published_vectors() -> None:
    names = {n for n, *_ in PUBLISHED_BLOCK}
    for c in BLOCK_CIPHERS:
        assert any(n.endswith(f"({c.name})") for n in names), c.name


WEAK = [bytes.fromhex("0123456789abcdef" * 2 + "fedcba9876543210"),   # k1 == k2
        bytes.fromhex("0123456789abcdef" + "5555555555555555" * 2)]   # k2 == k3


@pytest.mark.parametrize("api", [sgl, iovcrypto], ids=["sgl", "iovcrypto"])
@pytest.mark.parametrize("driver", [d for n in DRIVERS if "des3_ede" in n for d in DRIVERS[n]])
def test_des3_ede_weak_keys_refused_only_when_forbidden(api, driver: str) -> None:
    tfm = api.crypto_alloc_skcipher(driver, 0, 0)
    try:
        for key in WEAK:
            api.crypto_skcipher_clear_flags(tfm, ~0)
            assert api.crypto_skcipher_setkey(tfm, key, 24) == 0
            api.crypto_skcipher_set_flags(tfm, api.CRYPTO_TFM_REQ_FORBID_WEAK_KEYS)
            assert api.crypto_skcipher_setkey(tfm, key, 24) == -EINVAL
        # k1 == k3 alone is refused only in FIPS mode, which the model is not.
        key = bytes.fromhex("0123456789abcdef5555555555555555" + "0123456789abcdef")
        assert api.crypto_skcipher_setkey(tfm, key, 24) == 0
        assert api.crypto_skcipher_setkey(tfm, key[:16], 16) == -EINVAL
    finally:
        api.crypto_free_skcipher(tfm)


def _split_run(core: object, data: bytes, cuts: tuple[int, ...]) -> bytes:
    src = np.frombuffer(data, np.uint8)
    out = np.empty_like(src)
    pos = 0
    for cut in (*cuts, len(data)):
        core.update(src[pos:cut], out[pos:cut])
        pos = cut
    return out.tobytes()


@pytest.mark.parametrize("iv", [bytes(15) + b"\x07", b"\xff" * 16, b"\x00" * 8 + b"\xff" * 8],
                         ids=["small", "wraps-2^128", "carries-into-high-half"])
def test_lrw_core_matches_the_stepping_reference_past_its_chunk(iv: bytes) -> None:
    key = bytes(range(32, 64)) + bytes(range(100, 116))
    data = np.random.default_rng(5).integers(0, 256, 70000 * 2 + 32, dtype=np.uint8).tobytes()
    want = refs_block.lrw_encrypt("aes")(key, iv, data)
    table = LrwTable(key[-16:])
    core = Lrw(AesBlockCipher(key[:-16]), table, iv, True)
    assert _split_run(core, data, (1, 4097, 70001, 140000)) == want
    assert core.next_iv() == refs_block.lrw_iv_out(iv, data)
    back = Lrw(AesBlockCipher(key[:-16]), table, iv, False)
    assert _split_run(back, want, (65536 + 16,)) == data


def test_lrw_table_is_the_field_product() -> None:
    k2 = bytes.fromhex("258e2a05e73e9d03ee5a830ccc094c87")
    table = LrwTable(k2)
    for v in (0, 1, 2, 1 << 64, (1 << 128) - 1, 0x0123456789ABCDEF0011223344556677):
        want = gf128mul_bbe(v, int.from_bytes(k2, "big"))
        assert table.mul_int(v) == want.to_bytes(16, "big")
        assert refs_block.gf128_bbe(v, int.from_bytes(k2, "big")) == want


def test_des3_ede_ctr_counter_is_64_bits_and_wraps() -> None:
    key = bytes(range(1, 25))
    cipher = Des3EdeBlockCipher(key)
    iv = b"\xff" * 8
    data = bytes(range(40))
    counters = b"".join(((0xFFFFFFFFFFFFFFFF + i) % (1 << 64)).to_bytes(8, "big")
                        for i in range(5))
    ks = np.empty(40, np.uint8)
    cipher.encrypt_blocks(np.frombuffer(counters, np.uint8), ks)
    want = (np.frombuffer(data, np.uint8) ^ ks).tobytes()
    core = Ctr(cipher, iv)
    assert _split_run(core, data, (3, 11, 12)) == want
    assert core.next_iv() == (4).to_bytes(8, "big")


def test_camellia_ctr_reference_agrees_with_the_core_on_odd_splits() -> None:
    key, iv = bytes(range(24)), b"\xff" * 15 + b"\xfe"
    data = bytes(range(256)) * 5 + b"xyz"
    core = Ctr(CamelliaBlockCipher(key), iv)
    want = refs_block.block_mode_encrypt("camellia", "ctr")(key, iv, data)
    assert _split_run(core, data, (5, 17, 700)) == want


def test_the_default_run_samples_one_algorithm_per_cipher() -> None:
    targets, notices, _ = S.select_targets(S.Options())
    names = {t.alg.cra_name for t in targets}
    for c in S.SAMPLED_CIPHERS:
        assert len({n for n in names if S._cipher_of(n) == c}) == 1, c
    assert "lrw(aes)" in names
    assert any(n.startswith("sampled: ") for n in notices)
    full, _, _ = S.select_targets(S.Options(corpus_limit=None))
    every = {t.alg.cra_name for t in full}
    assert set(DRIVERS) <= every
    # The seed rotates the choice (so successive seeds cover the families).
    picks = {frozenset(S.sample_ciphers(S.Options(seed=seed), set(DRIVERS)))
             for seed in range(1, 9)}
    assert len(picks) > 1


def test_converted_lrw_makes_one_pass_so_dst_may_be_discard() -> None:
    """The conversion's point: iovcrypto/lrw.py never reads dst back, so a
    dst that cannot be read (ITER_DISCARD) works; the IV still advances."""
    import kmem
    from kmem import GFP_KERNEL

    key = bytes(range(48))
    tfm = iovcrypto.crypto_alloc_skcipher("lrw(ecb(aes-generic))", 0, 0)
    assert iovcrypto.crypto_skcipher_setkey(tfm, key, 48) == 0
    buf = kmem.kmalloc(64, GFP_KERNEL)
    kmem.write_virt(buf, bytes(range(64)))
    src, dst = iovcrypto.iov_iter(), iovcrypto.iov_iter()
    iovcrypto.iov_iter_kvec(src, iovcrypto.ITER_SOURCE, [iovcrypto.kvec(buf, 64)], 1, 64)
    iovcrypto.iov_iter_discard(dst, iovcrypto.ITER_DEST, 64)
    req = iovcrypto.skcipher_request_alloc(tfm, GFP_KERNEL)
    iv = bytearray(b"\x00" * 15 + b"\x07")
    iovcrypto.skcipher_request_set_iter(req, src, dst, 64, iv)
    assert iovcrypto.crypto_skcipher_encrypt(req) == 0
    assert bytes(iv) == bytes(15) + b"\x0b"
    assert iovcrypto.iov_iter_count(src) == iovcrypto.iov_iter_count(dst) == 0
    iovcrypto.skcipher_request_free(req)
    iovcrypto.crypto_free_skcipher(tfm)
    kmem.kfree(buf)


def test_legacy_lrw_keys_its_child_ecb_with_all_but_k2() -> None:
    import kmem
    from kmem import GFP_KERNEL

    key = bytes(range(100, 140))
    tfm = sgl.crypto_alloc_skcipher("lrw(ecb-aes-openssl)", 0, 0)
    try:
        assert sgl.crypto_skcipher_setkey(tfm, key, 40) == 0
        child = sgl.crypto_skcipher_ctx(tfm).child
        assert sgl.crypto_skcipher_driver_name(child) == "ecb-aes-openssl"
        block = bytes(range(16))
        buf = kmem.kmalloc(16, GFP_KERNEL)
        kmem.write_virt(buf, block)
        sg = sgl.sg_array(1)
        sgl.sg_init_table(sg, 1)
        sgl.sg_set_buf(sg[0], buf, 16)
        req = sgl.skcipher_request_alloc(child, GFP_KERNEL)
        sgl.skcipher_request_set_crypt(req, sg, sg, 16, None)
        assert sgl.crypto_skcipher_encrypt(req) == 0
        assert kmem.read_virt(buf, 16) == AesBlockCipher(key[:24]).encrypt_block(block)
        sgl.skcipher_request_free(req)
        kmem.kfree(buf)
        assert sgl.crypto_skcipher_setkey(tfm, key[:20], 20) == -EINVAL
    finally:
        sgl.crypto_free_skcipher(tfm)
