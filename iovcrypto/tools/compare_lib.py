"""Road (f) of ``iovcrypto compare``: the library road.

A caller that holds iov_iters walks them itself and feeds lib/crypto's
incremental AES-GCM/CCM (:mod:`iovcrypto.tools.roads.lib_aead`, the SMB
client's shape after Biggers' 2026 series).  Same key, IV, AD and
plaintext, same layouts, same counters as the request roads; the output
(text, tag, IV) must equal theirs.  Algorithms the library road does not
serve (every skcipher, rfc4106/rfc4309/rfc7539 and the authenc family) are
``n/a``: for them a caller stays on a request road.  Kernel: v7.3
(linux-next 2026-08-18); see ``roads.ROAD_KERNELS``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import kmem
from iovcrypto import ITER_DEST, ITER_SOURCE
from iovcrypto.tools.compare import PathResult, _iter_segments, _Op, _uncounted
from iovcrypto.tools.compare_layout import Layout
from iovcrypto.tools.roads.lib_aead import LIB_AEADS, lib_aead_crypt, lib_aead_setkey

PATH = "f:lib"
DESCRIPTION = "iov_iter caller: own walk + lib/crypto AES-GCM/CCM (no request)"


def run_lib_path(op: _Op, src: Layout, dst: Layout, repeat: int) -> PathResult:
    """One operation through the library road, timed ``repeat`` times."""
    res = PathResult(PATH)
    if op.type != "aead" or op.name not in LIB_AEADS:
        return res
    res.driver = f"lib/crypto aes-{LIB_AEADS[op.name]}"
    err, key = lib_aead_setkey(op.name, op.key, op.authsize)
    if err:
        res.status, res.err = "error", err
        return res
    times = []
    for k in range(repeat):
        src.write(op.plain)
        dst.write(np.zeros(dst.total, np.uint8))
        iv = bytearray(op.iv)
        with _uncounted():
            si, di = src.iter(ITER_SOURCE), dst.iter(ITER_DEST)
            segs = _iter_segments(si) + _iter_segments(di)
        with kmem.cost_counters() as c:
            t0 = time.perf_counter()
            err = lib_aead_crypt(op.name, key, bytes(iv), si, di, op.assoclen, op.n, True)
            t1 = time.perf_counter()
        times.append(t1 - t0)
        if k == 0:
            res.counters, res.segments, res.err = c.as_dict(), segs, err
            res.output = dst.read(op.assoclen, op.n + op.authsize) + bytes(iv)
        if err:
            break
    res.status = "error" if res.err else "ok"
    res.time_us = statistics.median(times) * 1e6
    return res
