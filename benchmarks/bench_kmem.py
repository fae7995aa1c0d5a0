"""Throughput of copies through kmem's range-resolution helpers.

Copies 64 MiB out of simulated memory into a contiguous buffer and back,
(a) as 16384 page-sized ranges over physically scattered pages, one
page_views() call each, (b) as one vmalloc range over the same kind of
pages, and (c) as 64 one-MiB physically contiguous folios, and prints each
against a plain numpy copy of the same 64 MiB measured in the same run, plus
the per-range overhead of a 4 KiB range.

    python3 benchmarks/bench_kmem.py
"""

from __future__ import annotations

import time

import numpy as np

import kmem

SIZE = 64 << 20
NPAGES = SIZE // kmem.PAGE_SIZE


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    src = np.random.default_rng(1).integers(0, 256, SIZE, dtype=np.uint8)
    dst = np.empty(SIZE, np.uint8)
    t_numpy = best(lambda: np.copyto(dst, src))

    # Scattered pages: take pages in an order where no two are adjacent.
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(NPAGES)]
    np.random.default_rng(2).shuffle(pages)

    def to_pages() -> None:
        for i, page in enumerate(pages):
            kmem.copy_views(kmem.page_views(page, 0, 4096, write=True),
                            [src[i << 12:(i + 1) << 12]])

    def from_pages() -> None:
        for i, page in enumerate(pages):
            kmem.copy_views([dst[i << 12:(i + 1) << 12]], kmem.page_views(page, 0, 4096))

    t_to = best(to_pages)
    t_from = best(from_pages)
    assert (dst == src).all()

    vaddr = kmem.vmap(pages, NPAGES)
    t_vmap = best(lambda: kmem.copy_views([dst], kmem.virt_views(vaddr, SIZE)))
    kmem.vunmap(vaddr)

    folios = [kmem.folio_alloc(kmem.GFP_KERNEL, 8) for _ in range(SIZE >> 20)]

    def from_folios() -> None:
        for i, folio in enumerate(folios):
            kmem.copy_views([dst[i << 20:(i + 1) << 20]], kmem.page_views(folio, 0, 1 << 20))

    t_folios = best(from_folios)
    per_range = (t_from - t_numpy) / NPAGES * 1e6

    print(f"plain numpy copy of 64 MiB: {SIZE / t_numpy / 1e9:.2f} GB/s")
    print(f"{'path':48} {'ratio to numpy':>15}")
    print(f"{'4 KiB scattered ranges, buffer -> pages':48} {t_numpy / t_to:15.2f}")
    print(f"{'4 KiB scattered ranges, pages -> buffer':48} {t_numpy / t_from:15.2f}")
    print(f"{'one 64 MiB vmap range over scattered pages':48} {t_numpy / t_vmap:15.2f}")
    print(f"{'1 MiB contiguous folio ranges':48} {t_numpy / t_folios:15.2f}")
    print(f"per-range overhead, 4 KiB range: {per_range:.2f} us")
    for p in pages:
        kmem.__free_page(p)
    for f in folios:
        kmem.folio_put(f)


if __name__ == "__main__":
    main()
