"""The buffer operations every AEAD template driver of the iov_iter world
is made of: :class:`AeadTemplateDriver`, shared by the gcm, ccm,
chacha20poly1305 and authenc template files (the converted twin of
sgl/aead_template.py).

What a template does with a request -- which prefix is authenticated,
where the tag goes, what is copied, which checks come first -- is
layout-agnostic and lives in ``ciphers.aead_algs``; this file only moves
bytes the iov_iter way, as sgl/aead_template.py does the scatterlist way:

- the AD (and, for rfc4543 and authenc decryption, the payload) goes to
  the core in pieces with ``iter_pviews``: one view per contiguous run
  of the iterator, no gathered copy, the iterator left where it is;
- the data goes through ``skcipher_walk_aead_encrypt/decrypt`` (which
  start ``assoclen`` bytes into src and dst), whole blocks per step for
  a block cipher, the remainder handed back to ``skcipher_walk_done``;
- the tag is read with ``iter_pcopy_from`` and written with
  ``iter_pcopy_to`` at ``assoclen + text length``;
- a template that copies src -> dst (authenc's AD, rfc4543's AD ‖
  payload) does it with ``iter_pcopy`` when ``req->src != req->dst``.

The iov_iter API (iovcrypto.aead, DESIGN §7) moves the iterators only on
success and zeroes the plaintext area of dst on -EBADMSG; the driver
never moves them.  User memory that faults gives -EFAULT.
"""

from __future__ import annotations

import numpy as np

from ciphers.aead_algs import AeadDriverBase, aead_impls
from iovcrypto.aead import AeadRequest, crypto_register_aead
from iovcrypto.skcipher_walk import (
    SkcipherWalk,
    _same_bytes,
    iter_pcopy,
    iter_pcopy_from,
    iter_pcopy_to,
    iter_pviews,
    skcipher_walk_aead_decrypt,
    skcipher_walk_aead_encrypt,
    skcipher_walk_done,
)
from kmem import errno as E

__all__ = ["AeadTemplateDriver", "register_aead_template"]


def _all_or_efault(got: int, want: int) -> int:
    # The API checked the iterators' lengths: a short copy is a fault.
    return 0 if got == want else -E.EFAULT


class AeadTemplateDriver(AeadDriverBase):
    """An AEAD template driver over iov_iters (one ``AeadImpl``)."""

    def same_buffers(self, req: AeadRequest) -> bool:
        # Two iterators that describe the same memory from the same place
        # (judged from the descriptors, as the walk does) are in place too:
        # nothing to copy from src to dst.
        src, dst = req.src, req.dst
        return src is dst or (src is not None and dst is not None and _same_bytes(
            src, dst, req.assoclen + req.cryptlen))

    def copy_prefix(self, req: AeadRequest, nbytes: int) -> int:
        return _all_or_efault(iter_pcopy(req.dst, 0, req.src, 0, nbytes), nbytes)

    def auth_prefix(self, req: AeadRequest, core: object, nbytes: int, from_dst: bool) -> int:
        # authenc MACs dst's AD after copying it there; src holds the same
        # bytes and, unlike a DISCARD dst, can always be read back.
        views, got = iter_pviews(req.src, 0, nbytes)
        for view in views:
            core.update_ad(view)
        return _all_or_efault(got, nbytes)

    def read_tag(self, req: AeadRequest, offset: int, n: int) -> tuple[int, np.ndarray]:
        tag = np.empty(n, dtype=np.uint8)
        return _all_or_efault(iter_pcopy_from(tag, req.src, offset, n), n), tag

    def write_tag(self, req: AeadRequest, offset: int, tag: bytes) -> int:
        return _all_or_efault(iter_pcopy_to(req.dst, offset, tag, len(tag)), len(tag))

    def walk_data(self, req: AeadRequest, core: object, decrypt: bool, iv_out: bool) -> int:
        walk = SkcipherWalk()
        start = skcipher_walk_aead_decrypt if decrypt else skcipher_walk_aead_encrypt
        err = start(walk, req, False)
        bs = walk.blocksize
        while walk.nbytes:
            n = walk.nbytes - walk.nbytes % bs
            if n:
                core.update(walk.src_view[:n], walk.dst_view[:n])
                if iv_out:
                    self.write_iv(walk.iv, core)
            err = skcipher_walk_done(walk, walk.nbytes - n)
        return err


def register_aead_template(template: str, *, accelerated: type[AeadTemplateDriver] | None = None
                           ) -> list[AeadTemplateDriver]:
    """Register the generic and accelerated drivers of one template file
    in the iov_iter world's registry (what the module's init does);
    ``accelerated`` is the accelerated drivers' class where their arch
    glue adds to the template's loop."""
    out = []
    for impl in aead_impls(template):
        cls = accelerated if accelerated is not None and impl.accelerated else AeadTemplateDriver
        drv = cls(impl)
        err = crypto_register_aead(drv)
        if err:
            raise RuntimeError(f"registering {impl.cra_driver_name}: error {err}")
        out.append(drv)
    return out

