"""adiantum(xchacha12,aes) and adiantum(xchacha20,aes) over iov_iters
(crypto/adiantum.c): the generic
"adiantum(xchacha{12,20}-generic,aes-generic,nhpoly1305-generic)".  The
mathematics is in ciphers.adiantum; the two walks over the bulk (hash
src, then XChaCha src → dst) around the *last* block are
:class:`iovcrypto.skcipher_template.WideBlockDriver`'s, the same loop as
hctr2's with the block handled apart at the other end.  cryptlen < 16 is
-EINVAL; the 32-byte tweak in ``req->iv`` is read, never written.
"""

from iovcrypto.skcipher_template import WideBlockDriver, register_template


class AdiantumDriver(WideBlockDriver):
    """adiantum_create(): the stream cipher named in the template."""

    @property
    def stream_driver(self) -> str:
        return self.alg.cra_name.split("(")[1].split(",")[0] + "-generic"


DRIVERS = register_template("adiantum", AdiantumDriver)
