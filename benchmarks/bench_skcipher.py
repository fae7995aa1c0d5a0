"""Throughput of the skcipher drivers through both crypto APIs.

For every algorithm, generic and accelerated driver, through the
scatterlist API (sgl) and the iov_iter API (iovcrypto, when present), on
1 MiB laid out as one segment (one scatterlist entry / one bio_vec over
an order-8 folio) and as 256 × 4 KiB entries / bio_vecs over separate
pages, it prints in one run:

- ``ratio``: the throughput as a ratio to ``cryptography`` one-shot on
  the same 1 MiB held contiguously (the same mode where the library has
  it; CBC for cts and essiv, CTR for rfc3686, ChaCha20 under the HChaCha
  subkey for xchacha20; AES-256 keys, 64-byte XTS keys);
- ``walk µs/seg``: the walk's own cost per step, measured with a driver
  whose core does nothing (a null loop over skcipher_walk);
- ``iov/sg``: the iov_iter API's time over the scatterlist API's on the
  same layout (target <= 1.05).

Times are the best of a few runs, measured in one process.

    python3 benchmarks/bench_skcipher.py [--quick]
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Callable

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import kmem
import sgl
from ciphers.algapi import CryptoAlg
from ciphers.chacha import hchacha20
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


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def oneshot(name: str, key: bytes, iv: bytes) -> Callable[[np.ndarray, np.ndarray], None]:
    """cryptography one-shot of the same work on contiguous bytes."""
    if name == "ecb(aes)":
        mode, k = modes.ECB(), key
    elif name in ("cbc(aes)", "cts(cbc(aes))", "essiv(cbc(aes),sha256)"):
        mode, k = modes.CBC(iv[:16]), key
    elif name == "ctr(aes)":
        mode, k = modes.CTR(iv), key
    elif name == "rfc3686(ctr(aes))":
        mode, k = modes.CTR(key[-4:] + iv + b"\0\0\0\1"), key[:-4]
    elif name == "xts(aes)":
        mode, k = modes.XTS(iv), key
    else:
        sub = key if name == "chacha20" else hchacha20(key, iv[:16])
        nonce = iv[:16] if name == "chacha20" else iv[24:32] + iv[16:24]
        return lambda s, d: Cipher(algorithms.ChaCha20(sub, nonce), None) \
            .encryptor().update_into(s, d)
    return lambda s, d: Cipher(algorithms.AES(k), mode).encryptor().update_into(s, d)


def oneshot_in_place(name: str, key: bytes, iv: bytes) -> Callable[[np.ndarray], None]:
    """The best in-place one-shot the library permits for xts(aes) and
    (x)chacha20 (cryptography refuses overlapping buffers): an XTS data
    unit in one call into a kept scratch, copied back; a stream cipher in
    cache-sized pieces through a kept scratch (faster than one scratch of
    the whole length).  The reference for an in-place request."""
    scratch = np.empty(MIB, np.uint8)
    if name == "xts(aes)":
        def xts(buf: np.ndarray) -> None:
            Cipher(algorithms.AES(key), modes.XTS(iv)).encryptor().update_into(
                buf, scratch[:buf.size])
            buf[:] = scratch[:buf.size]
        return xts
    sub = key if name == "chacha20" else hchacha20(key, iv[:16])
    nonce = iv[:16] if name == "chacha20" else iv[24:32] + iv[16:24]
    piece = 1 << 16

    def stream(buf: np.ndarray) -> None:
        ctx = Cipher(algorithms.ChaCha20(sub, nonce), None).encryptor()
        for off in range(0, buf.size, piece):
            got = ctx.update_into(buf[off:off + piece], scratch)
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


def main() -> None:
    quick = "--quick" in sys.argv
    rep = 2 if quick else 3
    lays = {"1x1MiB": SgLayout(False), "256x4KiB": SgLayout(True)}
    src = np.random.default_rng(1).integers(0, 256, MIB, np.uint8)
    dst = np.empty(MIB + 16, np.uint8)  # update_into wants len + 15 for ECB/CBC
    worlds = [("sg", run_sg)] + ([("iov", run_iov)] if HAVE_IOV else [])

    print("walk overhead (null core, µs per segment of the layout; target <= 2):")
    other = SgLayout(True)      # the destination of the out-of-place walks
    null: dict[tuple[str, str], float] = {}
    for wname, world in [("sg", sgl)] + ([("iov", iovcrypto)] if HAVE_IOV else []):
        null_driver(world)
        for lname, lay in [*lays.items(), ("256x4KiB out-of-place", lays["256x4KiB"])]:
            dlay = other if "out" in lname else None
            go = (run_sg if wname == "sg" else run_iov)(f"null-walk-{world.__name__}",
                                                          b"k", lay, 16, dlay)
            t = null[wname, lname] = best(go, 15)
            nseg = 1 if lname == "1x1MiB" else NSEG
            print(f"  {wname:3} {lname:22} {t / nseg * 1e6:7.2f} µs/segment ({nseg} segments)")
    if HAVE_IOV:
        for lname in ("256x4KiB", "256x4KiB out-of-place"):
            print(f"  iov/sg {lname:22} {null['iov', lname] / null['sg', lname]:6.3f}"
                  " (target <= 1.05)")
    other.free()
    print()
    hdr = f"{'driver':42} {'layout':9} " + " ".join(f"{w + ' ratio':>9}" for w, _ in worlds)
    print(hdr + ("    iov/sg" if HAVE_IOV else ""))
    for impl in impls():
        name = impl.cra_name
        key = os.urandom(KEYLEN.get(name, 32))
        iv = os.urandom(impl.ivsize)
        ref = oneshot(name, key, iv)
        t_ref = best(lambda ref=ref: ref(src, dst), rep + 2)
        for lname, lay in lays.items():
            times = [best(fn(impl.cra_driver_name, key, lay, impl.ivsize), rep)
                     for _, fn in worlds]
            cols = " ".join(f"{t_ref / t:9.3f}" for t in times)
            extra = f"{times[1] / times[0]:10.3f}" if HAVE_IOV else ""
            print(f"{impl.cra_driver_name:42} {lname:9} {cols}{extra}")
    for lay in lays.values():
        lay.free()
    if not HAVE_IOV:
        print("\n(the iov_iter crypto API is not importable here: sg only)")


if __name__ == "__main__":
    main()
