"""The passes a suite runs after its vectors (runner.run_target): one
request past every walk window, the fault configurations, ITER_DISCARD as
dst, and one request reused through the async path.  Each goes through
vec_cfg.run_vec_cfg (looked up on the module, so that a test can spy on
it), with the same checks as every other run.
"""

from __future__ import annotations

import functools
import zlib
from typing import TYPE_CHECKING

import kmem
from iovcrypto.tools.conformance import faults as F
from iovcrypto.tools.conformance import vec_cfg as V
from iovcrypto.tools.conformance.configs import InplaceMode, Prandom, TestSgDivision, TestvecConfig
from iovcrypto.tools.conformance.engine import dma_safe_realisations
from iovcrypto.tools.conformance.vec_cfg import Ctx
from iovcrypto.tools.conformance.vectors import AeadVec, CipherVec, Vector

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
    if spec is None:
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
    else:
        assoc = rng.bytes(37)
    authsize = spec.authsizes[-1]
    return AeadVec(key, iv, assoc, pt, spec.encrypt(key, iv, assoc, pt, authsize),
                   source="large")


def run_large(ctx: Ctx, tfm: object, plan: Plan, seed: int) -> None:
    t = ctx.target
    vec = large_vector(t.alg.cra_name, LARGE_LEN, seed ^ 0x1A56E)
    if vec is None:
        return
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
        if not V.run_vec_cfg(ctx, tfm, vec, f"large {LARGE_LEN}", LARGE_CONFIG, enc, real, kind):
            return
