"""``iovcrypto compare``: the same operation through every path between the
two worlds, side by side (DESIGN §8-9).

For each algorithm and buffer layout, one encryption of the same key, IV,
AD and plaintext, out of place, through:

- ``a:extract`` -- a caller that holds an iov_iter and must build a
  scatterlist today (extract_iter_to_sg + the scatterlist API, pins
  released after, as AF_ALG and SMB do);
- ``b:sg`` -- the scatterlist API, the caller already holding scatterlists;
- ``c:iter`` -- the iov_iter API, the caller holding iov_iters;
- ``d:sg>it`` -- the scatterlist API served through the bridge by the
  iov_iter world's driver;
- ``e:it>sg`` -- the iov_iter API served through the bridge by the
  scatterlist world's driver.

Outputs (the text, the tag, the IV output) must be equal on every path
that ran: a difference is reported and the exit status is 1.  For each
path: median time per operation, and the kmem cost counters
(kmem.stats) of one operation: copies and bytes copied, kmaps, references
and pins taken, descriptor bytes, allocations, bounce buffers; plus
``segs``, the descriptor entries handed to the driver (scatterlist
entries or iterator segments, src + dst).  What each path measures is only
what differs between the paths: the descriptors' construction and
teardown and the crypto call; the buffers, tfms and requests exist before.

Layouts (``--layout``): ``contiguous`` (one physically contiguous block:
one KVEC segment / one multi-page sg entry), ``pages`` (separate pages:
BVEC / one entry per page), ``fragmented`` (odd-sized kmalloc pieces:
KVEC / sg_set_buf), ``user`` (user memory at an odd offset: UBUF; the
scatterlist caller pinned the pages beforehand), ``folioq`` (folios of
mixed orders: FOLIOQ / one entry per folio), ``bvecq`` (separate pages:
ITER_BVECQ over a chain of 4-slot bvecq segments, newer than v7.3 /
one entry per page).
"""

from __future__ import annotations

import fnmatch
import statistics
import sys
import time
from dataclasses import dataclass, field

import click
import numpy as np

import kmem
from ciphers.algapi import CRYPTO_TFM_REQ_MAY_BACKLOG
from ciphers.authenc import authenc_key_blob
from ciphers.crypto_api import CryptoWait, crypto_req_done, crypto_wait_req
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    iov_iter,
)
from iovcrypto.tools.compare_dma import ALLOC_CLASSES as DMA_ALLOC_CLASSES
from iovcrypto.tools.compare_layout import LAYOUTS, PATH_DESC, PATHS, Layout
from iovcrypto.tools.compare_render import (
    _check_plot_path,
    plot,
    render_json,
    render_markdown,
    render_text,
)
from iovcrypto.tools.roads import ROAD_KERNELS
from shims import bridge
from shims.bridge import bridge_driver_name, iter_to_sg_table, release_sg_table, world_module

# Where allocations are descriptors or bounce buffers (kmem.stats).
ALLOC_CLASSES = {
    "sgl.sg_table": "descriptor", "sgl.sg_pool": "descriptor", "sgl.sg_split": "descriptor",
    "shims.sg_iter": "descriptor", "iovcrypto.iov_iter_import": "descriptor",
    "sgl.skcipher_walk": "bounce", "iovcrypto.skcipher_walk": "bounce",
}


# One algorithm on one layout.

@dataclass
class PathResult:
    path: str
    driver: str = ""
    status: str = "n/a"          # ok, mismatch, error, n/a
    err: int = 0
    time_us: float = 0.0
    segments: int = 0
    counters: dict = field(default_factory=dict)
    output: bytes = b""

    def as_dict(self) -> dict:
        return {"path": self.path, "description": PATH_DESC[self.path], "driver": self.driver,
                "status": self.status, "err": self.err, "time_us": round(self.time_us, 2),
                "segments": self.segments, "counters": self.counters,
                "kernel": ROAD_KERNELS[self.path]}


def _natives(world: str, alg_type: str, name: str) -> str | None:
    """The driver allocation by ``name`` would give among native drivers."""
    reg = bridge.world_registry(world)
    best = None
    for alg, impl in (reg.algorithms(alg_type) if reg is not None else []):
        if alg.cra_name == name and not bridge.is_bridge(impl) and (
                best is None or alg.cra_priority > best.cra_priority):
            best = alg
    return None if best is None else best.cra_driver_name


def algorithms(patterns: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``(cra_name, type)`` of every algorithm either world registers."""
    seen: dict[str, str] = {}
    for world in bridge.WORLDS:
        reg = bridge.world_registry(world)
        for alg_type in ("skcipher", "aead"):
            for alg, impl in (reg.algorithms(alg_type) if reg is not None else []):
                if not bridge.is_bridge(impl):
                    seen.setdefault(alg.cra_name, alg_type)
    out = sorted(seen.items())
    if patterns:
        out = [(n, t) for n, t in out if any(fnmatch.fnmatchcase(n, p) or n == p
                                             for p in patterns)]
    return out


class _Op:
    """Key, IV, lengths and the API calls of one algorithm in one world."""

    def __init__(self, name: str, alg_type: str, size: int, rng: np.random.Generator) -> None:
        self.name, self.type, self.rng = name, alg_type, rng
        self.sg_driver = _natives("sg", alg_type, name)
        self.it_driver = _natives("iter", alg_type, name)
        ref = self.sg_driver or self.it_driver
        world = "sg" if self.sg_driver else "iter"
        mod = world_module(world, alg_type)
        tfm = getattr(mod, f"crypto_alloc_{alg_type}")(ref)
        alg = tfm.alg
        self.requested = size
        self.ivsize = alg.ivsize
        self.assoclen = 16 if alg_type == "aead" else 0
        self.authsize = tfm.authsize if alg_type == "aead" else 0
        self.key = self._key(mod, tfm, alg)
        iv = rng.integers(0, 256, self.ivsize, dtype=np.uint8)
        if name.startswith("ccm("):
            iv[0] = 3                        # L' = 3: a 4-byte length field
        self.iv = iv.tobytes()
        # The requested length if the algorithm takes it (ciphertext
        # stealing takes any length of a block or more), else rounded down
        # to whole blocks, one block at least.
        bs = max(1, alg.cra_blocksize)
        self.n = size
        if size % bs and not (size > bs and self._accepts(world, tfm)):
            self.n = max(size - size % bs, bs)
        getattr(mod, f"crypto_free_{alg_type}")(tfm)
        self.total = self.assoclen + self.n + self.authsize
        self.plain = rng.integers(0, 256, self.total, dtype=np.uint8)
        self.plain[self.assoclen + self.n:] = 0

    def _accepts(self, world: str, tfm) -> bool:
        """Whether one encryption of ``self.n`` bytes succeeds."""
        mod = world_module(world, self.type)
        self.total = self.assoclen + self.n + self.authsize
        req = getattr(mod, f"{self.type}_request_alloc")(tfm, kmem.GFP_KERNEL)
        src, dst = Layout("contiguous", self.total), Layout("contiguous", self.total)
        try:
            if world == "sg":
                (s, _, _), (d, _, _) = src.sg(False), dst.sg(True)
            else:
                s, d = src.iter(ITER_SOURCE), dst.iter(ITER_DEST)
            return self.call(world, req, s, d, bytearray(self.iv)) == 0
        finally:
            src.free()
            dst.free()
            getattr(mod, f"{self.type}_request_free")(req)

    def _key(self, mod, tfm, alg) -> bytes:
        rnd = self.rng.bytes
        setkey = getattr(mod, f"crypto_{self.type}_setkey")
        if "authenc(" in self.name:
            # authenc (and essiv over it): the enc key its child takes
            # (rfc3686 wants 4 more bytes of nonce, single DES 8 bytes).
            for n in (16, 20, 24, 8):
                key = authenc_key_blob(rnd(32), rnd(n))
                if setkey(tfm, key, len(key)) == 0:
                    return key
        sizes = [alg.max_keysize] if alg.max_keysize else [32, 36, 35, 16, 20, 19]
        for n in sizes:
            key = rnd(n)
            if setkey(tfm, key, n) == 0:
                return key
        raise click.ClickException(f"{self.name}: no key length accepted")

    def tfm(self, world: str, driver: str):
        mod = world_module(world, self.type)
        tfm = getattr(mod, f"crypto_alloc_{self.type}")(driver)
        if isinstance(tfm, int):
            return None, None, tfm
        err = getattr(mod, f"crypto_{self.type}_setkey")(tfm, self.key, len(self.key))
        req = getattr(mod, f"{self.type}_request_alloc")(tfm, kmem.GFP_KERNEL)
        return tfm, req, err

    def call(self, world: str, req, src, dst, iv: bytearray) -> int:
        mod = world_module(world, self.type)
        setter = "set_crypt" if world == "sg" else "set_iter"
        cryptlen = self.n
        getattr(mod, f"{self.type}_request_{setter}")(req, src, dst, cryptlen, iv)
        if self.type == "aead":
            mod.aead_request_set_ad(req, self.assoclen)
        # Asynchronous drivers (the DMA engine's) complete later: wait, as
        # a synchronous caller does.
        wait = CryptoWait()
        getattr(mod, f"{self.type}_request_set_callback")(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
                                                          crypto_req_done, wait)
        return crypto_wait_req(getattr(mod, f"crypto_{self.type}_encrypt")(req), wait)


def _iter_segments(it: iov_iter) -> int:
    if it.vec is not None:
        return it.nr_segs
    if it.folioq is not None:
        return sum(1 for f in it.folioq.folios if f is not None)
    n, bq = 0, it.bvecq
    while bq is not None:
        n, bq = n + bq.nr_slots, bq.next
    return n or 1


def _run_path(op: _Op, path: str, src: Layout, dst: Layout, repeat: int) -> PathResult:
    if path == "f:lib":
        from iovcrypto.tools.compare_lib import run_lib_path
        return run_lib_path(op, src, dst, repeat)
    res = PathResult(path)
    world = "iter" if path in ("c:iter", "e:it>sg") else "sg"
    if path in ("a:extract", "b:sg"):
        res.driver = op.sg_driver or ""
    elif path == "c:iter":
        res.driver = op.it_driver or ""
    elif path == "d:sg>it":
        res.driver = bridge_driver_name(op.it_driver) if op.it_driver else ""
    else:
        res.driver = bridge_driver_name(op.sg_driver) if op.sg_driver else ""
    if not res.driver:
        return res
    tfm, req, err = op.tfm(world, res.driver)
    if tfm is None or err:
        res.status, res.err = "error", err
        if tfm is not None:
            _free(op, world, tfm, req)
        return res
    times = []
    for k in range(repeat):
        src.write(op.plain)
        dst.write(np.zeros(dst.total, np.uint8))
        iv = bytearray(op.iv)
        with kmem.cost_counters() as c:
            t0 = time.perf_counter()
            err, segs = _body(op, path, world, req, src, dst, iv)
            t1 = time.perf_counter()
        times.append(t1 - t0)
        if k == 0:
            res.counters, res.segments = c.as_dict(), segs
            res.err = err
            res.output = dst.read(op.assoclen, op.n + op.authsize) + bytes(iv)
        if err:
            break
    _free(op, world, tfm, req)
    res.status = "error" if res.err else "ok"
    res.time_us = statistics.median(times) * 1e6
    return res


def _body(op: _Op, path: str, world: str, req, src: Layout, dst: Layout,
          iv: bytearray) -> tuple[int, int]:
    if path in ("b:sg", "d:sg>it"):
        with _uncounted():
            s, sn, spins = src.sg(False)
            d, dn, dpins = dst.sg(True)
        try:
            return op.call("sg", req, s, d, iv), sn + dn
        finally:
            with _uncounted():
                for p in spins + dpins:
                    kmem.unpin_user_page(p)
    with _uncounted():
        si, di = src.iter(ITER_SOURCE), dst.iter(ITER_DEST)
    if path in ("c:iter", "e:it>sg"):
        segs = _iter_segments(si) + _iter_segments(di)
        return op.call("iter", req, si, di, iv), segs
    ks, di0 = si.copy(), di.copy()
    err, ts = iter_to_sg_table(si, op.assoclen + op.n, kmem.GFP_KERNEL)
    if err:
        return err, 0
    err, td = iter_to_sg_table(di, op.total, kmem.GFP_KERNEL)
    if err:
        release_sg_table(ts, ks)
        return err, 0
    try:
        return op.call("sg", req, ts.sgl, td.sgl, iv), ts.orig_nents + td.orig_nents
    finally:
        release_sg_table(ts, ks)
        release_sg_table(td, di0)


class _uncounted:
    """Set-up done outside the measured operation."""

    def __enter__(self) -> None:
        self.saved = list(kmem.stats._active)
        kmem.stats._active.clear()
        kmem.stats.ON = False

    def __exit__(self, *exc: object) -> None:
        kmem.stats._active[:] = self.saved
        kmem.stats.ON = bool(self.saved)


def _free(op: _Op, world: str, tfm, req) -> None:
    mod = world_module(world, op.type)
    getattr(mod, f"{op.type}_request_free")(req)
    getattr(mod, f"crypto_free_{op.type}")(tfm)


def compare_one(name: str, alg_type: str, layout: str, size: int, repeat: int,
                seed: int) -> dict:
    """Every path for one algorithm and layout; the record the formats
    render (``mismatch`` lists the paths whose output differs from the
    first path that succeeded)."""
    rng = np.random.default_rng(seed)
    op = _Op(name, alg_type, size, rng)
    src, dst = Layout(layout, op.total), Layout(layout, op.total)
    try:
        results = [_run_path(op, p, src, dst, repeat) for p in PATHS]
    finally:
        src.free()
        dst.free()
    ref = next((r for r in results if r.status == "ok"), None)
    mismatch = []
    for r in results:
        if r.status == "ok" and ref is not None and r.output != ref.output:
            r.status = "mismatch"
            mismatch.append(r.path)
    return {"alg": name, "type": alg_type, "layout": layout, "size": op.n,
            "size_requested": op.requested,
            "assoclen": op.assoclen, "authsize": op.authsize,
            "drivers": {"sg": op.sg_driver, "iter": op.it_driver},
            "reference": ref.path if ref else None, "mismatch": mismatch,
            "errors": [r.path for r in results if r.status == "error"],
            "paths": [r.as_dict() for r in results]}


def run_compare(patterns: tuple[str, ...] = (), layouts: tuple[str, ...] = LAYOUTS,
                size: int = 16384, repeat: int = 5, seed: int = 0,
                progress=None) -> list[dict]:
    """Register the bridges, then compare every matching algorithm on every
    layout.  The ledger must stay clean: a record made by any path is an
    error of this run (KernelBug is raised as is).  ``progress(done,
    total, label)`` is called before each comparison."""
    had_bridges = bool(bridge.registered_bridges())
    bridge.register_bridges()
    kmem.classify_allocations(ALLOC_CLASSES)
    kmem.classify_allocations(DMA_ALLOC_CLASSES)
    out = []
    try:
        todo = [(n, t, lay) for n, t in algorithms(patterns) for lay in layouts]
        for k, (name, alg_type, lay) in enumerate(todo):
            if progress:
                progress(k, len(todo), f"{name} {lay}")
            start = len(kmem.ledger.records)
            rec = compare_one(name, alg_type, lay, size, repeat, seed)
            kmem.check_leaks()
            rec["ledger"] = [str(r) for r in kmem.ledger.records[start:]]
            out.append(rec)
    finally:
        bridge.unregister_bridges()
        if had_bridges:
            bridge.register_bridges()
    return out


@click.command(epilog="Exit status: 0 every path agreed and the ledger stayed clean, "
                      "1 a difference or a ledger record, 2 usage error.")
@click.option("--alg", "algs", multiple=True, metavar="PATTERN",
              help="Algorithm name or glob (repeatable); default: every algorithm.")
@click.option("--layout", "layout", type=click.Choice((*LAYOUTS, "all")), default="all",
              show_default=True)
@click.option("--size", type=click.IntRange(1, 1 << 24), default=16384, show_default=True,
              help="Text bytes per operation; an algorithm that takes only whole blocks "
                   "gets it rounded down to them (one block at least), and the table says so.")
@click.option("--repeat", type=click.IntRange(1, 1000), default=5, show_default=True,
              help="Operations timed per path (the median is shown).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(("text", "json", "markdown")),
              default="text", show_default=True)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8", lazy=False),
              help="Write the report here instead of standard output (opened before the run).")
@click.option("--plot", "plot_file", metavar="FILE.png", default=None,
              help="Also plot time and bytes copied per path, one panel per algorithm "
                   "grouped by family (.png, .pdf or .svg; needs matplotlib: the 'plot' extra).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when it is a terminal).")
def compare(algs: tuple[str, ...], layout: str, size: int, repeat: int, seed: int, fmt: str,
            output, plot_file: str | None, progress: bool | None) -> None:
    """The same operation through both APIs, the extraction path and both
    bridges: equal results, and what each path costs."""
    if plot_file is not None:
        _check_plot_path(plot_file)
    layouts = LAYOUTS if layout == "all" else (layout,)
    if not algorithms(algs):
        raise click.ClickException("no algorithm matches" if algs else "no algorithm registered")
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(TextColumn("compare"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), transient=True,
                      console=Console(stderr=True, force_terminal=progress)) as bar:
            task = bar.add_task("", total=None)

            def tick(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label[:40])

            records = run_compare(algs, layouts, size, repeat, seed, progress=tick)
    else:
        records = run_compare(algs, layouts, size, repeat, seed)
    text = {"text": render_text, "json": render_json, "markdown": render_markdown}[fmt](records)
    if output is not None:
        output.write(text)
        output.close()
    else:
        click.echo(text, nl=False)
    if plot_file is not None:
        try:
            plot(records, plot_file)
        except (OSError, ValueError) as e:
            raise click.ClickException(f"--plot {plot_file}: {e}") from None
    bad = [f"{r['alg']} [{r['layout']}]: {', '.join(r['mismatch'])} differ from "
           f"{r['reference']}" for r in records if r["mismatch"]]
    bad += [f"{r['alg']} [{r['layout']}]: sanitizer ledger not clean" for r in records
            if r["ledger"]]
    for line in bad:
        click.echo(f"compare: MISMATCH {line}" if "differ" in line else f"compare: {line}",
                   err=True)
    sys.exit(1 if bad else 0)
