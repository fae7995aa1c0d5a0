"""The ccm AEAD drivers on scatterlists (crypto/ccm.c: "ccm(aes)", "rfc4309(ccm(aes))"),
generic and accelerated.

The template's request plan is in ``ciphers.aead_algs``; the scatterlist
buffer operations are :class:`sgl.aead_template.AeadTemplateDriver`'s.

The accelerated drivers first try one pass over the whole request (an
arch driver's CCM assembly interleaves the CTR and CBC-MAC passes): when
the first entry of src and of dst each hold AD ‖ text ‖ tag in one run,
the plan's core takes it all in one library call (``AccelCcm.one_shot``).
Anything else, and a decryption whose tag does not match, runs the plan
over the pieces.
"""

from __future__ import annotations

from ciphers.aead_plan import AeadPlan
from sgl.aead import AeadRequest
from sgl.aead_template import AeadTemplateDriver, register_aead_template
from sgl.scatterwalk import sg_virt_view

__all__ = ["AeadTemplateDriver", "ArchCcmDriver", "drivers"]


class ArchCcmDriver(AeadTemplateDriver):
    """ccm-aes-openssl and its rfc4309: the one-pass fast path, then the
    template's plan."""

    def run(self, req: AeadRequest, rq: AeadPlan, decrypt: bool) -> int:
        a, t = req.assoclen, rq.tag_offset
        end = t + req.base.tfm.authsize
        d = sg_virt_view(req.dst, end, write=True)
        if d is not None:
            s = d if req.src is req.dst else sg_virt_view(req.src, end)
            if s is not None and rq.core.one_shot(s[:rq.auth_len], s[a:end if decrypt else t],
                                                  d[a:t if decrypt else end]):
                return 0
        return super().run(req, rq, decrypt)


drivers = register_aead_template("ccm", accelerated=ArchCcmDriver)
