"""The simulated engine: descriptor building, its constraints, and the
interrupt -> tasklet -> completion path in softirq context."""

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import kmem
from dma import DMA_BIDIRECTIONAL, Device, dma_map_phys, dma_mapping_error, dma_unmap_phys
from dma.engine import (
    ENGINE_MAX_DESC_LEN,
    ENGINE_MAX_SEGS,
    CryptoEngine,
    EngineJob,
    engine_build_descs,
)
from kmem import errno as E
from kmem.softirq import Tasklet, in_softirq, run_until_idle, tasklet_schedule, wait_event


def test_build_descs_respects_segments_and_length():
    src = [(0x1000 + i * 0x100, 16) for i in range(9)]
    descs = engine_build_descs(src, [(0x8000, 144)], 144)
    assert [len(d.src) for d in descs] == [ENGINE_MAX_SEGS, ENGINE_MAX_SEGS, 1]
    assert [d.length for d in descs] == [64, 64, 16]
    assert sum(n for d in descs for _, n in d.dst) == 144
    big = engine_build_descs([(0x100000, 3 * ENGINE_MAX_DESC_LEN)],
                             [(0x900000, 3 * ENGINE_MAX_DESC_LEN)], 3 * ENGINE_MAX_DESC_LEN)
    assert [d.length for d in big] == [ENGINE_MAX_DESC_LEN] * 3
    # Adjacent pieces stay one segment.
    assert engine_build_descs([(0x1000, 32), (0x1020, 32)], [(0x2000, 64)], 64)[0].src == \
        [(0x1000, 64)]


def _job(dev, mode, n, iv=bytes(16), key=bytes(range(16))):
    addr = kmem.kmalloc(n, kmem.GFP_KERNEL)
    kmem.write_virt(addr, bytes(range(256)) * (n // 256) + bytes(n % 256))
    bus = dma_map_phys(dev, kmem.__pa(addr), n, DMA_BIDIRECTIONAL)
    assert dma_mapping_error(dev, bus) == 0
    descs = engine_build_descs([(bus, n)], [(bus, n)], n)
    return addr, bus, EngineJob(mode, True, key, iv, descs, n)


def test_engine_runs_a_job_and_completes_through_irq_and_tasklet():
    dev = Device(name="t")
    seen = []

    def done(_data):
        seen.append((hw.fetch_completion(), in_softirq()))

    task = Tasklet(done)
    hw = CryptoEngine(dev, irq_handler=lambda _hw: tasklet_schedule(task))
    try:
        addr, bus, job = _job(dev, "cbc", 256)
        plain = kmem.read_virt(addr, 256)
        assert hw.submit(job) == 0
        assert kmem.read_virt(addr, 256) == plain       # nothing runs until the CPU waits
        wait_event(lambda: bool(seen))
        assert seen == [(job, True)] and job.status == 0
        want = Cipher(algorithms.AES(bytes(range(16))), modes.CBC(bytes(16))).encryptor() \
            .update(plain)
        assert kmem.read_virt(addr, 256) == want and job.iv_out == want[-16:]
        dma_unmap_phys(dev, bus, 256, DMA_BIDIRECTIONAL)
        kmem.kfree(addr)
    finally:
        hw.remove()


def test_engine_refuses_a_layout_it_cannot_take():
    dev = Device(name="t")
    hw = CryptoEngine(dev)
    try:
        bad = EngineJob("cbc", True, bytes(16), bytes(16),
                        engine_build_descs([(0x1002, 32)], [(0x2000, 32)], 32), 32)
        with kmem.expect_violations("warn"):
            assert hw.submit(bad) == -E.EINVAL
        odd = EngineJob("ctr", True, bytes(16), bytes(16),
                        engine_build_descs([(0x1000, 24), (0x3000, 8)], [(0x2000, 32)], 32), 32)
        with kmem.expect_violations("warn"):
            assert hw.submit(odd) == -E.EINVAL
    finally:
        hw.remove()


def test_unmapped_access_faults_and_fails_the_job():
    dev = Device(name="t")
    hw = CryptoEngine(dev)
    try:
        addr, bus, job = _job(dev, "ctr", 64)
        dma_unmap_phys(dev, bus, 64, DMA_BIDIRECTIONAL)      # too early: the device has not run
        assert hw.submit(job) == 0
        with kmem.expect_violations("iommu-fault"):
            run_until_idle()
        assert hw.fetch_completion() is job and job.status == -E.EIO
        kmem.kfree(addr)
    finally:
        hw.remove()


def test_injected_descriptor_error_and_hang():
    dev = Device(name="t")
    hw = CryptoEngine(dev)
    try:
        addr, bus, job = _job(dev, "cbc", 3 * ENGINE_MAX_DESC_LEN)
        hw.fail_desc = 1
        assert hw.submit(job) == 0
        run_until_idle()
        assert job.status == -E.EIO and job.done_descs == 1
        hw.fetch_completion()
        job2 = EngineJob("cbc", True, bytes(16), bytes(16), job.descs, job.total)
        hw.hang = 1
        assert hw.submit(job2) == 0
        run_until_idle()
        assert hw.fetch_completion() is None and hw.busy()
        assert hw.reset() == [job2] and not hw.busy()
        dma_unmap_phys(dev, bus, 3 * ENGINE_MAX_DESC_LEN, DMA_BIDIRECTIONAL)
        kmem.kfree(addr)
    finally:
        hw.remove()


def test_waiting_for_what_never_comes_is_a_hung_task():
    with pytest.raises(kmem.KernelBug, match="hung task"):
        wait_event(lambda: False, "test")


def test_sleeping_in_a_tasklet_is_recorded():
    def cb(_):
        kmem.kfree(kmem.kmalloc(8, kmem.GFP_KERNEL))

    tasklet_schedule(Tasklet(cb))
    with kmem.expect_violations("sleep-in-atomic"):
        run_until_idle()
