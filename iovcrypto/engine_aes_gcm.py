"""AES-GCM on the simulated DMA engine (dma.engine), over iov_iters: the
converted twin of sgl/engine_aes_gcm.py (``diff`` the two files to see
the conversion of a DMA AEAD driver), registered as ``gcm-aes-engine``
for ``gcm(aes)`` in the iov_iter world, with no scatterlist anywhere.
It shares iovcrypto/engine_aes.py's queue, tasklets, watchdog and range
mapping.

Who does what (the split of atmel-aes's and stm32-cryp's GCM paths):

- the device derives H = E_K(0^128), hashes the AD (a phase of
  source-only descriptors), runs GCTR from J0 + 1 over the text while
  hashing the ciphertext, hashes the length block and leaves
  GHASH ^ E_K(J0) in its tag register;
- the CPU formats J0 = IV || 0^31 || 1 (gcm(aes) has 12-byte IVs only),
  checks authsize (crypto_gcm_check_authsize), reads the received tag
  from src before the job (decryption, in the submitter's context), and
  after it writes the tag register after the ciphertext or compares it
  with the received one, -EBADMSG on a mismatch.  The device has written
  the plaintext by then; the iov_iter API zeroes it before the caller
  sees -EBADMSG (DESIGN §7).

Layout: src = AD || text (|| tag), dst = AD space || text (|| tag).  All
of it is resolved in ``->encrypt()``/``->decrypt()``, while user memory
can still be pinned and copied: src's AD || text and dst's text become
physical ranges (``iov_iter_extract_pages`` on copies, pins only where
``iov_iter_extract_will_pin`` says so), mapped when the request starts
(two-step API behind an IOMMU, ``dma_map_phys`` per range otherwise);
src's DMA segments are cut at assoclen.  The device never touches dst's
AD area.  When user memory receives the tag (or a bounce's text), its
pages are pinned up front and written with ``memcpy_to_page`` from the
tasklet; kernel memory is written through the iterator
(``iter_pcopy_to``).  When the layout does not suit the engine
(``iov_iter_is_aligned`` per phase, the last piece of the AD and of the
text may be partial), AD and text are bounced through one buffer
[AD | pad | text] (``iter_pcopy_from``).

Fallback: the key slot takes no AES-192 key and the engine runs no job
without descriptors (assoclen + text == 0), so each tfm allocates a
software ``gcm(aes)`` at init (``crypto_alloc_aead(name, 0,
CRYPTO_ALG_ASYNC | CRYPTO_ALG_NEED_FALLBACK)``), keys it and sets its
authsize alongside, and hands it those requests, synchronously, on copies
of the iterators (the caller's API moves the caller's).
"""

from __future__ import annotations

import hmac

import numpy as np

import kmem
from ciphers.aead_algs import aead_impls
from ciphers.aes import aes_check_keylen
from ciphers.algapi import CRYPTO_ALG_ASYNC, CRYPTO_ALG_KERN_DRIVER_ONLY, CRYPTO_ALG_NEED_FALLBACK
from ciphers.gcm import GCM_AES_IV_SIZE, crypto_gcm_check_authsize
from dma.device import DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE
from dma.engine import (
    ENGINE_BLOCK,
    ENGINE_RING_SIZE,
    EngineJob,
    engine_build_descs,
    engine_key_ok,
    engine_split_segs,
)
from dma.mapping import dma_map_phys, dma_mapping_error
from iovcrypto.aead import (
    AeadRequest,
    aead_request_ctx,
    aead_request_set_ad,
    aead_request_set_callback,
    aead_request_set_iter,
    crypto_aead_authsize,
    crypto_aead_ctx,
    crypto_aead_decrypt,
    crypto_aead_encrypt,
    crypto_aead_reqtfm,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_free_aead,
    crypto_register_aead,
)
from iovcrypto.engine_aes import (
    ENGINE_PRIORITY,
    ENGINE_TIMEOUT,
    EngineAesDev,
    engine_aes_complete,
    engine_aes_handle_queue,
    engine_aes_unmap_dma,
    engine_dd,
)
from iovcrypto.engine_buffer_mgr import (
    RangeMap,
    engine_aes_extract,
    engine_aes_map_ranges,
    engine_aes_release,
    engine_aes_unmap_ranges,
    engine_req_maps,
)
from iovcrypto.iov_iter_position import iov_iter_advance, iov_iter_truncate
from iovcrypto.iov_iter_query import iov_iter_is_aligned, iov_iter_single_seg_count
from iovcrypto.skcipher_walk import iter_pcopy_from, iter_pcopy_to
from iovcrypto.uio import ITER_DISCARD, iov_iter, iov_iter_extract_will_pin
from kmem import errno as E
from kmem.access import buffer_views, gather
from kmem.softirq import jiffies, mod_timer

Seg = tuple[int, int]
_GCM_IMPL = next(i for i in aead_impls("gcm") if i.cra_name == "gcm(aes)" and i.accelerated)


class EngineGcmDriver:
    """gcm(aes) on the engine, as an AEAD driver object."""

    reqsize = 0

    def __init__(self, dd: EngineAesDev) -> None:
        self.alg = _GCM_IMPL.make_alg()
        self.alg.cra_driver_name = "gcm-aes-engine"
        self.alg.cra_priority = ENGINE_PRIORITY
        self.alg.cra_flags |= CRYPTO_ALG_ASYNC | CRYPTO_ALG_KERN_DRIVER_ONLY | \
            CRYPTO_ALG_NEED_FALLBACK
        self.alg.cra_module = "engine_aes"
        self.dd = dd

    def init(self, tfm: object) -> int:
        """init_tfm: no key yet; the software fallback."""
        tfm.ctx.keybytes = None
        fb = crypto_alloc_aead(self.alg.cra_name, 0, CRYPTO_ALG_ASYNC | CRYPTO_ALG_NEED_FALLBACK)
        if isinstance(fb, int):
            return fb
        tfm.ctx.fallback = fb
        return 0

    def exit(self, tfm: object) -> None:
        crypto_free_aead(tfm.ctx.fallback)

    def setkey(self, ctx: object, key: bytes) -> int:
        if not aes_check_keylen(len(key)):
            ctx.keybytes = None
            return -E.EINVAL
        err = crypto_aead_setkey(ctx.fallback, key, len(key))
        ctx.keybytes = None if err else bytes(key)
        ctx.use_fallback = not engine_key_ok("gcm", key)
        return err

    def setauthsize(self, ctx: object, authsize: int) -> int:
        return crypto_gcm_check_authsize(authsize) or \
            crypto_aead_setauthsize(ctx.fallback, authsize)

    def _crypt(self, req: AeadRequest, encrypt: bool) -> int:
        tfm = crypto_aead_reqtfm(req)
        ctx = crypto_aead_ctx(tfm)
        authsize = crypto_aead_authsize(tfm)
        n = req.cryptlen - (0 if encrypt else authsize)
        if ctx.use_fallback or not req.assoclen + n:
            return engine_gcm_fallback(self.dd, req, ctx.fallback, encrypt)
        if req.iv is None:
            raise kmem.KernelBug("gcm-aes-engine: NULL req->iv")
        rctx = aead_request_ctx(req)
        rctx.encrypt, rctx.textlen, rctx.authsize = encrypt, n, authsize
        rctx.start = engine_gcm_start
        rctx.j0 = gather(buffer_views(req.iv, GCM_AES_IV_SIZE)).tobytes() + b"\0\0\0\1"
        if not encrypt:
            rctx.itag = np.empty(authsize, np.uint8)
            if iter_pcopy_from(rctx.itag, req.src, req.assoclen + n, authsize) != authsize:
                return -E.EFAULT
        # Resolved here, in the caller's context (see engine_aes.py).
        err = engine_gcm_prepare(req, rctx)
        if err:
            return err
        err = engine_aes_handle_queue(self.dd, req)
        if err == -E.ENOSPC:
            engine_gcm_drop(req, rctx)
        return err

    def encrypt(self, req: AeadRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: AeadRequest) -> int:
        return self._crypt(req, False)


def engine_gcm_fallback(dd: EngineAesDev, req: AeadRequest, fallback: object,
                        encrypt: bool) -> int:
    """The request on the software tfm, synchronously, on copies of the
    iterators."""
    dd.fallback_reqs += 1
    src = req.src.copy()
    dst = src if req.dst is req.src else req.dst.copy()
    sub = AeadRequest(fallback)
    aead_request_set_callback(sub, req.base.flags, req.base.complete, req.base.data)
    aead_request_set_iter(sub, src, dst, req.cryptlen, req.iv)
    aead_request_set_ad(sub, req.assoclen)
    return (crypto_aead_encrypt if encrypt else crypto_aead_decrypt)(sub)


# Mapping.

def engine_gcm_check_aligned(it: iov_iter, skip: int, len: int) -> bool:
    """Can the engine take ``len`` bytes of this iterator from ``skip`` on
    as one phase: block-aligned addresses and whole blocks, but for a
    last partial block in one segment (16-byte aligned, so within one
    page)?"""
    t = it.copy()
    iov_iter_advance(t, skip)
    iov_iter_truncate(t, len)
    body = len - len % ENGINE_BLOCK
    if body:
        b = t.copy()
        iov_iter_truncate(b, body)
        if not iov_iter_is_aligned(b, ENGINE_BLOCK - 1, ENGINE_BLOCK - 1):
            return False
    if body == len:
        return True
    iov_iter_advance(t, body)
    return iov_iter_is_aligned(t, ENGINE_BLOCK - 1, 0) and \
        iov_iter_single_seg_count(t) >= len - body


def _pin_for_cpu(it: iov_iter, skip: int, len: int, rm: RangeMap
                 ) -> tuple[int, RangeMap | None]:
    """dst bytes the tasklet will write with the CPU: their pages, pinned
    into ``rm``, when dst is user memory (None otherwise: written via the
    iterator)."""
    if not len or not iov_iter_extract_will_pin(it):
        return 0, None
    rm.dir = DMA_FROM_DEVICE
    err = engine_aes_extract(it, len, rm, skip)
    return (err, None) if err else (0, rm)


def _write_dst(it: iov_iter, rm: RangeMap | None, skip: int, buf: object, size: int) -> None:
    """Write ``size`` bytes at ``skip`` into dst from the tasklet."""
    if rm is None:
        iter_pcopy_to(it, skip, buf, size)
        return
    pos = 0
    for page, off, n in rm.pieces:
        # A kernel address or the tag array: either way no gathered copy.
        kmem.memcpy_to_page(page, off, buf + pos if isinstance(buf, int) else buf[pos:pos + n],
                            n)
        pos += n


def engine_gcm_prepare(req: AeadRequest, rctx: object) -> int:
    """Resolve src and dst in the submitter's context: the physical
    ranges of src's AD || text and dst's text (pinning user memory), or a
    bounce buffer filled from src; and the pages of dst the CPU writes
    later (the tag, a bounce's text) when dst is user memory.  0 or
    -errno with nothing held."""
    ad, n = req.assoclen, rctx.textlen
    inplace = req.dst is req.src
    rctx.src_map = rctx.dst_map = rctx.tag_map = None
    rctx.bounce = 0
    smap, dmap, tmap = engine_req_maps(rctx, 3)
    if rctx.encrypt:
        err, rctx.tag_map = _pin_for_cpu(req.dst, ad + n, rctx.authsize, tmap)
        if err:
            return err
    # A DISCARD sink has no pages for the engine: the bounce takes the text.
    if engine_gcm_check_aligned(req.src, 0, ad) and engine_gcm_check_aligned(req.src, ad, n) \
            and req.dst.iter_type != ITER_DISCARD \
            and (inplace or engine_gcm_check_aligned(req.dst, ad, n)):
        smap.dir = DMA_BIDIRECTIONAL if inplace else DMA_TO_DEVICE
        rctx.src_map = smap
        err = engine_aes_extract(req.src, ad + n, smap)
        if err:
            rctx.src_map = None
            engine_gcm_drop(req, rctx)
            return err
        if n and not inplace:
            dmap.dir = DMA_FROM_DEVICE
            rctx.dst_map = dmap
            err = engine_aes_extract(req.dst, n, dmap, ad)
            if err:
                rctx.dst_map = None
                engine_gcm_drop(req, rctx)
                return err
        return 0
    adpad = -(-ad // ENGINE_BLOCK) * ENGINE_BLOCK
    size = adpad + -(-n // ENGINE_BLOCK) * ENGINE_BLOCK
    buf = kmem.kmalloc(size, kmem.GFP_ATOMIC)
    if not buf:
        engine_gcm_drop(req, rctx)
        return -E.ENOMEM
    rctx.bounce, rctx.bounce_size, rctx.bounce_dma, rctx.adpad = buf, size, 0, adpad
    # Positional reads: in place with one iterator, src is ITER_DEST.
    if iter_pcopy_from(buf, req.src, 0, ad) != ad or \
            iter_pcopy_from(buf + adpad, req.src, ad, n) != n:
        engine_gcm_drop(req, rctx)
        return -E.EFAULT
    err, rctx.dst_map = _pin_for_cpu(req.dst, ad, n, dmap)
    if err:
        engine_gcm_drop(req, rctx)
    return err


def engine_gcm_unprepare(req: AeadRequest, rctx: object, ok: bool) -> None:
    """Give back what engine_gcm_prepare took; on success a bounce's text
    is copied out first."""
    if rctx.bounce:
        if ok and rctx.textlen:
            _write_dst(req.dst, rctx.dst_map, req.assoclen, rctx.bounce + rctx.adpad,
                       rctx.textlen)
        kmem.kfree_sensitive(rctx.bounce)
        rctx.bounce = 0
    for rm in (rctx.dst_map, rctx.src_map):
        if rm is not None:
            engine_aes_release(rm, ok and rm.dir != DMA_TO_DEVICE)
    rctx.src_map = rctx.dst_map = None


def engine_gcm_release_tag(rctx: object, written: bool) -> None:
    if rctx.tag_map is not None:
        engine_aes_release(rctx.tag_map, written)
        rctx.tag_map = None


def engine_gcm_drop(req: AeadRequest, rctx: object) -> None:
    """Everything engine_gcm_prepare took, given back unused."""
    engine_gcm_unprepare(req, rctx, False)
    engine_gcm_release_tag(rctx, False)


def engine_gcm_map(dd: EngineAesDev, req: AeadRequest,
                   rctx: object) -> tuple[int, list[Seg], list[Seg], list[Seg]]:
    """Map the prepared ranges (or the bounce buffer): (0, AD segments,
    src text segments, dst text segments) or (-errno, [], [], []) with
    nothing left mapped (the pins stay until the request completes)."""
    dev, ad, n = dd.dev, req.assoclen, rctx.textlen
    if rctx.bounce:
        addr = dma_map_phys(dev, kmem.__pa(rctx.bounce), rctx.bounce_size, DMA_BIDIRECTIONAL,
                            0)
        if dma_mapping_error(dev, addr):
            return -E.ENOMEM, [], [], []
        rctx.bounce_dma = addr
        text = [(addr + rctx.adpad, n)] if n else []
        return 0, [(addr, ad)] if ad else [], text, text
    err, segs = engine_aes_map_ranges(dev, rctx.src_map)
    if err:
        return err, [], [], []
    ad_segs, src = engine_split_segs(segs, ad)
    if rctx.dst_map is None:
        return 0, ad_segs, src, src
    err, dst = engine_aes_map_ranges(dev, rctx.dst_map)
    if err:
        engine_aes_unmap_ranges(dev, rctx.src_map)
        return err, [], [], []
    return 0, ad_segs, src, dst


def engine_gcm_unmap(dd: EngineAesDev, req: AeadRequest, rctx: object, ok: bool) -> None:
    """Undo engine_gcm_map and engine_gcm_prepare: unmap first (the device
    is done with the memory), then copy out and unpin."""
    engine_aes_unmap_dma(dd.dev, rctx)
    engine_gcm_unprepare(req, rctx, ok)


# Start and completion.

def engine_gcm_start(dd: EngineAesDev, req: AeadRequest) -> int:
    rctx = aead_request_ctx(req)
    ctx = crypto_aead_ctx(crypto_aead_reqtfm(req))
    ad, n = req.assoclen, rctx.textlen
    dd.resume = engine_gcm_done
    err, ad_segs, src, dst = engine_gcm_map(dd, req, rctx)
    if err:
        engine_gcm_drop(req, rctx)
        return engine_aes_complete(dd, err)
    descs = (engine_build_descs(ad_segs, None, ad) if ad else []) + \
        (engine_build_descs(src, dst, n) if n else [])
    err = -E.EINVAL if len(descs) > ENGINE_RING_SIZE else 0
    if not err:
        err = dd.hw.submit(EngineJob("gcm", rctx.encrypt, ctx.keybytes, rctx.j0, descs,
                                     ad + n, cookie=req, assoclen=ad))
    if err:
        engine_gcm_unmap(dd, req, rctx, False)
        engine_gcm_release_tag(rctx, False)
        return engine_aes_complete(dd, err)
    mod_timer(dd.timer, jiffies[0] + ENGINE_TIMEOUT)
    return -E.EINPROGRESS


def engine_gcm_done(dd: EngineAesDev, err: int, job: EngineJob | None) -> None:
    """The gcm request's resume step: unmap and unpin, then the tag
    register out (encryption) or compared with the received tag
    (decryption)."""
    req = dd.areq
    rctx = aead_request_ctx(req)
    engine_gcm_unmap(dd, req, rctx, err == 0)
    if not err:
        tag = np.frombuffer(job.tag[:rctx.authsize], np.uint8)
        if rctx.encrypt:
            _write_dst(req.dst, rctx.tag_map, req.assoclen + rctx.textlen, tag, rctx.authsize)
        elif not hmac.compare_digest(tag.tobytes(), rctx.itag.tobytes()):   # crypto_memneq
            err = -E.EBADMSG
    engine_gcm_release_tag(rctx, not err and rctx.encrypt)
    engine_aes_complete(dd, err)


DRIVERS = [EngineGcmDriver(engine_dd)]
for _drv in DRIVERS:
    crypto_register_aead(_drv)
