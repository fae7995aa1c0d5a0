"""Kernel semantics of the skcipher drivers through the scatterlist API:
algorithm properties and lookup by name and driver name, key checks,
-ENOKEY, length rules, cryptlen 0, IV output (bounced IV addresses
included), request fields, and no pins/kmaps left on error paths (the
conftest ledger check)."""

from __future__ import annotations

import numpy as np
import pytest

import kmem
from ciphers.algapi import CRYPTO_TFM_NEED_KEY, CRYPTO_TFM_REQ_FORBID_WEAK_KEYS, IS_ERR
from ciphers.skcipher_algs import GENERIC_DRIVERS, impls, rfc3686_counter_block
from kmem import errno as E
from sgl import (
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_skcipher_blocksize,
    crypto_skcipher_chunksize,
    crypto_skcipher_decrypt,
    crypto_skcipher_driver_name,
    crypto_skcipher_encrypt,
    crypto_skcipher_get_flags,
    crypto_skcipher_ivsize,
    crypto_skcipher_max_keysize,
    crypto_skcipher_min_keysize,
    crypto_skcipher_setkey,
    crypto_skcipher_walksize,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_crypt,
)
from tests.test_sgl.layouts import build
from tests.test_skcipher.helpers import ALGS, ALL_DRIVERS, DRIVERS, reference, sgl_crypt

PROPS = {  # cra_name: blocksize, ivsize, chunksize, min_keysize, max_keysize
    "ecb(aes)": (16, 0, 16, 16, 32),
    "cbc(aes)": (16, 16, 16, 16, 32),
    "ctr(aes)": (1, 16, 16, 16, 32),
    "rfc3686(ctr(aes))": (1, 8, 16, 20, 36),
    "xts(aes)": (16, 16, 16, 32, 64),
    "cts(cbc(aes))": (16, 16, 16, 16, 32),
    "chacha20": (1, 16, 64, 32, 32),
    "xchacha20": (1, 32, 64, 32, 32),
    "essiv(cbc(aes),sha256)": (16, 16, 16, 16, 32),
}


@pytest.mark.parametrize("name,driver", ALL_DRIVERS)
def test_properties_and_lookup(name: str, driver: str) -> None:
    tfm = crypto_alloc_skcipher(driver)
    assert not IS_ERR(tfm)
    assert crypto_skcipher_driver_name(tfm) == driver
    assert (crypto_skcipher_blocksize(tfm), crypto_skcipher_ivsize(tfm),
            crypto_skcipher_chunksize(tfm), crypto_skcipher_min_keysize(tfm),
            crypto_skcipher_max_keysize(tfm)) == PROPS[name]
    assert crypto_skcipher_walksize(tfm) >= crypto_skcipher_chunksize(tfm)
    assert crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
    assert tfm.alg.cra_priority == (100 if driver == GENERIC_DRIVERS[name] else 300)
    crypto_free_skcipher(tfm)


ENGINE = {"cbc(aes)": "cbc-aes-engine", "ctr(aes)": "ctr-aes-engine",
          "xts(aes)": "xts-aes-engine"}


@pytest.mark.parametrize("name", list(ALGS))
def test_name_picks_highest_priority(name: str) -> None:
    """The DMA engine's drivers (priority 400) win where they exist, as
    hardware drivers do; elsewhere the accelerated one beats the generic."""
    tfm = crypto_alloc_skcipher(name)
    want = ENGINE.get(name, DRIVERS[name][1])
    assert crypto_skcipher_driver_name(tfm) == want != GENERIC_DRIVERS[name]
    crypto_free_skcipher(tfm)


def test_driver_names_are_the_kernels() -> None:
    want = {
        "ecb(aes)": "ecb(aes-generic)", "cbc(aes)": "cbc(aes-generic)",
        "ctr(aes)": "ctr(aes-generic)", "rfc3686(ctr(aes))": "rfc3686(ctr(aes-generic))",
        "xts(aes)": "xts(ecb(aes-generic))", "cts(cbc(aes))": "cts(cbc(aes-generic))",
        "chacha20": "chacha20-generic", "xchacha20": "xchacha20-generic",
        "essiv(cbc(aes),sha256)": "essiv(cbc(aes-generic),sha256-generic)",
        "xchacha12": "xchacha12-generic", "xctr(aes)": "xctr(aes-generic)",
        "hctr2(aes)": "hctr2_base(xctr(aes-generic),polyval-generic)",
        "adiantum(xchacha12,aes)": "adiantum(xchacha12-generic,aes-generic,nhpoly1305-generic)",
        "adiantum(xchacha20,aes)": "adiantum(xchacha20-generic,aes-generic,nhpoly1305-generic)",
        # ciphers.skcipher_ciphers: the templates over des3_ede-, sm4- and
        # camellia-generic; xts and lrw spawn ecb(cipher).
        **{f"{m}({c})": f"{m}({c}-generic)" for c in ("des", "des3_ede", "blowfish", "cast5", "sm4",
                                            "camellia", "aria")
           for m in ("ecb", "cbc", "ctr")},
        "cts(cbc(sm4))": "cts(cbc(sm4-generic))", "xts(sm4)": "xts(ecb(sm4-generic))",
        "xts(camellia)": "xts(ecb(camellia-generic))",
        "lrw(camellia)": "lrw(ecb(camellia-generic))", "lrw(aes)": "lrw(ecb(aes-generic))",
        "ecb(seed)": "ecb(seed-generic)"}
    assert want == GENERIC_DRIVERS
    assert len(impls()) == 23 + 24 + 3 + 3 + 6 + 1 + 4    # + ecb/cbc of blowfish, cast5 accelerated
    assert crypto_alloc_skcipher("xts(aes-generic)") == -E.ENOENT


BAD_KEYS = {
    "ecb(aes)": [0, 15, 17, 20, 33], "cbc(aes)": [8, 31], "ctr(aes)": [33, 18],
    "rfc3686(ctr(aes))": [16, 19, 21, 32, 37], "xts(aes)": [16, 31, 33, 40, 65],
    "cts(cbc(aes))": [12, 30], "chacha20": [16, 31, 33], "xchacha20": [0],
    "essiv(cbc(aes),sha256)": [20, 10],
}


@pytest.mark.parametrize("name,driver", ALL_DRIVERS)
def test_bad_keys_and_enokey(name: str, driver: str) -> None:
    alg = ALGS[name]
    tfm = crypto_alloc_skcipher(driver)
    n = 32
    lay = build([("kmalloc", n)])
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    iv = bytearray(alg.ivsize)
    skcipher_request_set_crypt(req, lay.sgl, lay.sgl, n, iv)
    assert crypto_skcipher_encrypt(req) == -E.ENOKEY
    for keylen in BAD_KEYS[name]:
        assert crypto_skcipher_setkey(tfm, bytes(range(keylen)), keylen) == -E.EINVAL
        assert crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
        assert crypto_skcipher_decrypt(req) == -E.ENOKEY
    good = alg.keysizes[-1]
    assert crypto_skcipher_setkey(tfm, bytes(range(good)), good) == 0
    before = lay.flat().tobytes()
    assert crypto_skcipher_encrypt(req) == 0
    assert lay.flat().tobytes() != before
    # Outside [min_keysize, max_keysize] the API refuses before the driver
    # and, as crypto_skcipher_setkey() returns early, the old key stays.
    assert crypto_skcipher_setkey(tfm, bytes(3), 3) == -E.EINVAL
    assert crypto_skcipher_encrypt(req) == 0
    # A key the algorithm itself refuses leaves the tfm keyless again.
    lo, hi = PROPS[name][3:]
    inside = [k for k in BAD_KEYS[name] if lo <= k <= hi]
    assert inside or lo == hi
    for keylen in inside:
        assert crypto_skcipher_setkey(tfm, bytes(range(good)), good) == 0
        assert crypto_skcipher_setkey(tfm, bytes(range(keylen)), keylen) == -E.EINVAL
        assert crypto_skcipher_encrypt(req) == -E.ENOKEY
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    lay.free()


@pytest.mark.parametrize("driver", DRIVERS["xts(aes)"])
def test_xts_weak_keys(driver: str) -> None:
    tfm = crypto_alloc_skcipher(driver)
    key = bytes(16) * 2
    assert crypto_skcipher_setkey(tfm, key, 32) == 0
    tfm.crt_flags |= CRYPTO_TFM_REQ_FORBID_WEAK_KEYS
    assert crypto_skcipher_setkey(tfm, key, 32) == -E.EINVAL
    assert crypto_skcipher_setkey(tfm, bytes(range(32)), 32) == 0
    crypto_free_skcipher(tfm)


@pytest.mark.parametrize("name,driver", ALL_DRIVERS)
def test_lengths(name: str, driver: str) -> None:
    alg = ALGS[name]
    key = bytes(range(alg.keysizes[0]))
    iv = bytes(range(alg.ivsize))
    if name == "xchacha20":
        iv = iv[:24] + (5).to_bytes(8, "little")  # a position pycryptodome can seek to
    for n in (0, 1, 15, 16, 17, 31, 33, 48):
        data = bytes(range(n))
        for enc in (True, False):
            r = sgl_crypt(driver, key, iv, data, enc, dst_segs=[("kmalloc", n)], seed=n)
            invalid = n < alg.min_len or n % alg.block
            if invalid:
                assert r.err == -E.EINVAL, (driver, n)
                assert r.iv == iv
            else:
                assert r.err == 0, (driver, n)
            if n == 0:
                assert r.iv == iv and r.out == b""
            if invalid or n == 0:
                continue
            if enc:
                assert r.out == reference(name, key, iv, data, True)


def _run_with_iv(driver: str, key: bytes, data: bytes, iv_obj: object, encrypt: bool) -> int:
    n = len(data)
    lay = build([("kmalloc", n)], fill=False)
    lay.fill(np.frombuffer(data, np.uint8))
    tfm = crypto_alloc_skcipher(driver)
    assert crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    try:
        skcipher_request_set_crypt(req, lay.sgl, lay.sgl, n, iv_obj)
        return (crypto_skcipher_encrypt if encrypt else crypto_skcipher_decrypt)(req)
    finally:
        skcipher_request_free(req)
        crypto_free_skcipher(tfm)
        lay.free()


@pytest.mark.parametrize("driver", DRIVERS["cbc(aes)"] + DRIVERS["ctr(aes)"]
                         + DRIVERS["cts(cbc(aes))"])
def test_iv_output_at_misaligned_kernel_address(driver: str) -> None:
    """The IV given as a kernel address (odd, so the walk may bounce it)
    receives the next IV; a numpy IV works the same."""
    name = next(n for n, ds in DRIVERS.items() if driver in ds)
    key, iv = bytes(range(16)), bytes(range(100, 116))
    data = bytes(range(50)) if name != "cbc(aes)" else bytes(range(48))
    buf = kmem.kmalloc(64, kmem.GFP_KERNEL)
    addr = buf + 3
    kmem.write_virt(addr, iv)
    assert _run_with_iv(driver, key, data, addr, True) == 0
    want = sgl_crypt(driver, key, iv, data, True).iv
    assert want != iv
    assert kmem.read_virt(addr, 16) == want
    kmem.kfree(buf)
    arr = np.frombuffer(iv, np.uint8).copy()
    assert _run_with_iv(driver, key, data, arr, True) == 0
    assert arr.tobytes() == want


@pytest.mark.parametrize("name,driver", [(n, d) for n, d in ALL_DRIVERS if ALGS[n].ivsize])
def test_null_iv_is_a_kernel_bug(name: str, driver: str) -> None:
    alg = ALGS[name]
    with pytest.raises(kmem.KernelBug):
        _run_with_iv(driver, bytes(alg.keysizes[0]), bytes(32), None, True)


def test_rfc3686_counter_block() -> None:
    assert rfc3686_counter_block(b"NNNN", b"IIIIIIII") == b"NNNNIIIIIIII\0\0\0\1"


@pytest.mark.parametrize("driver", DRIVERS["ctr(aes)"])
def test_ctr_counter_wraps_128_bits(driver: str) -> None:
    key, iv = bytes(16), b"\xff" * 16
    data = bytes(40)
    r = sgl_crypt(driver, key, iv, data, True, src_segs=[("kmalloc", 7), ("page", 33)])
    assert r.out == reference("ctr(aes)", key, iv, data, True)
    assert r.iv == (2).to_bytes(16, "big")  # 3 blocks used: ff..ff, 0, 1


@pytest.mark.parametrize("driver", DRIVERS["chacha20"])
def test_chacha_counter_wraps_32_bits(driver: str) -> None:
    key, iv = bytes(range(32)), b"\xff\xff\xff\xff" + bytes(range(12))
    data = bytes(200)
    r = sgl_crypt(driver, key, iv, data, True, src_segs=[("kmalloc", 100), ("page", 100)])
    assert r.err == 0 and r.out == reference("chacha20", key, iv, data, True)
    assert r.iv == iv  # chacha20 writes no IV back
