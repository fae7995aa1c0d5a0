"""iovcrypto: the iov_iter world and the crypto API duplicated on it.

This package root exports the iov_iter model and its crypto API by kernel
name.  It must not import :mod:`iovcrypto.tools` (which knows the
scatterlist world too).
"""

from iovcrypto.__about__ import __version__

__all__ = ["__version__"]
