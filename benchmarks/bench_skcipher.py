"""Throughput of the skcipher drivers through both crypto APIs.

For every skcipher driver whose algorithm the library also offers,
generic and accelerated, through the scatterlist API (sgl) and the
iov_iter API (iovcrypto), on 1 MiB laid out as one segment (one
scatterlist entry / one bio_vec over an order-8 folio) and as 256 × 4 KiB
entries / bio_vecs over separate pages, it prints in one run:

- ``sg`` / ``iov``: an out-of-place request's throughput as a ratio to
  the library doing the same work on the same 1 MiB held contiguously,
  also out of place (:func:`oneshot`:
  the same mode where the library has it; CBC for cts and essiv, CTR for
  rfc3686, ChaCha20 under the per-request HChaCha20 subkey for xchacha20);
- ``iov/sg``: the iov_iter API's time over the scatterlist API's on the
  same layout (target <= 1.05);
- before the table, the walk's own cost per segment: the slope between
  256 × 4 KiB and 1 × 1 MiB of a driver whose core does nothing (a null
  loop over skcipher_walk), in place and out of place (target <= 2 µs).

Timing follows benchmarks/timing.py: CPU time, no garbage collection in a
timed region, each subject timed beside its reference in alternating
order, the median of the per-round ratios (its rounds' spread printed).

    python3 benchmarks/bench_skcipher.py [--quick] [--rounds N] [--alg NAME ...]

``--quick``: the accelerated drivers and the AES generic ones only, three
rounds.  A driver whose single request takes over a second (the serial
generic CBC encryptions of the 8-byte-block ciphers) is listed, not timed.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from timing import cpu, driver_bench_args, median_ratio, median_slope, take_spread

import kmem
import sgl
from ciphers.accel import HChaCha20Lib, lib_cipher_ctx
from ciphers.algapi import CryptoAlg
from ciphers.blowfish import blowfish_algorithm
from ciphers.camellia import camellia_algorithm
from ciphers.cast5 import cast5_algorithm
from ciphers.des import des3_ede_algorithm
from ciphers.skcipher_algs import impls

try:
    import iovcrypto
    from iovcrypto import ITER_DEST, ITER_SOURCE, bio_vec, iov_iter, iov_iter_bvec
    HAVE_IOV = hasattr(iovcrypto, "skcipher_request_set_iter")
except ImportError:  # the iov_iter crypto API is not there yet
    HAVE_IOV = False

MIB = 1 << 20
_free_pages = kmem.__free_pages  # (inside a class body the name would be mangled)
NSEG = 256
KEYLEN = {"xts(aes)": 64, "rfc3686(ctr(aes))": 36, "chacha20": 32, "xchacha20": 32}
#: A request slower than this (CPU seconds) is listed, not timed.
SLOW = 1.0

#: The library's block cipher algorithm object by the kernel's cipher name.
_LIB_ALGS: dict[str, Callable[[bytes], Any]] = {
    "aes": algorithms.AES, "sm4": algorithms.SM4, "camellia": camellia_algorithm,
    "des3_ede": des3_ede_algorithm, "blowfish": blowfish_algorithm, "cast5": cast5_algorithm,
}
#: The library mode doing each template's work (cts and essiv: their CBC body).
_LIB_MODES: dict[str, Callable[[bytes], Any] | None] = {
    "ecb": None, "cbc": modes.CBC, "ctr": modes.CTR, "xts": modes.XTS, "cts": modes.CBC,
    "essiv": modes.CBC,
}


def _lib_stream(name: str, key: bytes) -> Callable[[bytes], Any] | None:
    """``iv -> context`` for the library doing ``name``'s work under
    ``key``, or None where the library lacks it.

    Fair to both sides: the algorithm object is made once (as a driver's
    setkey expands its key once); the mode and the context come per call,
    since the IV is per request; the context is made without ``Cipher()``'s
    per-call re-checks (:func:`ciphers.accel.lib_cipher_ctx`), as the
    accelerated drivers make theirs, so the ratio is what the model adds
    around the same library work.  xchacha20 pays its HChaCha20 per call
    (the subkey depends on the IV), from a context kept per key as the
    accelerated driver keeps its own."""
    if name == "chacha20":
        return lambda iv: lib_cipher_ctx(algorithms.ChaCha20(key, iv[:16]), None, True)
    if name == "xchacha20":
        hchacha = HChaCha20Lib(key)
        return lambda iv: lib_cipher_ctx(
            algorithms.ChaCha20(hchacha(iv[:16]), iv[24:32] + iv[16:24]), None, True)
    if name == "rfc3686(ctr(aes))":
        alg, nonce = algorithms.AES(key[:-4]), key[-4:]
        return lambda iv: lib_cipher_ctx(alg, modes.CTR(nonce + iv[:8] + b"\0\0\0\1"), True)
    template = name.partition("(")[0]
    inner = re.search(r"\(([a-z0-9_]+)\)", name)
    cipher = inner.group(1) if inner else ""
    if template not in _LIB_MODES or cipher not in _LIB_ALGS:
        return None
    mode = _LIB_MODES[template]
    if template == "xts" and cipher != "aes":
        return None
    alg = _LIB_ALGS[cipher](key)
    bs = alg.block_size // 8
    if template == "ctr" and bs != 16:
        return None
    if mode is None:
        ecb = modes.ECB()
        return lambda iv: lib_cipher_ctx(alg, ecb, True)
    return lambda iv: lib_cipher_ctx(alg, mode(iv[:bs]), True)


def oneshot(name: str, key: bytes, iv: bytes) -> Callable[[np.ndarray, np.ndarray], None] | None:
    """The library doing ``name``'s work on contiguous bytes, out of place:
    ``ref(src, dst)`` writes straight into ``dst`` (``len(src) + 15`` bytes
    for the block modes); None where the library lacks the algorithm."""
    ctx = _lib_stream(name, key)
    if ctx is None:
        return None
    try:
        ctx(iv)
    except UnsupportedAlgorithm:        # e.g. Camellia has no library CTR
        return None
    return lambda s, d: ctx(iv).update_into(s, d)


def oneshot_in_place(name: str, key: bytes, iv: bytes) -> Callable[[np.ndarray], None]:
    """The best in-place one-shot the library permits for xts(aes) and
    (x)chacha20 (cryptography refuses overlapping buffers): an XTS data
    unit in one call into a kept scratch, copied back; a stream cipher in
    cache-sized pieces through a kept scratch (faster than one scratch of
    the whole length).  The reference for an in-place request."""
    scratch = np.empty(MIB, np.uint8)
    ctx = _lib_stream(name, key)
    if name == "xts(aes)":
        def xts(buf: np.ndarray) -> None:
            ctx(iv).update_into(buf, scratch[:buf.size])
            buf[:] = scratch[:buf.size]
        return xts
    piece = 1 << 16

    def stream(buf: np.ndarray) -> None:
        c = ctx(iv)
        for off in range(0, buf.size, piece):
            got = c.update_into(buf[off:off + piece], scratch)
            buf[off:off + got] = scratch[:got]
    return stream


class SgLayout:
    """1 MiB over one folio entry or over 256 separate pages."""

    def __init__(self, segmented: bool) -> None:
        if segmented:
            self.pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(NSEG)]
            self.orders = [0] * NSEG
            self.pieces = [(p, 0, 4096) for p in self.pages]
        else:
            self.pages = [kmem.alloc_pages(kmem.GFP_KERNEL, 8)]
            self.orders = [8]
            self.pieces = [(self.pages[0], 0, MIB)]
        self.sgl = sgl.sg_array(len(self.pieces))
        sgl.sg_init_table(self.sgl, len(self.sgl))
        for sg, (p, off, n) in zip(self.sgl, self.pieces):
            sgl.sg_set_page(sg, p, n, off)
        views = [v for p, off, n in self.pieces for v in kmem.page_views(p, off, n, write=True)]
        kmem.copy_views(views, [np.random.default_rng(0).integers(0, 256, MIB, np.uint8)])

    def bvec_iter(self, direction: int) -> object:
        # The bio_vec array is built once, as the scatterlist is: only the
        # iterator (what a caller sets up per request) is timed.
        if not hasattr(self, "bvs"):
            self.bvs = [bio_vec(p, n, off) for p, off, n in self.pieces]
        it = iov_iter()
        iov_iter_bvec(it, direction, self.bvs, len(self.bvs), MIB)
        return it

    def free(self) -> None:
        for p, o in zip(self.pages, self.orders):
            _free_pages(p, o)


def run_sg(driver: str, key: bytes, lay: SgLayout, ivsize: int,
           out: SgLayout | None = None) -> Callable[[], None]:
    tfm = sgl.crypto_alloc_skcipher(driver)
    assert sgl.crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = sgl.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    dst = (out or lay).sgl

    def go() -> None:
        sgl.skcipher_request_set_crypt(req, lay.sgl, dst, MIB, bytearray(ivsize))
        assert sgl.crypto_skcipher_encrypt(req) == 0
    return go


def run_iov(driver: str, key: bytes, lay: SgLayout, ivsize: int,
            out: SgLayout | None = None) -> Callable[[], None]:
    tfm = iovcrypto.crypto_alloc_skcipher(driver)
    assert iovcrypto.crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = iovcrypto.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    dlay = out or lay

    def go() -> None:
        src, dst = lay.bvec_iter(ITER_SOURCE), dlay.bvec_iter(ITER_DEST)
        iovcrypto.skcipher_request_set_iter(req, src, dst, MIB, bytearray(ivsize))
        assert iovcrypto.crypto_skcipher_encrypt(req) == 0
    return go


def null_driver(world: object) -> object:
    """A driver whose core does nothing: its time is the walk's."""
    # The walk module itself, as the project's drivers import it (the
    # package-root names also check argument types at the boundary).
    walkmod = importlib.import_module(f"{world.__name__}.skcipher_walk")

    class Null:
        alg = CryptoAlg("null-walk(bench)", f"null-walk-{world.__name__}", "skcipher",
                        cra_priority=1, cra_blocksize=16, ivsize=16, min_keysize=1,
                        max_keysize=16)

        def setkey(self, ctx: object, key: bytes) -> int:
            return 0

        def encrypt(self, req: object) -> int:
            walk = walkmod.SkcipherWalk()
            err = walkmod.skcipher_walk_virt(walk, req, False)
            while walk.nbytes:
                n = walk.nbytes - walk.nbytes % 16
                err = walkmod.skcipher_walk_done(walk, walk.nbytes - n)
            return err

        decrypt = encrypt

    drv = Null()
    assert world.crypto_register_skcipher(drv) == 0
    return drv


def walk_slopes(rounds: int) -> None:
    """The null walk's cost per segment in both worlds: the slope between
    the same 1 MiB as 256 x 4 KiB pages and as one folio."""
    print("walk overhead (null core; µs per segment, slope 1 -> 256 segments; target <= 2):")
    lays = {n: (SgLayout(n > 1), SgLayout(n > 1)) for n in (1, NSEG)}
    worlds = [("sg", sgl, run_sg)] + ([("iov", iovcrypto, run_iov)] if HAVE_IOV else [])
    got: dict[tuple[str, str], float] = {}
    for wname, world, run in worlds:
        null_driver(world)
        drv = f"null-walk-{world.__name__}"
        for place in ("in place", "out of place"):
            fns = {n: run(drv, b"k", a, 16, b if place == "out of place" else None)
                   for n, (a, b) in lays.items()}
            t = got[wname, place] = median_slope(fns, rounds) * 1e6
            print(f"  {wname:3} {place:13} {t:6.2f} µs/segment  "
                  f"(rounds spread {take_spread():.0%})")
    if HAVE_IOV:
        for place in ("in place", "out of place"):
            print(f"  iov/sg {place:13} {got['iov', place] / got['sg', place]:6.3f}")
    for a, b in lays.values():
        a.free()
        b.free()


def main() -> None:
    args = driver_bench_args(__doc__, "accelerated and AES generic drivers only, 3 rounds")
    rounds = args.rounds
    walk_slopes(rounds)
    print()

    # Out of place, as the reference: an in-place request would pay the
    # copy the library needs for overlapping buffers, which the
    # out-of-place one-shot does not (run_all.py times both pairings for
    # xts and xchacha20).
    lays = {"1x1MiB": SgLayout(False), "256x4KiB": SgLayout(True)}
    dsts = {lname: SgLayout(lname != "1x1MiB") for lname in lays}
    src = np.random.default_rng(1).integers(0, 256, MIB, np.uint8)
    dst = np.empty(MIB + 16, np.uint8)  # update_into wants len + 15 for ECB/CBC
    worlds = [("sg", run_sg)] + ([("iov", run_iov)] if HAVE_IOV else [])
    hdr = f"{'driver':42} {'layout':9} " + " ".join(f"{w:>6}" for w, _ in worlds)
    print("throughput / the library's one-shot on the same bytes; iov/sg: time ratio")
    print(hdr + ("  iov/sg" if HAVE_IOV else "") + "  spread")
    no_ref, slow = [], []
    for impl in impls():
        name, drv = impl.cra_name, impl.cra_driver_name
        if args.alg and name not in args.alg:
            continue
        if args.quick and not impl.accelerated and "(aes" not in drv:
            continue
        key = os.urandom(KEYLEN.get(name, impl.max_keysize))
        iv = os.urandom(impl.ivsize)
        ref = oneshot(name, key, iv)
        if ref is None:
            no_ref.append(drv)
            continue
        for lname, lay in lays.items():
            subs = [fn(drv, key, lay, impl.ivsize, dsts[lname]) for _, fn in worlds]
            if cpu(subs[0]) > SLOW:
                slow.append(f"{drv} {lname}")
                continue
            cols = [median_ratio(lambda ref=ref: ref(src, dst), sub, rounds) for sub in subs]
            line = f"{drv:42} {lname:9} " + " ".join(f"{c:6.3f}" for c in cols)
            if HAVE_IOV:
                line += f"  {median_ratio(subs[0], subs[1], rounds):6.3f}"
            print(f"{line}  {take_spread():.0%}")
    for lay in (*lays.values(), *dsts.values()):
        lay.free()
    if no_ref:
        print(f"\nno library one-shot to compare with: {', '.join(no_ref)}")
    if slow:
        print(f"one request over {SLOW} s CPU, not timed: {', '.join(slow)}")
    if not HAVE_IOV:
        print("\n(the iov_iter crypto API is not importable here: sg only)")


if __name__ == "__main__":
    main()
