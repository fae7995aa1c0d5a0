"""The passes a suite runs after its vectors (runner.run_target): one
request past every walk window, the fault configurations, ITER_DISCARD as
dst, and one request reused through the async path.  Each goes through
vec_cfg.run_vec_cfg (looked up on the module, so that a test can spy on
it), with the same checks as every other run.
"""

from __future__ import annotations

import functools
import warnings
import zlib
from typing import TYPE_CHECKING

import iovcrypto as iov
import kmem
from iovcrypto.tools.conformance import buffers as B
from iovcrypto.tools.conformance import faults as F
from iovcrypto.tools.conformance import vec_cfg as V
from iovcrypto.tools.conformance.configs import InplaceMode, Prandom, TestSgDivision, TestvecConfig
from iovcrypto.tools.conformance.discard import DST as DISCARD_DST
from iovcrypto.tools.conformance.engine import dma_safe_realisations
from iovcrypto.tools.conformance.keyiv import IvBuf
from iovcrypto.tools.conformance.vec_cfg import Ctx
from iovcrypto.tools.conformance.vectors import AeadVec, CipherVec, Vector
from kmem import errno as E
from kmem import sanitizer

if TYPE_CHECKING:
    from iovcrypto.tools.conformance.runner import Plan


# Fault configurations (faults.py): layouts that cross pages, so that a
# fault in the middle of a side hits after the request made progress.

_D = TestSgDivision
FAULT_CONFIGS: tuple[TestvecConfig, ...] = (
    TestvecConfig("fault: out-of-place across pages", src_divs=(_D(10000, kmem.PAGE_SIZE - 40),),
                  dst_divs=(_D(6000, kmem.PAGE_SIZE - 24), _D(4000, 100))),
    TestvecConfig("fault: in place across pages", InplaceMode.INPLACE_ONE_SGLIST,
                  src_divs=(_D(10000, kmem.PAGE_SIZE - 40),)),
)
_PLAIN_CFG = TestvecConfig("plain")
_USER_REALISATIONS = (("UBUF", "user"), ("IOVEC", "user"))


def _fault_vector(vectors: list[Vector]) -> int | None:
    """The longest vector that succeeds (faults want bytes to fault in)."""
    best, best_len = None, -1
    for i, v in enumerate(vectors):
        if v.setkey_error or v.crypt_error:
            continue
        if isinstance(v, AeadVec):
            if v.novrfy or v.setauthsize_error:
                continue
            n = len(v.assoc) + len(v.ptext)
        else:
            n = len(v.ptext)
        if n > best_len:
            best, best_len = i, n
    return best


def run_faults(ctx: Ctx, tfm: object, vectors: list[Vector], vec_names: list[str] | None,
               plan: Plan, seed: int) -> None:
    """Every registered fault kind that applies to the target, on one
    vector, encryption and decryption, over sampled configurations and
    realisations."""
    vi = _fault_vector(vectors)
    if vi is None:
        return
    vec = vectors[vi]
    name = vec_names[vi] if vec_names else str(vi)
    rng = Prandom(seed ^ 0xFA17)
    iter_world = ctx.target.world == "iter"
    for enc in (True, False):
        for kind in F.FAULT_KINDS.values():
            cfg = FAULT_CONFIGS[rng.below(len(FAULT_CONFIGS))]
            real = None
            if iter_world:
                reals = [r for r in dma_safe_realisations(
                    ctx.target.alg, list(_USER_REALISATIONS + plan.realisations))
                    if kind.applies(ctx.target, r)]
                if not reals:
                    continue
                real = reals[rng.below(len(reals))]
            elif not kind.applies(ctx.target, None):
                continue
            count = 0
            if kind.needs_probe:
                if not V.run_vec_cfg(ctx, tfm, vec, name, cfg, enc, real, fault=F.Fault(kind.name)):
                    return
                count = ctx.last_shot.count if ctx.last_shot else 0
            for fault in kind.plan(count, rng):
                if not V.run_vec_cfg(ctx, tfm, vec, name, cfg, enc, real, fault=fault):
                    return



# Large requests: past the 1 MiB view window of the iov_iter walks and
# across many pages, folios and folio_queue segments.  One per target and
# direction, on a realisation that rotates with the driver name.

LARGE_LEN = (1 << 20) + 3 * kmem.PAGE_SIZE + 13
# --random-configs above 2 adds a request of several MiB: three 1 MiB windows crossed
# in one request, which the default run cannot afford on every driver.
HUGE_LEN = (3 << 20) + 5 * kmem.PAGE_SIZE + 7
LARGE_CONFIG = TestvecConfig("large: uneven splits", src_divs=(
    _D(3000, 17), _D(5000, kmem.PAGE_SIZE - 5), _D(2000, 1)),
    dst_divs=(_D(7000, 3), _D(3000, 100)))


@functools.lru_cache(maxsize=4)
def large_vector(name: str, n: int, seed: int) -> Vector | None:
    """A reference vector of about ``n`` bytes for algorithm ``name``.

    Cached: every driver, world and bridge of one algorithm gets the same
    vector, and the plain references of the wide-block templates take
    seconds per MiB, far more than the drivers they check."""
    from iovcrypto.tools.conformance.refs import SPECS, fit_length

    spec = SPECS.get(name)
    if spec is None or not spec.large:
        return None
    rng = Prandom(seed)
    key = spec.make_key(rng, spec.keylens[-1])
    iv = spec.make_iv(rng)
    pt = rng.bytes(fit_length(spec, n))
    if spec.type == "skcipher":
        ct = spec.encrypt(key, iv or None, pt)
        return CipherVec(key, iv or None, pt, ct,
                         iv_out=spec.iv_out(iv, ct) if spec.iv_out else None, source="large")
    if spec.esp:
        alens = spec.esp_assoclens or (16,)
        assoc = rng.bytes(alens[-1] - 8) + iv[-8:].rjust(8, b"\0")
    elif spec.ad_tail:
        assoc = rng.bytes(21) + spec.ad_tail(key, iv)
    else:
        assoc = rng.bytes(37)
    authsize = spec.authsizes[-1]
    return AeadVec(key, iv, assoc, pt, spec.encrypt(key, iv, assoc, pt, authsize),
                   source="large")


def run_large(ctx: Ctx, tfm: object, plan: Plan, seed: int) -> None:
    for n in (LARGE_LEN, HUGE_LEN) if plan.huge else (LARGE_LEN,):
        if not _run_large_len(ctx, tfm, plan, seed, n):
            return


def _run_large_len(ctx: Ctx, tfm: object, plan: Plan, seed: int, n: int) -> bool:
    t = ctx.target
    vec = large_vector(t.alg.cra_name, n, seed ^ 0x1A56E)
    if vec is None:
        return True
    k = zlib.crc32(t.driver.encode())
    kind = plan.sg_kinds[0] + ("+chain" if k % 2 else "")
    # iov_iter: encryption over a multi-folio type (FOLIOQ or XARRAY),
    # decryption over a segment array or user memory, rotating with the
    # driver.  (A vmapped stack holds 16 KiB at most.)
    folios = [r for r in plan.realisations if r[0] in ("FOLIOQ", "XARRAY")]
    others = [r for r in plan.realisations if r not in folios and r[1] != "stack"]
    for enc in (True, False):
        real = None
        if t.world == "iter":
            pick = folios if enc and folios else others
            real = pick[k % len(pick)]
        if not V.run_vec_cfg(ctx, tfm, vec, f"large {n}", LARGE_CONFIG, enc, real, kind):
            return False
    return True


# ITER_DISCARD as dst (discard.py): every vector once, both directions, on
# the default out-of-place configurations in turn, src over a rotating
# realisation.  Then the two forms the API refuses.

def run_discard(ctx: Ctx, tfm: object, vectors: list[Vector], vec_names: list[str] | None,
                plan: Plan) -> None:
    cfgs = [c for c in plan.configs if not c.inplace and not c.random]
    reals = dma_safe_realisations(ctx.target.alg, list(plan.realisations))
    if not cfgs or not reals:
        return
    k = 0
    for enc in (True, False):
        for vi, vec in enumerate(vectors):
            if enc and isinstance(vec, AeadVec) and vec.novrfy:
                continue
            name = vec_names[vi] if vec_names else str(vi)
            real = reals[k % len(reals)] + (DISCARD_DST,)
            cfg = cfgs[k % len(cfgs)]
            k += 1
            if not V.run_vec_cfg(ctx, tfm, vec, name, cfg, enc, real):
                return


def run_discard_refused(ctx: Ctx, tfm: object, vectors: list[Vector],
                        vec_names: list[str] | None) -> None:
    """A DISCARD src, and one DISCARD iterator as both src and dst: each
    must be -EINVAL with one WARN, before anything is touched (request
    fields, iterators, dst's bytes)."""
    vi = _fault_vector(vectors)
    if vi is None:
        return
    vec = vectors[vi]
    name = vec_names[vi] if vec_names else str(vi)
    t = ctx.target
    api = V.world_module(t.world)
    aead = t.type == "aead"
    if V._setkey(ctx, api, tfm, vec, name, _PLAIN_CFG, 0) is not None:
        return
    if aead and api.crypto_aead_setauthsize(tfm, vec.authsize):
        return
    alen = len(vec.assoc) if aead else 0
    n = len(vec.ptext)
    total = alen + n + (vec.authsize if aead else 0)
    for form in ("DISCARD src", "one DISCARD iov_iter in place"):
        where = f"{form}: refused"
        ctx.stats.realisations.add(where)
        pos = sanitizer.mark()
        apos = sanitizer.allocation_mark()
        dst_t = None
        sink = iov.iov_iter()
        iov.iov_iter_discard(sink, iov.ITER_DEST, total)
        if form == "DISCARD src":
            dst_t = B.build_test_iter("KVEC", "slab", (_D(10000, 0),), 0, total, total, None,
                                      iov.ITER_DEST, False)
            src, dst = sink, dst_t.it
            poisoned = B.read_pieces(dst_t.pieces, 0, total)
        else:
            src = dst = sink
        before = (B.iter_snapshot(src), B.iter_snapshot(dst))
        req = ctx.req
        ivsize = (api.crypto_aead_ivsize if aead else api.crypto_skcipher_ivsize)(tfm)
        ivb = IvBuf(vec.iv, ivsize, 0) if ivsize else None
        iv = ivb.addr if ivb else None
        try:
            wait = api.CryptoWait()
            if aead:
                api.aead_request_set_callback(req, 0, api.crypto_req_done, wait)
                api.aead_request_set_iter(req, src, dst, n, iv)
                api.aead_request_set_ad(req, alen)
                fn = api.crypto_aead_encrypt
            else:
                api.skcipher_request_set_callback(req, 0, api.crypto_req_done, wait)
                api.skcipher_request_set_iter(req, src, dst, n, iv)
                fn = api.crypto_skcipher_encrypt
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", kmem.KernelWarning)
                    err = api.crypto_wait_req(fn(req), wait)
            except Exception as e:
                ctx.fail(f"encryption with a {form} crashed ({type(e).__name__}: {e}) on "
                         f"test vector {name}", name, form, "encryption", where)
                return
            records = sanitizer.since(pos)
            warned = [r for r in records if r.kind == "warn"]
            moved = (B.iter_snapshot(src), B.iter_snapshot(dst)) != before
            touched = dst_t is not None and B.read_pieces(dst_t.pieces, 0, total) != poisoned
            for ok, what in ((err == -E.EINVAL, f"returned {err}, not -EINVAL"),
                             (len(warned) == 1 and len(records) == 1,
                              f"left {len(records)} ledger records, not one WARN"),
                             (not moved, "moved an iterator"),
                             (not touched, "wrote to dst")):
                if not ctx.check(ok):
                    ctx.fail(f"encryption with a {form} {what} on test vector {name}", name,
                             form, "encryption", where)
                    return
        finally:
            del sanitizer.ledger.records[pos:]
            if dst_t is not None:
                dst_t.free()
            if ivb is not None:
                ivb.free()
            sanitizer.check_leaks(since=apos)
