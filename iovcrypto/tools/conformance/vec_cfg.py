"""Running one test vector under one configuration through one API:
testmgr's ``test_skcipher_vec_cfg``/``test_aead_vec_cfg``.  (A whole
suite against one driver is runner.py; the passes after it, passes.py.)

APIs (:data:`APIS`):

- ``sg``: the scatterlist crypto API (``sgl``), buffers from
  ``build_cipher_test_sglists``;
- ``iter``: the iov_iter crypto API (``iovcrypto``), buffers realised as
  every iterator type over every applicable memory kind;
- ``bridge-sg`` / ``bridge-iter``: the bridges of ``shims.bridge``: the
  scatterlist API served by a converted driver, and the iov_iter API
  served by a legacy one (run like ``sg`` and ``iter``, on the ``bridge(X)``
  drivers).

Checks, in testmgr's order: setkey and setauthsize errors as the vector
expects; the crypt error (or -EBADMSG for an inauthentic vector); request
fields untouched; scatterlist entries untouched (sg) or, for iov_iters,
segment arrays untouched and both iterators advanced by exactly what was
consumed/produced on success and left where they were on error (DESIGN
§7), with dst's plaintext area zeroed on -EBADMSG; the output bytes with
the poison after them; the output IV; and a clean sanitizer ledger (leaked
pins and kmaps, WARNs, bad accesses).  Failure messages are testmgr's; for
the iov_iter realisations the realisation is appended in brackets.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from types import ModuleType

import iovcrypto as iov
import kmem
import sgl
from ciphers.algapi import (
    CRYPTO_TFM_REQ_FORBID_WEAK_KEYS,
    CRYPTO_TFM_REQ_MAY_BACKLOG,
    CryptoAlg,
    Registry,
)
from iovcrypto.tools.conformance import buffers as B
from iovcrypto.tools.conformance import faults as F
from iovcrypto.tools.conformance.configs import TestvecConfig
from iovcrypto.tools.conformance.discard import build_discard_iters
from iovcrypto.tools.conformance.engine import is_async
from iovcrypto.tools.conformance.keyiv import IvBuf, KeyBuf
from iovcrypto.tools.conformance.vectors import AeadVec, CipherVec, Vector
from kmem import errno as E
from kmem import sanitizer

APIS = ("sg", "iter", "bridge-sg", "bridge-iter", "lib")


def world_of(api: str) -> str:
    if api == "lib":
        return "lib"      # the library road (libroad.py): iov_iter buffers, no request API
    return "sg" if api in ("sg", "bridge-sg") else "iter"


def world_module(world: str) -> ModuleType:
    if world == "lib":
        return importlib.import_module("iovcrypto.tools.conformance.libroad")
    return sgl if world == "sg" else iov


def world_registry(world: str) -> Registry:
    return world_module(world).crypto_registry


def bridge_module() -> ModuleType | None:
    """``shims.bridge`` if it exists (it lands separately)."""
    try:
        return importlib.import_module("shims.bridge")
    except ModuleNotFoundError:
        return None


@dataclass
class Target:
    """One driver through one API."""

    alg: CryptoAlg
    api: str

    @property
    def world(self) -> str:
        return world_of(self.api)

    @property
    def driver(self) -> str:
        return self.alg.cra_driver_name

    @property
    def type(self) -> str:
        return self.alg.type


@dataclass
class Failure:
    message: str
    algorithm: str
    driver: str
    api: str
    vector: str
    cfg: str
    op: str
    seed: int
    realisation: str = ""


@dataclass
class Stats:
    vectors: int = 0
    checks: int = 0
    configs: set = field(default_factory=set)
    realisations: set = field(default_factory=set)
    faults: set = field(default_factory=set)


class Ctx:
    """What one vector × config × API run needs to report failures."""

    def __init__(self, target: Target, seed: int, stats: Stats, failures: list[Failure]) -> None:
        self.target = target
        self.seed = seed
        self.stats = stats
        self.failures = failures
        self.last_shot: F.Shot | None = None
        # One request reused for every run of a suite (None: one each).
        self.req: object = None

    def fail(self, msg: str, vec_name: str, cfg: str, op: str, where: str = "",
             raw: bool = False) -> None:
        t = self.target
        full = f"alg: {t.type}: {msg}" if raw else f"alg: {t.type}: {t.driver} {msg}"
        if where:
            full += f" [{t.api}: {where}]"
        self.failures.append(Failure(full, t.alg.cra_name, t.driver, t.api, vec_name, cfg, op,
                                     self.seed, where))

    def check(self, ok: bool) -> bool:
        self.stats.checks += 1
        return ok


# Realisation of a configuration in one world.

class _Layout:
    """src/dst for one run: scatterlists or iov_iters."""

    def __init__(self, world: str, cfg: TestvecConfig, alignmask: int, src_total: int,
                 dst_total: int, data: bytes, realisation: tuple[str, str] | None,
                 sg_kind: str) -> None:
        self.world = world
        self.discard = False
        if world == "sg":
            self.t = B.build_cipher_test_sglists(cfg, alignmask, src_total, dst_total, data,
                                                 sg_kind)
            self.src, self.dst = self.t.src_ptr, self.t.dst_ptr
            self.dst_pieces = self.t.dst.pieces
        else:
            itype, kind = realisation[:2]  # type: ignore[index]
            # The one-object in-place form and zero-length segments are
            # the iov_iter request API's (the library road walks its own).
            api_world = world == "iter"
            # A third element is dst's own type: ("KVEC", "slab", "DISCARD").
            self.discard = realisation[2:] == ("DISCARD",)  # type: ignore[index]
            if self.discard:
                self.t = build_discard_iters(cfg, alignmask, src_total, dst_total, data, itype,
                                             kind, zeros=api_world)
            else:
                self.t = B.build_cipher_test_iters(cfg, alignmask, src_total, dst_total, data,
                                                   itype, kind,
                                                   one_object=api_world and not cfg.random,
                                                   zeros=api_world)
            self.src, self.dst = self.t.src.it, self.t.dst.it
            self.dst_pieces = self.t.dst.pieces
            self.src_before = B.iter_snapshot(self.src)
            self.dst_before = B.iter_snapshot(self.dst)

    def corrupted(self) -> tuple[bool, bool]:
        """(src corrupted, dst corrupted) descriptors."""
        t = self.t
        if self.world == "sg":
            return t.src.is_corrupted(), t.dst_ptr is not t.src.sgl and t.dst.is_corrupted()
        return t.src.segs_corrupted(), t.dst.segs_corrupted()

    def iter_misplaced(self, ok: bool, consumed: int, produced: int) -> tuple[bool, bool]:
        """Whether src/dst are not where DESIGN §7 says they must be: on
        error where they were; on success advanced by what was consumed
        and produced (one object as both: once, by the larger).  Expected
        positions come from the layout (buffers.expected_snapshot), not
        from the iov_iter code under test."""
        if self.src is self.dst:
            consumed = produced = max(consumed, produced)
        out = []
        for t, it, before, n in ((self.t.src, self.src, self.src_before, consumed),
                                 (self.t.dst, self.dst, self.dst_before, produced)):
            out.append(B.iter_misplaced(t, it, before, n if ok else 0))
        return out[0], out[1]

    def free(self) -> None:
        self.t.free()


def run_vec_cfg(ctx: Ctx, tfm: object, vec: Vector, vec_name: str, cfg: TestvecConfig,
                enc: bool, realisation: tuple[str, str] | None = None,
                sg_kind: str = "page", fault: F.Fault | None = None) -> bool:
    """One vector, one configuration, one direction (under ``fault``, if
    given; what happened to it is left in ``ctx.last_shot``): True if it
    passed."""
    t = ctx.target
    where = B.realisation_name(*realisation) if realisation else ""
    if fault is None:
        ctx.stats.configs.add(cfg.name)
        if realisation:
            ctx.stats.realisations.add(where)
    else:
        ctx.stats.faults.add(fault.kind)
        where = f"{where}; {fault.name}" if where else fault.name
    nfail = len(ctx.failures)
    pos = sanitizer.mark()
    apos = sanitizer.allocation_mark()
    ctx.last_shot = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kmem.KernelWarning)
            if t.type == "skcipher":
                _skcipher_vec_cfg(ctx, tfm, vec, vec_name, cfg, enc, realisation, sg_kind, where,
                                  fault)
            else:
                _aead_vec_cfg(ctx, tfm, vec, vec_name, cfg, enc, realisation, sg_kind, where,
                              fault)
    except Exception as e:
        op = "encryption" if enc else "decryption"
        ctx.fail(f"{op} crashed ({type(e).__name__}: {e}) on test vector {vec_name}, "
                 f'cfg="{cfg.name}"', vec_name, cfg.name, op, where)
    sanitizer.check_leaks(since=apos)
    records = sanitizer.since(pos)
    if ctx.check(not records):
        pass
    else:
        op = "encryption" if enc else "decryption"
        what = "; ".join(f"[{r.kind}] {r.message}" for r in records[:3])
        ctx.fail(f"{op} left sanitizer records on test vector {vec_name}, cfg=\"{cfg.name}\": "
                 f"{what}", vec_name, cfg.name, op, where)
    del sanitizer.ledger.records[pos:]
    return len(ctx.failures) == nfail


def _setkey(ctx: Ctx, api: ModuleType, tfm: object, vec: Vector, vec_name: str,
            cfg: TestvecConfig, alignmask: int) -> int | None:
    """Set the key; None to go on, else the (expected) error to stop on.
    A weak-key vector (``wk``) is set with FORBID_WEAK_KEYS, as testmgr
    does; every other with the flag cleared."""
    t = ctx.target
    pre = "crypto_skcipher" if t.type == "skcipher" else "crypto_aead"
    flag_op = "set" if vec.wk else "clear"
    getattr(api, f"{pre}_{flag_op}_flags")(tfm, CRYPTO_TFM_REQ_FORBID_WEAK_KEYS)
    kb = KeyBuf(vec.key, cfg.key_off(alignmask), is_async(t.alg))
    try:
        err = getattr(api, f"{pre}_setkey")(tfm, kb.key, len(vec.key))
    finally:
        kb.free()
    if not ctx.check(err == vec.setkey_error):
        flags = getattr(api, f"{pre}_get_flags")(tfm)
        ctx.fail(f"setkey failed on test vector {vec_name}; expected_error={vec.setkey_error}, "
                 f"actual_error={err}, flags={flags:#x}", vec_name, cfg.name, "setkey")
        return err or -E.EINVAL
    return err or None


def _report_crypt(ctx: Ctx, err: int, expected: int, novrfy: bool, vec_name: str, op: str,
                  cfg: TestvecConfig, where: str) -> bool:
    """The crypt result against the vector; True if it is what was expected."""
    if novrfy:
        # Inauthentic: -EBADMSG (or the vector's allowed -EINVAL); success is a failure.
        ok = err == -E.EBADMSG or (expected != 0 and err == expected)
    else:
        ok = err == expected
    if ok:
        return ctx.check(True)
    ctx.check(False)
    if err == 0:
        exp = -E.EBADMSG if novrfy else expected
        ctx.fail(f"{op} unexpectedly succeeded on test vector {vec_name}; expected_error={exp}, "
                 f'cfg="{cfg.name}"', vec_name, cfg.name, op, where)
    else:
        ctx.fail(f"{op} failed on test vector {vec_name}; expected_error="
                 f"{-E.EBADMSG if novrfy else expected}, actual_error={err}, "
                 f'cfg="{cfg.name}"', vec_name, cfg.name, op, where)
    return False


def _crypt_under(ctx: Ctx, fault: F.Fault | None, realisation: tuple[str, str] | None,
                 lay: _Layout, call: object) -> int:
    """``call()`` with ``fault`` armed around it; the shot in ctx.last_shot."""
    if fault is None:
        return call()
    with F.kind_of(fault).inject(fault, F.Site(ctx.target, realisation, lay)) as shot:
        err = call()
    ctx.last_shot = shot
    return err


def _report_result(ctx: Ctx, err: int, expected: int, novrfy: bool, vec_name: str, op: str,
                   cfg: TestvecConfig, where: str, fault: F.Fault | None) -> bool:
    """_report_crypt, or under a fault that fired: 0 or the fault kind's
    documented errnos."""
    shot = ctx.last_shot
    if fault is None or shot is None or not shot.fired:
        return _report_crypt(ctx, err, expected, novrfy, vec_name, op, cfg, where)
    allowed = F.kind_of(fault).errnos
    if ctx.check(err in allowed or err == expected):
        return True
    ctx.fail(f"{op} returned {err} under {fault.name} on test vector {vec_name}; "
             f"expected {expected} or one of {list(allowed)}, "
             f'cfg="{cfg.name}"', vec_name, cfg.name, op, where)
    return False


def _common_after(ctx: Ctx, lay: _Layout, req: object, want: dict, ok: bool,
                  consumed: int, produced: int, vec_name: str, op: str, cfg: TestvecConfig,
                  where: str) -> bool:
    """Request fields, descriptors and iterator positions."""
    bad = [k for k, v in want.items() if _field(req, k) is not v and _field(req, k) != v]
    if not ctx.check(not bad):
        ctx.fail(f"{op} corrupted request struct on test vector {vec_name}, cfg=\"{cfg.name}\""
                 f" (changed {', '.join(bad)})", vec_name, cfg.name, op, where)
        return False
    src_bad, dst_bad = lay.corrupted()
    kind = "sgl" if lay.world == "sg" else "iov_iter segments"
    for name, bad_ in (("src", src_bad), ("dst", dst_bad)):
        if not ctx.check(not bad_):
            ctx.fail(f"{op} corrupted {name} {kind} on test vector {vec_name}, "
                     f'cfg="{cfg.name}"', vec_name, cfg.name, op, where)
            return False
    if lay.world != "sg":
        src_m, dst_m = lay.iter_misplaced(ok, consumed, produced)
        how = "not advanced by what was processed" if ok else "moved although the call failed"
        for name, m in (("src", src_m), ("dst", dst_m)):
            if not ctx.check(not m):
                ctx.fail(f"{op} left {name} iov_iter misplaced ({how}) on test vector "
                         f'{vec_name}, cfg="{cfg.name}"', vec_name, cfg.name, op, where)
                return False
    return True


def _field(req: object, path: str) -> object:
    obj = req
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _request_fields(req: object, tfm: object, wait: object, flags: int, cryptlen: int,
                    iv: object, aead: bool) -> dict:
    complete = req.base.complete
    want = {"cryptlen": cryptlen, "iv": iv, "src": req.src, "dst": req.dst, "base.tfm": tfm,
            "base.data": wait, "base.flags": flags, "base.complete": complete}
    if aead:
        want["assoclen"] = req.assoclen
    return want


def _skcipher_vec_cfg(ctx: Ctx, tfm: object, vec: CipherVec, vec_name: str,
                      cfg: TestvecConfig, enc: bool, realisation: tuple[str, str] | None,
                      sg_kind: str, where: str, fault: F.Fault | None = None) -> None:
    world = ctx.target.world
    api = world_module(world)
    alignmask = api.crypto_skcipher_alignmask(tfm)
    ivsize = api.crypto_skcipher_ivsize(tfm)
    op = "encryption" if enc else "decryption"
    if _setkey(ctx, api, tfm, vec, vec_name, cfg, alignmask) is not None:
        return
    # A key-wrap vector's decryption starts from the IV its encryption made.
    iv_in = vec.iv_out if vec.generates_iv and not enc else vec.iv
    ivb = IvBuf(iv_in, ivsize, cfg.iv_off(alignmask), is_async(ctx.target.alg)) \
        if ivsize else None
    if vec.generates_iv and not ivsize:
        ctx.fail(f"has ivsize=0 but test vector {vec_name} generates IV!", vec_name, cfg.name,
                 op, where)
        return
    data = vec.ptext if enc else vec.ctext
    lay = _Layout(world, cfg, alignmask, len(data), len(data), data, realisation, sg_kind)
    req = ctx.req or api.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    try:
        wait = api.CryptoWait()
        flags = CRYPTO_TFM_REQ_MAY_BACKLOG | cfg.req_flags
        api.skcipher_request_set_callback(req, flags, api.crypto_req_done, wait)
        iv = ivb.addr if ivb else None
        if world == "sg":
            api.skcipher_request_set_crypt(req, lay.src, lay.dst, len(data), iv)
        else:
            api.skcipher_request_set_iter(req, lay.src, lay.dst, len(data), iv)
        want = _request_fields(req, tfm, wait, flags, len(data), iv, False)
        fn = api.crypto_skcipher_encrypt if enc else api.crypto_skcipher_decrypt
        err = _crypt_under(ctx, fault, realisation, lay,
                           lambda: api.crypto_wait_req(fn(req), wait))
        if not _report_result(ctx, err, vec.crypt_error, False, vec_name, op, cfg, where,
                              fault):
            return
        if not _common_after(ctx, lay, req, want, err == 0, len(data), len(data), vec_name, op,
                             cfg, where):
            return
        if err:
            return
        if not _check_output(ctx, lay, vec.ctext if enc else vec.ptext, 0, True, vec_name, op,
                             cfg, where):
            return
        # (Into a DISCARD sink too: the output IV shows the data was computed.)
        if vec.iv_out is not None and ivb is not None and \
                not ctx.check(ivb.read() == vec.iv_out[:ivsize]):
            ctx.fail(f"{op} test failed (wrong output IV) on test vector {vec_name}, "
                     f'cfg="{cfg.name}"', vec_name, cfg.name, op, where)
    finally:
        if req is not ctx.req:
            api.skcipher_request_free(req)
        lay.free()
        if ivb:
            ivb.free()


def _aead_vec_cfg(ctx: Ctx, tfm: object, vec: AeadVec, vec_name: str, cfg: TestvecConfig,
                  enc: bool, realisation: tuple[str, str] | None, sg_kind: str,
                  where: str, fault: F.Fault | None = None) -> None:
    world = ctx.target.world
    api = world_module(world)
    alignmask = api.crypto_aead_alignmask(tfm)
    ivsize = api.crypto_aead_ivsize(tfm)
    op = "encryption" if enc else "decryption"
    if _setkey(ctx, api, tfm, vec, vec_name, cfg, alignmask) is not None:
        return
    authsize = vec.authsize
    err = api.crypto_aead_setauthsize(tfm, authsize)
    if not ctx.check(err == vec.setauthsize_error):
        ctx.fail(f"setauthsize failed on test vector {vec_name}; expected_error="
                 f"{vec.setauthsize_error}, actual_error={err}", vec_name, cfg.name, "setauthsize")
        return
    if err:
        return
    ivb = IvBuf(vec.iv, ivsize, cfg.iv_off(alignmask), is_async(ctx.target.alg))
    alen, plen, clen = len(vec.assoc), len(vec.ptext), len(vec.ctext)
    data = vec.assoc + (vec.ptext if enc else vec.ctext)
    src_total, dst_total = alen + (plen if enc else clen), alen + (clen if enc else plen)
    lay = _Layout(world, cfg, alignmask, src_total, dst_total, data, realisation, sg_kind)
    req = ctx.req or api.aead_request_alloc(tfm, kmem.GFP_KERNEL)
    try:
        wait = api.CryptoWait()
        flags = CRYPTO_TFM_REQ_MAY_BACKLOG | cfg.req_flags
        api.aead_request_set_callback(req, flags, api.crypto_req_done, wait)
        cryptlen = plen if enc else clen
        if world == "sg":
            api.aead_request_set_crypt(req, lay.src, lay.dst, cryptlen, ivb.addr)
        else:
            api.aead_request_set_iter(req, lay.src, lay.dst, cryptlen, ivb.addr)
        api.aead_request_set_ad(req, alen)
        want = _request_fields(req, tfm, wait, flags, cryptlen, ivb.addr, True)
        fn = api.crypto_aead_encrypt if enc else api.crypto_aead_decrypt
        err = _crypt_under(ctx, fault, realisation, lay,
                           lambda: api.crypto_wait_req(fn(req), wait))
        if not _report_result(ctx, err, vec.crypt_error, vec.novrfy, vec_name, op, cfg, where,
                              fault):
            return
        if not _common_after(ctx, lay, req, want, err == 0, src_total, dst_total, vec_name,
                             op, cfg, where):
            return
        if err:
            # (-EBADMSG: every iov_iter road zeroes; other errors: the
            # iov_iter request API does.)
            if world != "sg" and not enc and plen and (err == -E.EBADMSG or world == "iter") \
                    and _holds_plaintext(B.read_pieces(lay.dst_pieces, alen, plen), vec.ptext,
                                         vec.ctext, err):
                ctx.check(False)
                ctx.fail(f"{op} leaked unauthenticated plaintext (dst not zeroed on {err}) "
                         f'on test vector {vec_name}, cfg="{cfg.name}"', vec_name, cfg.name, op,
                         where)
            else:
                ctx.check(True)
            return
        _check_output(ctx, lay, vec.ctext if enc else vec.ptext, alen, enc or not cfg.inplace,
                      vec_name, op, cfg, where)
    finally:
        if req is not ctx.req:
            api.aead_request_free(req)
        lay.free()
        ivb.free()


def _check_output(ctx: Ctx, lay: _Layout, expected: bytes, unchecked_prefix: int,
                  check_poison: bool, vec_name: str, op: str, cfg: TestvecConfig,
                  where: str) -> bool:
    """The output bytes and the poison after them (nothing to read back
    from a DISCARD sink: its run is judged by the result, the positions,
    the tag check and the output IV)."""
    if lay.discard:
        return True
    r = B.verify_correct_output(lay.dst_pieces, expected, unchecked_prefix, check_poison)
    if not ctx.check(r != -E.EOVERFLOW):
        ctx.fail(f'{op} overran dst buffer on test vector {vec_name}, cfg="{cfg.name}"',
                 vec_name, cfg.name, op, where)
        return False
    if not ctx.check(r == 0):
        ctx.fail(f"{op} test failed (wrong result) on test vector {vec_name}, "
                 f'cfg="{cfg.name}"', vec_name, cfg.name, op, where)
        return False
    return True


def _holds_plaintext(got: bytes, ptext: bytes, ctext: bytes, err: int) -> bool:
    """After a failed iov_iter AEAD decryption: -EBADMSG must leave the
    plaintext area zeroed; any other error must leave no block of the
    plaintext in it (a fault may have stopped the zeroing short; blocks
    whose plaintext is their ciphertext, as rfc4543's, cannot tell)."""
    if err == -E.EBADMSG:
        return got != bytes(len(got))
    for i in range(0, min(len(got), len(ptext)), 16):
        p = ptext[i:i + 16]
        if got[i:i + 16] == p and any(p) and ctext[i:i + len(p)] != p:
            return True
    return False
