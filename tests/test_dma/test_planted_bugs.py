"""The default conformance run catches the two classic DMA-driver bugs,
planted into the engine drivers: unmapping before the device has
completed (legacy driver), and forgetting to unpin on an error path
(converted driver; only the DMA fault configs reach that path)."""

from __future__ import annotations

from iovcrypto import engine_aes as iov_engine
from iovcrypto.tools.conformance.report import render_text
from iovcrypto.tools.conformance.session import Options, run
from kmem import errno as E
from sgl import engine_aes as sg_engine


def _conformance(api: str):
    """The default run, restricted to one engine driver (and its bridge)
    and one API."""
    return run(Options(driver="*cbc-aes-engine*", api=api))


def test_the_unplanted_drivers_pass():
    for api in ("sg", "iter"):
        rep = _conformance(api)
        assert rep.passed, render_text(rep)


def test_unmapping_before_the_device_completes_is_caught(monkeypatch):
    orig_start, orig_unmap = sg_engine.engine_aes_start, sg_engine.engine_aes_unmap

    def start(dd, req):
        err = orig_start(dd, req)
        if err == -E.EINPROGRESS:                     # the bug: the transfer is not done yet
            orig_unmap(dd, req, req.ctx, False)
            req.ctx.unmapped_early = True
        return err

    def unmap(dd, req, rctx, ok):
        if not getattr(rctx, "unmapped_early", False):
            orig_unmap(dd, req, rctx, ok)
        rctx.unmapped_early = False

    monkeypatch.setattr(sg_engine, "engine_aes_start", start)
    monkeypatch.setattr(sg_engine, "engine_aes_unmap", unmap)
    rep = _conformance("sg")
    text = render_text(rep)
    print(text)
    assert not rep.passed
    assert "[iommu-fault]" in text and "DMA read" in text and "unmapped bus address" in text


def test_forgetting_to_unpin_on_an_error_path_is_caught(monkeypatch):
    orig = iov_engine.engine_aes_unprepare

    def unprepare(req, rctx, ok):
        if not ok:                                    # the bug: the error path keeps the pins
            rctx.src_map = rctx.dst_map = None
        orig(req, rctx, ok)

    monkeypatch.setattr(iov_engine, "engine_aes_unprepare", unprepare)
    rep = _conformance("iter")
    text = render_text(rep)
    print(text)
    assert not rep.passed
    failed = [f for _k, r in rep.results for f in r.failures]
    assert failed and all(f.vector == "fault" for f in failed)   # only the fault configs
    assert "[pin-leak]" in text
    assert "ITER_UBUF/user" in text or "ITER_IOVEC/user" in text


def test_the_bridges_run_the_engine_checks_too():
    rep = _conformance("bridge")
    kinds = {(r.target.api, k) for k, r in rep.results}
    assert {("bridge-sg", "engine"), ("bridge-iter", "engine")} <= kinds
    assert rep.passed, render_text(rep)
