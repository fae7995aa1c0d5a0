"""Planted faults: realistic bugs, one at a time, each of which the DEFAULT
conformance run must catch (only the selection of driver and API is
narrowed, to keep the suite short; configurations, realisations, faults
and vectors are the defaults).

Each bug is something a driver, bridge or iov_iter author could write --
an off-by-one at a span end, a stale cursor after a window reload, an
error path that forgets to release, a zero-length entry taken for the
end, an open-coded ``sg + 1`` -- planted by monkeypatching the model's own
code, and spread over both worlds, the bridges and shims, every iterator
type, chained and zero-length entries, large requests, multi-folio
layouts, both in-place forms and the error paths.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest

import iovcrypto.aead as ae
import iovcrypto.api as api
import iovcrypto.skcipher as sk
import iovcrypto.skcipher_walk as walk
import kmem
import sgl.scatterwalk as sw
import shims.bridge as br
import shims.extract as ex
import shims.sg_iter as sgi
from iovcrypto import ITER_DISCARD, ITER_XARRAY, iov_iter_advance, iov_iter_zero
from iovcrypto.tools.conformance import session as S
from kmem import PAGE_SIZE
from kmem import errno as E
from kmem.folio_queue import PAGEVEC_SIZE
from sgl.scatterlist import SG_END

MP = pytest.MonkeyPatch
# the position half of lib/iov_iter.c, whose private helpers some plants replace
ii = importlib.import_module("iovcrypto.iov_iter_position")


def _wrap_run_on_iters(mp: MP, after: Callable) -> None:
    """Replace the API's run_on_iters (in both API modules) by one that
    calls the real one and then ``after(src, dst, need_src, need_dst, err)``."""
    real = api.run_on_iters

    def run(req, need_src, need_dst, call, zero_on_error=None):
        src, dst = req.src, req.dst
        err = real(req, need_src, need_dst, call, zero_on_error)
        after(src, dst, need_src, need_dst, err)
        return err
    mp.setattr(sk, "run_on_iters", run)
    mp.setattr(ae, "run_on_iters", run)


# -- the iov_iter world: iterator arithmetic ------------------------------

def vec_advance_exact_end(mp: MP) -> None:
    """Advance stops *in* a segment whose end it reaches exactly."""
    def adv(i, size, bvec):
        if not i.count:
            return
        i.count -= size
        size += i.iov_offset
        idx = start = i.vec_idx
        while idx < start + i._u:
            seg = i._ptr[idx]
            n = seg.bv_len if bvec else seg.iov_len
            if size <= n:
                break
            size -= n
            idx += 1
        i.iov_offset, i._u, i.vec_idx = size, i._u - (idx - start), idx
    mp.setattr(ii, "_vec_advance", adv)


def vec_advance_stops_at_empty(mp: MP) -> None:
    """A zero-length segment is taken for the end of the array."""
    real = ii._vec_advance

    def adv(i, size, bvec):
        real(i, size, bvec)
        # ...and the pointer is left on the empty segment it stopped at.
        while i.vec_idx > 0 and i._u < len(i._ptr) and \
                (i._ptr[i.vec_idx - 1].bv_len if bvec else i._ptr[i.vec_idx - 1].iov_len) == 0:
            i.vec_idx -= 1
            i._u += 1
    mp.setattr(ii, "_vec_advance", adv)


def folioq_advance_order0(mp: MP) -> None:
    """FOLIOQ advance assumes every folio is one page."""
    def adv(i, size):
        if not i.count:
            return
        i.count -= size
        q, slot = i._ptr, i._u
        size += i.iov_offset
        while size >= PAGE_SIZE:
            size -= PAGE_SIZE
            slot += 1
            if slot >= PAGEVEC_SIZE and q.next is not None:
                q, slot = q.next, 0
        i.iov_offset, i._u, i._ptr = size, slot, q
    mp.setattr(ii, "_folioq_advance", adv)


def xarray_advance_keeps_count(mp: MP) -> None:
    """ITER_XARRAY advance moves the offset but forgets the count."""
    real = ii.iter_advance

    def adv(i, size):
        if i.iter_type == ITER_XARRAY:
            i.iov_offset += min(size, i.count)
            return
        real(i, size)
    mp.setattr(api, "iter_advance", adv)


# -- the iov_iter crypto API ----------------------------------------------

def one_object_advances_by_dst(mp: MP) -> None:
    """One iterator as both advances by the dst amount (the old docstring)."""
    def after(src, dst, ns, nd, err):
        if not err and src is dst and src is not None and ns > nd:
            ii.iov_iter_revert(src, ns - nd)
    _wrap_run_on_iters(mp, after)


def dst_advanced_by_src_amount(mp: MP) -> None:
    """A copy-paste slip: dst is advanced by what src consumed."""
    def after(src, dst, ns, nd, err):
        if not err and src is not dst and dst is not None and nd != ns:
            if nd > ns:
                ii.iov_iter_revert(dst, nd - ns)
            else:
                iov_iter_advance(dst, ns - nd)
    _wrap_run_on_iters(mp, after)


def no_zeroing_on_fault(mp: MP) -> None:
    """dst's plaintext area is zeroed on -EBADMSG only, not after a fault."""
    real = api.run_on_iters

    def run(req, need_src, need_dst, call, zero_on_error=None):
        dst = req.dst
        err = real(req, need_src, need_dst, call, None)
        if err == -E.EBADMSG and zero_on_error is not None:
            z = dst.copy()
            iov_iter_advance(z, zero_on_error[0])
            iov_iter_zero(zero_on_error[1], z)
        return err
    mp.setattr(ae, "run_on_iters", run)


def moved_on_fault(mp: MP) -> None:
    """The iterators are put back on -EBADMSG only; the walk had already
    consumed part of src when user memory faulted."""
    def after(src, dst, ns, nd, err):
        if err == -E.EFAULT and src is not None and src is not dst:
            iov_iter_advance(src, min(16, src.count))
    _wrap_run_on_iters(mp, after)


# -- the iov_iter skcipher walk -------------------------------------------

def walk_bounce_leak_on_error(mp: MP) -> None:
    """The error path forgets the slow-path bounce buffer."""
    real = walk.skcipher_walk_done

    def done(w, res):
        if res < 0 or (w.nbytes and w.out.err):
            w.buffer = 0
        return real(w, res)
    mp.setattr(walk, "skcipher_walk_done", done)
    mp.setattr(walk, "_next_slow", _slow_with(done))


def _slow_with(done: Callable) -> Callable:
    real = walk._next_slow
    g = real.__globals__

    def slow(w, bsize):
        saved = g["skcipher_walk_done"]
        g["skcipher_walk_done"] = done
        try:
            return real(w, bsize)
        finally:
            g["skcipher_walk_done"] = saved
    return slow


def walk_reload_one_byte_late(mp: MP) -> None:
    """Each window reload after the first resumes one byte late."""
    real = walk.ScatterWalk._refill

    def refill(self):
        if self.views and self.it.count:
            iov_iter_advance(self.it, 1)
        return real(self)
    mp.setattr(walk.ScatterWalk, "_refill", refill)


def walk_cursor_off_by_one(mp: MP) -> None:
    """After a bounced block the plan's cursor lands one byte short."""
    real = walk.walk_plan_advance
    mp.setattr(walk, "walk_plan_advance", lambda w, n: real(w, n - 1 if n > 1 else n))


# -- shims: iov_iter -> scatterlist ---------------------------------------

def xarray_stale_offset(mp: MP) -> None:
    """The upstream bug: every folio's offset from the start position."""
    mp.setattr(kmem.quirks, "_enabled", {"extract_xarray_to_sg_offset_v6_3_to_v7_1"})


def folioq_extract_order0(mp: MP) -> None:
    """FOLIOQ extraction takes every folio for one page."""
    mp.setattr(ex, "folioq_folio_size", lambda q, slot: PAGE_SIZE)


def kvec_virt_to_page(mp: MP) -> None:
    """KVEC extraction uses virt_to_page() for vmalloc and stack memory."""
    mp.setattr(ex, "_kvec_page", kmem.virt_to_page)


def user_rollback_keeps_pins(mp: MP) -> None:
    """On a failed extraction the entries are dropped but not unpinned."""
    def user(it, maxsize, out, sg_max, flags):
        ret = 0
        table = out.table
        while True:
            res, pages, off = ex.iov_iter_extract_pages(it, [None] * sg_max, maxsize, sg_max,
                                                        flags)
            if res <= 0:
                table.nents = table.orig_nents
                return res
            length = res
            maxsize -= length
            ret += length
            npages = -(-(off + length) // PAGE_SIZE)
            sg_max -= npages
            for k in range(npages):
                seg = min(PAGE_SIZE - off, length)
                out.append(pages[k], seg, off)
                length -= seg
                off = 0
            if maxsize <= 0 or sg_max <= 0:
                return ret
    mp.setattr(ex, "_user_to_sg", user)


def bridge_dst_failure_keeps_src(mp: MP) -> None:
    """When the dst table cannot be built, the src table is not released."""
    def iters_to_sg(req, need_src, need_dst, gfp):
        held = []
        pairs = [(req.src, need_src)]
        if req.dst is not req.src:
            pairs.append((req.dst, need_dst))
        else:
            pairs[0] = (req.src, max(need_src, need_dst))
        for it, need in pairs:
            if it is None:
                held.append((br.ExtractedTable(), br.iov_iter()))
                continue
            err, table = br.iter_to_sg_table(it.copy(), need, gfp)
            if err:
                return err, []
            held.append((table, it))
        return 0, held
    mp.setattr(br, "_iters_to_sg", iters_to_sg)


def bridge_one_object_short_table(mp: MP) -> None:
    """In place with one iterator, the bridge describes only the src bytes
    (no room for the tag an AEAD encryption writes)."""
    real = br._iters_to_sg

    def iters_to_sg(req, need_src, need_dst, gfp):
        if req.dst is req.src:
            need_dst = need_src
        return real(req, need_src, need_dst, gfp)
    mp.setattr(br, "_iters_to_sg", iters_to_sg)


# -- shims: scatterlist -> iov_iter, and the scatterlist world ------------

def sg_iter_zero_entry_is_end(mp: MP) -> None:
    """A zero-length entry is taken for the end of the list."""
    real = sgi.sg_next

    def nxt(sg):
        n = real(sg)
        return None if n is not None and n.length == 0 else n
    mp.setattr(sgi, "sg_next", nxt)


def sg_iter_drops_entry_offset(mp: MP) -> None:
    """The bio_vecs built from a scatterlist lose each entry's own offset."""
    def pieces(sgl_, skip, len_):
        sg = sgi._start(sgl_)
        out = []
        while len_:
            if sg is None:
                return None
            n = sg.length
            if skip >= n:
                skip -= n
            else:
                take = min(n - skip, len_)
                out.append((sgi.sg_page(sg), skip, take))
                len_ -= take
                skip = 0
                if not len_:
                    break
            sg = sgi.sg_next(sg)
        return out
    mp.setattr(sgi, "_pieces", pieces)


def _raw_next(sg):
    """``sg + 1``: the next slot of the array, chain link or not."""
    if sg._flags & SG_END:
        return None
    arr, idx = sg._arr, sg._idx
    return arr[idx + 1] if idx + 1 < len(arr) else None


def scatterwalk_open_coded_next(mp: MP) -> None:
    """The scatterlist walk steps with ``sg + 1`` instead of sg_next()."""
    mp.setattr(sw, "sg_next", _raw_next)


def sg_iter_open_coded_next(mp: MP) -> None:
    """The sg -> bvec conversion steps with ``sg + 1`` instead of sg_next()."""
    mp.setattr(sgi, "sg_next", _raw_next)


def bridge_in_place_source(mp: MP) -> None:
    """The sg -> iter bridge describes an in-place list as one ITER_SOURCE
    iterator passed as both src and dst."""
    real = br._sg_to_iters

    def to_iters(req, need_src, need_dst, gfp):
        err, src, dst, held = real(req, need_src, need_dst, gfp)
        if not err and req.src is req.dst and src is not None:
            src.count = max(src.count, dst.count)
            return err, src, src, held
        return err, src, dst, held
    mp.setattr(br, "_sg_to_iters", to_iters)


def bridge_sg_dst_failure_keeps_src(mp: MP) -> None:
    """sg -> iter bridge: when the dst bio_vec array cannot be had, the
    src one is not freed."""
    real = br._sg_to_iters

    def to_iters(req, need_src, need_dst, gfp):
        if req.src is req.dst:
            return real(req, need_src, need_dst, gfp)
        held = []
        src_it, dst_it = br.iov_iter(), br.iov_iter()
        for it, sg, need, d in ((src_it, req.src, need_src, br.ITER_SOURCE),
                                (dst_it, req.dst, need_dst, br.ITER_DEST)):
            err, arr = br.iov_iter_bvec_from_sg(it, d, sg, 0, need, gfp)
            if err:
                return err, None, None, []
            held.append(arr)
        return 0, src_it, dst_it, held
    mp.setattr(br, "_sg_to_iters", to_iters)


def length_check_off_by_one(mp: MP) -> None:
    """The API's "iterator too short" check rejects an exact fit."""
    real = api.run_on_iters

    def run(req, need_src, need_dst, call, zero_on_error=None):
        for it, need in ((req.src, need_src), (req.dst, need_dst)):
            if need and it is not None and it.count <= need:
                return -E.EINVAL
        return real(req, need_src, need_dst, call, zero_on_error)
    mp.setattr(sk, "run_on_iters", run)


def short_copy_is_the_end(mp: MP) -> None:
    """A user-memory fault in the walk is taken for the end of the data."""
    real = walk.ScatterWalk._refill

    def refill(self):
        ok = real(self)
        if not ok and self.err == -E.EFAULT:
            self.err = 0
        return ok
    mp.setattr(walk.ScatterWalk, "_refill", refill)


def key_through_direct_map(mp: MP) -> None:
    """setkey reads the caller's key through the direct map (virt_to_page,
    as sg_init_one() on the key would), wrong for vmalloc and stack keys."""
    import ciphers.crypto_api as capi

    def views(addr, n, write=False):
        if isinstance(addr, int) and not isinstance(addr, bool):
            page = kmem.virt_to_page(addr)
            return kmem.page_views(page, addr & (PAGE_SIZE - 1), n, write=write)
        return real(addr, n, write=write) if write else real(addr, n)
    real = capi.buffer_views
    mp.setattr(capi, "buffer_views", views)


# -- ITER_BVECQ: positions judged as places, not field values ---------------

def bvecq_advance_keeps_slot(mp: MP) -> None:
    """iov_iter_bvecq_advance() moves on to the next bvecq segment but
    keeps the slot index it had reached in the old one."""
    def seek(bq, slot, by):
        while True:
            if slot >= bq.nr_slots:
                if bq.next is None:
                    break
                bq = bq.next
                continue
            n = bq.bv[slot].bv_len
            if by < n:
                break
            by -= n
            slot += 1
            if not by:
                break
        return bq, slot, by
    mp.setattr(ii, "_bvecq_seek", seek)


def bvecq_extract_drops_bv_offset(mp: MP) -> None:
    """extract_bvecq_to_sg() gives each entry the iterator's offset into
    the slot and forgets the bio_vec's own offset into its page."""
    def to_sg(it, maxsize, out, sg_max):
        bq, slot, offset = it._ptr, it.bvecq_slot, it.iov_offset
        maxsize = min(maxsize, it.count)
        ret = 0
        while sg_max > 0 and ret < maxsize:
            if slot >= bq.nr_slots:
                if bq.next is None:
                    break
                bq, slot, offset = bq.next, 0, 0
                continue
            bv = bq.bv[slot]
            if offset >= bv.bv_len:
                offset, slot = 0, slot + 1
                continue
            part = min(maxsize - ret, bv.bv_len - offset)
            out.append(bv.bv_page, part, offset)
            sg_max -= 1
            offset += part
            ret += part
        it._ptr, it.bvecq_slot, it.iov_offset = bq, slot, offset
        it.count -= ret
        return ret
    mp.setattr(ex, "_bvecq_to_sg", to_sg)


# -- ITER_DISCARD as dst ---------------------------------------------------

def discard_aead_shortcut(mp: MP) -> None:
    """"Nothing to write, nothing to do": an AEAD driver returns 0 at once
    for a DISCARD dst, so an inauthentic message is never rejected."""
    import iovcrypto.aead_template as at

    real = at.AeadTemplateDriver.decrypt

    def decrypt(self, req):
        if req.dst is not None and req.dst.iter_type == ITER_DISCARD:
            return 0
        return real(self, req)
    mp.setattr(at.AeadTemplateDriver, "decrypt", decrypt)


def discard_skcipher_shortcut(mp: MP) -> None:
    """The same shortcut in a skcipher driver: the chained output IV is
    never computed."""
    import iovcrypto.skcipher_template as st

    real = st.WalkDriver._crypt

    def crypt(self, req, encrypt):
        if req.dst.iter_type == ITER_DISCARD:
            return 0
        return real(self, req, encrypt)
    mp.setattr(st.WalkDriver, "_crypt", crypt)


def discard_dst_not_advanced(mp: MP) -> None:
    """"A sink has no position": the API leaves a DISCARD dst's count
    alone on success."""
    def after(src, dst, need_src, need_dst, err):
        if err == 0 and dst is not None and dst is not src and dst.iter_type == ITER_DISCARD:
            dst.count += need_dst
    _wrap_run_on_iters(mp, after)


def discard_in_place_accepted(mp: MP) -> None:
    """The direction rule without the sink case: one DISCARD iterator as
    both src and dst is accepted."""
    def check(src, dst):
        if src is not None and src is dst:
            return -E.EINVAL if kmem.WARN(src.data_source, "one object not ITER_DEST") else 0
        if src is not None and kmem.WARN(not src.data_source, "src not ITER_SOURCE"):
            return -E.EINVAL
        if dst is not None and kmem.WARN(dst.data_source, "dst not ITER_DEST"):
            return -E.EINVAL
        return 0
    mp.setattr(api, "check_directions", check)


def bridge_discard_extracted(mp: MP) -> None:
    """The iov->sg bridge hands a DISCARD dst to extract_iter_to_sg() like
    any other iterator (WARN, -EIO)."""
    mp.setattr(br, "ITER_DISCARD", -1)


# -- one request reused through the async path -----------------------------

def engine_iv_after_completion(mp: MP) -> None:
    """The engine's done tasklet writes the output IV through ``req->iv``
    after calling the completion -- by then a caller that resubmits from
    its callback has pointed the request at the next IV."""
    import iovcrypto.engine_aes as eng

    def done_task(dd):
        job = dd.hw.fetch_completion()
        if job is None or job.cookie is not dd.areq:
            return
        eng.timer_delete(dd.timer)
        req = dd.areq
        dd.is_async = True
        eng.engine_aes_unmap(dd, req, eng.skcipher_request_ctx(req), job.status == 0)
        eng.engine_aes_complete(dd, job.status)
        if job.status == 0 and job.iv_out and req.iv is not None:
            out = eng.np.frombuffer(job.iv_out, eng.np.uint8)
            eng.copy_views(eng.buffer_views(req.iv, out.size, write=True), [out])
    mp.setattr(eng.engine_dd.done_task, "func", done_task)


def iterators_moved_after_completion(mp: MP) -> None:
    """The iov_iter API calls the caller's completion first and applies
    its iterator contract after it, so the callback sees src and dst
    where they were."""
    real = api.run_on_iters

    def run(req, need_src, need_dst, call, zero_on_error=None):
        base = req.base
        user = base.complete
        base.complete = None

        def call_late():
            api_complete = base.complete

            def late(data, err):
                if err == -E.EINPROGRESS:
                    return user(data, err)
                base.complete = user
                user(data, err)
                cur = base.complete          # a resubmission's, or still the caller's
                api_complete(data, err)
                base.complete = cur
            base.complete = late
            return call()
        err = real(req, need_src, need_dst, call_late, zero_on_error)
        if base.complete is None:
            base.complete = user
        return err
    mp.setattr(sk, "run_on_iters", run)
    mp.setattr(ae, "run_on_iters", run)


BUGS: dict[str, tuple[Callable[[MP], None], dict]] = {
    # iov_iter arithmetic (checked against the layout oracle)
    "vec-advance-exact-end": (vec_advance_exact_end, dict(driver="cbc(aes-generic)", api="iter")),
    "vec-advance-stops-at-empty": (vec_advance_stops_at_empty,
                                   dict(driver="cbc(aes-generic)", api="iter")),
    "folioq-advance-order0": (folioq_advance_order0, dict(driver="ctr(aes-generic)", api="iter")),
    "xarray-advance-keeps-count": (xarray_advance_keeps_count,
                                   dict(driver="ecb(aes-generic)", api="iter")),
    # the iov_iter API: both in-place forms, error paths
    "one-object-advances-by-dst": (one_object_advances_by_dst,
                                   dict(alg="gcm(aes)", driver="gcm-aes-openssl", api="iter")),
    "dst-advanced-by-src-amount": (dst_advanced_by_src_amount,
                                   dict(driver="gcm-aes-openssl", api="iter")),
    "no-zeroing-after-fault": (no_zeroing_on_fault,
                               dict(driver="rfc4106(gcm_base(ctr(aes-generic),ghash-generic))",
                                    api="iter")),
    "iterators-moved-on-fault": (moved_on_fault, dict(driver="cbc(aes-generic)", api="iter")),
    # the iov_iter skcipher walk: windows, span ends, error paths
    "walk-bounce-leak-on-error": (walk_bounce_leak_on_error,
                                  dict(driver="cbc(aes-generic)", api="iter")),
    "walk-reload-one-byte-late": (walk_reload_one_byte_late,
                                  dict(driver="ctr(aes-generic)", api="iter")),
    "walk-cursor-off-by-one": (walk_cursor_off_by_one,
                               dict(driver="cbc(aes-generic)", api="iter")),
    # iov_iter -> scatterlist (bridge-iter)
    "xarray-stale-offset": (xarray_stale_offset, dict(driver="bridge(ecb(aes-generic))",
                                                      api="bridge")),
    "folioq-extract-order0": (folioq_extract_order0, dict(driver="bridge(ecb(aes-generic))",
                                                          api="bridge")),
    "kvec-virt_to_page": (kvec_virt_to_page, dict(driver="bridge(cbc(aes-generic))",
                                                  api="bridge")),
    "user-rollback-keeps-pins": (user_rollback_keeps_pins,
                                 dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    "bridge-dst-failure-keeps-src": (bridge_dst_failure_keeps_src,
                                     dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    "bridge-one-object-short-table": (bridge_one_object_short_table,
                                      dict(driver="bridge(gcm-aes-openssl)", api="bridge")),
    # scatterlist -> iov_iter (bridge-sg) and the scatterlist world
    "sg-iter-zero-entry-is-end": (sg_iter_zero_entry_is_end,
                                  dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    "sg-iter-open-coded-next": (sg_iter_open_coded_next,
                                dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    "scatterwalk-open-coded-next": (scatterwalk_open_coded_next,
                                    dict(driver="cbc(aes-generic)", api="sg")),
    "bridge-in-place-one-source-iter": (bridge_in_place_source,
                                        dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    "sg-iter-drops-entry-offset": (sg_iter_drops_entry_offset,
                                   dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    "bridge-sg-dst-failure-keeps-src": (bridge_sg_dst_failure_keeps_src,
                                        dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    "length-check-off-by-one": (length_check_off_by_one,
                                dict(driver="cbc(aes-generic)", api="iter")),
    "short-copy-is-the-end": (short_copy_is_the_end, dict(driver="cbc(aes-generic)", api="iter")),
    # ITER_BVECQ (linux-next): a wrong advance is no equivalent position
    "bvecq-advance-keeps-slot": (bvecq_advance_keeps_slot,
                                 dict(driver="ctr(aes-generic)", api="iter")),
    "bvecq-extract-drops-bv-offset": (bvecq_extract_drops_bv_offset,
                                      dict(driver="bridge(ecb(aes-generic))", api="bridge")),
    # ITER_DISCARD as dst, and the forms the API refuses
    "discard-aead-shortcut": (discard_aead_shortcut, dict(alg="gcm(aes)", api="iter")),
    "discard-skcipher-shortcut": (discard_skcipher_shortcut,
                                  dict(driver="cbc(aes-generic)", api="iter")),
    "discard-dst-not-advanced": (discard_dst_not_advanced,
                                 dict(driver="ctr(aes-generic)", api="iter")),
    "discard-in-place-accepted": (discard_in_place_accepted,
                                  dict(driver="gcm-aes-openssl", api="iter")),
    "bridge-discard-extracted": (bridge_discard_extracted,
                                 dict(driver="bridge(cbc(aes-generic))", api="bridge")),
    # one request reused through the async path
    "engine-iv-after-completion": (engine_iv_after_completion,
                                   dict(driver="cbc-aes-engine", api="iter")),
    "iterators-moved-after-completion": (iterators_moved_after_completion,
                                         dict(driver="cbc-aes-engine", api="iter")),
    # key and IV in vmalloc and stack memory (the scatterlist world)
    "key-through-direct-map": (key_through_direct_map, dict(driver="cbc(aes-generic)", api="sg")),
}


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_default_run_catches_planted_bug(bug: str, monkeypatch: MP) -> None:
    plant, sel = BUGS[bug]
    plant(monkeypatch)
    rep = S.run(S.Options(**sel))
    assert rep.results, f"{bug}: the selection {sel} matched nothing"
    assert not rep.passed, f"{bug}: the default run did not catch it ({sel})"
    # Clean up what a planted leak left behind, so the ledger of the test
    # itself stays clean: the failures above are the point.
    kmem.check_leaks()
    del kmem.ledger.records[:]


def test_the_same_selections_pass_without_a_bug() -> None:
    seen = set()
    for _plant, sel in BUGS.values():
        key = tuple(sorted(sel.items()))
        if key in seen:
            continue
        seen.add(key)
        rep = S.run(S.Options(**sel))
        assert rep.passed, [f.message for f in rep.failures][:3]
