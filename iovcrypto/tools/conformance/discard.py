"""ITER_DISCARD as dst: a sink (``iov_iter_discard()``, always ITER_DEST)
that takes every byte written to it and keeps none.

What the iov_iter crypto API does with it (and what this realisation
checks): the driver computes as usual and the output is dropped; on
success dst's count drops by what was produced (a sink keeps no offset),
src advances as always; an AEAD decryption still verifies the tag (an
inauthentic vector still gives -EBADMSG); a skcipher's output IV is still
the chained one.  The iov→sg bridge gives the legacy driver scratch pages
for it (``extract_iter_to_sg()`` refuses a DISCARD iterator with a WARN
and -EIO, as lib/scatterlist.c does).

The library road (libroad.py) is a caller, not an API: its walk is over
dst (``iterate_and_advance2()``), which steps nothing on a sink, so it
takes no DISCARD dst and the harness realises none there.

Where the API does not accept it: a DISCARD src (it is ITER_DEST, so the
direction rule refuses it: WARN, -EINVAL) and one DISCARD iterator as both
src and dst in place (nothing to read: WARN, -EINVAL), both before
anything is touched (passes.run_discard_refused checks both).
"""

from __future__ import annotations

import iovcrypto as iov
from iovcrypto.tools.conformance import buffers as B
from iovcrypto.tools.conformance.configs import TestvecConfig

DST = "DISCARD"


def discard_iter(count: int) -> B.TestIter:
    """A TestIter over no memory: an ITER_DISCARD of ``count`` bytes."""
    t = B.TestIter(DST, "none")
    iov.iov_iter_discard(t.it, iov.ITER_DEST, count)
    t.save()
    return t


def build_discard_iters(cfg: TestvecConfig, alignmask: int, src_total: int, dst_total: int,
                        data: bytes, itype: str, kind: str,
                        zeros: bool = True) -> B.CipherTestIters:
    """src realised as ``itype`` over ``kind`` as usual, dst a sink
    (out of place only: in place there is no memory to share)."""
    if cfg.inplace:
        raise ValueError(f"cfg: {cfg.name!r} is in place; a DISCARD dst needs out of place")
    src = B.build_test_iter(itype, kind, cfg.src_divs, alignmask, src_total, src_total, data,
                            iov.ITER_SOURCE, zeros)
    return B.CipherTestIters(src, discard_iter(dst_total))

