"""ARIA (ciphers.aria): the vectorised core against RFC 5794's vectors and
against the independent one-block-at-a-time reference of refs_block, its
S-boxes and diffusion layer, the key lengths the kernel's aria_set_key()
takes, and gcm(aria)'s registration.  (ecb/cbc/ctr(aria)'s published
vectors also run through every driver of both worlds in
test_block_ciphers, gcm(aria)'s in tests/test_aead/test_block_aeads.)"""

from __future__ import annotations

import numpy as np
import pytest

import iovcrypto
import sgl
from ciphers.aria import (
    ARIA_KEYSIZES,
    AriaBlockCipher,
    aria_diffuse,
    aria_rounds,
    aria_sboxes,
)
from ciphers.cbc import Cbc
from ciphers.ctr import Ctr
from iovcrypto.tools.conformance import refs_block
from iovcrypto.tools.conformance import session as S
from iovcrypto.tools.conformance.published_block import PUBLISHED_BLOCK
from kmem.errno import EINVAL

RFC5794 = [(bytes.fromhex(k), bytes.fromhex(p), bytes.fromhex(c))
           for n, k, _iv, p, c, *_ in PUBLISHED_BLOCK if n == "ecb(aria)"]


def test_rfc5794_vectors_for_every_key_size() -> None:
    assert sorted(len(k) for k, _, _ in RFC5794) == list(ARIA_KEYSIZES)
    for key, pt, ct in RFC5794:
        c = AriaBlockCipher(key)
        assert c.rounds == aria_rounds(len(key)) == {16: 12, 24: 14, 32: 16}[len(key)]
        assert c.encrypt_block(pt) == ct
        assert c.decrypt_block(ct) == pt
        assert refs_block.aria_ecb_encrypt(key, pt) == ct


def test_sboxes_are_rfc5794s() -> None:
    sb = aria_sboxes()
    # The first row of each table as RFC 5794 section 2.4.2 prints it.
    assert sb[0][:8].tobytes().hex() == "637c777bf26b6fc5"
    assert sb[1][:8].tobytes().hex() == "e24e54fc94c24acc"
    assert sb[2][:8].tobytes().hex() == "52096ad53036a538"
    assert sb[3][:8].tobytes().hex() == "3068991b87b92178"
    for fwd, inv in ((0, 2), (1, 3)):
        assert (sb[inv][sb[fwd]] == np.arange(256)).all()


def test_diffusion_is_an_involution_with_seven_inputs_per_byte() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (64, 16), dtype=np.uint8)
    assert (aria_diffuse(aria_diffuse(x)) == x).all()
    for j in range(16):
        e = np.zeros((1, 16), np.uint8)
        e[0, j] = 1
        assert int(aria_diffuse(e).sum()) == 7


@pytest.mark.parametrize("keylen", ARIA_KEYSIZES)
def test_core_matches_the_reference_over_many_chunks(keylen: int) -> None:
    rng = np.random.default_rng(keylen)
    key = rng.bytes(keylen)
    data = rng.bytes(16 * 2500)              # past the core's 1024-block chunk
    c = AriaBlockCipher(key)
    out = np.empty(len(data), np.uint8)
    c.encrypt_blocks(data, out)
    assert out.tobytes() == refs_block.aria_ecb_encrypt(key, data)
    back = out.copy()
    c.decrypt_blocks(back, back)             # in place
    assert back.tobytes() == data
    assert c.encrypt_bytes(data[:48]) == out[:48].tobytes()


def test_cbc_and_ctr_cores_over_aria_match_the_references() -> None:
    rng = np.random.default_rng(9)
    key, iv = rng.bytes(24), rng.bytes(16)
    data = rng.bytes(16 * 70)
    for mode, core in (("cbc", Cbc(AriaBlockCipher(key), iv)),
                       ("ctr", Ctr(AriaBlockCipher(key), iv))):
        n = len(data) - (3 if mode == "ctr" else 0)
        src = np.frombuffer(data[:n], np.uint8)
        out = np.empty_like(src)
        for a, b in ((0, 5), (5, 300), (300, n)) if mode == "ctr" else ((0, 32), (32, n)):
            core.update(src[a:b], out[a:b])
        want = refs_block.block_mode_encrypt("aria", mode)(key, iv, data[:n])
        assert out.tobytes() == want, mode


def test_bad_keys_and_lengths() -> None:
    for n in (0, 15, 20, 33):
        with pytest.raises(ValueError, match="key"):
            AriaBlockCipher(bytes(n))
    c = AriaBlockCipher(bytes(16))
    with pytest.raises(ValueError, match="src"):
        c.encrypt_blocks(bytes(17), np.empty(17, np.uint8))
    with pytest.raises(ValueError, match="block"):
        c.encrypt_block(bytes(8))


@pytest.mark.parametrize("api", [sgl, iovcrypto], ids=["sgl", "iovcrypto"])
@pytest.mark.parametrize("name", ["ecb(aria)", "cbc(aria)", "ctr(aria)"])
def test_aria_setkey_takes_16_24_32_bytes_in_both_worlds(api, name: str) -> None:
    tfm = api.crypto_alloc_skcipher(name, 0, 0)
    try:
        assert tfm.alg.cra_driver_name == f"{name[:3]}(aria-generic)"
        assert tfm.alg.cra_priority == 100
        for n in range(0, 40):
            want = 0 if n in ARIA_KEYSIZES else -EINVAL
            assert api.crypto_skcipher_setkey(tfm, bytes(n), n) == want, n
    finally:
        api.crypto_free_skcipher(tfm)


GCM_DRV = "gcm_base(ctr(aria-generic),ghash-generic)"


def test_gcm_aria_is_the_generic_template_at_100_in_both_worlds() -> None:
    for api in (sgl, iovcrypto):
        tfm = api.crypto_alloc_aead("gcm(aria)", 0, 0)
        assert tfm.alg.cra_driver_name == GCM_DRV and tfm.alg.cra_priority == 100
        assert tfm.alg.ivsize == 12 and tfm.alg.maxauthsize == 16
        for n in (0, 8, 20, 40):
            assert api.crypto_aead_setkey(tfm, bytes(n), n) == -EINVAL
        assert api.crypto_aead_setkey(tfm, bytes(24), 24) == 0
        api.crypto_free_aead(tfm)


def test_the_default_run_samples_one_aria_algorithm() -> None:
    assert "aria" in S.SAMPLED_CIPHERS
    targets, _notices, _ = S.select_targets(S.Options())
    names = {t.alg.cra_name for t in targets}
    assert len({n for n in names if S._cipher_of(n) == "aria"}) == 1
    full, _, _ = S.select_targets(S.Options(alg="*aria*"))
    assert {t.alg.cra_name for t in full} == {"ecb(aria)", "cbc(aria)", "ctr(aria)",
                                              "gcm(aria)"}
