"""Walking cost of the scatterlist world.

Builds chained scatterlists of N page-sized (4 KiB) entries over scattered
pages (arrays of SG_MAX_SINGLE_ALLOC slots, chained, as sg_alloc_table
makes them) and measures, in one run:

- ``sg_copy_to_buffer`` (sg_mapping_iter, one kmap_local per page);
- a full ``skcipher_walk`` (skcipher_walk_virt/done, in place, the driver
  doing one numpy XOR per step, so the walk's bytes are really touched);
- a plain numpy copy of the same bytes between two contiguous buffers;

and prints the per-entry cost of each and its ratio against the contiguous
copy.  Several N are measured so that the per-entry cost shows the walk is
O(N) (no re-walk from the head of a chained list).

    python3 benchmarks/bench_sgl.py
"""

from __future__ import annotations

import time

import numpy as np

import kmem
import sgl
from ciphers.algapi import CryptoAlg

SIZES = (128, 512, 2048)


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


class NullXor:
    """A driver whose "cipher" is one numpy XOR per walk step."""

    alg = CryptoAlg("xor(bench)", "xor-bench", "skcipher", cra_priority=1, cra_blocksize=16,
                    ivsize=16, min_keysize=1, max_keysize=16)

    def setkey(self, ctx, key: bytes) -> int:
        return 0

    def encrypt(self, req) -> int:
        walk = sgl.SkcipherWalk()
        err = sgl.skcipher_walk_virt(walk, req, False)
        while walk.nbytes:
            n = walk.nbytes - walk.nbytes % 16
            np.bitwise_xor(walk.src_view[:n], 0x5A, out=walk.dst_view[:n])
            err = sgl.skcipher_walk_done(walk, walk.nbytes - n)
        return err

    decrypt = encrypt


def measure(n: int, tfm: sgl.CryptoSkcipher) -> None:
    """One row: N page-sized entries over shuffled pages."""
    size = n * kmem.PAGE_SIZE
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(n)]
    np.random.default_rng(n).shuffle(pages)
    table = sgl.SgTable()
    assert sgl.sg_alloc_table(table, n, kmem.GFP_KERNEL) == 0
    for sg, page in zip(sgl.for_each_sgtable_sg(table), pages):
        sgl.sg_set_page(sg, page, kmem.PAGE_SIZE, 0)
    src = np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8)
    buf = np.empty(size, np.uint8)
    assert sgl.sg_copy_from_buffer(table.sgl, n, src, size) == size

    t_numpy = best(lambda: np.copyto(buf, src))
    t_copy = best(lambda: sgl.sg_copy_to_buffer(table.sgl, n, buf, size))
    assert np.array_equal(buf, src)

    req = sgl.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    sgl.skcipher_request_set_crypt(req, table.sgl, table.sgl, size, bytearray(16))
    t_walk = best(lambda: sgl.crypto_skcipher_encrypt(req))
    sgl.skcipher_request_free(req)

    us = 1e6 / n
    print(f"{n:>8} {size:>10} {t_copy * us:>10.2f}us {t_copy / t_numpy:>7.1f} "
          f"{t_walk * us:>10.2f}us {t_walk / t_numpy:>7.1f} {t_numpy * us:>10.3f}us")
    sgl.sg_free_table(table)
    for p in pages:
        kmem.__free_page(p)


def main() -> None:
    drv = NullXor()
    assert sgl.crypto_register_skcipher(drv) == 0
    tfm = sgl.crypto_alloc_skcipher("xor(bench)")
    sgl.crypto_skcipher_setkey(tfm, b"k", 1)
    print(f"{'entries':>8} {'bytes':>10} {'copy/entry':>12} {'ratio':>7} "
          f"{'walk/entry':>12} {'ratio':>7} {'numpy/entry':>12}")
    for n in SIZES:
        measure(n, tfm)
    sgl.crypto_free_skcipher(tfm)
    sgl.crypto_unregister_skcipher(drv)
    print("ratio = time / (numpy copy of the same bytes between contiguous buffers); "
          "a flat per-entry cost across sizes means walking is O(N).")


if __name__ == "__main__":
    main()
