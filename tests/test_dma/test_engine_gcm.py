"""gcm-aes-engine in both worlds (sgl/engine_aes_gcm.py and
iovcrypto/engine_aes_gcm.py), and the software fallback of the engine
drivers: results against the reference, AD in front and tag after,
-EBADMSG (plaintext left by the legacy driver, zeroed by the iov_iter
API), authsize checks, the fallback taken exactly where the engine cannot
serve, and the async contract shared with the skciphers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import iovcrypto as iov
import kmem
import sgl
from ciphers.algapi import CRYPTO_TFM_REQ_MAY_BACKLOG
from dma.engine import ENGINE_MAX_DESC_LEN
from iovcrypto import engine_aes as iov_engine
from iovcrypto import engine_aes_gcm as iov_gcm
from kmem import errno as E
from sgl import engine_aes as sg_engine
from sgl import engine_aes_gcm as sg_gcm

WORLDS = {"sg": (sgl, sg_engine), "iter": (iov, iov_engine)}
IV = bytes(range(40, 52))


@pytest.fixture(autouse=True)
def engines():
    saved = {w: dataclasses.replace(m.engine_dd.dev) for w, (_, m) in WORLDS.items()}
    yield
    for w, (_, m) in WORLDS.items():
        dev = m.engine_dd.dev
        assert not dev.mappings, f"{w}: mappings left: {dev.mappings}"
        assert dev.iova_in_use == 0
        assert not m.engine_dd.busy
        for f in ("iommu", "dma_mask", "p2p", "fail_maps", "fail_iova", "iova_aperture"):
            setattr(dev, f, getattr(saved[w], f))
        m.engine_dd.hw.fail_desc, m.engine_dd.hw.hang = -1, 0


class Mem:
    """``size`` bytes at ``off`` in kmalloc'd or user memory (of the
    address space in use)."""

    def __init__(self, kind: str, size: int, off: int) -> None:
        self.kind, self.size, self.off = kind, size, off
        if kind == "user":
            self.base = kmem.vm_mmap(off + size)
        else:
            self.base = kmem.kmalloc(off + size, kmem.GFP_KERNEL)
        self.addr = self.base + off

    def write(self, data: bytes) -> None:
        if self.kind == "user":
            assert kmem.copy_to_user(self.addr, data, len(data)) == 0
        else:
            kmem.write_virt(self.addr, data)

    def read(self, n: int) -> bytes:
        if self.kind == "user":
            out = bytearray(n)
            assert kmem.copy_from_user(out, self.addr, n) == 0
            return bytes(out)
        return kmem.read_virt(self.addr, n)

    def desc(self, world: str, direction: int):
        if world == "sg":
            s = sgl.sg_array(1)
            sgl.sg_init_one(s, self.addr, self.size)
            return s
        it = iov.iov_iter()
        if self.kind == "user":
            iov.iov_iter_ubuf(it, direction, self.addr, self.size)
        else:
            iov.iov_iter_kvec(it, direction, [iov.kvec(self.addr, self.size)], 1, self.size)
        return it

    def free(self) -> None:
        if self.kind == "user":
            kmem.vm_munmap(self.base, self.off + self.size)
        else:
            kmem.kfree(self.base)


def _tfm(api, key: bytes, authsize: int = 16):
    tfm = api.crypto_alloc_aead("gcm(aes)")
    assert api.crypto_aead_driver_name(tfm) == "gcm-aes-engine"
    assert api.crypto_aead_setkey(tfm, key, len(key)) == 0
    assert api.crypto_aead_setauthsize(tfm, authsize) == 0
    return tfm


def gcm_op(*args, **kw):
    """One request: (err, dst bytes, the expected bytes after AD, what is
    left of the iterators, engine jobs run, fallback requests)."""
    with kmem.use_mm(kmem.mm_alloc()):
        return _gcm_op(*args, **kw)


def _gcm_op(world, key, ad, text, enc, *, authsize=16, inplace=False, kind="slab", off=0,
            dst_off=4, corrupt=False, flags=CRYPTO_TFM_REQ_MAY_BACKLOG):
    api, drv = WORLDS[world]
    dd = drv.engine_dd
    sealed = AESGCM(key).encrypt(IV, text, ad)
    sealed = sealed[:len(text)] + sealed[len(text):len(text) + authsize]
    n = len(text)
    inp = ad + (text if enc else sealed)
    if corrupt:
        inp = inp[:-1] + bytes([inp[-1] ^ 1])
    size = len(ad) + n + authsize
    src = Mem(kind, size, off)
    src.write(inp)
    dst = src if inplace else Mem("slab" if world == "sg" else kind, size, dst_off)
    if dst is not src:
        dst.write(bytes(size))
    tfm = _tfm(api, key, authsize)
    req = api.aead_request_alloc(tfm, kmem.GFP_KERNEL)
    wait = api.CryptoWait()
    api.aead_request_set_callback(req, flags, api.crypto_req_done, wait)
    s = src.desc(world, iov.ITER_DEST if inplace else iov.ITER_SOURCE)
    d = s if inplace else dst.desc(world, iov.ITER_DEST)
    cryptlen = n if enc else n + authsize
    if world == "sg":
        api.aead_request_set_crypt(req, s, d, cryptlen, bytearray(IV))
    else:
        api.aead_request_set_iter(req, s, d, cryptlen, bytearray(IV))
    api.aead_request_set_ad(req, len(ad))
    jobs, fbs = dd.hw.jobs_run, dd.fallback_reqs
    fn = api.crypto_aead_encrypt if enc else api.crypto_aead_decrypt
    err = api.crypto_wait_req(fn(req), wait)
    out = dst.read(len(ad) + n + (authsize if enc else 0))
    # What is left of the iterators beyond what the request consumed and
    # produced (the buffers hold AD, text and a tag both ways).
    counts = (s.count, d.count) if world == "iter" else None
    if counts is not None and not inplace:
        counts = (counts[0] - (authsize if enc else 0), counts[1] - (0 if enc else authsize))
    api.aead_request_free(req)
    api.crypto_free_aead(tfm)
    if dst is not src:
        dst.free()
    src.free()
    want = sealed if enc else text
    return err, out, want, counts, dd.hw.jobs_run - jobs, dd.fallback_reqs - fbs


KEY = bytes(range(32))


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("ad,n", [(0, 64), (20, 4096), (13, 100), (16, 3 * ENGINE_MAX_DESC_LEN),
                                  (20, 0)])
@pytest.mark.parametrize("off", [0, 6])
def test_gcm_results_on_the_engine(world, ad, n, off):
    """Aligned layouts go to the device as they are, offset 6 through the
    bounce buffer; in place and out of place, both directions."""
    rng = np.random.default_rng(ad + n + off)
    a, text = rng.bytes(ad), rng.bytes(n)
    for inplace in (False, True):
        for enc in (True, False):
            err, out, want, counts, jobs, fbs = gcm_op(world, KEY, a, text, enc,
                                                       inplace=inplace, off=off)
            assert (err, jobs, fbs) == (0, 1, 0)
            assert out[ad:] == want
            if inplace:
                assert out[:ad] == a
            else:
                assert out[:ad] == bytes(ad)      # dst's AD area is not touched
            if world == "iter":
                assert counts == (0, 0)


@pytest.mark.parametrize("authsize", [4, 8, 12, 13, 16])
@pytest.mark.parametrize("off", [0, 100])
def test_gcm_on_user_memory_pins_the_tag_pages_too(authsize, off):
    rng = np.random.default_rng(authsize)
    a, text = rng.bytes(20), rng.bytes(5000)
    for enc in (True, False):
        err, out, want, counts, jobs, _ = gcm_op("iter", KEY[:16], a, text, enc,
                                                 authsize=authsize, kind="user", off=off)
        assert (err, counts, jobs) == (0, (0, 0), 1)
        assert out[20:] == want


@pytest.mark.parametrize("world", WORLDS)
def test_a_bad_tag_is_ebadmsg_and_only_the_iov_iter_api_zeroes(world):
    rng = np.random.default_rng(7)
    a, text = rng.bytes(20), rng.bytes(300)
    for inplace in (False, True):
        err, out, _want, counts, jobs, _ = gcm_op(world, KEY, a, text, False, inplace=inplace,
                                                  corrupt=True)
        assert (err, jobs) == (-E.EBADMSG, 1)
        if world == "iter":
            assert out[20:] == bytes(300)          # no unauthenticated plaintext
            size = 20 + 300 + 16
            assert counts == ((size, size - 16) if not inplace else (size, size))
        else:
            assert out[20:] == text                # the kernel's drivers leave it there


@pytest.mark.parametrize("world", WORLDS)
def test_authsize_is_checked_like_crypto_gcm_check_authsize(world):
    api = WORLDS[world][0]
    tfm = api.crypto_alloc_aead("gcm(aes)")
    assert api.crypto_aead_driver_name(tfm) == "gcm-aes-engine"
    for a in range(0, 18):
        want = 0 if a in (4, 8, 12, 13, 14, 15, 16) else -E.EINVAL
        assert api.crypto_aead_setauthsize(tfm, a) == want, a
    assert api.crypto_aead_authsize(tfm) == 16
    assert api.crypto_aead_setkey(tfm, bytes(20), 20) == -E.EINVAL
    api.crypto_free_aead(tfm)


@pytest.mark.parametrize("world", WORLDS)
def test_the_fallback_serves_aes192_and_empty_requests(world):
    rng = np.random.default_rng(3)
    a, text = rng.bytes(20), rng.bytes(1000)
    key192 = rng.bytes(24)
    for enc in (True, False):
        err, out, want, counts, jobs, fbs = gcm_op(world, key192, a, text, enc, off=6)
        assert (err, jobs, fbs) == (0, 0, 1)
        assert out[20:] == want
        if world == "iter":
            assert counts == (0, 0)
        # Nothing to hash or encrypt: the tag is E_K(J0), computed in software.
        err, out, want, counts, jobs, fbs = gcm_op(world, KEY, b"", b"", enc, authsize=8)
        assert (err, jobs, fbs, out) == (0, 0, 1, want)
    err, out, _w, _c, jobs, fbs = gcm_op(world, key192, a, text, False, corrupt=True)
    assert (err, jobs, fbs) == (-E.EBADMSG, 0, 1)
    assert out[20:] == (bytes(1000) if world == "iter" else text)


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("mode", ["cbc", "ctr"])
def test_the_skcipher_fallback_serves_aes192_with_its_iv_out(world, mode):
    api, drv = WORLDS[world]
    key = bytes(range(24))
    iv0 = bytes(range(16))
    tfm = api.crypto_alloc_skcipher(f"{mode}(aes)")
    assert api.crypto_skcipher_driver_name(tfm) == f"{mode}-aes-engine"
    assert api.crypto_skcipher_setkey(tfm, key, 24) == 0
    m = Mem("slab", 4096, 0)
    data = bytes(range(256)) * 16
    m.write(data)
    req = api.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    wait = api.CryptoWait()
    api.skcipher_request_set_callback(req, 0, api.crypto_req_done, wait)
    it = m.desc(world, iov.ITER_DEST)
    iv = bytearray(iv0)
    if world == "sg":
        api.skcipher_request_set_crypt(req, it, it, 4096, iv)
    else:
        api.skcipher_request_set_iter(req, it, it, 4096, iv)
    jobs, fbs = drv.engine_dd.hw.jobs_run, drv.engine_dd.fallback_reqs
    assert api.crypto_wait_req(api.crypto_skcipher_encrypt(req), wait) == 0
    assert (drv.engine_dd.hw.jobs_run - jobs, drv.engine_dd.fallback_reqs - fbs) == (0, 1)
    c = Cipher(algorithms.AES(key), modes.CBC(iv0) if mode == "cbc" else modes.CTR(iv0))
    want = c.encryptor().update(data)
    assert m.read(4096) == want
    if mode == "cbc":
        assert bytes(iv) == want[-16:]
    else:
        assert bytes(iv) == (int.from_bytes(iv0, "big") + 256).to_bytes(16, "big")
    if world == "iter":
        assert it.count == 0
    # Keys the slot takes stay on the engine.
    assert api.crypto_skcipher_setkey(tfm, key[:16], 16) == 0
    if world == "iter":
        it = m.desc(world, iov.ITER_DEST)
        api.skcipher_request_set_iter(req, it, it, 4096, iv)
    assert api.crypto_wait_req(api.crypto_skcipher_encrypt(req), wait) == 0
    assert (drv.engine_dd.hw.jobs_run - jobs, drv.engine_dd.fallback_reqs - fbs) == (1, 1)
    api.skcipher_request_free(req)
    api.crypto_free_skcipher(tfm)
    m.free()


def test_the_engine_refuses_a_key_its_slot_cannot_hold():
    """What the fallback exists for: an AES-192 job is a descriptor-format
    error on the device."""
    from dma.engine import EngineDesc, EngineJob
    hw = sg_engine.engine_dd.hw
    job = EngineJob("cbc", True, bytes(24), bytes(16), [EngineDesc([(0, 16)], [(0, 16)], 16)],
                    16)
    with pytest.warns(UserWarning, match="key slot"):
        assert hw.submit(job) == -E.EINVAL
    kmem.sanitizer.ledger.records.clear()


@pytest.mark.parametrize("world", WORLDS)
def test_gcm_and_cbc_requests_share_the_engine_queue(world):
    """Skcipher and AEAD requests of one engine wait in one queue, in
    order, with the backlog notifications of either."""
    api, drv = WORLDS[world]
    rng = np.random.default_rng(11)
    cbc = api.crypto_alloc_skcipher("cbc(aes)")
    api.crypto_skcipher_setkey(cbc, KEY[:16], 16)
    gcm = _tfm(api, KEY)
    events: list = []
    waits, reqs, mems, rets = [], [], [], []
    nreq = drv.ENGINE_QUEUE_LEN + 3
    for i in range(nreq):
        m = Mem("slab", 20 + 256 + 16, 0)
        m.write(rng.bytes(20 + 256 + 16))
        mems.append(m)
        wait = api.CryptoWait()
        waits.append(wait)

        def done(tag, err, wait=wait):
            events.append((tag, err))
            api.crypto_req_done(wait, err)

        it = m.desc(world, iov.ITER_DEST)
        if i % 2:
            req = api.aead_request_alloc(gcm, kmem.GFP_KERNEL)
            api.aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, done, i)
            setter = api.aead_request_set_crypt if world == "sg" else api.aead_request_set_iter
            setter(req, it, it, 256, bytearray(IV))
            api.aead_request_set_ad(req, 20)
            rets.append(api.crypto_aead_encrypt(req))
        else:
            req = api.skcipher_request_alloc(cbc, kmem.GFP_KERNEL)
            api.skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, done, i)
            setter = (api.skcipher_request_set_crypt if world == "sg"
                      else api.skcipher_request_set_iter)
            setter(req, it, it, 256, bytearray(16))
            rets.append(api.crypto_skcipher_encrypt(req))
        reqs.append(req)
    q = drv.ENGINE_QUEUE_LEN
    assert rets == [-E.EINPROGRESS] * (q + 1) + [-E.EBUSY] * (nreq - q - 1)
    assert api.crypto_wait_req(rets[-1], waits[-1]) == 0
    finals = [t for t, e in events if e == 0]
    assert finals == list(range(nreq))
    for i, req in enumerate(reqs):
        (api.aead_request_free if i % 2 else api.skcipher_request_free)(req)
        mems[i].free()
    api.crypto_free_skcipher(cbc)
    api.crypto_free_aead(gcm)


def test_the_gcm_pair_is_one_file_name_in_each_world():
    assert sg_gcm.__name__.rsplit(".", 1)[1] == iov_gcm.__name__.rsplit(".", 1)[1]
    assert [d.alg.cra_driver_name for d in sg_gcm.DRIVERS] == ["gcm-aes-engine"]
    assert sg_gcm.DRIVERS[0].alg.cra_priority == sg_engine.ENGINE_PRIORITY
