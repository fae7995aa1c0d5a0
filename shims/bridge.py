"""Bridges: each crypto API served by the other world's drivers (DESIGN §8).

During a migration some drivers are converted and some are not; a bridge
keeps both APIs whole.  A bridge is an ordinary driver object registered
in one world that serves its requests with a driver of the other world:

- :class:`SgToIterSkcipher` / :class:`SgToIterAead` are registered in the
  scatterlist world: they describe the request's scatterlists as ITER_BVEC
  iterators over the same pages (shims.sg_iter, zero-copy, no references)
  and run a converted (iov_iter) driver.
- :class:`IterToSgSkcipher` / :class:`IterToSgAead` are registered in the
  iov_iter world: they build scatterlists with extract_iter_to_sg() (pins
  for user-backed iterators, nothing otherwise) and run a legacy driver;
  the pins they take are released when the request completes.  An
  ITER_DISCARD dst, which extract_iter_to_sg() refuses, gets scratch
  pages whose contents are dropped (the native walk's answer too).  The
  iov_iter API's own contract (iterators advanced on success, unmoved on
  error, dst plaintext zeroed on -EBADMSG) is enforced by that API around
  every driver, bridges included.

The inner tfm is allocated by driver name when the bridge tfm is
initialised and freed with it; setkey and setauthsize pass through.  The
sub-request lives in the bridge request's context (``reqsize`` covers
it), as the kernel's templates keep theirs, so a bridged call allocates
only its descriptors.

Naming and priority (a choice of this model, the kernel has no bridges):
the bridge to driver ``X`` is called ``bridge(X)`` in the world that lacks
``X`` and has X's cra_name with priority :data:`BRIDGE_PRIORITY` (0).  A
native driver of the same algorithm has a higher priority, or ties and was
registered earlier (:func:`register_bridges` re-registers every bridge
after the natives), so default allocation by algorithm name is unchanged
while an algorithm no native driver serves is reached through its bridge.
Ask for ``bridge(X)`` by driver name to force one.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import kmem
from ciphers.algapi import (
    CRYPTO_ALG_INTERNAL,
    CRYPTO_ALG_TYPE_MASK,
    CRYPTO_TFM_REQ_MASK,
    CRYPTO_TFM_REQ_MAY_SLEEP,
    IS_ERR,
    CryptoAlg,
    Registry,
)
from iovcrypto import (
    ITER_DEST,
    ITER_DISCARD,
    ITER_SOURCE,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec,
    iov_iter_extract_will_pin,
)
from iovcrypto.iov_iter_query import iov_iter_npages_cap
from kmem import PAGE_SIZE
from kmem import errno as E
from kmem.page_alloc import __free_pages
from sgl import SgTable, sg_init_table, sg_kfree, sg_kmalloc, sg_mark_end, sg_page, sg_set_page
from shims.extract import extract_iter_to_sg
from shims.sg_iter import BvecArray, bvec_array_free, iov_iter_bvec_from_sg

__all__ = [
    "BRIDGE_PRIORITY",
    "ExtractedTable",
    "IterToSgAead",
    "IterToSgSkcipher",
    "SgToIterAead",
    "SgToIterSkcipher",
    "bridge_driver_name",
    "is_bridge",
    "iter_to_sg_table",
    "register_bridges",
    "registered_bridges",
    "release_sg_table",
    "unregister_bridges",
    "world_module",
    "world_registry",
]

BRIDGE_PRIORITY = 0
SIZEOF_REQUEST = 80
WORLDS = ("sg", "iter")
_MODULES = {("sg", "skcipher"): "sgl.skcipher", ("sg", "aead"): "sgl.aead",
            ("iter", "skcipher"): "iovcrypto.skcipher", ("iter", "aead"): "iovcrypto.aead"}
_REGISTRIES = {"sg": "sgl.api", "iter": "iovcrypto.api"}
# Modules whose import registers each world's drivers.
_DRIVER_PACKAGES = {"sg": ("sgl",), "iter": ("iovcrypto",)}


def bridge_driver_name(driver_name: str) -> str:
    """The driver name of the bridge to ``driver_name``."""
    return f"bridge({driver_name})"


def _import(name: str) -> ModuleType | None:
    """The module, or None if it does not exist (yet); a module that exists
    but fails to import raises as usual."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and name.startswith(e.name):
            return None
        raise


def world_module(world: str, alg_type: str) -> ModuleType | None:
    """The API module of ``world`` ("sg" or "iter") for ``alg_type``
    ("skcipher" or "aead"), or None while that API does not exist."""
    return _import(_MODULES[(world, alg_type)])


def world_registry(world: str) -> Registry | None:
    mod = _import(_REGISTRIES[world])
    return None if mod is None else mod.crypto_registry


def load_drivers() -> None:
    """Import what registers each world's drivers (those that exist)."""
    for pkgs in _DRIVER_PACKAGES.values():
        for pkg in pkgs:
            _import(pkg)


def _gfp(flags: int) -> int:
    return kmem.GFP_KERNEL if flags & CRYPTO_TFM_REQ_MAY_SLEEP else kmem.GFP_ATOMIC


# iov_iter -> sg table, and back.

class ExtractedTable(SgTable):
    """An sg_table whose flat array :func:`iter_to_sg_table` allocated
    (``alloc_nents`` entries)."""

    __slots__ = ("alloc_nents", "scratch")

    def __init__(self) -> None:
        super().__init__()
        self.alloc_nents = 0
        self.scratch: list = []      # a DISCARD sink's pages


def iter_to_sg_table(it: iov_iter, nbytes: int, gfp: int = kmem.GFP_KERNEL,
                     extraction_flags: int = 0) -> tuple[int, ExtractedTable | None]:
    """What an AF_ALG/SMB-style caller does: a flat scatterlist array sized
    from iov_iter_npages(), filled by extract_iter_to_sg() until ``nbytes``
    are described, end-marked.  ``it`` is advanced.  Returns ``(0, table)``
    (``orig_nents`` = entries; release with :func:`release_sg_table`) or
    ``(-errno, None)`` with nothing held.  ``nbytes`` 0 gives an empty
    table whose ``sgl`` is None."""
    table = ExtractedTable()
    if nbytes == 0:
        return 0, table
    if it.iter_type == ITER_DISCARD:
        return _discard_to_sg_table(it, nbytes, gfp, table)
    nr = max(1, iov_iter_npages_cap(it, 1 << 31, nbytes))
    first = sg_kmalloc(nr, gfp)
    if first is None:
        return -E.ENOMEM, None
    sg_init_table(first, nr)
    table.sgl = first
    table.alloc_nents = nr
    left = nbytes
    while left:
        got = extract_iter_to_sg(it, left, table, nr - table.nents, extraction_flags)
        if got <= 0:
            table.orig_nents = table.nents
            release_sg_table(table, it)
            return got if got < 0 else -E.EFAULT, None
        left -= got
    sg_mark_end(first._arr[first._idx + table.nents - 1])
    table.orig_nents = table.nents
    return 0, table


def _discard_to_sg_table(it: iov_iter, nbytes: int, gfp: int, table: ExtractedTable
                         ) -> tuple[int, ExtractedTable | None]:
    """A DISCARD sink has no memory to describe, and extract_iter_to_sg()
    refuses it (WARN, -EIO).  The iov_iter API accepts it as dst, so the
    bridge hands the legacy driver scratch pages, one entry each, and drops
    what lands there (the native walk does the same with its scratch
    buffer); ``it`` advances past the ``nbytes``.  -ENOMEM with nothing held
    if a page cannot be had."""
    nr = -(-nbytes // PAGE_SIZE)
    first = sg_kmalloc(nr, gfp)
    if first is None:
        return -E.ENOMEM, None
    sg_init_table(first, nr)
    table.sgl = first
    table.alloc_nents = nr
    arr, base = first._arr, first._idx
    left = nbytes
    for k in range(nr):
        page = kmem.alloc_pages(gfp, 0)
        if page is None:
            table.orig_nents = k
            release_sg_table(table, it)
            return -E.ENOMEM, None
        table.scratch.append(page)
        sg_set_page(arr[base + k], page, min(left, PAGE_SIZE), 0)
        left -= min(left, PAGE_SIZE)
    table.nents = table.orig_nents = nr
    sg_mark_end(arr[base + nr - 1])
    iov_iter_advance(it, nbytes)
    return 0, table


def release_sg_table(table: ExtractedTable | None, it: iov_iter) -> None:
    """Unpin what extraction pinned (if ``it``'s type pins), free a DISCARD
    sink's scratch pages and the array of a table made by
    :func:`iter_to_sg_table`."""
    if table is None or table.sgl is None:
        return
    for page in table.scratch:
        __free_pages(page, 0)
    table.scratch = []
    if iov_iter_extract_will_pin(it):
        arr, base = table.sgl._arr, table.sgl._idx
        for k in range(table.orig_nents):
            kmem.unpin_user_page(sg_page(arr[base + k]))
    sg_kfree(table.sgl, table.alloc_nents)
    table.sgl = None


# The bridge drivers.

class _Bridge:
    """What every bridge has: its description, the inner tfm, pass-through
    setkey (and setauthsize for AEAD)."""

    alg_type = ""
    outer = ""      # the world the bridge is registered in
    inner = ""      # the world of the driver it calls

    def __init__(self, target: CryptoAlg, target_impl: object) -> None:
        self.target = target
        a = target
        self.alg = CryptoAlg(
            a.cra_name, bridge_driver_name(a.cra_driver_name), a.type,
            cra_priority=BRIDGE_PRIORITY, cra_blocksize=a.cra_blocksize,
            cra_alignmask=a.cra_alignmask, cra_flags=a.cra_flags & ~CRYPTO_ALG_TYPE_MASK,
            ivsize=a.ivsize, chunksize=a.chunksize, walksize=a.walksize, statesize=a.statesize,
            min_keysize=a.min_keysize, max_keysize=a.max_keysize, maxauthsize=a.maxauthsize,
            cra_module="shims.bridge",
            extra={"bridge": True, "target": a.cra_driver_name, "target_world": self.inner})
        self.reqsize = SIZEOF_REQUEST + int(getattr(target_impl, "reqsize", 0) or 0)
        self.mod = world_module(self.inner, self.alg_type)
        self.outer_mod = world_module(self.outer, self.alg_type)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.alg.cra_driver_name} in {self.outer}>"

    def init(self, tfm) -> int:
        inner = getattr(self.mod, f"crypto_alloc_{self.alg_type}")(self.target.cra_driver_name)
        if IS_ERR(inner):
            return inner
        tfm.ctx.inner = inner
        tfm.ctx.tfm = tfm
        return 0

    def exit(self, tfm) -> None:
        inner = getattr(tfm.ctx, "inner", None)
        if inner is not None:
            getattr(self.mod, f"crypto_free_{self.alg_type}")(inner)
            tfm.ctx.inner = None

    def setkey(self, ctx, key: bytes) -> int:
        # The caller's request flags (FORBID_WEAK_KEYS) reach the inner
        # tfm's setkey, as every kernel template that wraps a child does.
        pre = f"crypto_{self.alg_type}"
        getattr(self.mod, f"{pre}_clear_flags")(ctx.inner, CRYPTO_TFM_REQ_MASK)
        getattr(self.mod, f"{pre}_set_flags")(
            ctx.inner, getattr(self.outer_mod, f"{pre}_get_flags")(ctx.tfm) & CRYPTO_TFM_REQ_MASK)
        return getattr(self.mod, f"{pre}_setkey")(ctx.inner, key, len(key))

    def _run(self, req, sub, call, cleanup) -> int:
        """Run the sub-request; clean up now, or on completion if the inner
        driver went asynchronous (then complete the outer request)."""
        def done(_data: object, err: int) -> None:
            if err != -E.EINPROGRESS:
                cleanup()
            if req.base.complete is not None:
                req.base.complete(req.base.data, err)

        getattr(self.mod, f"{self.alg_type}_request_set_callback")(sub, req.base.flags, done,
                                                                    None)
        err = call()
        if err not in (-E.EINPROGRESS, -E.EBUSY):
            cleanup()
        return err


class _AeadMixin:
    def setauthsize(self, ctx, authsize: int) -> int:
        return self.mod.crypto_aead_setauthsize(ctx.inner, authsize)

    @staticmethod
    def lengths(req, authsize: int, enc: bool) -> tuple[int, int]:
        """Bytes an AEAD request reads from src and writes to dst."""
        text = req.cryptlen + authsize if enc else req.cryptlen - authsize
        return req.assoclen + req.cryptlen, req.assoclen + text


def _sg_to_iters(req, need_src: int, need_dst: int, gfp: int
                 ) -> tuple[int, iov_iter | None, iov_iter | None, list[BvecArray]]:
    """ITER_BVEC iterators over a legacy request's scatterlists; one
    bio_vec array when src and dst are the same list (in place)."""
    held: list[BvecArray] = []
    src_it, dst_it = iov_iter(), iov_iter()
    if req.src is req.dst:
        err, arr = iov_iter_bvec_from_sg(src_it, ITER_SOURCE, req.src, 0,
                                         max(need_src, need_dst), gfp)
        if err:
            return err, None, None, held
        held.append(arr)
        iov_iter_bvec(src_it, ITER_SOURCE, arr, len(arr), need_src)
        iov_iter_bvec(dst_it, ITER_DEST, arr, len(arr), need_dst)
        return 0, src_it, dst_it, held
    for it, sg, need, d in ((src_it, req.src, need_src, ITER_SOURCE),
                            (dst_it, req.dst, need_dst, ITER_DEST)):
        err, arr = iov_iter_bvec_from_sg(it, d, sg, 0, need, gfp)
        if err:
            for a in held:
                bvec_array_free(a)
            return err, None, None, []
        held.append(arr)
    return 0, src_it, dst_it, held


class SgToIterSkcipher(_Bridge):
    """The scatterlist skcipher API served by an iov_iter driver."""

    alg_type, outer, inner = "skcipher", "sg", "iter"

    def _crypt(self, req, op: str) -> int:
        inner = req.base.tfm.ctx.inner
        n = req.cryptlen
        err, src, dst, held = _sg_to_iters(req, n, n, _gfp(req.base.flags))
        if err:
            return err
        sub = self.mod.SkcipherRequest(inner)
        self.mod.skcipher_request_set_iter(sub, src, dst, n, req.iv)

        def cleanup() -> None:
            for a in held:
                bvec_array_free(a)

        return self._run(req, sub, lambda: getattr(self.mod, f"crypto_skcipher_{op}")(sub),
                         cleanup)

    def encrypt(self, req) -> int:
        return self._crypt(req, "encrypt")

    def decrypt(self, req) -> int:
        return self._crypt(req, "decrypt")


class SgToIterAead(_AeadMixin, _Bridge):
    """The scatterlist AEAD API served by an iov_iter driver."""

    alg_type, outer, inner = "aead", "sg", "iter"

    def _crypt(self, req, op: str) -> int:
        tfm = req.base.tfm
        need_src, need_dst = self.lengths(req, tfm.authsize, op == "encrypt")
        err, src, dst, held = _sg_to_iters(req, need_src, need_dst, _gfp(req.base.flags))
        if err:
            return err
        sub = self.mod.AeadRequest(tfm.ctx.inner)
        self.mod.aead_request_set_iter(sub, src, dst, req.cryptlen, req.iv)
        self.mod.aead_request_set_ad(sub, req.assoclen)

        def cleanup() -> None:
            for a in held:
                bvec_array_free(a)

        return self._run(req, sub, lambda: getattr(self.mod, f"crypto_aead_{op}")(sub),
                         cleanup)

    def encrypt(self, req) -> int:
        return self._crypt(req, "encrypt")

    def decrypt(self, req) -> int:
        return self._crypt(req, "decrypt")


def _iters_to_sg(req, need_src: int, need_dst: int, gfp: int
                 ) -> tuple[int, list[tuple[ExtractedTable, iov_iter]]]:
    """Scatterlists for an iov_iter request, extracted from copies of its
    iterators (the API moves the caller's); one table when src and dst are
    the same iterator."""
    held: list[tuple[ExtractedTable, iov_iter]] = []
    pairs = [(req.src, need_src)]
    if req.dst is not req.src:
        pairs.append((req.dst, need_dst))
    else:
        pairs[0] = (req.src, max(need_src, need_dst))
    for it, need in pairs:
        if it is None:
            if need:
                return -E.EINVAL, held
            held.append((ExtractedTable(), iov_iter()))
            continue
        err, table = iter_to_sg_table(it.copy(), need, gfp)
        if err:
            for t, i in held:
                release_sg_table(t, i)
            return err, []
        held.append((table, it))
    return 0, held


def _release_all(held: list[tuple[ExtractedTable, iov_iter]]) -> None:
    for t, i in held:
        release_sg_table(t, i)


class IterToSgSkcipher(_Bridge):
    """The iov_iter skcipher API served by a scatterlist driver."""

    alg_type, outer, inner = "skcipher", "iter", "sg"

    def _crypt(self, req, op: str) -> int:
        n = req.cryptlen
        err, held = _iters_to_sg(req, n, n, _gfp(req.base.flags))
        if err:
            return err
        src_t, dst_t = held[0][0], held[-1][0]
        sub = self.mod.SkcipherRequest(req.base.tfm.ctx.inner)
        self.mod.skcipher_request_set_crypt(sub, src_t.sgl, dst_t.sgl, n, req.iv)
        return self._run(req, sub, lambda: getattr(self.mod, f"crypto_skcipher_{op}")(sub),
                         lambda: _release_all(held))

    def encrypt(self, req) -> int:
        return self._crypt(req, "encrypt")

    def decrypt(self, req) -> int:
        return self._crypt(req, "decrypt")


class IterToSgAead(_AeadMixin, _Bridge):
    """The iov_iter AEAD API served by a scatterlist driver."""

    alg_type, outer, inner = "aead", "iter", "sg"

    def _crypt(self, req, op: str) -> int:
        tfm = req.base.tfm
        need_src, need_dst = self.lengths(req, tfm.authsize, op == "encrypt")
        err, held = _iters_to_sg(req, need_src, need_dst, _gfp(req.base.flags))
        if err:
            return err
        src_t, dst_t = held[0][0], held[-1][0]
        sub = self.mod.AeadRequest(tfm.ctx.inner)
        self.mod.aead_request_set_crypt(sub, src_t.sgl, dst_t.sgl, req.cryptlen, req.iv)
        self.mod.aead_request_set_ad(sub, req.assoclen)
        return self._run(req, sub, lambda: getattr(self.mod, f"crypto_aead_{op}")(sub),
                         lambda: _release_all(held))

    def encrypt(self, req) -> int:
        return self._crypt(req, "encrypt")

    def decrypt(self, req) -> int:
        return self._crypt(req, "decrypt")


_CLASSES = {("sg", "skcipher"): SgToIterSkcipher, ("sg", "aead"): SgToIterAead,
            ("iter", "skcipher"): IterToSgSkcipher, ("iter", "aead"): IterToSgAead}
_registered: list[tuple[str, _Bridge]] = []


def is_bridge(impl: object) -> bool:
    """True for a driver object that is one of these bridges."""
    return isinstance(impl, _Bridge)


def registered_bridges() -> list[tuple[str, _Bridge]]:
    """``(world it is registered in, bridge)`` for every live bridge."""
    return list(_registered)


def unregister_bridges() -> None:
    """Remove every bridge :func:`register_bridges` registered."""
    while _registered:
        world, drv = _registered.pop()
        mod = world_module(world, drv.alg_type)
        getattr(mod, f"crypto_unregister_{drv.alg_type}")(drv)


def register_bridges(types: tuple[str, ...] = ("skcipher", "aead"),
                     worlds: tuple[str, ...] = WORLDS) -> list[tuple[str, _Bridge]]:
    """For every driver registered in one world, register a bridge to it
    in the other (``worlds`` names the worlds that receive bridges).
    Bridges registered before are removed first, so calling this again
    after more drivers appear re-registers them all behind the natives.
    Internal algorithms and bridges themselves are not bridged; a world
    whose API for a type does not exist yet is skipped.  Returns what is
    now registered."""
    for what, given, known in (("types", types, ("skcipher", "aead")),
                               ("worlds", worlds, WORLDS)):
        unknown = [t for t in given if t not in known] if isinstance(given, tuple) else None
        if unknown != []:
            raise ValueError(f"register_bridges(): {what} must be a tuple drawn from "
                             f"{known}, got {given!r}")
    unregister_bridges()
    load_drivers()
    for outer in worlds:
        inner = "iter" if outer == "sg" else "sg"
        reg = world_registry(inner)
        if reg is None:
            continue
        for alg_type in types:
            out_mod = world_module(outer, alg_type)
            if out_mod is None or world_module(inner, alg_type) is None:
                continue
            for alg, impl in reg.algorithms(alg_type):
                if isinstance(impl, _Bridge) or alg.cra_flags & CRYPTO_ALG_INTERNAL:
                    continue
                drv = _CLASSES[(outer, alg_type)](alg, impl)
                if getattr(out_mod, f"crypto_register_{alg_type}")(drv) == 0:
                    _registered.append((outer, drv))
    return registered_bridges()
