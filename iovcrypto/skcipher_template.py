"""The two loops every skcipher template driver here is made of, over
iov_iters (the shape of crypto/ecb.c, cbc.c, ctr.c, chacha.c, essiv.c,
xts.c and cts.c, whose loops differ only in what this project keeps in the
implementation records of ciphers.skcipher_algs: the core, the length rule
and whether the IV is written back).

- :class:`WalkDriver` (ecb, cbc, ctr, rfc3686, chacha20, xchacha20, essiv):
  one skcipher_walk over the request; every step but the last hands whole
  strides to the core (a block straddling two entries comes gathered by the
  walk's slow path), the last step the rest; on the last step the core's
  next IV is written to ``walk.iv`` (the walk copies a bounced IV back).
- :class:`WideBlockDriver` (hctr2): the bulk is walked twice -- hashed
  from src, then stream-ciphered src → dst (the core hashes what it
  writes, so a DISCARD dst is never read back) -- around one block
  handled apart.  The block is copied out of src (iter_pcopy_from), the
  hash pass takes the bulk's contiguous runs from ``iter_pviews`` (the
  iterator not moved), the stream pass walks a sub-request over copies
  of the iterators advanced past the block (what scatterwalk_ffwd is on
  a scatterlist), and the block's result goes into dst last
  (iter_pcopy_to).  Nothing is gathered.
- :class:`StealingDriver` (xts, cts): ciphertext stealing needs the last
  full block and the partial tail together, so a sub-request over the
  leading whole blocks is walked, and the last ``final_len`` bytes are
  copied out of src into a small buffer (iter_pcopy_from, the twin of
  memcpy_from_sglist: the iterator is not moved), finished by the core's
  ``final`` and copied into dst (iter_pcopy_to); user memory that faults
  there is -EFAULT, and the API then leaves both iterators unmoved.

Length errors are found before anything is touched.  Each template file
(iovcrypto/cbc.py, …) registers its generic and accelerated drivers with
one of these loops; this file is the converted twin of
sgl/skcipher_template.py, and the diff between the two is the conversion.
"""

from __future__ import annotations

import numpy as np

from ciphers.algapi import IS_ERR
from ciphers.skcipher_algs import SkcipherDriverBase, impls
from iovcrypto.iov_iter_position import iov_iter_advance
from iovcrypto.skcipher import (
    SYNC_SKCIPHER_REQUEST_ON_STACK,
    SkcipherRequest,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
    skcipher_request_set_callback,
    skcipher_request_set_iter,
)
from iovcrypto.skcipher_walk import (
    SkcipherWalk,
    iter_pcopy_from,
    iter_pcopy_to,
    iter_pviews,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from iovcrypto.uio import iov_iter
from kmem import errno as E


class WalkDriver(SkcipherDriverBase):
    """A template driver that walks the whole request in one pass."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        ctx = crypto_skcipher_ctx(crypto_skcipher_reqtfm(req))
        err = self.impl.check_len(req.cryptlen)
        if err:
            return err
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, req, False)
        core = None
        while walk.nbytes:
            if core is None:
                core = self.new_core(ctx, walk.iv, encrypt)
            n = walk.nbytes
            if n < walk.total:
                n -= n % walk.stride
            core.update(walk.src_view[:n], walk.dst_view[:n])
            if n == walk.total:  # the last step: the core's state is the IV output
                self.write_iv(walk.iv, core)
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


class StealingDriver(SkcipherDriverBase):
    """A template driver that walks the whole blocks and steals the tail."""

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        tfm = crypto_skcipher_reqtfm(req)
        ctx = crypto_skcipher_ctx(tfm)
        err = self.impl.check_len(req.cryptlen)
        if err:
            return err
        core = self.new_core(ctx, self.read_iv(req.iv), encrypt)
        tail = self.impl.final_len(req.cryptlen)
        head = req.cryptlen - tail
        subreq = SYNC_SKCIPHER_REQUEST_ON_STACK(tfm)
        skcipher_request_set_callback(subreq, req.base.flags, None, None)
        skcipher_request_set_iter(subreq, req.src, req.dst, head, None)
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, subreq, False)
        while walk.nbytes:
            n = walk.nbytes - walk.nbytes % walk.blocksize
            core.update(walk.src_view[:n], walk.dst_view[:n])
            err = skcipher_walk_done(walk, walk.nbytes - n)
        if err:
            return err
        buf = np.empty(tail, dtype=np.uint8)
        if tail and iter_pcopy_from(buf, req.src, head, tail) != tail:
            return -E.EFAULT
        core.final(buf, buf)
        if tail and iter_pcopy_to(req.dst, head, buf, tail) != tail:
            return -E.EFAULT
        self.write_iv(req.iv, core)
        return 0

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


class WideBlockDriver(SkcipherDriverBase):
    """A template driver for a two-pass wide-block mode (hctr2).  Like the
    kernel's template it spawns its stream cipher (``stream_driver``) as a
    child tfm, whose sub-request the stream pass walks: the child's
    blocksize (1), not the template's (16), sets the walk's steps."""

    stream_driver = ""

    def init(self, tfm: object) -> int:
        err = super().init(tfm)
        if err:
            return err
        child = crypto_alloc_skcipher(self.stream_driver)
        if IS_ERR(child):
            return child
        tfm.ctx.child = child
        return 0

    def exit(self, tfm: object) -> None:
        crypto_free_skcipher(getattr(tfm.ctx, "child", None))
        tfm.ctx.child = None

    @staticmethod
    def _hash(it: iov_iter, pos: int, nbytes: int, update: object) -> int:
        views, got = iter_pviews(it, pos, nbytes)
        for view in views:
            update(view)
        return 0 if got == nbytes else -E.EFAULT

    def _crypt(self, req: SkcipherRequest, encrypt: bool) -> int:
        tfm = crypto_skcipher_reqtfm(req)
        err = self.impl.check_len(req.cryptlen)
        if err:
            return err
        core = self.new_core(crypto_skcipher_ctx(tfm), self.read_iv(req.iv), encrypt)
        n = req.cryptlen
        boff, doff = core.block_offset(n), core.bulk_offset(n)
        bulk = n - 16
        block = np.empty(16, dtype=np.uint8)
        if iter_pcopy_from(block, req.src, boff, 16) != 16:
            return -E.EFAULT
        core.begin(n, block)
        err = self._hash(req.src, doff, bulk, core.hash_in)
        if err:
            return err
        src, dst = req.src, req.dst
        if doff:
            src = req.src.copy()
            iov_iter_advance(src, doff)
            if req.dst is req.src:
                dst = src
            else:
                dst = req.dst.copy()
                iov_iter_advance(dst, doff)
        subreq = SYNC_SKCIPHER_REQUEST_ON_STACK(tfm.ctx.child)
        skcipher_request_set_callback(subreq, req.base.flags, None, None)
        skcipher_request_set_iter(subreq, src, dst, bulk, None)
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, subreq, False)
        while walk.nbytes:
            step = walk.nbytes
            if step < walk.total:
                step -= step % walk.stride
            core.stream(walk.src_view[:step], walk.dst_view[:step])
            err = skcipher_walk_done(walk, walk.nbytes - step)
        if err:
            return err
        if iter_pcopy_to(req.dst, boff, core.finish(), 16) != 16:
            return -E.EFAULT
        return 0

    def encrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: SkcipherRequest) -> int:
        return self._crypt(req, False)


def register_template(template: str, loop: type[SkcipherDriverBase]) -> list:
    """Make and register one ``loop`` driver per implementation of
    ``template`` (its generic and accelerated drivers); returns them."""
    drivers = [loop(impl) for impl in impls(template)]
    for drv in drivers:
        crypto_register_skcipher(drv)
    return drivers
