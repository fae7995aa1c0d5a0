"""The default conformance run catches the two classic DMA-driver bugs,
planted into the engine drivers: unmapping before the device has
completed (legacy driver), and forgetting to unpin on an error path
(converted driver; only the DMA fault configs reach that path); and, for
gcm-aes-engine, the same two plus a tag never compared, plaintext not
zeroed on -EBADMSG, and a driver without its software fallback."""

from __future__ import annotations

import numpy as np

from iovcrypto import engine_aes as iov_engine
from iovcrypto import engine_aes_gcm as iov_gcm
from iovcrypto.tools.conformance.report import render_text
from iovcrypto.tools.conformance.session import Options, run
from kmem import errno as E
from sgl import engine_aes as sg_engine
from sgl import engine_aes_gcm as sg_gcm


def _conformance(api: str):
    """The default run, restricted to one engine driver (and its bridge)
    and one API."""
    return run(Options(driver="*cbc-aes-engine*", api=api))


def test_the_unplanted_drivers_pass():
    for api in ("sg", "iter"):
        rep = _conformance(api)
        assert rep.passed, render_text(rep)


def _plant_early_unmap(monkeypatch, module, start_name: str, unmap_name: str) -> None:
    """The bug: the driver unmaps as soon as the device has the job, and
    its completion path then skips the unmap it already did."""
    orig_start, orig_unmap = getattr(module, start_name), getattr(module, unmap_name)

    def start(dd, req):
        err = orig_start(dd, req)
        if err == -E.EINPROGRESS:                     # the transfer is not done yet
            orig_unmap(dd, req, req.ctx, False)
            req.ctx.unmapped_early = True
        return err

    def unmap(dd, req, rctx, ok):
        if not getattr(rctx, "unmapped_early", False):
            orig_unmap(dd, req, rctx, ok)
        rctx.unmapped_early = False

    monkeypatch.setattr(module, start_name, start)
    monkeypatch.setattr(module, unmap_name, unmap)


def test_unmapping_before_the_device_completes_is_caught(monkeypatch):
    _plant_early_unmap(monkeypatch, sg_engine, "engine_aes_start", "engine_aes_unmap")
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
    # Only fault configs reach the error paths: the engine unit's DMA faults
    # and the harness's allocation faults (a bounce buffer that cannot be had
    # after dst was pinned for the copy back).
    assert failed and all(f.vector == "fault" or f.cfg.startswith("fault") for f in failed)
    assert "[pin-leak]" in text
    assert "ITER_UBUF/user" in text or "ITER_IOVEC/user" in text


def test_the_bridges_run_the_engine_checks_too():
    rep = _conformance("bridge")
    kinds = {(r.target.api, k) for k, r in rep.results}
    assert {("bridge-sg", "engine"), ("bridge-iter", "engine")} <= kinds
    assert rep.passed, render_text(rep)


# gcm-aes-engine (sgl/engine_aes_gcm.py, iovcrypto/engine_aes_gcm.py).

def _gcm_conformance(api: str):
    return run(Options(driver="*gcm-aes-engine*", api=api))


def test_the_unplanted_gcm_drivers_pass():
    for api in ("sg", "iter", "bridge"):
        rep = _gcm_conformance(api)
        assert rep.passed, render_text(rep)


def test_gcm_unmapping_before_the_device_completes_is_caught(monkeypatch):
    _plant_early_unmap(monkeypatch, sg_gcm, "engine_gcm_start", "engine_gcm_unmap")
    rep = _gcm_conformance("sg")
    text = render_text(rep)
    print(text)
    assert not rep.passed
    assert "[iommu-fault]" in text and "unmapped bus address" in text


def test_gcm_forgetting_the_tag_pins_on_an_error_path_is_caught(monkeypatch):
    monkeypatch.setattr(iov_gcm, "engine_gcm_release_tag", lambda rctx, written: None)
    rep = _gcm_conformance("iter")
    text = render_text(rep)
    print(text)
    assert not rep.passed
    assert "[pin-leak]" in text


def test_gcm_not_comparing_the_tag_is_caught(monkeypatch):
    orig = iov_gcm.engine_gcm_done

    def done(dd, err, job):
        if not err and not dd.areq.ctx.encrypt:        # the bug: the received tag is trusted
            dd.areq.ctx.itag[:] = np.frombuffer(job.tag[:dd.areq.ctx.authsize], np.uint8)
        orig(dd, err, job)

    monkeypatch.setattr(iov_gcm, "engine_gcm_done", done)
    rep = _gcm_conformance("iter")
    text = render_text(rep)
    print(text)
    assert not rep.passed
    assert "decryption unexpectedly succeeded" in text and "expected_error=-74" in text


def test_an_api_that_forgets_to_zero_on_ebadmsg_is_caught(monkeypatch):
    """The iov_iter API zeroes the plaintext a failed decryption left in
    dst (the engine has written it before the tag is compared)."""
    import iovcrypto.aead as iov_aead
    orig = iov_aead.run_on_iters

    def run_on_iters(*args, zero_on_error=None):
        return orig(*args)                             # the bug: nothing zeroed

    monkeypatch.setattr(iov_aead, "run_on_iters", run_on_iters)
    rep = _gcm_conformance("iter")
    text = render_text(rep)
    print(text)
    assert not rep.passed
    assert "gcm-aes-engine" in text


def test_a_driver_without_its_fallback_is_caught(monkeypatch):
    """AES-192 vectors reach an engine whose key slot cannot hold them."""
    monkeypatch.setattr(sg_gcm, "engine_key_ok", lambda mode, key: True)
    rep = _gcm_conformance("sg")
    text = render_text(rep)
    print(text)
    assert not rep.passed
    assert "key slot" in text or "actual_error=-22" in text
