"""Conformance for the DMA engine drivers (sgl/engine_aes.py and
iovcrypto/engine_aes.py): what the generic harness needs to know about
asynchronous, DMA-mapping drivers, and the checks only they need.

- Memory: a driver that hands buffers to a device may not be given stack
  memory (dma-debug reports a mapping of a vmapped stack; the kernel's
  rule for every asynchronous request), so the realisations of an async
  target leave stack memory out (:func:`dma_safe_realisations`).
- :func:`engine_target`, one "engine" unit per engine target (both
  worlds, both bridges), in the default run:

  * **backlog**: ENGINE_QUEUE_LEN + 3 requests on one tfm submitted
    before any completes, each over another realisation (user memory
    included), with CRYPTO_TFM_REQ_MAY_BACKLOG: the first starts, the
    queue fills (-EINPROGRESS), the rest are backlogged (-EBUSY) and told
    -EINPROGRESS before they complete; one more without the flag gets
    -ENOSPC; every output is checked and every iterator advanced.
  * **DMA fault configs**: a mapping failure, IOVA exhaustion, a device
    error in the middle of a descriptor chain and a device that never
    answers must end in -ENOMEM, -ENOMEM, -EIO and -ETIMEDOUT, with no
    mapping, IOVA, pin or allocation left behind, the ledger clean and
    the iterators unmoved (a leaked bounce buffer is not detected: kmem
    keeps no count of live objects).  These were built here because no shared
    fault-config mechanism existed in the harness when they were added.
"""

from __future__ import annotations

import importlib
import time

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import kmem
from ciphers.algapi import CRYPTO_ALG_ASYNC, CRYPTO_TFM_REQ_MAY_BACKLOG
from kmem import errno as E
from kmem import sanitizer

ENGINE_MODULES = {"sg": "sgl.engine_aes", "iter": "iovcrypto.engine_aes"}
# (name, errno the request must end with, knob, value, request length)
FAULT_CONFIGS = (
    ("dma mapping failure", -E.ENOMEM, "dev.fail_maps", 1, 4096),
    ("IOVA exhaustion", -E.ENOMEM, "dev.iova_aperture", 0, 4096),
    ("device error mid-chain", -E.EIO, "hw.fail_desc", 1, 3 * 0xFFF0),
    ("device timeout", -E.ETIMEDOUT, "hw.hang", 1, 4096),
)


def is_async(alg: object) -> bool:
    return bool(getattr(alg, "cra_flags", 0) & CRYPTO_ALG_ASYNC)


def dma_safe_realisations(alg: object, reals: list) -> list:
    """``reals`` without stack memory when ``alg`` is asynchronous."""
    if not is_async(alg):
        return reals
    return [r for r in reals if r is None or r[1] != "stack"]


def engine_dd(target: object) -> object | None:
    """The probed engine behind a target (the driver's world is the
    target's, or the other one through a bridge), or None."""
    world = target.world
    if world not in ENGINE_MODULES:
        return None
    if target.api.startswith("bridge"):
        world = "iter" if world == "sg" else "sg"
    mod = importlib.import_module(ENGINE_MODULES[world])
    name = target.driver
    if name.startswith("bridge(") and name.endswith(")"):
        name = name[len("bridge("):-1]
    if any(d.alg.cra_driver_name == name for d in mod.DRIVERS):
        return mod.engine_dd
    return None


def _reference(cra_name: str, key: bytes, iv: bytes, data: bytes, enc: bool) -> bytes:
    mode = {"cbc(aes)": modes.CBC, "ctr(aes)": modes.CTR, "xts(aes)": modes.XTS}[cra_name]
    c = Cipher(algorithms.AES(key), mode(iv))
    return (c.encryptor() if enc else c.decryptor()).update(data)


class _Knobs:
    """Arm one fault on an engine and put everything back afterwards."""

    def __init__(self, dd: object) -> None:
        self.dd = dd
        self.saved = {"dev.fail_maps": dd.dev.fail_maps, "dev.fail_iova": dd.dev.fail_iova,
                      "dev.iova_aperture": dd.dev.iova_aperture,
                      "hw.fail_desc": dd.hw.fail_desc, "hw.hang": dd.hw.hang}

    def set(self, knob: str, value: int) -> None:
        obj, attr = knob.split(".")
        setattr(getattr(self.dd, obj), attr, value)

    def restore(self) -> None:
        for knob, value in self.saved.items():
            self.set(knob, value)


def engine_target(target: object, seed: int) -> object | None:
    """The backlog and fault-config checks of one engine target."""
    from iovcrypto.tools.conformance import buffers as B
    from iovcrypto.tools.conformance import runner as R
    from iovcrypto.tools.conformance.configs import DEFAULT_CIPHER_TESTVEC_CONFIGS as CFGS

    dd = engine_dd(target)
    if dd is None or target.type != "skcipher":
        return None
    stats, failures = R.Stats(), []
    ctx = R.Ctx(target, seed, stats, failures)
    t0 = time.perf_counter()
    api = R.world_module(target.world)
    rng = np.random.default_rng(seed)
    tfm = R.alloc_tfm(target)
    if isinstance(tfm, int):
        ctx.fail(f"failed to allocate transform for {target.driver}: {tfm}", "", "", "alloc",
                 raw=True)
        return R.TargetResult(target, stats, failures, time.perf_counter() - t0)
    klen = api.crypto_skcipher_max_keysize(tfm)
    key = rng.bytes(klen)
    if target.alg.cra_name == "xts(aes)":
        key = key[:klen // 2] + bytes(b ^ 0x5A for b in key[klen // 2:])
    api.crypto_skcipher_setkey(tfm, key, klen)
    if target.world == "sg":
        reals = [None]
    else:
        reals = dma_safe_realisations(target.alg, list(B.ITER_REALISATIONS))
    mm = kmem.mm_alloc()
    try:
        with kmem.use_mm(mm):
            _backlog(ctx, api, tfm, dd, key, reals, rng, CFGS)
            _faults(ctx, api, tfm, dd, key, reals, rng, CFGS)
    finally:
        R.free_tfm(target, tfm)
    return R.TargetResult(target, stats, failures, time.perf_counter() - t0,
                          notes=["engine: backlog and DMA fault configs"])


def _request(api, tfm, lay, n, iv, flags, done, tag, world):
    req = api.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    api.skcipher_request_set_callback(req, flags, done, tag)
    if world == "sg":
        api.skcipher_request_set_crypt(req, lay.src, lay.dst, n, iv)
    else:
        api.skcipher_request_set_iter(req, lay.src, lay.dst, n, iv)
    return req


def _checked(ctx, vec: str, cfg: str, op: str, where: str, body) -> None:
    """Run ``body()``; a crash or a ledger record is a failure."""
    pos = sanitizer.mark()
    try:
        body()
    except Exception as e:
        ctx.fail(f"{op} crashed ({type(e).__name__}: {e}) on {vec}, cfg=\"{cfg}\"", vec, cfg,
                 op, where)
    sanitizer.check_leaks()
    recs = sanitizer.since(pos)
    if not ctx.check(not recs):
        what = "; ".join(f"[{r.kind}] {r.message}" for r in recs[:3])
        ctx.fail(f"{op} left sanitizer records on {vec}, cfg=\"{cfg}\": {what}", vec, cfg, op,
                 where)
    del sanitizer.ledger.records[pos:]


def _backlog(ctx, api, tfm, dd, key, reals, rng, cfgs) -> None:
    from iovcrypto.tools.conformance import buffers as B
    from iovcrypto.tools.conformance import runner as R

    world = ctx.target.world
    nreq = dd.queue.max_qlen + 3
    cra = ctx.target.alg.cra_name
    vec, cfgname, op = "backlog", f"{nreq} requests in flight", "encryption"

    def body() -> None:
        lays, reqs, rets, ivs, datas = [], [], [], [], []
        events: list[tuple[int, int]] = []
        waits = []

        def done(tag: int, err: int) -> None:
            events.append((tag, err))
            if err != -E.EINPROGRESS:
                waits[tag].completed, waits[tag].err = True, err

        try:
            for i in range(nreq + 1):
                cfg = cfgs[i % len(cfgs)]
                real = reals[i % len(reals)]
                n = 16 * int(rng.integers(1, 64))
                data = rng.bytes(n)
                lay = R._Layout(world, cfg, 0, n, n, data, real, "page")
                lays.append(lay)
                iv = bytearray(rng.bytes(16))
                ivs.append(bytes(iv))
                datas.append(data)
                waits.append(api.CryptoWait())
                flags = CRYPTO_TFM_REQ_MAY_BACKLOG if i < nreq else 0
                req = _request(api, tfm, lay, n, iv, flags, done, i, world)
                reqs.append(req)
                rets.append(api.crypto_skcipher_encrypt(req))
            q = dd.queue.max_qlen
            want = [-E.EINPROGRESS] * (1 + q) + [-E.EBUSY] * (nreq - 1 - q) + [-E.ENOSPC]
            if not ctx.check(rets == want):
                ctx.fail(f"enqueue returned {rets}, expected {want}", vec, cfgname, op)
                return
            api.crypto_wait_req(rets[nreq - 1], waits[nreq - 1])
            for i in range(nreq):
                final = [e for t, e in events if t == i and e != -E.EINPROGRESS]
                if not ctx.check(final == [0]):
                    ctx.fail(f"request {i} completed with {final}", vec, cfgname, op)
                    continue
                backlogged = rets[i] == -E.EBUSY
                told = events.index((i, -E.EINPROGRESS)) if (i, -E.EINPROGRESS) in events \
                    else -1
                if not ctx.check(backlogged == (told >= 0) and
                                 (not backlogged or told < events.index((i, 0)))):
                    ctx.fail(f"request {i} ({'backlogged' if backlogged else 'queued'}) was "
                             f"{'not ' if told < 0 else ''}told -EINPROGRESS before its "
                             f"completion", vec, cfgname, op)
                expected = _reference(cra, key, ivs[i], datas[i], True)
                r = B.verify_correct_output(lays[i].dst_pieces, expected, 0, True)
                if not ctx.check(r == 0):
                    ctx.fail(f"request {i} gave a wrong result under backlog", vec, cfgname, op)
                if world == "iter" and not ctx.check(not any(
                        lays[i].iter_misplaced(True, len(datas[i]), len(datas[i])))):
                    ctx.fail(f"request {i}: iterators not advanced by cryptlen on success",
                             vec, cfgname, op)
            if not ctx.check([e for t, e in events if t == nreq] == []):
                ctx.fail("the request refused with -ENOSPC was completed anyway", vec, cfgname,
                         op)
        finally:
            for r in reqs:
                api.skcipher_request_free(r)
            for lay in lays:
                lay.free()

    _checked(ctx, vec, cfgname, op, "", body)


def _faults(ctx, api, tfm, dd, key, reals, rng, cfgs) -> None:
    from iovcrypto.tools.conformance import buffers as B
    from iovcrypto.tools.conformance import runner as R

    world = ctx.target.world
    for fi, (name, want, knob, value, n) in enumerate(FAULT_CONFIGS):
        # Rotate through the realisations and keep user memory in every
        # other run, where pins are taken and must be given back.
        picks = {reals[fi % len(reals)]}
        user = [r for r in reals if r is not None and r[1] == "user"]
        if user:
            picks.add(user[fi % len(user)])
        for real in sorted(picks, key=str):
            where = B.realisation_name(*real) if real else ""
            cfg = cfgs[(fi + len(where)) % len(cfgs)]
            ctx.stats.configs.add(f"fault: {name}")

            def body(real=real, cfg=cfg, where=where, name=name, want=want, knob=knob,
                     value=value, n=n) -> None:
                data = rng.bytes(n)
                lay = R._Layout(world, cfg, 0, n, n, data, real, "page")
                before = B.read_pieces(lay.dst_pieces, 0, n)
                iv = bytearray(rng.bytes(16))
                wait = api.CryptoWait()
                req = _request(api, tfm, lay, n, iv, CRYPTO_TFM_REQ_MAY_BACKLOG,
                               api.crypto_req_done, wait, world)
                knobs = _Knobs(dd)
                knobs.set(knob, value)
                try:
                    err = api.crypto_wait_req(api.crypto_skcipher_encrypt(req), wait)
                finally:
                    knobs.restore()
                try:
                    if not ctx.check(err == want):
                        ctx.fail(f"encryption with fault config \"{name}\" returned {err}, "
                                 f"expected {want}", "fault", name, "encryption", where)
                    if not ctx.check(not dd.dev.mappings and dd.dev.iova_in_use == 0
                                     and not dd.busy):
                        ctx.fail(f"fault config \"{name}\" left DMA mappings or IOVA "
                                 f"behind", "fault", name, "encryption", where)
                    if world == "iter" and not ctx.check(not any(
                            lay.iter_misplaced(False, n, n))):
                        ctx.fail(f"fault config \"{name}\": iterators moved on error",
                                 "fault", name, "encryption", where)
                    if want != -E.EIO and not ctx.check(
                            B.read_pieces(lay.dst_pieces, 0, n) == before):
                        ctx.fail(f"fault config \"{name}\": dst written by a failed "
                                 f"request", "fault", name, "encryption", where)
                finally:
                    api.skcipher_request_free(req)
                    lay.free()

            _checked(ctx, "fault", name, "encryption", where, body)
