"""AES on the simulated DMA engine (dma.engine), over iov_iters: the
converted twin of sgl/engine_aes.py (``diff`` the two files to see the
conversion of a DMA driver).  Registers ``cbc-aes-engine``,
``ctr-aes-engine`` and ``xts-aes-engine`` in the iov_iter world, with no
scatterlist anywhere.

The request path:

- ``encrypt``/``decrypt`` check the length and queue the request
  (crypto_enqueue_request: -EINPROGRESS, or -EBUSY into the backlog with
  CRYPTO_TFM_REQ_MAY_BACKLOG, else -ENOSPC); if the engine is idle the
  oldest request starts at once, a backlogged one is told -EINPROGRESS.
- start: resolve ``req->src``/``req->dst`` to physical ranges (``struct
  phys_vec``) with ``iov_iter_extract_pages`` on a copy of each iterator
  -- pinned only where ``iov_iter_extract_will_pin`` says so, no
  references on kernel memory -- checking the engine's layout rules on
  the ranges as they are built (4-byte aligned, whole blocks but the
  last: a virtually contiguous segment may be physically scattered, so
  only the ranges tell; ``iov_iter_is_aligned`` is gone since 6.18), and
  map the ranges: one IOVA range with the two-step API behind an IOMMU
  (``dma_iova_try_alloc``, ``dma_iova_link`` per range,
  ``dma_iova_sync``), ``dma_map_phys`` per range when it fails (no IOMMU);
  device (P2P) memory is mapped with DMA_ATTR_MMIO.  When the ranges break
  the rules, bounce: ``iter_pcopy_from`` into a kmalloc'd buffer, map it,
  copy the result out on completion (through dst's pinned pages, kept
  from the extraction, when dst is user memory).  The caller's iterators
  are never moved here: the API advances them when the request completes
  successfully.
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
  in the caller's context, on copies of the iterators (the API moves the
  caller's once the request is done).

Every error path releases exactly what it took: a failed mapping of dst
unmaps src and unpins what was pinned, a failed submit unmaps, unpins and
frees the bounce buffer; the pins are the driver's (it took them) and go
on completion, after the unmap.
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
from dma.device import (
    DMA_BIDIRECTIONAL,
    DMA_FROM_DEVICE,
    DMA_TO_DEVICE,
    Device,
)
from dma.engine import (
    ENGINE_BLOCK,
    ENGINE_RING_SIZE,
    CryptoEngine,
    EngineJob,
    engine_build_descs,
    engine_key_ok,
)
from dma.mapping import dma_map_phys, dma_mapping_error, dma_unmap_phys
from iovcrypto.engine_buffer_mgr import (
    engine_aes_extract,
    engine_aes_map_ranges,
    engine_aes_release,
    engine_aes_unmap_ranges,
    engine_aes_virt_aligned,
    engine_req_maps,
)
from iovcrypto.iov_iter import copy_to_iter
from iovcrypto.skcipher import (
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
    skcipher_request_set_iter,
)
from iovcrypto.skcipher_walk import iter_pcopy_from
from iovcrypto.uio import ITER_DISCARD, iov_iter_extract_will_pin
from kmem import errno as E
from kmem.access import buffer_views, copy_views
from kmem.softirq import HZ, Tasklet, TimerList, jiffies, mod_timer, tasklet_schedule, timer_delete

ENGINE_PRIORITY = 400
ENGINE_QUEUE_LEN = 8
ENGINE_TIMEOUT = HZ // 10
ENGINE_MODES = ("cbc", "ctr", "xts")

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
        # The iterators are resolved here, in the caller's context: the
        # request may start later from the queue tasklet, where user
        # memory can be neither pinned nor copied.
        err = engine_aes_prepare(req, rctx)
        if err:
            return err
        err = engine_aes_handle_queue(self.dd, req)
        if err == -E.ENOSPC:
            engine_aes_unprepare(req, rctx, False)
        return err

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


def engine_aes_fallback(dd: EngineAesDev, req: SkcipherRequest, fallback: object,
                        encrypt: bool) -> int:
    """The request on the software tfm, synchronously (it was allocated
    without CRYPTO_ALG_ASYNC); it writes req->iv itself.  It gets copies
    of the iterators: its API advances what it is given on success, and
    the caller's API advances the caller's."""
    dd.fallback_reqs += 1
    src = req.src.copy()
    dst = src if req.dst is req.src else req.dst.copy()
    sub = SkcipherRequest(fallback)
    skcipher_request_set_callback(sub, req.base.flags, req.base.complete, req.base.data)
    skcipher_request_set_iter(sub, src, dst, req.cryptlen, req.iv)
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

def engine_aes_prepare(req: SkcipherRequest, rctx: object) -> int:
    """Resolve src and dst while still in the submitter's context: their
    physical ranges (pinning user memory), or, for a layout the engine
    cannot take, a bounce buffer filled from src (and dst's pinned pages
    if dst is user memory, for the copy back).  0 or -errno with nothing
    held."""
    n = req.cryptlen
    inplace = req.dst is req.src
    rctx.src_map = rctx.dst_map = None
    rctx.bounce = 0
    smap, dmap = engine_req_maps(rctx, 2)
    # Whole blocks only (the engine's cbc/xts take no partial request, and
    # a partial ctr block is not worth a descriptor rule of its own); and
    # user memory is not pinned just to be looked at: where the virtual
    # layout alone already breaks the rules it is bounced straight away.
    # A DISCARD sink has no pages for the engine to write: the bounce takes
    # its output, and the copy out drops it.
    src_pins = iov_iter_extract_will_pin(req.src)
    dst_pins = src_pins if inplace else iov_iter_extract_will_pin(req.dst)
    direct = req.dst.iter_type != ITER_DISCARD and not n % ENGINE_BLOCK and \
        (not src_pins or engine_aes_virt_aligned(req.src, n)) and \
        (inplace or not dst_pins or engine_aes_virt_aligned(req.dst, n))
    if direct:
        rm = smap
        rm.dir = DMA_BIDIRECTIONAL if inplace else DMA_TO_DEVICE
        err = engine_aes_extract(req.src, n, rm, 0, src_pins)
        if err:
            return err
        if rm.aligned:
            rctx.src_map = rm
        elif inplace and dst_pins:
            rm.dir, rctx.dst_map, direct = DMA_FROM_DEVICE, rm, False  # kept for the copy back
        else:
            engine_aes_release(rm, False)
            direct = False
    if not inplace and (direct or dst_pins):
        # dst's ranges: for the device, or (bounced) for the copy back.
        rm = dmap
        rm.dir = DMA_FROM_DEVICE
        err = engine_aes_extract(req.dst, n, rm, 0, dst_pins)
        if err:
            engine_aes_unprepare(req, rctx, False)
            return err
        rctx.dst_map = rm
        if direct and not rm.aligned:
            direct = False
            engine_aes_release(rctx.src_map, False)
            rctx.src_map = None
            if not dst_pins:
                engine_aes_release(rm, False)
                rctx.dst_map = None
    elif inplace and not direct and rctx.dst_map is None and dst_pins:
        rm = dmap
        rm.dir = DMA_FROM_DEVICE
        err = engine_aes_extract(req.dst, n, rm)
        if err:
            return err
        rctx.dst_map = rm
    if direct:
        return 0
    size = -(-n // ENGINE_BLOCK) * ENGINE_BLOCK
    buf = kmem.kmalloc(size, kmem.GFP_ATOMIC)
    if not buf:
        engine_aes_unprepare(req, rctx, False)
        return -E.ENOMEM
    # Positional read: in place with one iterator, src is ITER_DEST.
    if iter_pcopy_from(buf, req.src, 0, n) != n:
        kmem.kfree_sensitive(buf)
        engine_aes_unprepare(req, rctx, False)
        return -E.EFAULT
    rctx.bounce, rctx.bounce_size, rctx.bounce_dma = buf, size, 0
    return 0


def engine_aes_unprepare(req: SkcipherRequest, rctx: object, ok: bool) -> None:
    """Give back what engine_aes_prepare took; on success a bounce is
    copied out first (through dst's pinned pages if it has them, as a
    tasklet cannot touch user memory)."""
    if rctx.bounce:
        if ok and rctx.dst_map is not None:
            pos = rctx.bounce
            for page, off, n in rctx.dst_map.pieces:
                kmem.memcpy_to_page(page, off, pos, n)
                pos += n
        elif ok:
            copy_to_iter(rctx.bounce, req.cryptlen, req.dst.copy())
        kmem.kfree_sensitive(rctx.bounce)
        rctx.bounce = 0
    rm = rctx.dst_map
    if rm is not None and rm.pinned:
        engine_aes_release(rm, ok and rm.dir != DMA_TO_DEVICE)
    rm = rctx.src_map
    if rm is not None and rm.pinned:
        engine_aes_release(rm, ok and rm.dir != DMA_TO_DEVICE)
    rctx.src_map = rctx.dst_map = None


def engine_aes_map(dd: EngineAesDev, req: SkcipherRequest, rctx: object) -> tuple[int, list, list]:
    """Map the prepared ranges (or the bounce buffer) for the engine: (0,
    src segments, dst segments) or (-errno, [], []) with nothing left
    mapped (the pins stay until the request completes)."""
    dev = dd.dev
    if rctx.bounce:
        addr = dma_map_phys(dev, kmem.__pa(rctx.bounce), rctx.bounce_size, DMA_BIDIRECTIONAL,
                            0)
        if dma_mapping_error(dev, addr):
            return -E.ENOMEM, [], []
        rctx.bounce_dma = addr
        segs = [(addr, req.cryptlen)]
        return 0, segs, segs
    err, src = engine_aes_map_ranges(dev, rctx.src_map)
    if err:
        return err, [], []
    if rctx.dst_map is None:
        return 0, src, src
    err, dst = engine_aes_map_ranges(dev, rctx.dst_map)
    if err:
        engine_aes_unmap_ranges(dev, rctx.src_map)
        return err, [], []
    return 0, src, dst


def engine_aes_unmap_dma(dev: Device, rctx: object) -> None:
    """Release a request's mappings, the bounce's or the ranges' (the
    skcipher and the gcm paths map the same way)."""
    if rctx.bounce:
        if rctx.bounce_dma:
            dma_unmap_phys(dev, rctx.bounce_dma, rctx.bounce_size, DMA_BIDIRECTIONAL, 0)
            rctx.bounce_dma = 0
        return
    if rctx.dst_map is not None:
        engine_aes_unmap_ranges(dev, rctx.dst_map)
    if rctx.src_map is not None:
        engine_aes_unmap_ranges(dev, rctx.src_map)


def engine_aes_unmap(dd: EngineAesDev, req: SkcipherRequest, rctx: object, ok: bool) -> None:
    """Undo engine_aes_map and engine_aes_prepare: unmap first (the device
    is done with the memory), then copy out and unpin."""
    engine_aes_unmap_dma(dd.dev, rctx)
    engine_aes_unprepare(req, rctx, ok)


# Start and completion.

def engine_aes_start(dd: EngineAesDev, req: SkcipherRequest) -> int:
    rctx = skcipher_request_ctx(req)
    drv = rctx.drv
    ctx = crypto_skcipher_ctx(crypto_skcipher_reqtfm(req))
    dd.resume = engine_aes_done
    err, src, dst = engine_aes_map(dd, req, rctx)
    if err:
        engine_aes_unprepare(req, rctx, False)
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
    """The skcipher request's resume step: unmap (copying a bounce out)
    and unpin, the IV register into req->iv, completion."""
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


engine_dd = EngineAesDev(Device(name="aes-engine.iter"))
DRIVERS = [EngineAesDriver(mode, engine_dd) for mode in ENGINE_MODES]
for _drv in DRIVERS:
    crypto_register_skcipher(_drv)
