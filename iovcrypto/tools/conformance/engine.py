"""Conformance for the DMA engine drivers (sgl/engine_aes.py and
iovcrypto/engine_aes.py): what the generic harness needs to know about
asynchronous, DMA-mapping drivers.

- Memory: a driver that hands buffers to a device may not be given stack
  memory (dma-debug reports a mapping of a vmapped stack; the kernel's
  rule for every asynchronous request), so the realisations of an async
  target leave stack memory out (:func:`dma_safe_realisations`).
"""

from __future__ import annotations

from ciphers.algapi import CRYPTO_ALG_ASYNC


def is_async(alg: object) -> bool:
    return bool(getattr(alg, "cra_flags", 0) & CRYPTO_ALG_ASYNC)


def dma_safe_realisations(alg: object, reals: list) -> list:
    """``reals`` without stack memory when ``alg`` is asynchronous."""
    if not is_async(alg):
        return reals
    return [r for r in reals if r is None or r[1] != "stack"]
