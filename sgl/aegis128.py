"""The AEGIS-128 AEAD driver on scatterlists (crypto/aegis128-core.c:
"aegis128", driver "aegis128-generic", priority 100).  AEGIS is not a
template but walks its buffers as one: the AD through a scatter walk in
pieces (the core keeps the unfinished 16-byte block), the text through the
AEAD skcipher walk, the tag after the text.  On a failed tag check the
kernel walks dst a second time to wipe the plaintext it wrote.

The request plan is in ``ciphers.aead_algs``; the scatterlist
buffer operations are :class:`sgl.aead_template.AeadTemplateDriver`'s.
"""

from __future__ import annotations

from sgl.aead_template import AeadTemplateDriver, register_aead_template

__all__ = ["AeadTemplateDriver", "drivers"]

drivers = register_aead_template("aegis128")
