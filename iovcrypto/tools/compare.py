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
import json
import os
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
    bio_vec,
    bvecq_alloc_one,
    bvecq_append,
    iov_iter,
    iov_iter_bvec,
    iov_iter_bvec_queue,
    iov_iter_folio_queue,
    iov_iter_kvec,
    iov_iter_ubuf,
    kvec,
)
from iovcrypto.tools.compare_dma import ALLOC_CLASSES as DMA_ALLOC_CLASSES
from iovcrypto.tools.compare_dma import render_dma_markdown, render_dma_text
from iovcrypto.tools.roads import ROAD_KERNELS
from kmem import PAGE_SIZE
from kmem import __free_page as free_page
from kmem import __free_pages as free_pages
from sgl import sg_array, sg_init_table, sg_mark_end, sg_set_buf, sg_set_page
from shims import bridge
from shims.bridge import bridge_driver_name, iter_to_sg_table, release_sg_table, world_module

LAYOUTS = ("contiguous", "pages", "fragmented", "user", "folioq", "bvecq")
PATHS = ("a:extract", "b:sg", "c:iter", "d:sg>it", "e:it>sg", "f:lib")
PATH_DESC = {
    "a:extract": "iov_iter caller: extract_iter_to_sg + scatterlist API",
    "b:sg": "scatterlist caller: scatterlist API",
    "c:iter": "iov_iter caller: iov_iter API",
    "d:sg>it": "scatterlist API -> bridge -> iov_iter driver",
    "e:it>sg": "iov_iter API -> bridge -> scatterlist driver",
    "f:lib": "iov_iter caller: own walk + lib/crypto AES-GCM/CCM (no request)",
}
# Where allocations are descriptors or bounce buffers (kmem.stats).
ALLOC_CLASSES = {
    "sgl.sg_table": "descriptor", "sgl.sg_pool": "descriptor", "sgl.sg_split": "descriptor",
    "shims.sg_iter": "descriptor", "iovcrypto.iov_iter_import": "descriptor",
    "sgl.skcipher_walk": "bounce", "iovcrypto.skcipher_walk": "bounce",
}
_FRAG = (1, 15, 17, 100, 333, 4095, 64, 2000, 700, 9, 1500)
_ORDERS = (2, 0, 1, 3)


# Layouts: the same bytes described both ways.

class Layout:
    """``total`` bytes of one memory layout, with the views of its bytes,
    a fresh iov_iter over it, and a scatterlist over it."""

    def __init__(self, kind: str, total: int) -> None:
        self.kind, self.total = kind, total
        self._free: list = []
        self.pieces: list[tuple[kmem.Page, int, int]] = []    # (page, offset, len)
        self.kvecs: list[kvec] = []
        self.uaddr = 0
        self.folioq = None
        getattr(self, "_" + kind)()

    def _contiguous(self) -> None:
        order = max(0, (-(-self.total // PAGE_SIZE) - 1).bit_length())
        page = kmem.alloc_pages(kmem.GFP_KERNEL, order)
        self._free.append(lambda: free_pages(page, order))
        self.pieces = [(page, 0, self.total)]
        self.kvecs = [kvec(kmem.page_address(page), self.total)]

    def _pages(self) -> None:
        left = self.total
        while left > 0:
            page = kmem.alloc_page(kmem.GFP_KERNEL)
            self._free.append(lambda p=page: free_page(p))
            n = min(left, PAGE_SIZE)
            self.pieces.append((page, 0, n))
            left -= n

    def _fragmented(self) -> None:
        left, k = self.total, 0
        while left > 0:
            n = min(left, _FRAG[k % len(_FRAG)])
            addr = kmem.kmalloc(n, kmem.GFP_KERNEL)
            self._free.append(lambda a=addr: kmem.kfree(a))
            self.kvecs.append(kvec(addr, n))
            left -= n
            k += 1

    def _user(self) -> None:
        mm = kmem.current_mm()
        length = self.total + 2 * PAGE_SIZE
        base = mm.mmap(length)
        self._free.append(lambda: mm.munmap(base, length))
        self.uaddr = base + 100

    def _bvecq(self) -> None:
        # Separate pages, described by a bvecq chain of 4-slot segments
        # (ITER_BVECQ; newer than v7.3) and, for the sg roads, one entry a page.
        self._pages()

    def _folioq(self) -> None:
        folios, left, k = [], self.total, 0
        while left > 0:
            f = kmem.folio_alloc(kmem.GFP_KERNEL, _ORDERS[k % len(_ORDERS)])
            self._free.append(lambda f=f: kmem.folio_put(f))
            folios.append(f)
            n = min(left, kmem.folio_size(f))
            self.pieces.append((f, 0, n))
            left -= n
            k += 1
        self.folioq = kmem.folioq_from_folios(folios)

    def views(self, write: bool = False) -> list[np.ndarray]:
        if self.kind == "user":
            return kmem.current_mm().user_views(self.uaddr, self.total, write)[0]
        if self.kvecs:
            return [v for kv in self.kvecs for v in kmem.virt_views(kv.iov_base, kv.iov_len,
                                                                    write=write)]
        return [v for p, o, n in self.pieces for v in kmem.page_views(p, o, n, write=write)]

    def write(self, data: np.ndarray) -> None:
        kmem.copy_views(self.views(True), [data])

    def read(self, off: int, n: int) -> bytes:
        return np.concatenate(self.views())[off:off + n].tobytes() if n else b""

    def iter(self, direction: int) -> iov_iter:
        it = iov_iter()
        if self.kind == "user":
            iov_iter_ubuf(it, direction, self.uaddr, self.total)
        elif self.kind == "bvecq":
            head = tail = None
            for k in range(0, len(self.pieces), 4):
                bq = bvecq_alloc_one(4, kmem.GFP_KERNEL)
                for p, o, n in self.pieces[k:k + 4]:
                    bq.add(p, n, o)
                if tail is None:
                    head = bq
                else:
                    bvecq_append(tail, bq)
                tail = bq
            iov_iter_bvec_queue(it, direction, head, 0, 0, self.total)
        elif self.kind == "folioq":
            iov_iter_folio_queue(it, direction, self.folioq, 0, 0, self.total)
        elif self.kvecs:
            iov_iter_kvec(it, direction, list(self.kvecs), len(self.kvecs), self.total)
        else:
            bv = [bio_vec(p, n, o) for p, o, n in self.pieces]
            iov_iter_bvec(it, direction, bv, len(bv), self.total)
        return it

    def sg(self, write: bool) -> tuple[object, int, list]:
        """A scatterlist over the bytes (user pages pinned for it): ``(first
        entry, entries, pinned pages)``."""
        pinned: list = []
        pieces = self.pieces
        if self.kind == "user":
            first = self.uaddr & ~(PAGE_SIZE - 1)
            npages = -(-(self.uaddr + self.total - first) // PAGE_SIZE)
            _ret, pinned = kmem.pin_user_pages_fast(first, npages, kmem.FOLL_WRITE if write else 0)
            off, left, pieces = self.uaddr - first, self.total, []
            for p in pinned:
                n = min(left, PAGE_SIZE - off)
                pieces.append((p, off, n))
                left -= n
                off = 0
        arr = sg_array(max(1, len(pieces) or len(self.kvecs)))
        sg_init_table(arr, len(arr))
        if self.kvecs and self.kind != "contiguous":
            for sg, kv in zip(arr, self.kvecs, strict=True):
                sg_set_buf(sg, kv.iov_base, kv.iov_len)
        else:
            for sg, (p, o, n) in zip(arr, pieces, strict=True):
                sg_set_page(sg, p, n, o)
        sg_mark_end(arr[-1])
        return arr[0], len(arr), pinned

    def free(self) -> None:
        for f in reversed(self._free):
            f()
        self._free.clear()


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
            # (rfc3686 wants 4 more bytes of nonce).
            for n in (16, 20, 24):
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


# Rendering.

# The table's columns: (heading, key in a path's record or its counters,
# meaning).  A module that measures more appends its own column here.
COLUMNS: list[tuple[str, str | None, str]] = [
    ("path", None, "the route the operation took (legend below)"),
    ("µs/op", "time_us", "median time of one operation, in microseconds"),
    ("copies", "copies", "memory copies made (how many copy calls)"),
    ("copied", "bytes_copied", "bytes those copies moved, in total"),
    ("kmap", "kmaps", "pages mapped with kmap_local/kmap_atomic"),
    ("refs", "refs", "page references taken (get_page)"),
    ("pins", "pins", "pages pinned (FOLL_PIN)"),
    ("descB", "descriptor_bytes",
     "bytes allocated for descriptors: scatterlists, bio_vec arrays"),
    ("alloc", "allocations", "allocations made (kmalloc, pages, vmalloc)"),
    ("bnc", "bounce_buffers", "bounce buffers allocated by a walk"),
    ("segs", "segments", "descriptor entries handed to the driver, src + dst"),
    ("result", None, "ok, DIFF (output differs from the reference path) or err -ERRNO"),
]
_COLS = [(head, key) for head, key, _ in COLUMNS]


def _cells(p: dict) -> list[str]:
    if p["status"] == "n/a":
        return [p["path"]] + ["-"] * (len(_COLS) - 2) + ["n/a"]
    c = p["counters"]
    vals = [p["path"], f"{p['time_us']:.0f}"]
    for _, key in _COLS[2:-1]:
        vals.append(str(p[key] if key in p else c.get(key, 0)))
    vals.append({"ok": "ok", "mismatch": "DIFF", "error": f"err {p['err']}"}[p["status"]])
    return vals


def _title(r: dict) -> str:
    d = r["drivers"]
    size = f"{r['size']} B"
    if r.get("size_requested", r["size"]) != r["size"]:
        size += f" (asked {r['size_requested']}: whole blocks)"
    return f"{r['alg']} [{r['layout']}] {size}  sg={d['sg'] or '-'}  iter={d['iter'] or '-'}"


def render_text(records: list[dict], width: int = 80) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    buf = StringIO()
    con = Console(file=buf, width=width, force_terminal=False, color_system=None)
    for r in records:
        t = Table(title=escape(_title(r)), box=None, padding=(0, 1, 0, 0), title_justify="left",
                  show_edge=False)
        for head, _ in _COLS:
            t.add_column(head, justify="left" if head in ("path", "result") else "right",
                         no_wrap=True)
        for p in r["paths"]:
            t.add_row(*_cells(p))
        con.print(t)
        for line in r["ledger"]:
            con.print(escape(f"  ledger: {line}"))
        con.print()
    for k, v in PATH_DESC.items():
        con.print(escape(f"{k:10} {v}  [kernel: {ROAD_KERNELS[k]}]"))
    con.print()
    for head, _, meaning in COLUMNS[1:]:
        con.print(escape(f"{head:10} {meaning}"))
    text = "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
    dma = render_dma_text(records)
    return text + ("\n" + dma if dma else "")


def render_markdown(records: list[dict]) -> str:
    lines = []
    for r in records:
        lines += [f"### {_title(r)}", "", "| " + " | ".join(h for h, _ in _COLS) + " |",
                  "|" + "---|" * len(_COLS)]
        lines += ["| " + " | ".join(_cells(p)) + " |" for p in r["paths"]]
        lines += [f"- ledger: {x}" for x in r["ledger"]]
        lines.append("")
    lines += [f"- `{k}`: {v} (kernel: {ROAD_KERNELS[k]})" for k, v in PATH_DESC.items()]
    lines += [f"- `{head}`: {meaning}" for head, _, meaning in COLUMNS[1:]]
    return "\n".join(lines) + "\n" + render_dma_markdown(records)


SCHEMA_ID = "iovcrypto-compare/1"


def render_json(records: list[dict]) -> str:
    return json.dumps({"schema": SCHEMA_ID, "ok": not failed(records), "paths": PATH_DESC,
                       "columns": {key or head: meaning for head, key, meaning in COLUMNS},
                       "results": records}, indent=2) + "\n"


def failed(records: list[dict]) -> bool:
    return any(r["mismatch"] or r["ledger"] for r in records)


# Families for the plot: the template an algorithm is built on, with the
# RFC wrappers under the mode they wrap.
_FAMILY_OF = {"rfc4106": "gcm", "rfc4543": "gcm", "rfc4309": "ccm", "rfc3686": "ctr",
              "rfc7539": "chacha20poly1305", "rfc7539esp": "chacha20poly1305",
              "xchacha20": "chacha20"}
PLOT_FORMATS = ("png", "pdf", "svg")


def family(alg: str) -> str:
    base = alg.split("(", 1)[0]
    return _FAMILY_OF.get(base, base)


def plot(records: list[dict], path: str) -> None:
    """Small multiples: per algorithm (grouped by family), time and bytes
    copied per operation for each path, over the layouts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    algs = sorted({r["alg"] for r in records}, key=lambda a: (family(a), a))
    layouts = [lay for lay in LAYOUTS if any(r["layout"] == lay for r in records)]
    ncols = min(3, len(algs))
    nrows = -(-len(algs) // ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(5.2 * ncols, 4.6 * nrows + 1.2),
                             squeeze=False)
    colors = plt.get_cmap("tab10").colors
    x = np.arange(len(layouts))
    w = 0.8 / len(PATHS)
    for k, alg in enumerate(algs):
        top, bottom = axes[2 * (k // ncols)][k % ncols], axes[2 * (k // ncols) + 1][k % ncols]
        by_layout = {r["layout"]: r for r in records if r["alg"] == alg}
        for j, path_name in enumerate(PATHS):
            ps = [next((p for p in by_layout[lay]["paths"] if p["path"] == path_name), None)
                  if lay in by_layout else None for lay in layouts]
            ok = [p is not None and p["status"] != "n/a" for p in ps]
            t = [p["time_us"] if o else 0 for p, o in zip(ps, ok)]
            b = [p["counters"].get("bytes_copied", 0) if o else 0 for p, o in zip(ps, ok)]
            top.bar(x + j * w, t, w, color=colors[j], label=f"{path_name}: {PATH_DESC[path_name]}")
            bottom.bar(x + j * w, b, w, color=colors[j])
        size = next(iter(by_layout.values()))["size"]
        top.set_title(f"{family(alg)} · {alg} · {size} B", fontsize=10)
        top.set_ylabel("µs per operation (median)")
        bottom.set_ylabel("bytes copied per operation")
        for ax in (top, bottom):
            ax.set_xticks(x + 0.4 - w / 2, layouts, fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
    for k in range(len(algs), nrows * ncols):
        axes[2 * (k // ncols)][k % ncols].set_visible(False)
        axes[2 * (k // ncols) + 1][k % ncols].set_visible(False)
    h = fig.get_figheight()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.suptitle("iovcrypto compare: one encryption per path and buffer layout "
                 "(n/a paths have no bar)", y=1 - 0.15 / h, fontsize=12)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.45 / h),
               ncols=min(3, len(PATHS)), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 1.2 / h))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _check_plot_path(path: str) -> None:
    """Refuse a plot file that cannot be written, before the run."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in PLOT_FORMATS:
        raise click.BadParameter(f"{path!r}: the plot is written as "
                                 f"{', '.join('.' + f for f in PLOT_FORMATS)}",
                                 param_hint="--plot")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise click.BadParameter(f"{path!r}: directory {parent!r} does not exist or is not "
                                 "writable", param_hint="--plot")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "--plot needs matplotlib, which is not installed "
            "(pip install matplotlib, or the project's 'plot' extra)") from None


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
