"""ccm-aes-openssl's one-pass fast path (an arch driver's interleaved
CTR + CBC-MAC): a request whose AD ‖ text ‖ tag lies in one scatterlist
entry / one bio_vec per side is one library call with no walk; anything
else, and a decryption with a bad tag, runs the template's plan over the
pieces.  Either way the result is the generic ccm_base(...)'s."""

from __future__ import annotations

import os

import numpy as np
import pytest

import iovcrypto
import kmem
import sgl
from iovcrypto import ITER_DEST, ITER_SOURCE
from kmem import errno as E

ACCEL = {"ccm(aes)": "ccm-aes-openssl", "rfc4309(ccm(aes))": "rfc4309(ccm-aes-openssl)"}
GENERIC = {"ccm(aes)": "ccm_base(ctr(aes-generic),cbcmac(aes-generic))",
           "rfc4309(ccm(aes))": "rfc4309(ccm_base(ctr(aes-generic),cbcmac(aes-generic)))"}
ORDER = 5      # 128 KiB folios: room for a 2^16-byte text after its AD


def _key_iv(name: str, lprime: int = 3) -> tuple[bytes, bytes]:
    if name == "ccm(aes)":
        return os.urandom(16), bytes([lprime]) + os.urandom(15)
    return os.urandom(16 + 3), os.urandom(8)


def _request(world: str, driver: str, key: bytes, authsize: int, iv: bytes, data: bytes,
             assoclen: int, cryptlen: int, decrypt: bool, inplace: bool) -> tuple[int, bytes]:
    """One request over one entry / bio_vec per side: (ret, dst bytes)."""
    api = sgl if world == "sg" else iovcrypto
    tfm = api.crypto_alloc_aead(driver)
    assert api.crypto_aead_setkey(tfm, key, len(key)) == 0
    assert api.crypto_aead_setauthsize(tfm, authsize) == 0
    req = api.aead_request_alloc(tfm, kmem.GFP_KERNEL)
    api.aead_request_set_ad(req, assoclen)
    out_len = assoclen + cryptlen + (-authsize if decrypt else authsize)
    span = max(len(data), out_len)
    a, b = (kmem.alloc_pages(kmem.GFP_KERNEL, ORDER) for _ in range(2))
    kmem.copy_views(kmem.page_views(a, 0, len(data), write=True), [np.frombuffer(data, np.uint8)])
    kmem.copy_views(kmem.page_views(b, 0, span, write=True), [np.full(span, 0xA5, np.uint8)])
    if world == "sg":
        sa, sb = sgl.sg_array(1), sgl.sg_array(1)
        for s, p in ((sa, a), (sb, b)):
            sgl.sg_init_table(s, 1)
            sgl.sg_set_page(s[0], p, span, 0)
        sgl.aead_request_set_crypt(req, sa, sa if inplace else sb, cryptlen, bytearray(iv))
    else:
        bva, bvb = [iovcrypto.bio_vec(a, span, 0)], [iovcrypto.bio_vec(b, span, 0)]
        di = iovcrypto.iov_iter()
        if inplace:
            iovcrypto.iov_iter_bvec(di, ITER_DEST, bva, 1, span)
            si = di
        else:
            si = iovcrypto.iov_iter()
            iovcrypto.iov_iter_bvec(si, ITER_SOURCE, bva, 1, span)
            iovcrypto.iov_iter_bvec(di, ITER_DEST, bvb, 1, span)
        iovcrypto.aead_request_set_iter(req, si, di, cryptlen, bytearray(iv))
    ret = (api.crypto_aead_decrypt if decrypt else api.crypto_aead_encrypt)(req)
    out = kmem.gather(kmem.page_views(a if inplace else b, 0, out_len)).tobytes()
    for p in (a, b):
        kmem.__free_pages(p, ORDER)
    api.aead_request_free(req)
    api.crypto_free_aead(tfm)
    return ret, out


def _no_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> int:
        raise AssertionError("the fast path walked")
    for mod in ("sgl.aead_template", "iovcrypto.aead_template"):
        for fn in ("skcipher_walk_aead_encrypt", "skcipher_walk_aead_decrypt"):
            monkeypatch.setattr(f"{mod}.{fn}", refuse)


CASES = [(0, 0), (0, 1), (16, 0), (20, 33), (24, 4096), (65280 - 16, 100)]


@pytest.mark.parametrize("world", ["sg", "iov"])
@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", list(ACCEL))
def test_one_entry_is_one_library_call(monkeypatch: pytest.MonkeyPatch, world: str,
                                       inplace: bool, name: str) -> None:
    key, iv = _key_iv(name)
    authsize = 12
    todo = []
    for adlen, textlen in CASES:
        if name != "ccm(aes)":
            adlen = 16 if adlen < 20 else 20
        pt = os.urandom(adlen + textlen)
        enc = _request(world, GENERIC[name], key, authsize, iv, pt, adlen, textlen, False,
                       inplace)
        ct = pt[:adlen] + enc[1][adlen:]      # (out of place, dst's AD is not written)
        dec = _request(world, GENERIC[name], key, authsize, iv, ct, adlen, textlen + authsize,
                       True, inplace)
        assert enc[0] == dec[0] == 0 and dec[1][adlen:] == pt[adlen:]
        todo.append((adlen, textlen, pt, ct, enc, dec))
    _no_walk(monkeypatch)
    for adlen, textlen, pt, ct, enc, dec in todo:
        assert _request(world, ACCEL[name], key, authsize, iv, pt, adlen, textlen, False,
                        inplace) == enc, (adlen, textlen)
        assert _request(world, ACCEL[name], key, authsize, iv, ct, adlen, textlen + authsize,
                        True, inplace) == dec, (adlen, textlen)


@pytest.mark.parametrize("world", ["sg", "iov"])
@pytest.mark.parametrize("inplace", [False, True])
def test_bad_tag_leaves_what_the_kernel_leaves(world: str, inplace: bool) -> None:
    """-EBADMSG; the scatterlist world keeps the unauthenticated plaintext
    in dst as the kernel's ccm does (the one-pass call wipes it, so the
    pieces redo the request), the iov_iter API zeroes it."""
    key, iv = _key_iv("ccm(aes)")
    pt = os.urandom(16 + 200)
    ret, ct = _request(world, GENERIC["ccm(aes)"], key, 8, iv, pt, 16, 200, False, inplace)
    assert ret == 0
    bad = bytearray(pt[:16] + ct[16:])
    bad[-1] ^= 1
    want = _request(world, GENERIC["ccm(aes)"], key, 8, iv, bytes(bad), 16, 208, True, inplace)
    got = _request(world, ACCEL["ccm(aes)"], key, 8, iv, bytes(bad), 16, 208, True, inplace)
    assert got == want
    assert got[0] == -E.EBADMSG
    text = got[1][16:]
    assert text == (pt[16:] if world == "sg" else bytes(200))


@pytest.mark.parametrize("world", ["sg", "iov"])
def test_a_length_the_library_refuses_takes_the_pieces(world: str) -> None:
    """L = 2 and a 2^16-byte text: the kernel encodes the length as 0 and
    goes on (set_msg_len's ">"); the library refuses it, so the pieces
    serve it."""
    key, iv = _key_iv("ccm(aes)", lprime=1)
    pt = os.urandom(8 + (1 << 16))
    want = _request(world, GENERIC["ccm(aes)"], key, 16, iv, pt, 8, 1 << 16, False, False)
    assert want[0] == 0
    assert _request(world, ACCEL["ccm(aes)"], key, 16, iv, pt, 8, 1 << 16, False, False) == want
