"""The frame every AEAD driver of both worlds is built on: what one
request does (:class:`AeadPlan`), one implementation's description and
layout-agnostic parts (:class:`AeadImpl`), and the driver half that runs a
plan over a world's buffer operations (:class:`AeadDriverBase`).  The
algorithms themselves (the kernel's template files) build their plans in
ciphers.aead_algs, ciphers.authenc and ciphers.essiv; a world's driver
file (``sgl/aead_template.py``, ``iovcrypto/aead_template.py``) supplies
the buffer operations.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ciphers.algapi import CryptoAlg
from kmem import errno as E
from kmem.access import buffer_views, copy_views, gather
from kmem.errno import KernelBug

__all__ = [
    "ACCEL_PRIORITY",
    "GENERIC_PRIORITY",
    "AeadDriverBase",
    "AeadImpl",
    "AeadPlan",
    "Core",
    "KeySched",
    "StartFn",
    "ptlen",
]

GENERIC_PRIORITY = 100
ACCEL_PRIORITY = 300

Core = Any
KeySched = Any


@dataclass(frozen=True)
class AeadPlan:
    """What a driver does for one request, in this order:

    0. ``ad_iv`` (essiv's encrypted IV), if any, replaces ``req->iv`` and
       the AD's last ``len(ad_iv)`` bytes: in dst when in place or
       decrypting; when encrypting out of place, src's AD before it is
       copied to dst and ``ad_iv`` written after it (the inner request's
       AD copy is then done);
    1. ``copy_len`` bytes src -> dst, only when src and dst differ
       (compared as the kernel does, ``req->src != req->dst``);
    2. ``auth_len`` bytes from the start of src (of dst when
       ``auth_from_dst``) into ``core.update_ad`` -- read in pieces;
    3. decryption: read the tag at ``tag_offset`` of src; with
       ``verify_first`` compare it now (-EBADMSG, nothing written);
    4. ``data_len`` bytes from ``assoclen`` walked through
       ``core.update(src, dst)`` (whole blocks when blocksize > 1); with
       ``iv_out`` the walk's IV follows ``core.next_iv()``;
    5. ``late_err``, if set, is returned now (no tag);
    6. encryption: write ``core.finalize()[:authsize]`` at ``tag_offset``
       of dst; decryption: compare (constant time) -> -EBADMSG, after
       walking dst's text again to zero it with ``wipe_on_badmsg``
       (aegis128 does; gcm, ccm and chachapoly leave the plaintext).
    """

    core: Core
    auth_len: int
    data_len: int
    tag_offset: int
    copy_len: int = 0
    auth_from_dst: bool = False
    verify_first: bool = False
    iv_out: bool = False
    late_err: int = 0
    wipe_on_badmsg: bool = False
    ad_iv: bytes = b""


StartFn = Callable[[KeySched, bytes, int, int, int, bool], tuple[int, AeadPlan | None]]


@dataclass(frozen=True)
class AeadImpl:
    """One AEAD implementation: its description (a fresh
    :class:`CryptoAlg` per world from :meth:`make_alg`) and its
    layout-agnostic parts.

    - ``setkey(key)`` -> ``(0, key schedule)`` or ``(-EINVAL, None)``;
    - ``setauthsize(authsize)`` -> 0 or -EINVAL (the template's hook, after
      the API's 1..maxauthsize check);
    - with ``key_flags``, ``setkey(key, flags)`` also gets the tfm's request
      flags (authenc passes them to its child skcipher: weak-key rules);
    - ``start(sched, iv, authsize, assoclen, cryptlen, decrypt)`` ->
      ``(0, AeadPlan)`` or ``(-errno, None)`` for a request the template
      rejects before touching any byte.
    """

    cra_name: str
    cra_driver_name: str
    template: str
    cra_priority: int
    cra_blocksize: int
    ivsize: int
    chunksize: int
    maxauthsize: int
    setkey: Callable[[bytes], tuple[int, KeySched]]
    setauthsize: Callable[[int], int] | None
    start: StartFn
    accelerated: bool = False
    key_flags: bool = False

    def make_alg(self) -> CryptoAlg:
        """A fresh ``struct aead_alg`` description for one registry."""
        return CryptoAlg(self.cra_name, self.cra_driver_name, "aead",
                         cra_priority=self.cra_priority, cra_blocksize=self.cra_blocksize,
                         ivsize=self.ivsize, chunksize=self.chunksize,
                         maxauthsize=self.maxauthsize, cra_module=self.template)


class AeadDriverBase(abc.ABC):
    """The layout-agnostic half of an AEAD driver object as the worlds'
    AEAD APIs expect it (``alg``, ``init``, ``setkey``, ``setauthsize``,
    ``encrypt``, ``decrypt``).  A world's driver file subclasses it and
    implements the buffer operations:

    - ``same_buffers(req) -> bool``: src and dst are the same object;
    - ``copy_prefix(req, nbytes) -> int``: src[0:nbytes] -> dst[0:nbytes];
    - ``auth_prefix(req, core, nbytes, from_dst) -> int``: the first
      nbytes of src (dst) into ``core.update_ad``, in pieces;
    - ``read_tag(req, offset, n) -> (int, np.ndarray)`` (from src);
    - ``write_tag(req, offset, tag) -> int`` (into dst);
    - ``walk_data(req, core, decrypt, iv_out) -> int``: the data through
      ``core.update`` with the world's skcipher walk.

    Each returns 0 or -errno (a scatterlist never fails; user memory
    behind an iov_iter may fault: -EFAULT).

    The tfm context holds ``key`` (the key schedule, None until a setkey
    succeeds)."""

    def __init__(self, impl: AeadImpl) -> None:
        if not isinstance(impl, AeadImpl):
            raise TypeError(f"impl must be an AeadImpl, got {type(impl).__name__}")
        self.impl = impl
        self.alg = impl.make_alg()

    def init(self, tfm: Any) -> int:
        """``init_tfm``: no key yet; remember the tfm for its flags."""
        tfm.ctx.tfm = tfm
        tfm.ctx.key = None
        return 0

    def setkey(self, ctx: Any, key: bytes) -> int:
        """The template's setkey: 0 or -EINVAL (the old schedule is
        dropped on error; the API sets NEED_KEY anyway)."""
        if self.impl.key_flags:
            flags = getattr(getattr(ctx, "tfm", None), "crt_flags", 0)
            err, sched = self.impl.setkey(bytes(key), flags)
        else:
            err, sched = self.impl.setkey(bytes(key))
        ctx.key = None if err else sched
        return err

    def setauthsize(self, ctx: Any, authsize: int) -> int:
        """The template's setauthsize hook (0 when it has none)."""
        fn = self.impl.setauthsize
        return fn(authsize) if fn is not None else 0

    def read_iv(self, iv: object) -> bytes:
        """The ``ivsize`` bytes at ``req->iv`` (a bytearray, numpy array or
        kernel address).  A NULL IV is the kernel's NULL dereference."""
        if iv is None:
            raise KernelBug(f"{self.alg.cra_driver_name}: NULL req->iv")
        return gather(buffer_views(iv, self.impl.ivsize)).tobytes()

    @staticmethod
    def write_iv(view: np.ndarray | None, core: Core) -> None:
        """Store the core's next IV in the walk's IV view (authenc's CBC)."""
        if view is not None:
            out = np.frombuffer(core.next_iv(), dtype=np.uint8)
            view[:out.size] = out

    # The world's buffer operations (see the class docstring).

    @abc.abstractmethod
    def same_buffers(self, req: Any) -> bool:
        """Do src and dst describe the same memory (in place)?"""

    @abc.abstractmethod
    def copy_prefix(self, req: Any, nbytes: int) -> int:
        """Copy the first ``nbytes`` of src to dst; 0 or -errno."""

    @abc.abstractmethod
    def auth_prefix(self, req: Any, core: Core, nbytes: int, from_dst: bool) -> int:
        """Feed the first ``nbytes`` of src (or dst) to the core as AD."""

    @abc.abstractmethod
    def read_tag(self, req: Any, offset: int, n: int) -> tuple[int, np.ndarray]:
        """``(0 or -errno, the n tag bytes at offset in src)``."""

    @abc.abstractmethod
    def write_tag(self, req: Any, offset: int, tag: bytes) -> int:
        """Store ``tag`` at ``offset`` in dst; 0 or -errno."""

    @abc.abstractmethod
    def walk_data(self, req: Any, core: Core, decrypt: bool, iv_out: bool) -> int:
        """Walk the text through the core; 0 or -errno."""

    # The template's request, once for both worlds.

    def plan(self, req: Any, decrypt: bool) -> tuple[int, AeadPlan | None]:
        """Build the request's plan from the tfm's key and authsize."""
        tfm = req.base.tfm
        return self.impl.start(tfm.ctx.key, self.read_iv(req.iv), tfm.authsize,
                               req.assoclen, req.cryptlen, decrypt)

    def run(self, req: Any, rq: AeadPlan, decrypt: bool) -> int:
        """Execute a plan (see :class:`AeadPlan` for the steps)."""
        authsize = req.base.tfm.authsize
        err, copy_len = 0, rq.copy_len
        if rq.ad_iv:
            err = self.place_ad_iv(req, rq.ad_iv, decrypt)
            copy_len = 0
        if not err and copy_len and not self.same_buffers(req):
            err = self.copy_prefix(req, copy_len)
        if not err and rq.auth_len:
            if rq.ad_iv and rq.auth_from_dst:
                # The AD the inner request MACs ends with ad_iv, which step 0
                # put in dst; feed it from here, as a world that reads the AD
                # back from src (a DISCARD dst cannot be read) would miss it.
                head = rq.auth_len - len(rq.ad_iv)
                err = self.auth_prefix(req, rq.core, head, True) if head else 0
                rq.core.update_ad(np.frombuffer(rq.ad_iv, np.uint8))
            else:
                err = self.auth_prefix(req, rq.core, rq.auth_len, rq.auth_from_dst)
        tag = None
        if not err and decrypt:
            err, tag = self.read_tag(req, rq.tag_offset, authsize)
            if not err and rq.verify_first and not rq.core.verify(tag):
                return -E.EBADMSG
        if not err and rq.data_len:
            err = self.walk_data(req, rq.core, decrypt, rq.iv_out)
        if err or rq.late_err:
            return err or rq.late_err
        if not decrypt:
            return self.write_tag(req, rq.tag_offset, rq.core.finalize()[:authsize])
        if not rq.verify_first and not rq.core.verify(tag):
            if rq.wipe_on_badmsg and rq.data_len:
                self.walk_data(req, _Wipe(), True, False)
            return -E.EBADMSG
        return 0

    def place_ad_iv(self, req: Any, ad_iv: bytes, decrypt: bool) -> int:
        """essiv_aead_crypt(): ``req->iv`` becomes ``ad_iv``, which the
        inner request then finds at the end of its AD (step 0 of
        :class:`AeadPlan`)."""
        n = len(ad_iv)
        copy_views(buffer_views(req.iv, n, write=True), [np.frombuffer(ad_iv, np.uint8)])
        off = req.assoclen - n
        inplace = self.same_buffers(req)
        if off < 0:
            if decrypt or inplace:
                raise KernelBug(f"{self.alg.cra_driver_name}: assoclen {req.assoclen} < ivsize "
                                f"{n}: the IV is stored before the start of dst")
            return -E.EINVAL
        err = 0
        if not decrypt and not inplace:
            err = self.copy_prefix(req, off)
        # (write_tag is the world's "store bytes at an offset of dst")
        return err or self.write_tag(req, off, ad_iv)

    def crypt(self, req: Any, decrypt: bool) -> int:
        err, rq = self.plan(req, decrypt)
        if err:
            return err
        return self.run(req, rq, decrypt)

    def encrypt(self, req: Any) -> int:
        return self.crypt(req, False)

    def decrypt(self, req: Any) -> int:
        return self.crypt(req, True)


class _Wipe:
    """A core that zeroes what the walk maps of dst (the kernel's
    ``crypto_aegis128_wipe_chunk`` on a second walk after -EBADMSG)."""

    def update(self, src: Any, dst: Any) -> None:
        dst[:] = 0


def ptlen(authsize: int, cryptlen: int, decrypt: bool) -> int:
    """The text length of a request (cryptlen counts the tag on decryption)."""
    return cryptlen - authsize if decrypt else cryptlen
