"""The buffer operations every AEAD template driver of the scatterlist
world is made of: :class:`AeadTemplateDriver`, shared by the gcm, ccm,
chacha20poly1305 and authenc template files (a kernel template open-codes
the same few calls; iovcrypto/aead_template.py is this file's converted
twin, as skcipher_template.py is for the skcipher templates).

What a template does with a request -- which prefix is authenticated,
where the tag goes, what is copied, which checks come first -- is
layout-agnostic and lives in ``ciphers.aead_algs``; this file only moves
bytes the scatterlist way, as the kernel's templates do:

- the AD (and, for rfc4543 and authenc decryption, the payload) goes to
  the core in pieces with a scatter_walk: ``scatterwalk_clamp`` /
  ``scatterwalk_done_src``, one piece per entry, no gathered copy;
- the data goes through ``skcipher_walk_aead_encrypt/decrypt`` (which
  start ``assoclen`` bytes into src and dst), whole blocks per step for
  a block cipher, the remainder handed back to ``skcipher_walk_done``;
- the tag is read with ``memcpy_from_sglist`` and written with
  ``memcpy_to_sglist`` at ``assoclen + text length``;
- a template that copies src -> dst (authenc's AD, rfc4543's AD ‖
  payload) does it with ``memcpy_sglist`` when ``req->src != req->dst``.

Kernel behaviour kept on purpose: on -EBADMSG the plaintext gcm, ccm and
chachapoly decrypted before comparing tags stays in dst.
"""

from __future__ import annotations

import numpy as np

from ciphers.aead_algs import AeadDriverBase, aead_impls
from sgl.aead import AeadRequest, crypto_register_aead
from sgl.scatterwalk import (
    ScatterWalk,
    memcpy_from_sglist,
    memcpy_sglist,
    memcpy_to_sglist,
    scatterwalk_clamp,
    scatterwalk_done_src,
    scatterwalk_start,
    scatterwalk_views,
)
from sgl.skcipher_walk import (
    SkcipherWalk,
    skcipher_walk_aead_decrypt,
    skcipher_walk_aead_encrypt,
    skcipher_walk_done,
)

__all__ = ["AeadTemplateDriver", "register_aead_template"]


class AeadTemplateDriver(AeadDriverBase):
    """An AEAD template driver over scatterlists (one ``AeadImpl``)."""

    def same_buffers(self, req: AeadRequest) -> bool:
        return req.src is req.dst

    def copy_prefix(self, req: AeadRequest, nbytes: int) -> int:
        memcpy_sglist(req.dst, req.src, nbytes)
        return 0

    def auth_prefix(self, req: AeadRequest, core: object, nbytes: int, from_dst: bool) -> int:
        walk = ScatterWalk()
        scatterwalk_start(walk, req.dst if from_dst else req.src)
        while nbytes:
            # scatterwalk_next() without its PAGE_SIZE cap, as the model's
            # skcipher_walk: one step per entry, whole spans to the core.
            n = scatterwalk_clamp(walk, nbytes, nbytes)
            for view in scatterwalk_views(walk, n):
                core.update_ad(view)
            scatterwalk_done_src(walk, n)
            nbytes -= n
        return 0

    def read_tag(self, req: AeadRequest, offset: int, n: int) -> tuple[int, np.ndarray]:
        tag = np.empty(n, dtype=np.uint8)
        memcpy_from_sglist(tag, req.src, offset, n)
        return 0, tag

    def write_tag(self, req: AeadRequest, offset: int, tag: bytes) -> int:
        memcpy_to_sglist(req.dst, offset, tag, len(tag))
        return 0

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
    in the scatterlist world's registry (what the module's init does);
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

