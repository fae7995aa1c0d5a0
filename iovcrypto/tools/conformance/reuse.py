"""One tfm and one request reused through the async path.

The suite itself reuses one request for every vector (runner.run_target),
waiting for each with ``crypto_wait_req()``: the synchronous form of
reuse, and for an asynchronous driver one request at a time.  This pass
is the form long-lived asynchronous users have (dm-crypt's and IPsec's
completion handlers): the request is set up again and resubmitted from
its own completion callback, in the callback's context (atomic: no
CRYPTO_TFM_REQ_MAY_SLEEP, so every allocation on the way must be
GFP_ATOMIC), with CRYPTO_TFM_REQ_MAY_BACKLOG, while a second request does
the same on the same tfm, so that the two interleave on the device's
queue.  The main thread only waits for both chains to end.  (A full
queue and its backlog are engine.py's "backlog" check.)

What it catches: a driver or API that touches the request after calling
its completion (the callback has already set it up again); an iov_iter
API that moves the iterators after the callback instead of before it
(the callback checks them, and has already pointed the request at new
ones); a -EINPROGRESS backlog notification taken for the end; and state
left in a tfm or request by one request that leaks into the next.

The buffers are kernel memory of every kind but the stack (which a DMA
driver may not be handed): a resubmission from a completion runs where no
user address space is current and pinning may not sleep, which is why
dm-crypt and IPsec hold kernel pages there.  The requests share one key
(a tfm's key cannot change while requests are in flight): a stream of
random vectors of the algorithm, computed by the reference (refs.SPECS)
with that key.  Only asynchronous
drivers get this pass; a synchronous driver never calls back.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import kmem
from ciphers.algapi import CRYPTO_TFM_REQ_MAY_BACKLOG
from iovcrypto.tools.conformance import buffers as B
from iovcrypto.tools.conformance import vec_cfg as V
from iovcrypto.tools.conformance.configs import DEFAULT_CIPHER_TESTVEC_CONFIGS, Prandom
from iovcrypto.tools.conformance.engine import dma_safe_realisations, is_async
from iovcrypto.tools.conformance.keyiv import IvBuf
from iovcrypto.tools.conformance.vectors import AeadVec, CipherVec, Vector
from kmem import errno as E
from kmem import sanitizer
from kmem.softirq import wait_event

CHAINS = 2              # requests on the tfm at once
PER_CHAIN = 6           # submissions of each (half encryptions, half decryptions)
_LENGTHS = (16, 4096 + 32, 0, 48, 2 * 4096 + 80, 512)


def stream_vectors(name: str, seed: int, n: int) -> list[Vector]:
    """``n`` reference vectors of algorithm ``name`` under one key and
    one authsize, of mixed lengths ([] if the reference does not know it)."""
    from iovcrypto.tools.conformance.refs import SPECS, fit_length

    spec = SPECS.get(name)
    if spec is None:
        return []
    rng = Prandom(seed)
    key = spec.make_key(rng, spec.keylens[-1])
    out: list[Vector] = []
    for k in range(n):
        iv = spec.make_iv(rng)
        pt = rng.bytes(fit_length(spec, _LENGTHS[k % len(_LENGTHS)]))
        if spec.type == "skcipher":
            ct = spec.encrypt(key, iv or None, pt)
            out.append(CipherVec(key, iv or None, pt, ct,
                                 iv_out=spec.iv_out(iv, ct) if spec.iv_out else None,
                                 source="stream"))
        else:
            assoc = rng.bytes(20) if not spec.esp else rng.bytes(8) + iv[-8:].rjust(8, b"\0")
            out.append(AeadVec(key, iv, assoc, pt,
                               spec.encrypt(key, iv, assoc, pt, spec.authsizes[-1]),
                               source="stream"))
    return out


@dataclass
class _Job:
    """One submission: a vector, a direction and its buffers, built before
    any chain starts (the callback only points the request at them)."""

    vec: Vector
    name: str
    enc: bool
    cfg: object
    real: tuple | None
    lay: V._Layout
    ivb: IvBuf | None
    err: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def lengths(self) -> tuple[int, int, int]:
        """(cryptlen, bytes consumed from src, bytes produced into dst)."""
        v = self.vec
        if isinstance(v, AeadVec):
            alen = len(v.assoc)
            if self.enc:
                return len(v.ptext), alen + len(v.ptext), alen + len(v.ctext)
            return len(v.ctext), alen + len(v.ctext), alen + len(v.ptext)
        return len(v.ptext), len(v.ptext), len(v.ptext)


class _Chain:
    """One request resubmitting itself from its completion callback."""

    def __init__(self, ctx: V.Ctx, api: object, tfm: object, req: object,
                 jobs: list[_Job]) -> None:
        self.ctx, self.api, self.tfm, self.req = ctx, api, tfm, req
        self.jobs = jobs
        self.k = 0
        self.done = False
        self.backlogged = 0
        self.want: dict = {}

    def submit(self) -> None:
        """Point the request at the next job and submit it; a driver that
        answers at once is finished here (no callback comes)."""
        while self.k < len(self.jobs):
            job = self.jobs[self.k]
            api, req, aead = self.api, self.req, isinstance(job.vec, AeadVec)
            cryptlen = job.lengths[0]
            iv = job.ivb.addr if job.ivb else None
            pre = "aead" if aead else "skcipher"
            getattr(api, f"{pre}_request_set_callback")(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
                                                         self.complete, self)
            setter = "crypt" if job.lay.world == "sg" else "iter"
            getattr(api, f"{pre}_request_set_{setter}")(req, job.lay.src, job.lay.dst, cryptlen,
                                                        iv)
            if aead:
                api.aead_request_set_ad(req, len(job.vec.assoc))
            self.want = V._request_fields(req, self.tfm, self, CRYPTO_TFM_REQ_MAY_BACKLOG,
                                          cryptlen, iv, aead)
            op = "encrypt" if job.enc else "decrypt"
            err = getattr(api, f"crypto_{pre}_{op}")(req)
            if err in (-E.EINPROGRESS, -E.EBUSY):
                if err == -E.EBUSY:
                    self.backlogged += 1
                return
            if not self._finish(err):
                return
        self.done = True

    def complete(self, data: object, err: int) -> None:
        """The completion callback (the device's context)."""
        if err == -E.EINPROGRESS:
            return              # a backlogged request starting: not the end
        if self._finish(err):
            self.submit()

    def _finish(self, err: int) -> bool:
        """Record the job's result and what the callback sees; False to
        stop the chain."""
        job = self.jobs[self.k]
        job.err = err
        bad = [k for k, v in self.want.items()
               if V._field(self.req, k) is not v and V._field(self.req, k) != v]
        if bad:
            job.notes.append(f"request fields changed before the completion ({', '.join(bad)})")
        if job.lay.world != "sg" and err == 0:
            _cl, consumed, produced = job.lengths
            src_m, dst_m = job.lay.iter_misplaced(True, consumed, produced)
            if src_m or dst_m:
                job.notes.append("iov_iter not advanced when the completion was called")
        self.k += 1
        if self.k == len(self.jobs):
            self.done = True
            return False
        return True


def run_async_reuse(ctx: V.Ctx, tfm: object, plan: object, seed: int) -> None:
    """The pass (see the module docstring): CHAINS requests on ``tfm``,
    each resubmitted PER_CHAIN times from its own completion callback."""
    t = ctx.target
    if not is_async(t.alg) or t.world not in ("sg", "iter"):
        return
    vecs = stream_vectors(t.alg.cra_name, seed ^ 0xA5C, CHAINS * PER_CHAIN // 2)
    if not vecs:
        return
    api = V.world_module(t.world)
    aead = t.type == "aead"
    pre = "crypto_aead" if aead else "crypto_skcipher"
    where0 = "async reuse"
    ctx.stats.realisations.add(where0)
    pos = sanitizer.mark()
    apos = sanitizer.allocation_mark()
    jobs: list[_Job] = []
    reqs: list = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kmem.KernelWarning)
            if V._setkey(ctx, api, tfm, vecs[0], "stream 0", DEFAULT_CIPHER_TESTVEC_CONFIGS[0],
                         0) is not None:
                return
            if aead and not ctx.check(api.crypto_aead_setauthsize(tfm, vecs[0].authsize) == 0):
                ctx.fail("setauthsize failed for the async reuse stream", "stream", "",
                         "setauthsize")
                return
            alignmask = getattr(api, f"{pre}_alignmask")(tfm)
            ivsize = getattr(api, f"{pre}_ivsize")(tfm)
            # Kernel memory only: a completion runs with no user address
            # space current, and pinning user pages may sleep (the model
            # reports pin_user_pages_fast() in softirq context).
            reals = [r for r in dma_safe_realisations(t.alg, list(plan.realisations))
                     if r[1] != "user"]
            cfgs = [c for c in plan.configs if not c.random] or list(plan.configs)
            for k in range(CHAINS * PER_CHAIN):
                vec = vecs[k % len(vecs)]
                enc = k < len(vecs)
                cfg = cfgs[k % len(cfgs)]
                real = reals[k % len(reals)] if t.world == "iter" else None
                data, dst_total, src_total = _totals(vec, enc)
                lay = V._Layout(t.world, cfg, alignmask, src_total, dst_total, data, real,
                                "page+chain" if k % 2 else "page")
                iv_in = vec.iv if ivsize else None
                ivb = IvBuf(iv_in, ivsize, 0, True) if ivsize else None
                jobs.append(_Job(vec, f"stream {k % len(vecs)}", enc, cfg, real, lay, ivb))
            reqs = [getattr(api, f"{'aead' if aead else 'skcipher'}_request_alloc")(
                tfm, kmem.GFP_KERNEL) for _ in range(CHAINS)]
            chains = [_Chain(ctx, api, tfm, reqs[c], jobs[c::CHAINS]) for c in range(CHAINS)]
            try:
                for ch in chains:
                    ch.submit()
                wait_event(lambda: all(ch.done for ch in chains), "async reuse")
            except Exception as e:
                ctx.fail(f"async request reuse crashed ({type(e).__name__}: {e})", "stream",
                         "", "reuse", where0)
                return
        for job in jobs:
            _judge(ctx, job, ivsize)
    finally:
        for req in reqs:
            getattr(api, f"{'aead' if aead else 'skcipher'}_request_free")(req)
        for job in jobs:
            job.lay.free()
            if job.ivb:
                job.ivb.free()
        sanitizer.check_leaks(since=apos)
        records = sanitizer.since(pos)
        if not ctx.check(not records):
            what = "; ".join(f"[{r.kind}] {r.message}" for r in records[:3])
            ctx.fail(f"async request reuse left sanitizer records: {what}", "stream", "",
                     "reuse", where0)
        del sanitizer.ledger.records[pos:]


def _totals(vec: Vector, enc: bool) -> tuple[bytes, int, int]:
    """(src data, dst bytes, src bytes)."""
    if isinstance(vec, AeadVec):
        data = vec.assoc + (vec.ptext if enc else vec.ctext)
        out = vec.assoc + (vec.ctext if enc else vec.ptext)
        return data, len(out), len(data)
    data = vec.ptext if enc else vec.ctext
    return data, len(data), len(data)


def _judge(ctx: V.Ctx, job: _Job, ivsize: int) -> None:
    """After both chains: each job's result, what its callback saw, its
    descriptors, its output and its output IV."""
    op = "encryption" if job.enc else "decryption"
    where = "async reuse" + (f": {B.realisation_name(*job.real)}" if job.real else "")
    cfgname = job.cfg.name

    def fail(msg: str) -> None:
        ctx.fail(f"{op} {msg} on test vector {job.name}, cfg=\"{cfgname}\"", job.name, cfgname,
                 op, where)

    if not ctx.check(job.err == 0):
        fail(f"failed (actual_error={job.err}) when its request was reused from a completion")
        return
    for note in job.notes:
        ctx.check(False)
        fail(note)
        return
    src_bad, dst_bad = job.lay.corrupted()
    if not ctx.check(not (src_bad or dst_bad)):
        fail("corrupted the src or dst descriptors")
        return
    vec = job.vec
    alen = len(vec.assoc) if isinstance(vec, AeadVec) else 0
    expected = vec.ctext if job.enc else vec.ptext
    r = B.verify_correct_output(job.lay.dst_pieces, expected, alen,
                                job.enc or not job.cfg.inplace)
    if not ctx.check(r == 0):
        fail("test failed (wrong result)" if r != -E.EOVERFLOW else "overran dst buffer")
        return
    if isinstance(vec, CipherVec) and vec.iv_out is not None and job.ivb is not None \
            and not ctx.check(job.ivb.read() == vec.iv_out[:ivsize]):
        fail("test failed (wrong output IV)")
