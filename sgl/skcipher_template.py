"""The two loops every skcipher template driver here is made of, over
scatterlists (the shape of crypto/ecb.c, cbc.c, ctr.c, chacha.c, essiv.c,
xts.c and cts.c, whose loops differ only in what this project keeps in the
implementation records of ciphers.skcipher_algs: the core, the length rule
and whether the IV is written back).

- :class:`WalkDriver` (ecb, cbc, ctr, rfc3686, chacha20, xchacha20, essiv):
  one skcipher_walk over the request; every step but the last hands whole
  strides to the core (a block straddling two entries comes gathered by the
  walk's slow path), the last step the rest; on the last step the core's
  next IV is written to ``walk.iv`` (the walk copies a bounced IV back).
- :class:`WideBlockDriver` (hctr2): a wide-block mode walks its bulk
  twice -- hashed from src, then stream-ciphered src → dst (the core
  hashes what it writes) -- around one block handled apart.  That block
  is copied out of src (memcpy_from_sglist), the hash pass is a
  scatter_walk over the bulk handing every entry's span to the core, the
  stream pass a skcipher_walk of a sub-request on the bulk
  (scatterwalk_ffwd past the first block, as crypto/hctr2.c does), and
  the block's result is copied into dst last (memcpy_to_sglist).
  Nothing is gathered.
- :class:`StealingDriver` (xts, cts): ciphertext stealing needs the last
  full block and the partial tail together, so a sub-request over the
  leading whole blocks is walked, and the last ``final_len`` bytes are
  copied out of src into a small buffer (memcpy_from_sglist, as the
  kernel's cts template reaches them with scatterwalk_ffwd), finished by
  the core's ``final`` and copied into dst (memcpy_to_sglist).

Length errors are found before anything is touched.  Each template file
(sgl/cbc.py, …) registers its generic and accelerated drivers with one of
these loops; iovcrypto/skcipher_template.py is this file's converted twin.
"""

from __future__ import annotations

import numpy as np

from ciphers.algapi import IS_ERR
from ciphers.skcipher_algs import SkcipherDriverBase, impls
from sgl.scatterlist import Scatterlist
from sgl.scatterwalk import (
    ScatterWalk,
    memcpy_from_sglist,
    memcpy_to_sglist,
    scatterwalk_clamp,
    scatterwalk_done_src,
    scatterwalk_ffwd,
    scatterwalk_start_at_pos,
    scatterwalk_views,
)
from sgl.skcipher import (
    SYNC_SKCIPHER_REQUEST_ON_STACK,
    SkcipherRequest,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_ctx,
    crypto_skcipher_reqtfm,
    skcipher_request_set_callback,
    skcipher_request_set_crypt,
)
from sgl.skcipher_walk import SkcipherWalk, skcipher_walk_done, skcipher_walk_virt


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
        skcipher_request_set_crypt(subreq, req.src, req.dst, head, None)
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, subreq, False)
        while walk.nbytes:
            n = walk.nbytes - walk.nbytes % walk.blocksize
            core.update(walk.src_view[:n], walk.dst_view[:n])
            err = skcipher_walk_done(walk, walk.nbytes - n)
        if err:
            return err
        buf = np.empty(tail, dtype=np.uint8)
        if tail:
            memcpy_from_sglist(buf, req.src, head, tail)
        core.final(buf, buf)
        if tail:
            memcpy_to_sglist(req.dst, head, buf, tail)
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
    def _hash(sg: object, pos: int, nbytes: int, update: object) -> None:
        walk = ScatterWalk()
        scatterwalk_start_at_pos(walk, sg, pos)
        while nbytes:
            n = scatterwalk_clamp(walk, nbytes, nbytes)
            for view in scatterwalk_views(walk, n):
                update(view)
            scatterwalk_done_src(walk, n)
            nbytes -= n

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
        memcpy_from_sglist(block, req.src, boff, 16)
        core.begin(n, block)
        self._hash(req.src, doff, bulk, core.hash_in)
        src, dst = req.src, req.dst
        if doff:
            src = scatterwalk_ffwd([Scatterlist() for _ in range(2)], req.src, doff)
            dst = src if req.dst is req.src else \
                scatterwalk_ffwd([Scatterlist() for _ in range(2)], req.dst, doff)
        subreq = SYNC_SKCIPHER_REQUEST_ON_STACK(tfm.ctx.child)
        skcipher_request_set_callback(subreq, req.base.flags, None, None)
        skcipher_request_set_crypt(subreq, src, dst, bulk, None)
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
        memcpy_to_sglist(req.dst, boff, core.finish(), 16)
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
