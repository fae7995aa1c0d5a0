"""A whole suite against one driver (testmgr's ``alg_test_skcipher``/
``alg_test_aead``): every vector under every configuration and iov_iter
realisation, then the passes of passes.py (a large request, the fault
configurations, ITER_DISCARD as dst, async request reuse).

One vector × configuration × API run and its checks are vec_cfg.py; the
names a user of this module had from it (Target, Ctx, run_vec_cfg, ...)
are re-exported here.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import kmem
from ciphers.algapi import CryptoAlg
from iovcrypto.tools.conformance import buffers as B
from iovcrypto.tools.conformance import passes as P
from iovcrypto.tools.conformance.configs import TestvecConfig
from iovcrypto.tools.conformance.engine import dma_safe_realisations
from iovcrypto.tools.conformance.keyiv import MAX_IVLEN, IvBuf, KeyBuf
from iovcrypto.tools.conformance.reuse import run_async_reuse
from iovcrypto.tools.conformance.vec_cfg import (
    APIS,
    Ctx,
    Failure,
    Stats,
    Target,
    _Layout,
    bridge_module,
    run_vec_cfg,
    world_module,
    world_of,
    world_registry,
)
from iovcrypto.tools.conformance.vectors import AeadVec, Vector

__all__ = ["APIS", "MAX_FAILURES_PER_TARGET", "MAX_IVLEN", "Ctx", "Failure", "IvBuf", "KeyBuf",
           "Plan", "Stats", "Target", "TargetResult", "_IvBuf", "_Layout", "alloc_tfm",
           "bridge_module", "free_tfm", "layout_vectors", "realisations_for", "run_target",
           "run_vec_cfg", "world_module", "world_of", "world_registry"]

MAX_FAILURES_PER_TARGET = 10
_IvBuf = IvBuf      # the name fuzz.py and older callers use


# A whole suite against one target.

@dataclass
class TargetResult:
    target: Target
    stats: Stats
    failures: list[Failure]
    seconds: float
    skipped: str = ""
    notes: list[str] = field(default_factory=list)


def alloc_tfm(target: Target) -> object:
    api = world_module(target.world)
    fn = api.crypto_alloc_skcipher if target.type == "skcipher" else api.crypto_alloc_aead
    return fn(target.driver)


def free_tfm(target: Target, tfm: object) -> None:
    api = world_module(target.world)
    (api.crypto_free_skcipher if target.type == "skcipher" else api.crypto_free_aead)(tfm)


@dataclass
class Plan:
    """How much to run: configurations and iov_iter realisations."""

    configs: list[TestvecConfig]
    realisations: tuple[tuple[str, str], ...] = B.ITER_REALISATIONS
    all_realisations_vectors: int = 1     # vectors run over every realisation per config
    sg_kinds: tuple[str, ...] = ("page",)
    faults: bool = True                   # the fault configurations (faults.py)
    large: bool = True                    # one request past every walk window
    huge: bool = False                    # and one of several MiB (--random-configs > 2)
    discard: bool = True                  # ITER_DISCARD as dst, and its refused forms
    async_reuse: bool = True              # requests resubmitted from their completions


def realisations_for(plan: Plan, vi: int, ci: int, cfg: TestvecConfig,
                     alg: CryptoAlg | None = None, everything: bool = False) -> list:
    """Every realisation for a layout vector (``everything``) under a
    default configuration; else one, rotating with vector and config
    (stack memory left out for DMA drivers)."""
    reals = dma_safe_realisations(alg, list(plan.realisations))
    if everything and not cfg.random:
        return reals
    return [reals[(vi + ci) % len(reals)]]


def _data_len(vec: Vector) -> int:
    return len(vec.ptext) + (len(vec.assoc) if isinstance(vec, AeadVec) else 0)


def layout_vectors(vectors: list[Vector], n: int) -> set[int]:
    """The ``n`` vectors run over every realisation: the longest ones, since
    a short vector never crosses a page, a folio or a segment."""
    order = sorted(range(len(vectors)), key=lambda i: (-_data_len(vectors[i]), i))
    return set(order[:n])


def run_target(target: Target, vectors: list[Vector], plan: Plan, seed: int,
               vec_names: list[str] | None = None) -> TargetResult:
    """testmgr's ``alg_test_skcipher``/``alg_test_aead`` for one target:
    every vector under every configuration, encryption then decryption."""
    stats = Stats()
    failures: list[Failure] = []
    ctx = Ctx(target, seed, stats, failures)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kmem.KernelWarning)
        tfm = alloc_tfm(target)
    if isinstance(tfm, int):
        ctx.fail(f"failed to allocate transform for {target.driver}: {tfm}", "", "", "alloc",
                 raw=True)
        return TargetResult(target, stats, failures, time.perf_counter() - t0)
    mm = kmem.mm_alloc()
    full = layout_vectors(vectors, plan.all_realisations_vectors)
    # One tfm and one request for the whole suite, as a long-lived user
    # (dm-crypt, IPsec) keeps them: state left behind by one request must
    # not leak into the next.
    api = world_module(target.world)
    ctx.req = (api.skcipher_request_alloc if target.type == "skcipher"
               else api.aead_request_alloc)(tfm, kmem.GFP_KERNEL)
    try:
        with kmem.use_mm(mm):
            for enc in (True, False):
                for vi, vec in enumerate(vectors):
                    if len(failures) >= MAX_FAILURES_PER_TARGET:
                        break
                    if enc and isinstance(vec, AeadVec) and vec.novrfy:
                        continue
                    name = vec_names[vi] if vec_names else str(vi)
                    stats.vectors = max(stats.vectors, vi + 1)
                    _run_vec(ctx, tfm, vec, name, vi, enc, plan, vi in full)
            if plan.large and not failures and target.world != "lib":
                P.run_large(ctx, tfm, plan, seed)
            if plan.faults and not failures and target.world != "lib":
                P.run_faults(ctx, tfm, vectors, vec_names, plan, seed)
            if plan.discard and not failures and target.world == "iter":
                P.run_discard(ctx, tfm, vectors, vec_names, plan)
                if not failures:
                    P.run_discard_refused(ctx, tfm, vectors, vec_names)
            if plan.async_reuse and not failures:
                run_async_reuse(ctx, tfm, plan, seed)
    finally:
        if ctx.req is not None:
            (api.skcipher_request_free if target.type == "skcipher"
             else api.aead_request_free)(ctx.req)
        free_tfm(target, tfm)
    return TargetResult(target, stats, failures, time.perf_counter() - t0)


def _run_vec(ctx: Ctx, tfm: object, vec: Vector, name: str, vi: int, enc: bool,
             plan: Plan, everything: bool = False) -> None:
    """``test_skcipher_vec``/``test_aead_vec``: stop at the first failing
    configuration, as testmgr does."""
    for ci, cfg in enumerate(plan.configs):
        if ctx.target.world == "sg":
            # Every other (vector, config) as chained one-entry arrays with
            # zero-length entries after the links.
            chain = "+chain" if (vi + ci) % 2 else ""
            for kind in plan.sg_kinds:
                if not run_vec_cfg(ctx, tfm, vec, name, cfg, enc, None, kind + chain):
                    return
        else:
            for real in realisations_for(plan, vi, ci, cfg, ctx.target.alg, everything):
                if not run_vec_cfg(ctx, tfm, vec, name, cfg, enc, real):
                    return
