"""The tools: the ``iovcrypto`` command and what it runs.

Unlike the rest of :mod:`iovcrypto`, the tools know both worlds (they import
:mod:`sgl` and :mod:`shims`), so nothing in the iov_iter world may import
them, and ``iovcrypto/__init__.py`` does not.
"""
