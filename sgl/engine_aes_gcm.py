"""AES-GCM on the simulated DMA engine (dma.engine), over scatterlists:
the legacy AEAD hardware driver, registered as ``gcm-aes-engine`` for
``gcm(aes)`` at the engine's priority.  atmel-aes.c keeps its gcm path in
the same file as its skciphers; it lives here beside sgl/engine_aes.py
(whose queue, tasklets and watchdog it shares) to keep each file
readable.  iovcrypto/engine_aes_gcm.py is its converted twin.

Who does what (the split of atmel-aes's and stm32-cryp's GCM paths):

- the device derives H = E_K(0^128), hashes the AD (a phase of
  source-only descriptors), runs GCTR from J0 + 1 over the text while
  hashing the ciphertext, hashes the length block and leaves
  GHASH ^ E_K(J0) in its tag register;
- the CPU formats J0 = IV || 0^31 || 1 (gcm(aes) has 12-byte IVs only),
  checks authsize (crypto_gcm_check_authsize), reads the received tag
  from src before the job (decryption), and after it writes the tag
  register after the ciphertext (``memcpy_to_sglist``) or compares it
  with the received one, -EBADMSG on a mismatch.  The device has written
  the plaintext by then: the legacy driver leaves it in dst, as the
  kernel's drivers and its gcm template do.

Layout: src = AD || text (|| tag), dst = AD space || text (|| tag).
src is mapped once for AD || text and its DMA segments cut at assoclen;
dst's text is reached with ``scatterwalk_ffwd`` (omap-aes-gcm's way) and
mapped alone, so the device never touches dst's AD area.  In place, one
bidirectional mapping serves both.  When an entry is not 4-byte aligned
or not whole blocks (the last of the AD and of the text may be partial),
AD and text are bounced through one buffer [AD | pad | text].

Fallback: the key slot takes no AES-192 key and the engine runs no job
without descriptors (assoclen + text == 0), so each tfm allocates a
software ``gcm(aes)`` at init (``crypto_alloc_aead(name, 0,
CRYPTO_ALG_ASYNC | CRYPTO_ALG_NEED_FALLBACK)``), keys it and sets its
authsize alongside, and hands it those requests, synchronously.
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
    ENGINE_ADDR_ALIGN,
    ENGINE_BLOCK,
    ENGINE_RING_SIZE,
    EngineJob,
    engine_build_descs,
    engine_key_ok,
    engine_split_segs,
)
from kmem import errno as E
from kmem.access import buffer_views, gather
from kmem.softirq import jiffies, mod_timer
from sgl.aead import (
    AeadRequest,
    aead_request_ctx,
    aead_request_set_ad,
    aead_request_set_callback,
    aead_request_set_crypt,
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
from sgl.dma_mapping import dma_map_sg, dma_unmap_sg
from sgl.engine_aes import (
    ENGINE_PRIORITY,
    ENGINE_TIMEOUT,
    EngineAesDev,
    _dma_segs,
    engine_aes_complete,
    engine_aes_handle_queue,
    engine_dd,
)
from sgl.scatterlist import (
    ScatterlistPtr,
    for_each_sg,
    sg_array,
    sg_dma_address,
    sg_init_one,
    sg_nents_for_len,
)
from sgl.scatterlist_iter import sg_pcopy_from_buffer, sg_pcopy_to_buffer
from sgl.scatterwalk import memcpy_from_sglist, memcpy_to_sglist, scatterwalk_ffwd

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
            memcpy_from_sglist(rctx.itag, req.src, req.assoclen + n, authsize)
        return engine_aes_handle_queue(self.dd, req)

    def encrypt(self, req: AeadRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: AeadRequest) -> int:
        return self._crypt(req, False)


def engine_gcm_fallback(dd: EngineAesDev, req: AeadRequest, fallback: object,
                        encrypt: bool) -> int:
    """The request on the software tfm, synchronously."""
    dd.fallback_reqs += 1
    sub = AeadRequest(fallback)
    aead_request_set_callback(sub, req.base.flags, req.base.complete, req.base.data)
    aead_request_set_crypt(sub, req.src, req.dst, req.cryptlen, req.iv)
    aead_request_set_ad(sub, req.assoclen)
    return (crypto_aead_encrypt if encrypt else crypto_aead_decrypt)(sub)


# Mapping.

def engine_gcm_check_aligned(sg: ScatterlistPtr, skip: int, len: int) -> bool:
    """Can the engine take ``len`` bytes of this list from ``skip`` on as
    one phase: pieces 4-byte aligned and whole blocks but the last?"""
    nents = sg_nents_for_len(sg, skip + len)
    if nents < 0:
        return False
    for s in for_each_sg(sg, nents):
        if skip >= s.length:
            skip -= s.length
            continue
        n = min(s.length - skip, len)
        if (s.offset + skip) % ENGINE_ADDR_ALIGN or (n % ENGINE_BLOCK and n < len):
            return False
        skip, len = 0, len - n
        if not len:
            return True
    return not len


def engine_gcm_map(dd: EngineAesDev, req: AeadRequest,
                   rctx: object) -> tuple[int, list[Seg], list[Seg], list[Seg]]:
    """Map AD || text of src and the text of dst (or a bounce buffer):
    (0, AD segments, src text segments, dst text segments) or (-errno,
    [], [], []) with nothing left mapped."""
    dev, ad, n = dd.dev, req.assoclen, rctx.textlen
    rctx.bounce = 0
    rctx.src_nents = sg_nents_for_len(req.src, ad + n)
    rctx.dst_tbl = sg_array(2)
    rctx.dst_sg = scatterwalk_ffwd(rctx.dst_tbl, req.dst, ad) if n else None
    rctx.dst_nents = sg_nents_for_len(rctx.dst_sg, n) if n else 0
    if rctx.src_nents < 0 or rctx.dst_nents < 0:
        return -E.EINVAL, [], [], []
    inplace = req.src is req.dst
    if engine_gcm_check_aligned(req.src, 0, ad) and engine_gcm_check_aligned(req.src, ad, n) \
            and (inplace or not n or engine_gcm_check_aligned(rctx.dst_sg, 0, n)):
        dir = DMA_BIDIRECTIONAL if inplace else DMA_TO_DEVICE
        count = dma_map_sg(dev, req.src, rctx.src_nents, dir)
        if not count:
            return -E.ENOMEM, [], [], []
        ad_segs, src = engine_split_segs(_dma_segs(req.src, count, ad + n), ad)
        if inplace or not n:
            return 0, ad_segs, src, src
        dcount = dma_map_sg(dev, rctx.dst_sg, rctx.dst_nents, DMA_FROM_DEVICE)
        if not dcount:
            dma_unmap_sg(dev, req.src, rctx.src_nents, DMA_TO_DEVICE)
            return -E.ENOMEM, [], [], []
        return 0, ad_segs, src, _dma_segs(rctx.dst_sg, dcount, n)
    # The layout does not suit the engine: bounce AD and text.
    adpad = -(-ad // ENGINE_BLOCK) * ENGINE_BLOCK
    size = adpad + -(-n // ENGINE_BLOCK) * ENGINE_BLOCK
    buf = kmem.kmalloc(size, kmem.GFP_ATOMIC)
    if not buf:
        return -E.ENOMEM, [], [], []
    sg_pcopy_to_buffer(req.src, rctx.src_nents, buf, ad, 0)
    sg_pcopy_to_buffer(req.src, rctx.src_nents, buf + adpad, n, ad)
    rctx.bounce_sg = sg_array(1)
    sg_init_one(rctx.bounce_sg, buf, size)
    if not dma_map_sg(dev, rctx.bounce_sg, 1, DMA_BIDIRECTIONAL):
        kmem.kfree_sensitive(buf)
        return -E.ENOMEM, [], [], []
    rctx.bounce, rctx.adpad = buf, adpad
    bus = sg_dma_address(rctx.bounce_sg[0])
    text = [(bus + adpad, n)] if n else []
    return 0, [(bus, ad)] if ad else [], text, text


def engine_gcm_unmap(dd: EngineAesDev, req: AeadRequest, rctx: object, ok: bool) -> None:
    """Undo engine_gcm_map; on success a bounce's text is copied out."""
    dev = dd.dev
    if rctx.bounce:
        dma_unmap_sg(dev, rctx.bounce_sg, 1, DMA_BIDIRECTIONAL)
        if ok and rctx.textlen:
            sg_pcopy_from_buffer(rctx.dst_sg, rctx.dst_nents, rctx.bounce + rctx.adpad,
                                 rctx.textlen, 0)
        kmem.kfree_sensitive(rctx.bounce)
        rctx.bounce = 0
    elif req.src is req.dst:
        dma_unmap_sg(dev, req.src, rctx.src_nents, DMA_BIDIRECTIONAL)
    else:
        if rctx.textlen:
            dma_unmap_sg(dev, rctx.dst_sg, rctx.dst_nents, DMA_FROM_DEVICE)
        dma_unmap_sg(dev, req.src, rctx.src_nents, DMA_TO_DEVICE)


# Start and completion.

def engine_gcm_start(dd: EngineAesDev, req: AeadRequest) -> int:
    rctx = aead_request_ctx(req)
    ctx = crypto_aead_ctx(crypto_aead_reqtfm(req))
    ad, n = req.assoclen, rctx.textlen
    dd.resume = engine_gcm_done
    err, ad_segs, src, dst = engine_gcm_map(dd, req, rctx)
    if err:
        return engine_aes_complete(dd, err)
    descs = (engine_build_descs(ad_segs, None, ad) if ad else []) + \
        (engine_build_descs(src, dst, n) if n else [])
    err = -E.EINVAL if len(descs) > ENGINE_RING_SIZE else 0
    if not err:
        err = dd.hw.submit(EngineJob("gcm", rctx.encrypt, ctx.keybytes, rctx.j0, descs,
                                     ad + n, cookie=req, assoclen=ad))
    if err:
        engine_gcm_unmap(dd, req, rctx, False)
        return engine_aes_complete(dd, err)
    mod_timer(dd.timer, jiffies[0] + ENGINE_TIMEOUT)
    return -E.EINPROGRESS


def engine_gcm_done(dd: EngineAesDev, err: int, job: EngineJob | None) -> None:
    """The gcm request's resume step: unmap, then the tag register out
    (encryption) or compared with the received tag (decryption)."""
    req = dd.areq
    rctx = aead_request_ctx(req)
    engine_gcm_unmap(dd, req, rctx, err == 0)
    if not err:
        tag = job.tag[:rctx.authsize]
        if rctx.encrypt:
            memcpy_to_sglist(req.dst, req.assoclen + rctx.textlen, tag, rctx.authsize)
        elif not hmac.compare_digest(tag, rctx.itag.tobytes()):    # crypto_memneq
            err = -E.EBADMSG
    engine_aes_complete(dd, err)


DRIVERS = [EngineGcmDriver(engine_dd)]
for _drv in DRIVERS:
    crypto_register_aead(_drv)
