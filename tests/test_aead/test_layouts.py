"""Each generic driver against its accelerated twin on random scatterlist
divisions (in place, two lists over the same memory, out of place), with
empty AD, empty text and both empty; what each template leaves in dst
(the AD area, the plaintext on -EBADMSG) and in req->iv."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from kmem import errno as E
from tests.test_aead.helpers import (
    AUTHSIZES,
    ESP,
    MARK,
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


def _min_ad(name: str) -> int:
    """The shortest AD the template accepts, without the ESP IV copy."""
    if name in ESP and not name.startswith("rfc7539esp"):
        return 8
    return 0


@pytest.mark.parametrize("name", NAMES)
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from(SHAPES),
       empty=st.sampled_from(["none", "ad", "text", "both"]))
def test_generic_equals_accelerated(name, seed, shape, empty):
    rng = np.random.default_rng(seed)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = rand_ad(name, iv, rng, _min_ad(name) if empty in ("ad", "both") else None)
    pt = b"" if empty in ("text", "both") else rand_text(name, rng, 3000)
    authsize = int(rng.choice(AUTHSIZES[name]))
    gen, acc = drivers(name)
    layout_seed = int(rng.integers(1 << 30))
    enc = [run(d, key, authsize, iv, ad + pt, len(ad), len(pt), False, shape,
               np.random.default_rng(layout_seed)) for d in (gen, acc)]
    assert enc[0].ret == enc[1].ret == 0
    assert enc[0].dst == enc[1].dst and enc[0].iv == enc[1].iv
    ct = enc[0].dst[len(ad):]
    assert ct == reference_encrypt(name, key, authsize, iv, ad, pt)
    # A corrupted tag: both fail alike and leave the same bytes behind.
    bad = bytearray(ct)
    bad[-1] ^= 1
    for blob, want in ((ct, 0), (bytes(bad), -E.EBADMSG)):
        dec = [run(d, key, authsize, iv, ad + blob, len(ad), len(blob), True, shape,
                   np.random.default_rng(layout_seed)) for d in (gen, acc)]
        assert dec[0].ret == dec[1].ret == want
        assert dec[0].dst == dec[1].dst and dec[0].iv == dec[1].iv
        if not want:
            assert dec[0].dst[len(ad):len(ad) + len(pt)] == pt


def _case(name: str, seed: int, ptlen: int = 64):
    rng = np.random.default_rng(seed)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = rand_ad(name, iv, rng, 12 if name in ESP else 21)
    pt = rng.integers(0, 256, ptlen, dtype=np.uint8).tobytes()
    authsize = max(AUTHSIZES[name])
    return rng, key, iv, ad, pt, authsize


@pytest.mark.parametrize("name", NAMES)
def test_dst_ad_area_as_the_kernel_templates_leave_it(name):
    rng, key, iv, ad, pt, authsize = _case(name, 1)
    ref = reference_encrypt(name, key, authsize, iv, ad, pt)
    marks = bytes([MARK]) * len(ad)
    for drv in drivers(name):
        e = run(drv, key, authsize, iv, ad + pt, len(ad), len(pt), False, "oop", rng)
        d = run(drv, key, authsize, iv, ad + ref, len(ad), len(ref), True, "oop", rng)
        assert e.ret == d.ret == 0 and e.dst[len(ad):] == ref
        if name.startswith("authenc"):
            # crypto_authenc_encrypt copies the AD; decryption does not.
            assert e.dst[:len(ad)] == ad and d.dst[:len(ad)] == marks
        elif name.startswith("rfc4543"):
            # crypto_rfc4543_copy_src_to_dst: AD ‖ payload, both directions.
            assert e.dst[:len(ad)] == ad and d.dst[:len(ad)] == ad
        else:
            assert e.dst[:len(ad)] == marks and d.dst[:len(ad)] == marks


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_ebadmsg_leaves_what_the_template_wrote(name, shape):
    rng, key, iv, ad, pt, authsize = _case(name, 2)
    ref = bytearray(reference_encrypt(name, key, authsize, iv, ad, pt))
    ref[-1] ^= 0x80
    for drv in drivers(name):
        r = run(drv, key, authsize, iv, ad + bytes(ref), len(ad), len(ref), True, shape, rng)
        assert r.ret == -E.EBADMSG
        text = r.dst[len(ad):len(ad) + len(pt)]
        if name.startswith("authenc"):
            # Verified before decrypting: dst untouched.
            untouched = bytes([MARK]) * len(pt) if shape == "oop" else bytes(ref[:len(pt)])
            assert text == untouched
        else:
            # gcm/ccm/chachapoly decrypt first: the plaintext stays (rfc4543
            # copied the payload, which is the plaintext).
            assert text == pt


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("authenc")])
def test_authenc_iv_output_is_the_last_ciphertext_block(name):
    rng, key, iv, ad, pt, authsize = _case(name, 3, 80)
    enckey = key[len(key) - int.from_bytes(key[4:8], "big"):]
    for drv in drivers(name):
        e = run(drv, key, authsize, iv, ad + pt, len(ad), len(pt), False, "alias", rng)
        ct = e.dst[len(ad):len(ad) + len(pt)]
        assert e.ret == 0 and e.iv == ct[-16:]
        d = run(drv, key, authsize, iv, e.dst, len(ad), len(pt) + authsize, True, "oop", rng)
        assert d.ret == 0 and d.iv == ct[-16:]
        c = Cipher(algorithms.AES(enckey), modes.CBC(iv)).decryptor()
        assert c.update(ct) == pt == d.dst[len(ad):len(ad) + len(pt)]
        # Nothing to encrypt: the IV stays.
        z = run(drv, key, authsize, iv, ad, len(ad), 0, False, "inplace", rng)
        assert z.ret == 0 and z.iv == iv


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("authenc")])
def test_iv_left_as_given(name):
    # gcm, ccm and chachapoly build their counters in private request
    # memory: req->iv keeps its bytes (ccm's counter bytes included).
    rng, key, iv, ad, pt, authsize = _case(name, 4)
    for drv in drivers(name):
        r = run(drv, key, authsize, iv, ad + pt, len(ad), len(pt), False, "inplace", rng)
        assert r.ret == 0 and r.iv == iv
