"""AES on the simulated DMA engine (dma.engine), over scatterlists: the
legacy hardware driver, shaped on drivers/crypto/atmel-aes.c and
omap-aes.c.  Registers ``cbc-aes-engine``, ``ctr-aes-engine`` and
``xts-aes-engine`` (CRYPTO_ALG_ASYNC, priority above the CPU drivers, as
hardware drivers are); iovcrypto/engine_aes.py is its converted twin.

The request path:

- ``encrypt``/``decrypt`` check the length and queue the request
  (crypto_enqueue_request: -EINPROGRESS, or -EBUSY into the backlog with
  CRYPTO_TFM_REQ_MAY_BACKLOG, else -ENOSPC); if the engine is idle the
  oldest request starts at once, a backlogged one is told -EINPROGRESS.
- start: if ``req->src``/``req->dst`` meet the engine's layout rules
  (4-byte aligned entries, whole blocks), ``dma_map_sg`` them in place
  (bidirectional when src is dst) and hand the DMA segments to the
  engine; otherwise bounce: copy src into a kmalloc'd buffer
  (``sg_copy_to_buffer``), map that, and copy the result out on
  completion (``sg_copy_from_buffer``).
- completion: the engine's interrupt schedules the done tasklet, which
  calls the request's resume hook (atmel-aes's ``dd->resume``): unmap,
  copy out a bounce, write the IV register back to ``req->iv`` (cbc,
  ctr), complete the request and start the next.  A watchdog timer
  completes a request the engine never finishes with -ETIMEDOUT after
  resetting the engine.  The queue, the tasklets and the watchdog are
  shared with the gcm driver (engine_aes_gcm.py): one engine, one queue.
- fallback: the engine's key slot takes AES-128 and AES-256 keys only, so
  each tfm allocates a software skcipher at init
  (``crypto_alloc_skcipher(name, 0, CRYPTO_ALG_ASYNC |
  CRYPTO_ALG_NEED_FALLBACK)``, as mxs-dcp and sahara do), keys it with
  every setkey, and hands it the requests of an AES-192 key, synchronously
  in the caller's context.

Every error path releases exactly what it took: a failed mapping of dst
unmaps src, a failed submit unmaps and frees the bounce buffer.
"""

from __future__ import annotations

import numpy as np

import kmem
from ciphers.algapi import (
    CRYPTO_ALG_ASYNC,
    CRYPTO_ALG_KERN_DRIVER_ONLY,
    CRYPTO_ALG_NEED_FALLBACK,
    CryptoQueue,
    crypto_dequeue_request,
    crypto_enqueue_request,
    crypto_get_backlog,
)
from ciphers.crypto_api import crypto_request_complete
from ciphers.skcipher_algs import SkcipherDriverBase, impls
from dma.device import DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, Device
from dma.engine import (
    ENGINE_ADDR_ALIGN,
    ENGINE_BLOCK,
    ENGINE_RING_SIZE,
    CryptoEngine,
    EngineJob,
    engine_build_descs,
    engine_key_ok,
)
from kmem import errno as E
from kmem.access import buffer_views, copy_views
from kmem.softirq import HZ, Tasklet, TimerList, jiffies, mod_timer, tasklet_schedule, timer_delete
from sgl.dma_mapping import dma_map_sg, dma_unmap_sg
from sgl.scatterlist import (
    ScatterlistPtr,
    for_each_sg,
    sg_array,
    sg_dma_address,
    sg_dma_len,
    sg_init_one,
    sg_nents_for_len,
)
from sgl.scatterlist_iter import sg_copy_from_buffer, sg_copy_to_buffer
from sgl.skcipher import (
    SkcipherRequest,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_decrypt,
    crypto_skcipher_encrypt,
    crypto_skcipher_reqtfm,
    crypto_skcipher_setkey,
    skcipher_request_ctx,
    skcipher_request_set_callback,
    skcipher_request_set_crypt,
)

ENGINE_PRIORITY = 400
ENGINE_QUEUE_LEN = 8
ENGINE_TIMEOUT = HZ // 10
ENGINE_MODES = ("cbc", "ctr", "xts")
Seg = tuple[int, int]


class EngineAesDev:
    """The probed engine (``struct engine_aes_dev``): the DMA device, the
    hardware, the request queue and the request being processed."""

    def __init__(self, dev: Device) -> None:
        self.dev = dev
        self.hw = CryptoEngine(dev, irq_handler=engine_aes_irq, drvdata=self)
        self.queue = CryptoQueue(ENGINE_QUEUE_LEN)
        self.busy = False
        self.is_async = False
        self.areq: SkcipherRequest | None = None
        self.resume = None                  # the current request's completion step
        self.reqs: dict[int, SkcipherRequest] = {}     # container_of(base)
        self.fallback_reqs = 0              # requests the software fallback served
        self.done_task = Tasklet(engine_aes_done_task, self)
        self.queue_task = Tasklet(engine_aes_queue_task, self)
        self.timer = TimerList(lambda _t: engine_aes_timeout(self))


class EngineAesDriver(SkcipherDriverBase):
    """One mode of the engine as a skcipher driver."""

    def __init__(self, mode: str, dd: EngineAesDev) -> None:
        super().__init__(next(i for i in impls(mode)
                              if i.cra_name == f"{mode}(aes)" and i.accelerated))
        self.alg.cra_driver_name = f"{mode}-aes-engine"
        self.alg.cra_priority = ENGINE_PRIORITY
        self.alg.cra_flags |= CRYPTO_ALG_ASYNC | CRYPTO_ALG_KERN_DRIVER_ONLY | \
            CRYPTO_ALG_NEED_FALLBACK
        self.alg.cra_module = "engine_aes"
        self.mode = mode
        self.dd = dd

    def init(self, tfm: object) -> int:
        """init_tfm: the software fallback for what the engine cannot take."""
        super().init(tfm)
        fb = crypto_alloc_skcipher(self.alg.cra_name, 0,
                                   CRYPTO_ALG_ASYNC | CRYPTO_ALG_NEED_FALLBACK)
        if isinstance(fb, int):
            return fb
        tfm.ctx.fallback = fb
        return 0

    def exit(self, tfm: object) -> None:
        crypto_free_skcipher(tfm.ctx.fallback)

    def setkey(self, ctx: object, key: bytes) -> int:
        """The key is checked here and loaded into the engine's key slot
        with every job; the fallback gets it too."""
        err = super().setkey(ctx, key)
        if not err:
            err = crypto_skcipher_setkey(ctx.fallback, key, len(key))
        ctx.keybytes = None if err else bytes(key)  # type: ignore[attr-defined]
        ctx.use_fallback = not engine_key_ok(self.mode, key)  # type: ignore[attr-defined]
        return err

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        err = self.impl.check_len(req.cryptlen)
        if err:
            return err
        if not req.cryptlen:
            return 0
        ctx = crypto_skcipher_ctx(crypto_skcipher_reqtfm(req))
        if ctx.use_fallback:
            return engine_aes_fallback(self.dd, req, ctx.fallback, encrypt)
        rctx = skcipher_request_ctx(req)
        rctx.drv, rctx.encrypt, rctx.start = self, encrypt, engine_aes_start
        return engine_aes_handle_queue(self.dd, req)

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


def engine_aes_fallback(dd: EngineAesDev, req: SkcipherRequest, fallback: object,
                        encrypt: bool) -> int:
    """The request on the software tfm, synchronously (it was allocated
    without CRYPTO_ALG_ASYNC); it writes req->iv itself."""
    dd.fallback_reqs += 1
    sub = SkcipherRequest(fallback)
    skcipher_request_set_callback(sub, req.base.flags, req.base.complete, req.base.data)
    skcipher_request_set_crypt(sub, req.src, req.dst, req.cryptlen, req.iv)
    return (crypto_skcipher_encrypt if encrypt else crypto_skcipher_decrypt)(sub)


# The queue (shared by every request type the engine serves).

def engine_aes_handle_queue(dd: EngineAesDev, new: SkcipherRequest | None) -> int:
    """Queue ``new`` (if any) and start the oldest request if the engine
    is idle.  Returns the enqueue result, or the started request's own
    result when it is ``new`` and finished (or failed) synchronously."""
    ret = 0
    if new is not None:
        ret = crypto_enqueue_request(dd.queue, new.base)
        if ret == -E.ENOSPC:
            return ret
        dd.reqs[id(new.base)] = new
    if dd.busy:
        return ret
    backlog = crypto_get_backlog(dd.queue)
    base = crypto_dequeue_request(dd.queue)
    if base is None:
        return ret
    dd.busy = True
    req = dd.reqs.pop(id(base))
    if backlog is not None:
        crypto_request_complete(backlog, -E.EINPROGRESS)
    dd.areq = req
    dd.is_async = req is not new
    err = req.ctx.start(dd, req)            # the request context's start hook
    return ret if dd.is_async else err


def engine_aes_queue_task(dd: EngineAesDev) -> None:
    engine_aes_handle_queue(dd, None)


def engine_aes_complete(dd: EngineAesDev, err: int) -> int:
    """Finish the current request: its callback if the caller has already
    been told -EINPROGRESS, then let the next one start."""
    req = dd.areq
    dd.busy, dd.areq = False, None
    if dd.is_async and req is not None:
        crypto_request_complete(req.base, err)
    tasklet_schedule(dd.queue_task)
    return err


# Mapping.

def engine_aes_check_aligned(sg: ScatterlistPtr, len: int) -> bool:
    """Can the engine take this list as it is: every entry 4-byte aligned
    and a whole number of blocks (over ``len`` bytes)?"""
    if len % ENGINE_BLOCK:
        return False
    for s in for_each_sg(sg, sg_nents_for_len(sg, len)):
        n = min(s.length, len)
        if s.offset % ENGINE_ADDR_ALIGN or n % ENGINE_BLOCK:
            return False
        len -= n
        if not len:
            return True
    return False


def _dma_segs(sg: ScatterlistPtr, count: int, len: int) -> list[Seg]:
    segs = []
    for s in for_each_sg(sg, count):
        n = min(sg_dma_len(s), len)
        segs.append((sg_dma_address(s), n))
        len -= n
        if not len:
            break
    return segs


def engine_aes_map(dd: EngineAesDev, req: SkcipherRequest, rctx: object) -> tuple[int, list, list]:
    """Map src and dst (or a bounce buffer) for the engine: (0, src
    segments, dst segments) or (-errno, [], []) with nothing left mapped."""
    dev, n = dd.dev, req.cryptlen
    rctx.src_nents = sg_nents_for_len(req.src, n)
    rctx.dst_nents = sg_nents_for_len(req.dst, n)
    rctx.bounce = 0
    if rctx.src_nents < 0 or rctx.dst_nents < 0:
        return -E.EINVAL, [], []
    if engine_aes_check_aligned(req.src, n) and \
            (req.dst is req.src or engine_aes_check_aligned(req.dst, n)):
        if req.src is req.dst:
            count = dma_map_sg(dev, req.src, rctx.src_nents, DMA_BIDIRECTIONAL)
            if not count:
                return -E.ENOMEM, [], []
            segs = _dma_segs(req.src, count, n)
            return 0, segs, segs
        count = dma_map_sg(dev, req.src, rctx.src_nents, DMA_TO_DEVICE)
        if not count:
            return -E.ENOMEM, [], []
        dcount = dma_map_sg(dev, req.dst, rctx.dst_nents, DMA_FROM_DEVICE)
        if not dcount:
            dma_unmap_sg(dev, req.src, rctx.src_nents, DMA_TO_DEVICE)
            return -E.ENOMEM, [], []
        return 0, _dma_segs(req.src, count, n), _dma_segs(req.dst, dcount, n)
    # The layout does not suit the engine: bounce through one buffer.
    size = -(-n // ENGINE_BLOCK) * ENGINE_BLOCK
    buf = kmem.kmalloc(size, kmem.GFP_ATOMIC)
    if not buf:
        return -E.ENOMEM, [], []
    sg_copy_to_buffer(req.src, rctx.src_nents, buf, n)
    rctx.bounce_sg = sg_array(1)
    sg_init_one(rctx.bounce_sg, buf, size)
    if not dma_map_sg(dev, rctx.bounce_sg, 1, DMA_BIDIRECTIONAL):
        kmem.kfree_sensitive(buf)
        return -E.ENOMEM, [], []
    rctx.bounce = buf
    segs = [(sg_dma_address(rctx.bounce_sg[0]), n)]
    return 0, segs, segs


def engine_aes_unmap(dd: EngineAesDev, req: SkcipherRequest, rctx: object, ok: bool) -> None:
    """Undo engine_aes_map; on success a bounce is copied out first."""
    dev = dd.dev
    if rctx.bounce:
        dma_unmap_sg(dev, rctx.bounce_sg, 1, DMA_BIDIRECTIONAL)
        if ok:
            sg_copy_from_buffer(req.dst, rctx.dst_nents, rctx.bounce, req.cryptlen)
        kmem.kfree_sensitive(rctx.bounce)
        rctx.bounce = 0
    elif req.src is req.dst:
        dma_unmap_sg(dev, req.src, rctx.src_nents, DMA_BIDIRECTIONAL)
    else:
        dma_unmap_sg(dev, req.dst, rctx.dst_nents, DMA_FROM_DEVICE)
        dma_unmap_sg(dev, req.src, rctx.src_nents, DMA_TO_DEVICE)


# Start and completion.

def engine_aes_start(dd: EngineAesDev, req: SkcipherRequest) -> int:
    rctx = skcipher_request_ctx(req)
    drv = rctx.drv
    ctx = crypto_skcipher_ctx(crypto_skcipher_reqtfm(req))
    dd.resume = engine_aes_done
    err, src, dst = engine_aes_map(dd, req, rctx)
    if err:
        return engine_aes_complete(dd, err)
    descs = engine_build_descs(src, dst, req.cryptlen)
    iv = drv.read_iv(req.iv)
    err = -E.EINVAL if len(descs) > ENGINE_RING_SIZE else 0
    if not err:
        err = dd.hw.submit(EngineJob(drv.mode, rctx.encrypt, ctx.keybytes,
                                     b"" if iv is None else iv.tobytes(), descs,
                                     req.cryptlen, cookie=req))
    if err:
        engine_aes_unmap(dd, req, rctx, False)
        return engine_aes_complete(dd, err)
    mod_timer(dd.timer, jiffies[0] + ENGINE_TIMEOUT)
    return -E.EINPROGRESS


def engine_aes_irq(hw: CryptoEngine) -> None:
    """The interrupt handler: defer to the done tasklet."""
    tasklet_schedule(hw.drvdata.done_task)


def engine_aes_done(dd: EngineAesDev, err: int, job: EngineJob | None) -> None:
    """The skcipher request's resume step: unmap (copying a bounce out),
    the IV register into req->iv, completion."""
    req = dd.areq
    engine_aes_unmap(dd, req, skcipher_request_ctx(req), err == 0)
    if err == 0 and job.iv_out and req.iv is not None:
        out = np.frombuffer(job.iv_out, np.uint8)
        copy_views(buffer_views(req.iv, out.size, write=True), [out])
    engine_aes_complete(dd, err)


def engine_aes_done_task(dd: EngineAesDev) -> None:
    job = dd.hw.fetch_completion()
    if job is None or job.cookie is not dd.areq:
        return
    timer_delete(dd.timer)
    dd.is_async = True
    dd.resume(dd, job.status, job)


def engine_aes_timeout(dd: EngineAesDev) -> None:
    """The watchdog: the engine never answered; reset it and fail the
    request."""
    if dd.areq is None:
        return
    dd.hw.reset()
    dd.is_async = True
    dd.resume(dd, -E.ETIMEDOUT, None)


engine_dd = EngineAesDev(Device(name="aes-engine.sg"))
DRIVERS = [EngineAesDriver(mode, engine_dd) for mode in ENGINE_MODES]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
