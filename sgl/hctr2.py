"""hctr2(aes) over scatterlists (crypto/hctr2.c): the generic
"hctr2_base(xctr(aes-generic),polyval-generic)", a wide-block mode for
fscrypt filenames.  The mathematics is in ciphers.hctr2; the two walks
over the bulk (hash src, then XCTR src → dst) around the first block are
:class:`sgl.skcipher_template.WideBlockDriver`'s.  cryptlen < 16 is
-EINVAL; the 32-byte tweak in ``req->iv`` is read, never written.
"""

from sgl.skcipher_template import WideBlockDriver, register_template


class Hctr2Driver(WideBlockDriver):
    """hctr2_create(): the stream cipher is xctr over the same block cipher."""

    stream_driver = "xctr(aes-generic)"


DRIVERS = register_template("hctr2", Hctr2Driver)
