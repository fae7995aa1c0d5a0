"""The ccm AEAD drivers on iov_iters (crypto/ccm.c: "ccm(aes)", "rfc4309(ccm(aes))"),
generic and accelerated.

The template's request plan is in ``ciphers.aead_algs``; the iov_iter
buffer operations are :class:`iovcrypto.aead_template.AeadTemplateDriver`'s.

The accelerated drivers first try one pass over the whole request (an
arch driver's CCM assembly interleaves the CTR and CBC-MAC passes): when
src and dst are ITER_BVEC and AD ‖ text ‖ tag lies in each one's current
bio_vec, the plan's core takes it all in one library call
(``AccelCcm.one_shot``).  Anything else, and a decryption whose tag does
not match, runs the plan over the pieces.
"""

from __future__ import annotations

from ciphers.aead_plan import AeadPlan
from iovcrypto.aead import AeadRequest
from iovcrypto.aead_template import AeadTemplateDriver, register_aead_template
from iovcrypto.iterate import bvec_head_views

__all__ = ["AeadTemplateDriver", "ArchCcmDriver", "drivers"]


class ArchCcmDriver(AeadTemplateDriver):
    """ccm-aes-openssl and its rfc4309: the one-pass fast path, then the
    template's plan."""

    def run(self, req: AeadRequest, rq: AeadPlan, decrypt: bool) -> int:
        a, t = req.assoclen, rq.tag_offset
        end = t + req.base.tfm.authsize
        dviews = bvec_head_views(req.dst, end, True)
        if dviews is not None and len(dviews) == 1:
            sviews = dviews if req.src is req.dst else bvec_head_views(req.src, end, False)
            if sviews is not None and len(sviews) == 1:
                s, d = sviews[0], dviews[0]
                if rq.core.one_shot(s[:rq.auth_len], s[a:end if decrypt else t],
                                    d[a:t if decrypt else end]):
                    return 0
        return super().run(req, rq, decrypt)


drivers = register_aead_template("ccm", accelerated=ArchCcmDriver)
