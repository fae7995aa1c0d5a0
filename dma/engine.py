"""A simulated AES engine: the hardware both worlds' engine drivers
(``sgl/engine_aes.py``, ``iovcrypto/engine_aes.py``) program.

Shaped on the DMA-driven crypto blocks of real SoCs (the engines behind
drivers/crypto/atmel-aes.c, omap-aes.c, ccree, stm32-cryp): the driver
writes a *job* (mode, direction, key and IV slots) followed by a chain of
*descriptors* into a ring; each descriptor names up to
:data:`ENGINE_MAX_SEGS` source and destination segments as (bus address,
length) pairs.  The engine fetches and stores through the device's DMA
mappings only (``Device.dma_read``/``dma_write``: bus addresses resolved
through the IOMMU model, never a CPU view), carries the chaining state from
one descriptor to the next, reads its IV register back at the end of the
job, posts the job to its completion queue and raises its interrupt.

Hardware constraints, checked when a job is submitted (a driver that
breaks them gets -EINVAL and a WARN, as a real engine would raise a
descriptor-format error):

- at most :data:`ENGINE_MAX_SEGS` segments per side of a descriptor, and
  at most :data:`ENGINE_MAX_DESC_LEN` bytes per descriptor;
- segment addresses aligned to :data:`ENGINE_ADDR_ALIGN` bytes;
- segment lengths a multiple of the AES block, except the last segment of
  the job (its partial block) and, for gcm, the last of the AD phase;
- key slots of 128 or 256 bits per AES key (no AES-192: the driver needs
  a software fallback for it, as drivers for such engines have);
- at most :data:`ENGINE_RING_SIZE` descriptors in the ring (-EBUSY).

GCM (``mode="gcm"``), shaped on the GCM blocks behind atmel-aes and
stm32-cryp: the engine derives H = E_K(0^128) itself, hashes the AD phase
(descriptors with no destination segments, which come first), runs GCTR
from J0 + 1 over the data while hashing the ciphertext, hashes the length
block and leaves GHASH ^ E_K(J0) in its tag register (``job.tag``).  It
takes J0 = IV || 0^31 || 1 only (96-bit IVs).  What stays on the CPU:
formatting J0 from the IV (written into the IV slot), and reading the tag
register: writing the tag after the ciphertext, or comparing it with the
received one (-EBADMSG).

Nothing runs until the CPU waits: the engine is registered with
kmem.softirq, and each idle step runs one job (see kmem.softirq).
Injectable faults: ``fail_desc = n`` makes the descriptor n descriptors
from now report an error (the job fails with -EIO after the descriptors
before it have already stored their output), ``hang = n`` makes the next
n jobs never complete (the driver's watchdog must fire); an IOMMU fault
during a job fails it with -EIO.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ciphers.aead_accel import AccelGcm, AccelGcmKey
from ciphers.skcipher_algs import SkcipherImpl, impls
from dma.debug import IommuFault
from dma.device import Device
from kmem import WARN
from kmem import errno as E
from kmem import stats as _stats
from kmem.preempt import preempt_disable, preempt_enable
from kmem.softirq import register_device, unregister_device

ENGINE_MAX_SEGS = 4
ENGINE_ADDR_ALIGN = 4
ENGINE_BLOCK = 16
ENGINE_MAX_DESC_LEN = 0xFFF0
ENGINE_RING_SIZE = 256
# A descriptor as the engine fetches it: a 16-byte header and, per side,
# ENGINE_MAX_SEGS (u64 address, u32 length, u32 flags) entries.
SIZEOF_ENGINE_DESC = 16 + 2 * ENGINE_MAX_SEGS * 16

# The modes the engine implements, and the arithmetic it uses for them.
ENGINE_MODES = {"cbc": "cbc(aes)", "ctr": "ctr(aes)", "xts": "xts(aes)"}
ENGINE_AEAD_MODES = {"gcm": "gcm(aes)"}
# The key slot takes AES-128 and AES-256 keys (xts: two of the same size).
ENGINE_KEY_SIZES = (16, 32)


def _mode_impl(mode: str) -> SkcipherImpl:
    name = ENGINE_MODES[mode]
    return next(i for i in impls(mode) if i.cra_name == name and i.accelerated)


_IMPLS = {mode: _mode_impl(mode) for mode in ENGINE_MODES}

Seg = tuple[int, int]


@dataclass
class EngineDesc:
    """One hardware descriptor: source and destination (bus, length)
    segments covering the same ``length`` bytes."""

    src: list[Seg]
    dst: list[Seg]
    length: int


@dataclass
class EngineJob:
    """One operation: the job header the driver writes, the descriptor
    chain, and what the engine writes back (``status``, ``iv_out``)."""

    mode: str
    encrypt: bool
    key: bytes
    iv: bytes
    descs: list[EngineDesc]
    total: int
    cookie: object = None
    assoclen: int = 0           # gcm: bytes of the AD phase (in ``total``)
    status: int = 0
    iv_out: bytes = b""
    tag: bytes = b""            # gcm: the tag register after the job
    done_descs: int = 0


def engine_key_ok(mode: str, key: bytes) -> bool:
    """Does the key slot take this key (per AES key: 128 or 256 bits)?"""
    n = len(key) // 2 if mode == "xts" else len(key)
    return n in ENGINE_KEY_SIZES


def engine_split_segs(segs: list[Seg], off: int) -> tuple[list[Seg], list[Seg]]:
    """Cut a (bus, length) list ``off`` bytes in: (head, tail)."""
    head: list[Seg] = []
    for i, (bus, n) in enumerate(segs):
        if off >= n:
            head.append((bus, n))
            off -= n
            if not off:
                return head, segs[i + 1:]
            continue
        if off:
            head.append((bus, off))
        return head, [(bus + off, n - off), *segs[i + 1:]]
    return head, []


def engine_build_descs(src: list[Seg], dst: list[Seg] | None,
                       total: int) -> list[EngineDesc]:
    """Cut ``total`` bytes of source and destination segments into
    descriptors: a descriptor ends where either side would need a fifth
    segment or at ENGINE_MAX_DESC_LEN bytes; physically adjacent pieces
    of one side stay one segment.  ``dst=None`` builds source-only
    descriptors (gcm's AD phase).  Layout checks are the engine's (at
    submit), not this helper's."""
    hash_only = dst is None
    if hash_only:
        dst = src
    descs: list[EngineDesc] = []
    cur_s: list[list[int]] = []
    cur_d: list[list[int]] = []
    cur = 0
    si = di = so = do = 0
    left = total

    def add(side: list[list[int]], bus: int, n: int) -> bool:
        if side and side[-1][0] + side[-1][1] == bus:
            side[-1][1] += n
            return True
        if len(side) == ENGINE_MAX_SEGS:
            return False
        side.append([bus, n])
        return True

    def close() -> None:
        nonlocal cur_s, cur_d, cur
        descs.append(EngineDesc([(b, n) for b, n in cur_s],
                                [] if hash_only else [(b, n) for b, n in cur_d], cur))
        cur_s, cur_d, cur = [], [], 0

    while left > 0:
        if si >= len(src) or di >= len(dst):
            raise ValueError("engine_build_descs: segments shorter than total")
        sb, sl = src[si]
        db, dl = dst[di]
        n = min(sl - so, dl - do, left, ENGINE_MAX_DESC_LEN - cur)
        full_s = len(cur_s) == ENGINE_MAX_SEGS and cur_s[-1][0] + cur_s[-1][1] != sb + so
        full_d = len(cur_d) == ENGINE_MAX_SEGS and cur_d[-1][0] + cur_d[-1][1] != db + do
        if full_s or full_d:
            close()
            continue
        add(cur_s, sb + so, n)
        add(cur_d, db + do, n)
        cur += n
        left -= n
        so += n
        do += n
        if so == sl:
            si, so = si + 1, 0
        if do == dl:
            di, do = di + 1, 0
        if cur == ENGINE_MAX_DESC_LEN and left:
            close()
    if cur:
        close()
    return descs


def _check_job(job: EngineJob) -> str | None:
    """Which hardware constraint the job breaks, or None."""
    gcm = job.mode in ENGINE_AEAD_MODES
    if job.mode not in ENGINE_MODES and not gcm:
        return f"unknown mode {job.mode!r}"
    if not engine_key_ok(job.mode, job.key):
        return f"a {len(job.key)}-byte key does not fit the {job.mode} key slot"
    if not job.descs:
        return "a job with no descriptors"
    if sum(d.length for d in job.descs) != job.total:
        return "descriptor lengths do not add up to the job length"
    nad = sum(1 for d in job.descs if not d.dst) if gcm else 0
    if gcm and (sum(d.length for d in job.descs[:nad]) != job.assoclen or
                any(not d.dst for d in job.descs[nad:])):
        return "the AD phase must come first and cover assoclen bytes"
    last = len(job.descs) - 1
    for i, d in enumerate(job.descs):
        if not (0 < d.length <= ENGINE_MAX_DESC_LEN):
            return f"descriptor {i} length {d.length}"
        phase_end = i == last or i == nad - 1
        for side, segs in (("src", d.src), ("dst", d.dst)):
            if i < nad and side == "dst":
                continue
            if not 1 <= len(segs) <= ENGINE_MAX_SEGS:
                return f"descriptor {i} has {len(segs)} {side} segments"
            if sum(n for _, n in segs) != d.length:
                return f"descriptor {i} {side} segments do not cover its length"
            for j, (bus, n) in enumerate(segs):
                if bus % ENGINE_ADDR_ALIGN:
                    return f"descriptor {i} {side} segment at {bus:#x} is not " \
                           f"{ENGINE_ADDR_ALIGN}-byte aligned"
                if n % ENGINE_BLOCK and not (phase_end and j == len(segs) - 1):
                    return f"descriptor {i} {side} segment of {n} bytes is not a whole " \
                           f"number of blocks"
    return None


@dataclass
class CryptoEngine:
    """The engine: its DMA device, ring, completion queue and interrupt
    line (``irq_handler(engine)``, installed by the driver's probe)."""

    dev: Device
    name: str = "aes-engine"
    irq_handler: Callable[[CryptoEngine], None] | None = None
    drvdata: object = None
    fail_desc: int = -1
    hang: int = 0
    ring: deque = field(default_factory=deque)
    cq: deque = field(default_factory=deque)
    lost: list = field(default_factory=list)
    ring_used: int = 0
    jobs_run: int = 0
    _keys: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        register_device(self.step)

    def remove(self) -> None:
        """Model helper: the device goes away (stops taking idle steps)."""
        unregister_device(self.step)

    # The driver's side.

    def submit(self, job: EngineJob) -> int:
        """Write a job into the ring: 0, -EINVAL (a constraint broken:
        WARN), or -EBUSY (no room in the ring)."""
        bad = _check_job(job)
        if WARN(bad is not None, f"{self.name}: descriptor format error: {bad}"):
            return -E.EINVAL
        if self.ring_used + len(job.descs) > ENGINE_RING_SIZE:
            return -E.EBUSY
        self.ring.append(job)
        self.ring_used += len(job.descs)
        if _stats.ON:
            _stats.note_hw_descriptors(len(job.descs))
            _stats.note_descriptor(SIZEOF_ENGINE_DESC * len(job.descs), len(job.descs))
        return 0

    def fetch_completion(self) -> EngineJob | None:
        """Read the completion queue (what the driver's tasklet does)."""
        return self.cq.popleft() if self.cq else None

    def busy(self) -> bool:
        return bool(self.ring) or bool(self.lost)

    def reset(self) -> list[EngineJob]:
        """Soft reset (a driver's timeout handler): abandon the jobs in
        flight and return them."""
        jobs = list(self.lost) + list(self.ring)
        self.lost.clear()
        self.ring.clear()
        self.ring_used = 0
        return jobs

    # The hardware's side.

    def step(self) -> bool:
        """Run one job from the ring; False if the ring is empty."""
        if not self.ring:
            return False
        job = self.ring.popleft()
        self.jobs_run += 1
        if self.hang > 0:
            self.hang -= 1
            self.lost.append(job)          # never completes: the watchdog's case
            return True
        self._run(job)
        self.ring_used -= len(job.descs)
        self.cq.append(job)
        if self.irq_handler is not None:
            preempt_disable()              # hard interrupt context
            try:
                self.irq_handler(self)
            finally:
                preempt_enable()
        return True

    def _sched(self, mode: str, key: bytes) -> object:
        sched = self._keys.get((mode, key))
        if sched is None:
            err, sched = _IMPLS[mode].setkey(key, 0)
            if err:
                return None
            if len(self._keys) > 64:
                self._keys.clear()
            self._keys[(mode, key)] = sched
        return sched

    def _gather(self, segs: list[Seg]) -> np.ndarray:
        parts = [self.dev.dma_read(bus, n) for bus, n in segs]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _scatter(self, segs: list[Seg], data: np.ndarray) -> None:
        pos = 0
        for bus, n in segs:
            self.dev.dma_write(bus, data[pos:pos + n])
            pos += n

    def _run_gcm(self, job: EngineJob) -> None:
        """GCTR and GHASH over the job; the tag register at the end.  The
        engine takes J0 = IV || 0^31 || 1 (96-bit IVs, as gcm(aes) has)."""
        if job.iv[12:] != b"\0\0\0\1":
            job.status = -E.EINVAL
            return
        gk = self._keys.get(("gcm", job.key))
        if gk is None:
            if len(self._keys) > 64:
                self._keys.clear()
            gk = self._keys[("gcm", job.key)] = AccelGcmKey(job.key)
        # The arithmetic through OpenSSL: GHASH always runs over the
        # ciphertext, so a decryption re-encrypts what it produced to get
        # the tag register (the hardware's one pass, done twice in C).
        mac = AccelGcm(gk, job.iv[:12])
        dec = None if job.encrypt else AccelGcm(gk, job.iv[:12], decrypt=True)
        try:
            for d in job.descs:
                if self._desc_fails():
                    job.status = -E.EIO
                    return
                src = self._gather(d.src)
                if not d.dst:
                    mac.update_ad(src)
                else:
                    out = np.empty(d.length, np.uint8)
                    if dec is None:
                        mac.update(src, out)
                    else:
                        dec.update(src, out)
                        mac.update(out, np.empty(d.length, np.uint8))
                    self._scatter(d.dst, out)
                job.done_descs += 1
            job.tag = mac.finalize()
        except IommuFault:
            job.status = -E.EIO

    def _desc_fails(self) -> bool:
        """Fault injection: does this descriptor fail (``fail_desc``)?"""
        if self.fail_desc == 0:
            self.fail_desc = -1
            return True
        if self.fail_desc > 0:
            self.fail_desc -= 1
        return False

    def _run(self, job: EngineJob) -> None:
        if job.mode in ENGINE_AEAD_MODES:
            self._run_gcm(job)
            return
        impl = _IMPLS[job.mode]
        sched = self._sched(job.mode, job.key)
        if sched is None:
            job.status = -E.EINVAL          # the key slot rejected the key
            return
        core = impl.new_core(sched, job.iv, job.encrypt)
        tail = impl.final_len(job.total) if impl.final_len else 0
        bulk_end = job.total - tail
        pos = 0
        held: list[tuple[EngineDesc, np.ndarray, int]] = []   # outputs waiting for the tail
        try:
            for d in job.descs:
                if self._desc_fails():
                    job.status = -E.EIO
                    return
                src = self._gather(d.src)
                out = np.empty(d.length, np.uint8)
                bulk = max(0, min(d.length, bulk_end - pos))
                if bulk:
                    core.update(src[:bulk], out[:bulk])
                if bulk < d.length:
                    out[bulk:] = src[bulk:]
                    held.append((d, out, bulk))
                else:
                    self._scatter(d.dst, out)
                pos += d.length
                job.done_descs += 1
            if held:
                buf = np.concatenate([o[b:] for _, o, b in held])
                core.final(buf, buf)
                p = 0
                for d, out, b in held:
                    n = d.length - b
                    out[b:] = buf[p:p + n]
                    p += n
                    self._scatter(d.dst, out)
            if impl.iv_out:
                job.iv_out = bytes(core.next_iv())
        except IommuFault:
            job.status = -E.EIO
