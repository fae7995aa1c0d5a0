"""Conformance for the DMA engine drivers (sgl/engine_aes.py and
iovcrypto/engine_aes.py): what the generic harness needs to know about
asynchronous, DMA-mapping drivers, and the checks only they need.

- Memory: a driver that hands buffers to a device may not be given stack
  memory (dma-debug reports a mapping of a vmapped stack; the kernel's
  rule for every asynchronous request), so the realisations of an async
  target leave stack memory out (:func:`dma_safe_realisations`).
- :func:`engine_target`, one "engine" unit per engine target (both
  worlds, both bridges; the skciphers and gcm(aes)), in the default run:

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
    keeps no count of live objects).  gcm(aes) runs each config in both
    directions: dst untouched (but for -EIO, where the device has
    stored part of it), except that a failed iov_iter decryption has its
    plaintext area zeroed (DESIGN §7).  These were built here because no shared
    fault-config mechanism existed in the harness when they were added.
"""

from __future__ import annotations

import importlib
import time

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import kmem
from ciphers.algapi import CRYPTO_ALG_ASYNC, CRYPTO_TFM_REQ_MAY_BACKLOG
from kmem import errno as E
from kmem import sanitizer

ENGINE_MODULES = {"sg": ("sgl.engine_aes", "sgl.engine_aes_gcm"),
                  "iter": ("iovcrypto.engine_aes", "iovcrypto.engine_aes_gcm")}
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
    name = target.driver
    if name.startswith("bridge(") and name.endswith(")"):
        name = name[len("bridge("):-1]
    for modname in ENGINE_MODULES[world]:
        mod = importlib.import_module(modname)
        if any(d.alg.cra_driver_name == name for d in mod.DRIVERS):
            return mod.engine_dd
    return None


def _reference(cra_name: str, key: bytes, iv: bytes, data: bytes, enc: bool) -> bytes:
    mode = {"cbc(aes)": modes.CBC, "ctr(aes)": modes.CTR, "xts(aes)": modes.XTS}[cra_name]
    c = Cipher(algorithms.AES(key), mode(iv))
    return (c.encryptor() if enc else c.decryptor()).update(data)


# gcm(aes) requests of the unit: AD bytes and tag size.
GCM_AD, GCM_AUTHSIZE = 20, 16


class _Op:
    """One request of the unit, skcipher or gcm(aes): its buffers' sizes,
    the bytes that go in, the bytes expected at ``out_at`` of dst."""

    def __init__(self, cra: str, key: bytes, rng: object, n: int, enc: bool = True) -> None:
        self.aead = cra == "gcm(aes)"
        self.enc, self.n = enc, n
        self.iv = bytes(rng.bytes(12 if self.aead else 16))
        text = rng.bytes(n)
        if not self.aead:
            self.data = text
            self.src_len = self.dst_len = self.out_at = n
            self.out_at = 0
            self.expected = _reference(cra, key, self.iv, text, enc)
            return
        ad = rng.bytes(GCM_AD)
        sealed = AESGCM(key).encrypt(self.iv, text, ad)
        self.data = ad + (text if enc else sealed)
        self.src_len = GCM_AD + n + (0 if enc else GCM_AUTHSIZE)
        self.dst_len = GCM_AD + n + (GCM_AUTHSIZE if enc else 0)
        self.out_at = GCM_AD
        self.expected = sealed if enc else text
        self.cryptlen = n if enc else n + GCM_AUTHSIZE

    def request(self, api: object, tfm: object, lay: object, flags: int, done: object,
                tag: object, world: str) -> object:
        iv = bytearray(self.iv)
        if not self.aead:
            return _request(api, tfm, lay, self.n, iv, flags, done, tag, world)
        req = api.aead_request_alloc(tfm, kmem.GFP_KERNEL)
        api.aead_request_set_callback(req, flags, done, tag)
        if world == "sg":
            api.aead_request_set_crypt(req, lay.src, lay.dst, self.cryptlen, iv)
        else:
            api.aead_request_set_iter(req, lay.src, lay.dst, self.cryptlen, iv)
        api.aead_request_set_ad(req, GCM_AD)
        return req

    def submit(self, api: object, req: object) -> int:
        if not self.aead:
            fn = api.crypto_skcipher_encrypt if self.enc else api.crypto_skcipher_decrypt
        else:
            fn = api.crypto_aead_encrypt if self.enc else api.crypto_aead_decrypt
        return fn(req)

    def free(self, api: object, req: object) -> None:
        (api.aead_request_free if self.aead else api.skcipher_request_free)(req)


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
    if dd is None or (target.type != "skcipher" and target.alg.cra_name != "gcm(aes)"):
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
    if target.type == "aead":
        key = rng.bytes(32)
        api.crypto_aead_setkey(tfm, key, 32)
        api.crypto_aead_setauthsize(tfm, GCM_AUTHSIZE)
    else:
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
        lays, reqs, rets, ops = [], [], [], []
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
                o = _Op(cra, key, rng, 16 * int(rng.integers(1, 64)))
                ops.append(o)
                lay = R._Layout(world, cfg, 0, o.src_len, o.dst_len, o.data, real, "page")
                lays.append(lay)
                waits.append(api.CryptoWait())
                flags = CRYPTO_TFM_REQ_MAY_BACKLOG if i < nreq else 0
                req = o.request(api, tfm, lay, flags, done, i, world)
                reqs.append(req)
                rets.append(o.submit(api, req))
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
                o = ops[i]
                out = B.read_pieces(lays[i].dst_pieces, o.out_at, len(o.expected))
                if not ctx.check(out == o.expected):
                    ctx.fail(f"request {i} gave a wrong result under backlog", vec, cfgname, op)
                if world == "iter" and not ctx.check(not any(
                        lays[i].iter_misplaced(True, o.src_len, o.dst_len))):
                    ctx.fail(f"request {i}: iterators not advanced by cryptlen on success",
                             vec, cfgname, op)
            if not ctx.check([e for t, e in events if t == nreq] == []):
                ctx.fail("the request refused with -ENOSPC was completed anyway", vec, cfgname,
                         op)
        finally:
            for o, r in zip(ops, reqs):
                o.free(api, r)
            for lay in lays:
                lay.free()

    _checked(ctx, vec, cfgname, op, "", body)


def _faults(ctx, api, tfm, dd, key, reals, rng, cfgs) -> None:
    from iovcrypto.tools.conformance import buffers as B
    from iovcrypto.tools.conformance import runner as R

    world = ctx.target.world
    cra = ctx.target.alg.cra_name
    dirs = (True, False) if cra == "gcm(aes)" else (True,)
    driver_world = world
    if ctx.target.api.startswith("bridge"):
        driver_world = "iter" if world == "sg" else "sg"
    for fi, (name, want, knob, value, n) in enumerate(FAULT_CONFIGS):
        # Rotate through the realisations and keep user memory in every
        # other run, where pins are taken and must be given back.
        picks = {reals[fi % len(reals)]}
        user = [r for r in reals if r is not None and r[1] == "user"]
        if user:
            picks.add(user[fi % len(user)])
        for real, enc in ((r, e) for r in sorted(picks, key=str) for e in dirs):
            where = B.realisation_name(*real) if real else ""
            cfg = cfgs[(fi + len(where)) % len(cfgs)]
            ctx.stats.configs.add(f"fault: {name}")
            op = "encryption" if enc else "decryption"

            def body(real=real, cfg=cfg, where=where, name=name, want=want, knob=knob,
                     value=value, n=n, enc=enc, op=op) -> None:
                o = _Op(cra, key, rng, n, enc)
                lay = R._Layout(world, cfg, 0, o.src_len, o.dst_len, o.data, real, "page")
                before = B.read_pieces(lay.dst_pieces, 0, o.dst_len)
                wait = api.CryptoWait()
                req = o.request(api, tfm, lay, CRYPTO_TFM_REQ_MAY_BACKLOG, api.crypto_req_done,
                                wait, world)
                knobs = _Knobs(dd)
                knobs.set(knob, value)
                try:
                    err = api.crypto_wait_req(o.submit(api, req), wait)
                finally:
                    knobs.restore()
                try:
                    if not ctx.check(err == want):
                        ctx.fail(f"{op} with fault config \"{name}\" returned {err}, "
                                 f"expected {want}", "fault", name, op, where)
                    if not ctx.check(not dd.dev.mappings and dd.dev.iova_in_use == 0
                                     and not dd.busy):
                        ctx.fail(f"fault config \"{name}\" left DMA mappings or IOVA "
                                 f"behind", "fault", name, op, where)
                    if world == "iter" and not ctx.check(not any(
                            lay.iter_misplaced(False, o.src_len, o.dst_len))):
                        ctx.fail(f"fault config \"{name}\": iterators moved on error",
                                 "fault", name, op, where)
                    after = B.read_pieces(lay.dst_pieces, 0, o.dst_len)
                    if o.aead and not enc and "iter" in (world, driver_world):
                        # An iov_iter API on the way (the caller's, or the
                        # one a bridge calls) zeroes the plaintext area.
                        a, z = o.out_at, o.out_at + o.n
                        expect = before[:a] + bytes(o.n) + before[z:]
                        if not ctx.check(after == expect):
                            ctx.fail(f"fault config \"{name}\": failed decryption did not "
                                     f"leave dst zeroed in its plaintext area only", "fault",
                                     name, op, where)
                    elif want != -E.EIO and not ctx.check(after == before):
                        ctx.fail(f"fault config \"{name}\": dst written by a failed "
                                 f"request", "fault", name, op, where)
                finally:
                    o.free(api, req)
                    lay.free()

            _checked(ctx, "fault", name, op, where, body)
