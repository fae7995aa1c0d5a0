"""One conformance run: what to test (every registered driver of each
world, filtered), in which order, with which seeds, in how many processes.

The work is a list of *units*: (kind, api, driver).  ``kind`` is
"vectors" (the suite under the default and random configurations) or
"fuzz" (against the generic twin).  Each unit's seed is derived from the
run seed and the unit's identity (CRC-32), so a unit gives the same result
whatever ``--jobs`` is and whatever else is selected; ``--jobs N`` runs
units in N forked processes (the parent's registries, test drivers
included, are inherited).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import multiprocessing
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import kmem
from iovcrypto.tools.conformance import runner as R
from iovcrypto.tools.conformance.configs import DEFAULT_CIPHER_TESTVEC_CONFIGS, random_configs
from iovcrypto.tools.conformance.engine import engine_dd, engine_target
from iovcrypto.tools.conformance.fuzz import find_generic, fuzz_target
from iovcrypto.tools.conformance.refs import SPECS
from iovcrypto.tools.conformance.report import Report
from iovcrypto.tools.conformance.vectors import corpora_available, vector_suite
from kmem.quirks import QUIRKS


@dataclass
class Options:
    alg: str | tuple[str, ...] | None = None      # patterns: a driver matching any
    driver: str | tuple[str, ...] | None = None
    api: str = "all"           # sg | iter | bridge | bridge-sg | bridge-iter | lib | all
    configs: str = "all"             # default | random | all
    random_configs: int = 2
    seed: int = 1
    jobs: int = 1
    corpus_limit: int | None = 6
    random_vectors: int = 4
    fuzz: int = 8
    all_realisations_vectors: int = 1
    extra: dict = field(default_factory=dict)
    # A kernel's testmgr (testmgr.TestmgrVectors): its vectors replace the
    # built-in, corpus and random ones, and only what it tests is run.
    testmgr: object = None
    # Upstream kernel bugs (kmem.quirks) switched on for the whole run.
    kernel_quirks: tuple[str, ...] = ()


# The other block ciphers (ciphers.skcipher_ciphers, and gcm/ccm and authenc
# over them) repeat the AES templates' walks over another block primitive.
# A run over the whole registry samples them, so that the default run stays
# about a minute: per cipher, the seed picks one of its algorithms, run with
# its built-in vectors, one random vector, no large request, and each
# vector over one rotating iov_iter realisation per configuration instead of
# all of them (its other algorithms are left out); lrw(aes) always runs, the
# same way.  Naming them (--alg/--driver), --testmgr or --full-corpus runs
# every one in full.
SAMPLED_CIPHERS = ("des", "des3_ede", "blowfish", "cast5", "seed", "sm4", "camellia", "aria")
# The AEADs with their own walks that add to the default run the same way
# (h17b): aegis128 (sequential per block; its 24 testmgr vectors run in the
# unit tests) and essiv over authenc (the authenc cbc(aes) instances run in
# full); the authenc instances that differ from those only in hash or child
# are a sample family of their own (refs.AlgSpec.sample).
REDUCED = ("lrw(aes)", "aegis128", "essiv(authenc(hmac(sha256),cbc(aes)),sha256)")


def _cipher_of(cra_name: str) -> str:
    """The innermost name: "cts(cbc(sm4))" -> "sm4"."""
    return cra_name.rstrip(")").rsplit("(", 1)[-1]


def sampling(opts: Options) -> bool:
    """Whether this run samples the SAMPLED_CIPHERS families."""
    return not opts.alg and not opts.driver and opts.testmgr is None \
        and opts.corpus_limit is not None


def _family(cra_name: str) -> str | None:
    """The sample family of an algorithm: its cipher if that is in
    SAMPLED_CIPHERS, else its refs.SPECS sample group (the authenc
    instances that differ from the always-run ones only in hash or
    child), else None (always run)."""
    cipher = _cipher_of(cra_name)
    if cipher in SAMPLED_CIPHERS:       # authenc over des(3_ede) counts as des(3_ede)
        return cipher
    spec = SPECS.get(cra_name)
    return spec.sample if spec is not None and spec.sample else None


def sample_ciphers(opts: Options, names: set[str]) -> set[str]:
    """Of ``names`` (cra_names), those a sampling run keeps: one per family
    (chosen by the seed), and every name outside the families."""
    keep = {n for n in names if _family(n) is None}
    families: dict[str, list[str]] = {}
    for n in names - keep:
        families.setdefault(_family(n), []).append(n)
    for fam, members in families.items():
        members.sort()
        # A hash, not CRC-32: CRC is linear, and "1/des" ... "7/des" all
        # left the same remainder mod 8 (one algorithm for seven seeds).
        pick = hashlib.blake2s(f"{opts.seed}/{fam}".encode(), digest_size=4).digest()
        keep.add(members[int.from_bytes(pick, "big") % len(members)])
    return keep


def unit_seed(seed: int, kind: str, api: str, driver: str) -> int:
    return zlib.crc32(f"{seed}/{kind}/{api}/{driver}".encode()) ^ (seed & 0xFFFFFFFF)


def _match(patterns: str | tuple[str, ...] | None, *names: str) -> bool:
    """Whether one of ``names`` matches one of ``patterns`` (None: all)."""
    if not patterns:
        return True
    for pattern in (patterns,) if isinstance(patterns, str) else patterns:
        wild = any(c in pattern for c in "*?[")
        if any(fnmatch.fnmatchcase(n, pattern) if wild else n == pattern for n in names):
            return True
    return False


def _bridge_driver(impl: object) -> bool:
    bridge = R.bridge_module()
    return bridge is not None and isinstance(impl, bridge._Bridge)


def select_targets(opts: Options) -> tuple[list[R.Target], list[str], list[tuple]]:
    """(targets, notices, skipped rows)."""
    notices: list[str] = []
    skipped: list[tuple] = []
    apis = {"all": ("sg", "iter", "bridge", "lib"), "bridge": ("bridge",),
            "bridge-sg": ("bridge",), "bridge-iter": ("bridge",)}.get(opts.api, (opts.api,))
    targets: list[R.Target] = []
    want: list[tuple[str, str, bool]] = []   # (world, api label, bridges?)
    for a in apis:
        if a == "bridge":
            if R.bridge_module() is None:
                notices.append("shims.bridge is not available yet: the bridge API is skipped")
                skipped.append(("*", "*", "*", "bridge", "shims.bridge not available"))
                continue
            want += [(w, label, True) for w, label in (("sg", "bridge-sg"), ("iter", "bridge-iter"))
                     if opts.api in ("all", "bridge", label)]
        else:
            want.append((a, a, False))
    for world, label, bridges in want:
        try:
            reg = R.world_registry(world)
        except AttributeError:
            notices.append(f"the {world} crypto API has no registry yet: skipped")
            continue
        for alg, impl in reg.algorithms():
            if alg.type not in ("skcipher", "aead"):
                continue
            if _bridge_driver(impl) != bridges:
                continue
            if not _match(opts.alg, alg.cra_name, alg.cra_driver_name):
                continue
            if not _match(opts.driver, alg.cra_driver_name):
                continue
            targets.append(R.Target(alg, label))
    if opts.testmgr is not None:
        targets, more = _testmgr_targets(opts, targets, apis)
        skipped += more
    if sampling(opts):
        keep = sample_ciphers(opts, {t.alg.cra_name for t in targets})
        left = sorted({t.alg.cra_name for t in targets} - keep)
        targets = [t for t in targets if t.alg.cra_name in keep]
        if left:
            notices.append(f"sampled: {len(left)} algorithms left out this run (one per "
                           f"cipher or sample group runs; --full-corpus runs all): "
                           f"{', '.join(left)}")
    return targets, notices, skipped


def _testmgr_targets(opts: Options, targets: list[R.Target],
                     apis: tuple[str, ...]) -> tuple[list[R.Target], list[tuple]]:
    """With ``--testmgr``: the targets testmgr has vectors for, and a
    skipped row for every skcipher/AEAD algorithm it tests that this
    project does not register (or whose vectors could not be read)."""
    tm = opts.testmgr
    kept = [t for t in targets if tm.vectors(t.alg.cra_name) is not None]
    registered = {t.alg.cra_name for t in targets}
    for world in ("sg", "iter"):
        registered |= {a.cra_name for a, _ in R.world_registry(world).algorithms()}
    skipped = []
    for suite in tm.tested():
        if not _match(opts.alg, suite.alg):
            continue
        typ = "skcipher" if suite.kind == "cipher" else "aead"
        if suite.array in tm.unreadable:
            skipped.append((suite.alg, "*", typ, "*",
                            f"testmgr.h {suite.array}: {tm.unreadable[suite.array]}"))
        elif suite.array not in tm.arrays:
            skipped.append((suite.alg, "*", typ, "*", f"testmgr.h has no {suite.array}"))
        elif suite.alg not in registered:
            skipped.append((suite.alg, "*", typ, "*", "not registered by this project"))
    # And the other way round: what this project runs that the tree has no
    # vectors for (authenc over ctr(aes) is alg_test_null in every kernel).
    types = {t.alg.cra_name: t.alg.type for t in targets}
    for name in sorted(set(types) - {t.alg.cra_name for t in kept}):
        suite = tm.suites.get(name)
        why = (f"testmgr.c tests it with {suite.test}, no vectors" if suite is not None
               else "not in testmgr.c's alg_test_descs[]")
        skipped.append((name, "*", types[name], "*", why))
    return kept, skipped


@cache
def _suite(name: str, corpus_limit: int | None, n_random: int, seed: int) -> tuple:
    return tuple(vector_suite(name, corpus_limit=corpus_limit, n_random=n_random, seed=seed))


def make_plan(opts: Options) -> R.Plan:
    cfgs = []
    if opts.configs in ("default", "all"):
        cfgs += list(DEFAULT_CIPHER_TESTVEC_CONFIGS)
    if opts.configs in ("random", "all"):
        cfgs += random_configs(opts.seed, opts.random_configs)
    # The large request and the fault configurations belong with the default
    # configurations: --configs random asks for random layouts only.  Asking
    # for more random configurations than the default two also asks for a
    # request of several MiB.
    fixed = opts.configs in ("default", "all")
    return R.Plan(cfgs, all_realisations_vectors=opts.all_realisations_vectors,
                  faults=fixed, large=fixed, huge=fixed and opts.random_configs > 2,
                  discard=fixed, async_reuse=fixed)


# Units run in the parent or in forked workers.

_UNIT_STATE: dict = {}


def _run_unit(unit: tuple[int, str, R.Target]) -> tuple[int, str, R.TargetResult | None]:
    idx, kind, target = unit
    opts: Options = _UNIT_STATE["opts"]
    plan: R.Plan = _UNIT_STATE["plan"]
    n_random = opts.random_vectors
    name = target.alg.cra_name
    if sampling(opts) and (_family(name) is not None or name in REDUCED):
        plan, n_random = _UNIT_STATE["sampled_plan"], min(n_random, 1)
    s = unit_seed(opts.seed, kind, target.api, target.driver)
    if kind == "fuzz":
        return idx, kind, fuzz_target(target, opts.fuzz, s)
    if kind == "engine":
        return idx, kind, engine_target(target, s)
    # Vectors are per algorithm (same for every driver of it).
    if opts.testmgr is not None:
        vecs = opts.testmgr.vectors(target.alg.cra_name) or []
    else:
        vecs = list(_suite(target.alg.cra_name, opts.corpus_limit, n_random,
                           zlib.crc32(f"{opts.seed}/{target.alg.cra_name}".encode())))
    res = R.run_target(target, vecs, plan, opts.seed)
    if not vecs:
        res.notes.append(f"No test vectors for {target.alg.cra_name} ({target.driver})")
    return idx, kind, res


def run(opts: Options, progress: Callable[[int, int, str], None] | None = None) -> Report:
    """Run everything ``opts`` selects; ``progress(done, total, label)``.
    The kernel quirks of ``opts`` are on for the run (forked workers
    inherit them) and off again after it."""
    with kmem.kernel_quirks(*opts.kernel_quirks):
        rep = _run(opts, progress)
    for name in opts.kernel_quirks:
        q = QUIRKS[name]
        rep.notices.append(f"kernel quirk on: {name}: {q.function}, as in {q.kernels}")
    return rep


def _run(opts: Options, progress: Callable[[int, int, str], None] | None) -> Report:
    t0 = time.perf_counter()
    bridge = R.bridge_module() if opts.api.startswith(("all", "bridge")) else None
    if bridge is not None:
        bridge.register_bridges()
    try:
        targets, notices, skipped = select_targets(opts)
        units: list[tuple[int, str, R.Target]] = []
        for t in targets:
            units.append((len(units), "vectors", t))
            if opts.fuzz > 0 and find_generic(t.world, t.alg) is not None:
                units.append((len(units), "fuzz", t))
            if opts.testmgr is None and engine_dd(t) is not None:
                units.append((len(units), "engine", t))
        _UNIT_STATE["opts"] = opts
        _UNIT_STATE["plan"] = make_plan(opts)
        _UNIT_STATE["sampled_plan"] = dataclasses.replace(_UNIT_STATE["plan"], large=False,
                                                          all_realisations_vectors=0)
        results: list[tuple[int, str, R.TargetResult | None]] = []
        total = len(units)

        def note(r: tuple) -> None:
            results.append(r)
            if progress:
                progress(len(results), total, f"{r[1]} {units[r[0]][2].driver}")

        if opts.jobs > 1 and total > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(min(opts.jobs, total)) as pool:
                for r in pool.imap_unordered(_run_unit, units, chunksize=1):
                    note(r)
        else:
            for u in units:
                note(_run_unit(u))
    finally:
        if bridge is not None:
            bridge.unregister_bridges()
    results.sort(key=lambda r: r[0])
    rep = Report(seed=opts.seed, options=_options_dict(opts))
    rep.results = [(kind, r) for _, kind, r in results if r is not None]
    rep.notices = notices
    rep.skipped = skipped
    rep.corpora = corpora_available()
    if not any(rep.corpora.values()):
        rep.notices.append("no vector corpus installed: built-in and random vectors only "
                           "(pip install 'iovcrypto[vectors]')")
    if not targets:
        rep.notices.append("nothing matched: no driver selected")
    rep.elapsed = time.perf_counter() - t0
    return rep


def _options_dict(opts: Options) -> dict:
    return {"alg": opts.alg, "driver": opts.driver, "api": opts.api, "configs": opts.configs,
            "random_configs": opts.random_configs, "jobs": opts.jobs,
            "corpus_limit": opts.corpus_limit, "random_vectors": opts.random_vectors,
            "fuzz": opts.fuzz, "all_realisations_vectors": opts.all_realisations_vectors,
            "cpus": os.cpu_count(), "testmgr": getattr(opts.testmgr, "path", None),
            "kernel_quirks": list(opts.kernel_quirks)}
