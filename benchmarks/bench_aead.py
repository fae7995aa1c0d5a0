"""Throughput of the AEAD drivers through both crypto APIs.

For every algorithm, generic and accelerated driver, through the
scatterlist API (sgl) and the iov_iter API (iovcrypto), encrypting in
place 16 bytes of AD ‖ 1 MiB ‖ a 16-byte tag area laid out

- ``1x1MiB``: as one segment (one scatterlist entry / one bio_vec over an
  order-9 folio), and
- ``256x4KiB``: as an AD entry, 256 × 4 KiB entries / bio_vecs over
  separate pages, and a tag entry,

it prints in one run:

- ``sg`` / ``iov``: throughput as a ratio to ``cryptography`` one-shot on
  the same bytes held contiguously: AESGCM / AESCCM / ChaCha20Poly1305
  (the ESP variants with their salt ‖ IV nonce and AD), GMAC for rfc4543,
  AES-CBC + HMAC (hashlib) for authenc over cbc(aes);
- ``iov/sg``: the iov_iter API's time over the scatterlist API's on the
  same layout (target <= 1.05);
- before the table, the walk's own cost per step (a null AEAD driver whose
  core does nothing, over skcipher_walk_aead_encrypt: the slope between
  the 1-entry and the 258-entry layout), and the generic GHASH's
  throughput in MB/s.

Timing follows benchmarks/timing.py: CPU time, no garbage collection in a
timed region, each subject timed beside its reference in alternating
order, the median of the per-round ratios (its rounds' spread printed).
Algorithms the library lacks (gcm/ccm over sm4 and aria, aegis128,
authenc over ctr or des, essiv) are listed, not timed.

    python3 benchmarks/bench_aead.py [--quick] [--rounds N] [--alg NAME ...]
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import os
from collections.abc import Callable

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from timing import cpu, driver_bench_args, median_ratio, median_slope, median_time, take_spread

import iovcrypto
import kmem
import sgl
from ciphers.aead_algs import aead_impls
from ciphers.algapi import CryptoAlg
from ciphers.authenc import authenc_key_blob
from ciphers.ghash import Ghash, GhashKey
from iovcrypto import ITER_DEST, bio_vec, iov_iter, iov_iter_bvec

MIB = 1 << 20
AD = 16
TAG = 16
NSEG = 256
_free_pages = kmem.__free_pages  # (inside a class body the name would be mangled)


def make_key(name: str) -> bytes:
    if name.startswith("authenc"):
        return authenc_key_blob(os.urandom(32), os.urandom(32))
    return os.urandom({"rfc4106(gcm(aes))": 36, "rfc4543(gcm(aes))": 36,
                       "rfc4309(ccm(aes))": 35,
                       "rfc7539esp(chacha20,poly1305)": 36}.get(name, 32))


def make_iv(name: str, ivsize: int) -> bytes:
    iv = os.urandom(ivsize)
    return b"\x03" + iv[1:] if name == "ccm(aes)" else iv


#: A request slower than this (CPU seconds) is listed, not timed.
SLOW = 1.0
_AUTHENC_CBC_AES = tuple(f"authenc(hmac({h}),cbc(aes))"
                         for h in ("sha1", "sha224", "sha256", "sha384", "sha512"))
ONESHOT = ("gcm(aes)", "rfc4106(gcm(aes))", "rfc4543(gcm(aes))", "ccm(aes)",
           "rfc4309(ccm(aes))", "rfc7539(chacha20,poly1305)",
           "rfc7539esp(chacha20,poly1305)", *_AUTHENC_CBC_AES)


def oneshot(name: str, key: bytes, iv: bytes, ad: bytes) -> Callable[[bytes], object]:
    """cryptography one-shot of the same work on contiguous bytes (for the
    algorithms in ONESHOT)."""
    if name == "gcm(aes)":
        return lambda pt: AESGCM(key).encrypt(iv, pt, ad)
    if name == "rfc4106(gcm(aes))":
        return lambda pt: AESGCM(key[:-4]).encrypt(key[-4:] + iv, pt, ad[:-8])
    if name == "rfc4543(gcm(aes))":
        return lambda pt: AESGCM(key[:-4]).encrypt(key[-4:] + iv, b"", ad + pt)
    if name == "ccm(aes)":
        return lambda pt: AESCCM(key, 16).encrypt(iv[1:12], pt, ad)
    if name == "rfc4309(ccm(aes))":
        return lambda pt: AESCCM(key[:-3], 16).encrypt(key[-3:] + iv, pt, ad[:-8])
    if name == "rfc7539(chacha20,poly1305)":
        return lambda pt: ChaCha20Poly1305(key).encrypt(iv, pt, ad)
    if name == "rfc7539esp(chacha20,poly1305)":
        return lambda pt: ChaCha20Poly1305(key[:32]).encrypt(key[32:] + iv, pt, ad[:-8])
    authkey, enckey = key[8:-32], key[-32:]
    h = getattr(hashlib, name[len("authenc(hmac("):name.index(")")])

    def authenc(pt: bytes) -> bytes:
        ct = Cipher(algorithms.AES(enckey), modes.CBC(iv)).encryptor().update(pt)
        return ct + hmac.new(authkey, ad + ct, h).digest()[:TAG]
    return authenc


class Layout:
    """AD ‖ 1 MiB ‖ tag area, over one folio or over 258 entries."""

    def __init__(self, segmented: bool) -> None:
        if segmented:
            self.pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(NSEG + 2)]
            self.orders = [0] * (NSEG + 2)
            self.pieces = ([(self.pages[0], 4096 - AD, AD)]
                           + [(p, 0, 4096) for p in self.pages[1:-1]]
                           + [(self.pages[-1], 0, TAG)])
        else:
            self.pages = [kmem.alloc_pages(kmem.GFP_KERNEL, 9)]
            self.orders = [9]
            self.pieces = [(self.pages[0], 0, AD + MIB + TAG)]
        self.sgl = sgl.sg_array(len(self.pieces))
        sgl.sg_init_table(self.sgl, len(self.sgl))
        for sg, (p, off, n) in zip(self.sgl, self.pieces):
            sgl.sg_set_page(sg, p, n, off)
        self.views = [v for p, off, n in self.pieces
                      for v in kmem.page_views(p, off, n, write=True)]
        self.data = np.random.default_rng(0).integers(0, 256, AD + MIB + TAG, np.uint8)
        self.reset()

    def reset(self) -> None:
        kmem.copy_views(self.views, [self.data])

    def bvec_iter(self) -> iov_iter:
        # The bio_vec array is built once, as the scatterlist is (and as
        # bench_skcipher's layouts do): only the iterator, what a caller
        # sets up per request, is timed.
        if not hasattr(self, "bvs"):
            self.bvs = [bio_vec(p, n, off) for p, off, n in self.pieces]
        it = iov_iter()
        iov_iter_bvec(it, ITER_DEST, self.bvs, len(self.bvs), AD + MIB + TAG)
        return it

    def free(self) -> None:
        for p, o in zip(self.pages, self.orders):
            _free_pages(p, o)


def run_sg(driver: str, key: bytes, iv: bytes, lay: Layout) -> Callable[[], None]:
    tfm = sgl.crypto_alloc_aead(driver)
    assert sgl.crypto_aead_setkey(tfm, key, len(key)) == 0
    assert sgl.crypto_aead_setauthsize(tfm, TAG) == 0
    req = sgl.aead_request_alloc(tfm, kmem.GFP_KERNEL)
    sgl.aead_request_set_ad(req, AD)

    def go() -> None:
        sgl.aead_request_set_crypt(req, lay.sgl, lay.sgl, MIB, bytearray(iv))
        assert sgl.crypto_aead_encrypt(req) == 0
    return go


def run_iov(driver: str, key: bytes, iv: bytes, lay: Layout) -> Callable[[], None]:
    tfm = iovcrypto.crypto_alloc_aead(driver)
    assert iovcrypto.crypto_aead_setkey(tfm, key, len(key)) == 0
    assert iovcrypto.crypto_aead_setauthsize(tfm, TAG) == 0
    req = iovcrypto.aead_request_alloc(tfm, kmem.GFP_KERNEL)
    iovcrypto.aead_request_set_ad(req, AD)

    def go() -> None:
        it = lay.bvec_iter()
        iovcrypto.aead_request_set_iter(req, it, it, MIB, bytearray(iv))
        assert iovcrypto.crypto_aead_encrypt(req) == 0
    return go


def null_driver(world: object) -> str:
    """An AEAD driver whose core does nothing: its time is the walk's."""
    # The walk module itself, as the project's drivers import it (the
    # package-root names also check argument types at the boundary).
    walkmod = importlib.import_module(f"{world.__name__}.skcipher_walk")
    name = f"null-aead-{world.__name__}"

    class Null:
        alg = CryptoAlg("null-aead(bench)", name, "aead", cra_priority=1, cra_blocksize=1,
                        chunksize=16, ivsize=12, maxauthsize=16)

        def setkey(self, ctx: object, key: bytes) -> int:
            return 0

        def encrypt(self, req: object) -> int:
            walk = walkmod.SkcipherWalk()
            err = walkmod.skcipher_walk_aead_encrypt(walk, req, False)
            while walk.nbytes:
                err = walkmod.skcipher_walk_done(walk, 0)
            return err

        decrypt = encrypt

    assert world.crypto_register_aead(Null()) == 0
    return name


def main() -> None:
    args = driver_bench_args(__doc__, "no generic ccm/authenc drivers, 3 rounds")
    rounds = args.rounds
    lays = {"1x1MiB": Layout(False), "256x4KiB": Layout(True)}
    pt = os.urandom(MIB)

    print("walk overhead (null AEAD core; µs per step, slope 1 -> 258 entries):")
    for wname, world, fn in (("sg", sgl, run_sg), ("iov", iovcrypto, run_iov)):
        drv = null_driver(world)
        fns = {1: fn(drv, b"", bytes(12), lays["1x1MiB"]),
               NSEG + 2: fn(drv, b"", bytes(12), lays["256x4KiB"])}
        t = median_slope(fns, rounds) * 1e6
        print(f"  {wname:3} {t:7.2f} µs/step  (rounds spread {take_spread():.0%})")
    gk = GhashKey(os.urandom(16))
    Ghash(gk).update(pt[:4096])       # build the tables first
    t = median_time(lambda: Ghash(gk).update(pt), rounds)
    print(f"generic GHASH: {MIB / t / 1e6:.1f} MB/s  (rounds spread {take_spread():.0%})\n")

    print("throughput / the library's one-shot on the same bytes; iov/sg: time ratio")
    print(f"{'driver':52} {'layout':9} {'sg':>6} {'iov':>6} {'iov/sg':>7}  spread")
    no_ref, slow = [], []
    for impl in aead_impls():
        name, drv = impl.cra_name, impl.cra_driver_name
        if args.alg and name not in args.alg:
            continue
        if args.quick and not impl.accelerated and impl.template in ("ccm", "authenc"):
            continue
        if name not in ONESHOT:
            no_ref.append(drv)
            continue
        key, iv = make_key(name), make_iv(name, impl.ivsize)
        ad = lays["1x1MiB"].data[:AD].tobytes()
        ref = oneshot(name, key, iv, ad)
        for lname, lay in lays.items():
            sg, iov = run_sg(drv, key, iv, lay), run_iov(drv, key, iv, lay)
            if cpu(sg) > SLOW:
                slow.append(f"{drv} {lname}")
                lay.reset()
                continue
            r_sg = median_ratio(lambda ref=ref: ref(pt), sg, rounds)
            r_iov = median_ratio(lambda ref=ref: ref(pt), iov, rounds)
            r = median_ratio(sg, iov, rounds)
            lay.reset()
            print(f"{drv:52} {lname:9} {r_sg:6.3f} {r_iov:6.3f} {r:7.3f}  {take_spread():.0%}")
    for lay in lays.values():
        lay.free()
    if no_ref:
        print(f"\nno library one-shot to compare with: {', '.join(no_ref)}")
    if slow:
        print(f"one request over {SLOW} s CPU, not timed: {', '.join(slow)}")


if __name__ == "__main__":
    main()
