"""Test-only drivers with planted faults, registered for the duration of a
test only (never in the shipped registries).

Each is a correct cbc(aes) skcipher or gcm(aes) AEAD computed with the
reference libraries on gathered buffers, with one fault switched on:

- ``flip``: one output bit flipped at byte ``offset``;
- ``iv``: a wrong output IV;
- ``overrun``: one byte written past the end of the last dst entry;
- ``pin``: a pin on a user page taken and never released;
- ``accept``: (AEAD) a tag check that accepts everything.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator

from Crypto.Cipher import AES as PAES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import iovcrypto as iov
import kmem
import sgl
from ciphers.algapi import CryptoAlg
from iovcrypto.skcipher_walk import iter_pcopy_from
from kmem import errno as E


def _cbc(key: bytes, iv: bytes, data: bytes, enc: bool) -> bytes:
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = c.encryptor() if enc else c.decryptor()
    return ctx.update(data) + ctx.finalize()


def _leak_pin() -> None:
    mm = kmem.current_mm()
    uaddr = mm.mmap(kmem.PAGE_SIZE)
    kmem.pin_user_pages(uaddr, 1, kmem.FOLL_WRITE)


def _overrun_sg(dst: object) -> None:
    last = None
    for sg in sgl.for_each_sg(dst, sgl.sg_nents(dst)):
        last = sg
    views = kmem.page_views(sgl.sg_page(last), last.offset + last.length, 1, write=True)
    views[0][0] ^= 0x5A


class _Base:
    def __init__(self, name: str, world: str, fault: str | None, offset: int) -> None:
        self.world = world
        self.fault = fault
        self.offset = offset
        self.name = name

    def new_ctx(self) -> object:
        return types.SimpleNamespace(key=b"")

    def _gather(self, req: object, n: int) -> bytes | None:
        """The first n bytes of src; None if user memory faulted."""
        buf = bytearray(n)
        if self.world == "sg":
            sgl.memcpy_from_sglist(buf, req.src, 0, n)
        elif iter_pcopy_from(buf, req.src, 0, n) != n:
            # (positional: src may be the one ITER_DEST iterator of in place)
            return None
        return bytes(buf)

    def _scatter(self, req: object, out: bytes) -> int:
        """Write out to dst: 0, or -EFAULT if user memory faulted."""
        out = bytearray(out)
        if self.fault == "flip" and len(out) > self.offset:
            out[self.offset] ^= 0x01
        if self.world == "sg":
            sgl.memcpy_to_sglist(req.dst, 0, out, len(out))
            if self.fault == "overrun":
                _overrun_sg(req.dst)
        elif iov.copy_to_iter(out, len(out), req.dst.copy()) != len(out):
            return -E.EFAULT
        if self.fault == "pin":
            _leak_pin()
        return 0


class PlantedCbc(_Base):
    """cbc(aes) with an optional planted fault."""

    def __init__(self, name: str, world: str = "sg", fault: str | None = None,
                 offset: int = 0) -> None:
        super().__init__(name, world, fault, offset)
        self.alg = CryptoAlg("cbc(aes)", name, "skcipher", cra_priority=1, cra_blocksize=16,
                             ivsize=16, min_keysize=16, max_keysize=32)

    def setkey(self, ctx: object, key: bytes) -> int:
        if len(key) not in (16, 24, 32):
            return -E.EINVAL
        ctx.key = bytes(key)
        return 0

    def _crypt(self, req: object, enc: bool) -> int:
        n = req.cryptlen
        if n % 16:
            return -E.EINVAL
        ctx = req.base.tfm.ctx
        iv = kmem.read_virt(req.iv, 16)
        data = self._gather(req, n)
        if data is None:
            return -E.EFAULT
        out = _cbc(ctx.key, iv, data, enc) if n else b""
        err = self._scatter(req, out)
        if err:
            return err
        next_iv = (out if enc else data)[-16:] if n else iv
        if self.fault == "iv":
            next_iv = bytes([next_iv[0] ^ 0x80]) + next_iv[1:]
        kmem.write_virt(req.iv, next_iv)
        return 0

    def encrypt(self, req: object) -> int:
        return self._crypt(req, True)

    def decrypt(self, req: object) -> int:
        return self._crypt(req, False)


class PlantedGcm(_Base):
    """gcm(aes) (12-byte IV) with an optional planted fault."""

    def __init__(self, name: str, world: str = "sg", fault: str | None = None,
                 offset: int = 0) -> None:
        super().__init__(name, world, fault, offset)
        self.alg = CryptoAlg("gcm(aes)", name, "aead", cra_priority=1, ivsize=12,
                             maxauthsize=16)

    def setkey(self, ctx: object, key: bytes) -> int:
        if len(key) not in (16, 24, 32):
            return -E.EINVAL
        ctx.key = bytes(key)
        return 0

    def setauthsize(self, ctx: object, authsize: int) -> int:
        return 0 if authsize in (4, 8, 12, 13, 14, 15, 16) else -E.EINVAL

    def encrypt(self, req: object) -> int:
        tfm = req.base.tfm
        alen, n = req.assoclen, req.cryptlen
        data = self._gather(req, alen + n)
        if data is None:
            return -E.EFAULT
        c = PAES.new(tfm.ctx.key, PAES.MODE_GCM, nonce=kmem.read_virt(req.iv, 12),
                     mac_len=tfm.authsize)
        c.update(data[:alen])
        ct, tag = c.encrypt_and_digest(data[alen:])
        return self._scatter(req, data[:alen] + ct + tag)

    def decrypt(self, req: object) -> int:
        tfm = req.base.tfm
        alen, n, authsize = req.assoclen, req.cryptlen, tfm.authsize
        data = self._gather(req, alen + n)
        if data is None:
            return -E.EFAULT
        c = PAES.new(tfm.ctx.key, PAES.MODE_GCM, nonce=kmem.read_virt(req.iv, 12),
                     mac_len=authsize)
        c.update(data[:alen])
        pt = c.decrypt(data[alen:n + alen - authsize])
        if self.fault != "accept":
            try:
                c.verify(data[alen + n - authsize:alen + n])
            except ValueError:
                return -E.EBADMSG
        return self._scatter(req, data[:alen] + pt)


@contextlib.contextmanager
def planted(*drivers: _Base) -> Iterator[None]:
    """Register test drivers in their world for the block only."""
    done = []
    try:
        for d in drivers:
            mod = sgl if d.world == "sg" else iov
            reg = getattr(mod, f"crypto_register_{d.alg.type}")
            assert reg(d) == 0, d.name
            done.append((mod, d))
        yield
    finally:
        for mod, d in done:
            getattr(mod, f"crypto_unregister_{d.alg.type}")(d)
