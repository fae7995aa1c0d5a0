"""Buffer configurations: crypto/testmgr.c's ``struct testvec_config``, the
nine ``default_cipher_testvec_configs`` and
``generate_random_testvec_config``.

A configuration says *how* a test vector's bytes are laid out in memory:
in place (one list, or two lists over the same memory) or out of place,
how the total is divided into pieces (proportions out of
:data:`TEST_SG_TOTAL`), at which offset into a two-page buffer each piece
starts (optionally plus the algorithm's alignmask), where the IV and key
live, and the request flags.  It knows nothing about either world: the
scatterlist and iov_iter realisations are in :mod:`.buffers`.

The PRNG is a seeded ``random.Random`` drawing 32-bit words, used exactly
as testmgr uses prandom (``below(n) = u32 % n``), so one seed always gives
the same configurations and the same names.  The hash-only fields
(finalization type, flushes, nosimd) are drawn and named as testmgr does,
to keep the draw sequence and the names faithful, but have no effect on
cipher tests (the model has no SIMD to disable).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import IntEnum

from ciphers.algapi import CRYPTO_TFM_REQ_MAY_SLEEP
from kmem import PAGE_SIZE

TEST_SG_TOTAL = 10000
TESTMGR_POISON_BYTE = 0xFE
TESTMGR_POISON_LEN = 16
XBUFSIZE = 8
# testmgr's own bound on alignment slack (crypto/testmgr.c, spec §7.1).
MAX_ALGAPI_ALIGNMASK = 127
TESTVEC_CONFIG_NAMELEN = 192


class InplaceMode(IntEnum):
    """``enum inplace_mode``."""

    OUT_OF_PLACE = 0
    INPLACE_ONE_SGLIST = 1
    INPLACE_TWO_SGLISTS = 2


class FlushType(IntEnum):
    NONE = 0
    FLUSH = 1
    REIMPORT = 2


class FinalizationType(IntEnum):
    FINAL = 0
    FINUP = 1
    DIGEST = 2


@dataclass(frozen=True)
class TestSgDivision:
    """``struct test_sg_division``: a piece of the total, in 1/10000ths,
    starting ``offset`` bytes into its two-page buffer (plus the
    alignmask when ``offset_relative_to_alignmask``)."""

    proportion_of_total: int
    offset: int = 0
    offset_relative_to_alignmask: bool = False
    flush_type: FlushType = FlushType.NONE
    nosimd: bool = False

    def effective_offset(self, alignmask: int) -> int:
        return self.offset + (alignmask if self.offset_relative_to_alignmask else 0)


@dataclass(frozen=True)
class TestvecConfig:
    """``struct testvec_config`` (cipher fields, plus the hash ones testmgr
    draws for random configurations)."""

    name: str
    inplace_mode: InplaceMode = InplaceMode.OUT_OF_PLACE
    req_flags: int = 0
    src_divs: tuple[TestSgDivision, ...] = (TestSgDivision(TEST_SG_TOTAL),)
    dst_divs: tuple[TestSgDivision, ...] = ()
    iv_offset: int = 0
    key_offset: int = 0
    iv_offset_relative_to_alignmask: bool = False
    key_offset_relative_to_alignmask: bool = False
    finalization_type: FinalizationType = FinalizationType.FINAL
    nosimd: bool = False
    nosimd_setkey: bool = False
    random: bool = field(default=False, compare=False)

    @property
    def inplace(self) -> bool:
        return self.inplace_mode != InplaceMode.OUT_OF_PLACE

    def dst_divisions(self) -> tuple[TestSgDivision, ...]:
        """dst_divs, or src_divs when none are given (testmgr's rule)."""
        return self.dst_divs or self.src_divs

    def iv_off(self, alignmask: int) -> int:
        return self.iv_offset + (alignmask if self.iv_offset_relative_to_alignmask else 0)

    def key_off(self, alignmask: int) -> int:
        return self.key_offset + (alignmask if self.key_offset_relative_to_alignmask else 0)


def _valid_divs(divs: tuple[TestSgDivision, ...], allow_empty: bool) -> bool:
    if not divs:
        return allow_empty
    if len(divs) > XBUFSIZE or any(d.proportion_of_total <= 0 for d in divs):
        return False
    return sum(d.proportion_of_total for d in divs) == TEST_SG_TOTAL


def valid_testvec_config(cfg: TestvecConfig) -> bool:
    """``valid_testvec_config()`` (cipher part): proportions that add up
    to exactly 10000, at most 8 divisions, IV slack within bounds."""
    if not cfg.name:
        return False
    if not _valid_divs(cfg.src_divs, False) or not _valid_divs(cfg.dst_divs, True):
        return False
    iv_slack = cfg.iv_offset + (MAX_ALGAPI_ALIGNMASK if cfg.iv_offset_relative_to_alignmask
                                else 0)
    if iv_slack > MAX_ALGAPI_ALIGNMASK + 1:
        return False
    if cfg.finalization_type == FinalizationType.DIGEST and any(
            d.flush_type != FlushType.NONE for d in cfg.src_divs):
        return False
    any_nosimd = cfg.nosimd or cfg.nosimd_setkey or any(d.nosimd for d in cfg.src_divs)
    return not (any_nosimd and cfg.req_flags & CRYPTO_TFM_REQ_MAY_SLEEP)


_D = TestSgDivision

DEFAULT_CIPHER_TESTVEC_CONFIGS: tuple[TestvecConfig, ...] = (
    TestvecConfig("in-place (one sglist)", InplaceMode.INPLACE_ONE_SGLIST),
    TestvecConfig("in-place (two sglists)", InplaceMode.INPLACE_TWO_SGLISTS),
    TestvecConfig("out-of-place"),
    TestvecConfig("unaligned buffer, offset=1", src_divs=(_D(10000, 1),),
                  iv_offset=1, key_offset=1),
    TestvecConfig("buffer aligned only to alignmask", src_divs=(_D(10000, 1, True),),
                  iv_offset=1, iv_offset_relative_to_alignmask=True,
                  key_offset=1, key_offset_relative_to_alignmask=True),
    TestvecConfig("two even aligned splits", src_divs=(_D(5000), _D(5000))),
    TestvecConfig("one src, two even splits dst", dst_divs=(_D(5000), _D(5000))),
    TestvecConfig("uneven misaligned splits, may sleep", req_flags=CRYPTO_TFM_REQ_MAY_SLEEP,
                  src_divs=(_D(1900, 33), _D(3300, 7), _D(4800, 18)),
                  iv_offset=3, key_offset=3),
    TestvecConfig("misaligned splits crossing pages, inplace", InplaceMode.INPLACE_ONE_SGLIST,
                  src_divs=(_D(7500, PAGE_SIZE - 32), _D(2500, PAGE_SIZE - 7))),
)

DEFAULT_CONFIG_NAMES: tuple[str, ...] = tuple(c.name for c in DEFAULT_CIPHER_TESTVEC_CONFIGS)


class Prandom:
    """The testmgr PRNG helpers (``prandom_u32_below``, ``prandom_bool``,
    ``prandom_u32_inclusive``) over a seeded generator."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._r = random.Random(seed)

    def u32(self) -> int:
        return self._r.getrandbits(32)

    def below(self, ceil: int) -> int:
        # testmgr's "u32 % ceil": slightly biased, as in the kernel.
        return self.u32() % ceil if ceil > 0 else 0

    def bool(self) -> bool:
        return self.below(2) == 1

    def inclusive(self, lo: int, hi: int) -> int:
        return lo + self.below(hi - lo + 1)

    def bytes(self, n: int) -> bytes:
        return self._r.randbytes(n)


def generate_random_sgl_divisions(rng: Prandom, max_divs: int, gen_flushes: bool,
                                  may_sleep: bool) -> tuple[tuple[TestSgDivision, ...], str]:
    """``generate_random_sgl_divisions()``: up to ``max_divs`` divisions
    and their name fragment ("37.50%@alignmask+12, 62.50%@4090")."""
    divs: list[TestSgDivision] = []
    parts: list[str] = []
    remaining = TEST_SG_TOTAL
    while remaining:
        if len(divs) == max_divs - 1 or rng.bool():
            this_len = remaining
        elif rng.below(4) == 0:
            this_len = (remaining + 1) // 2
        else:
            this_len = rng.inclusive(1, remaining)
        r = rng.below(4)
        if r == 0:
            offset = rng.inclusive(PAGE_SIZE - 128, PAGE_SIZE - 1)
        elif rng.bool():
            offset = rng.below(32)
        else:
            offset = rng.below(PAGE_SIZE)
        relative = rng.below(8) == 0
        flush = FlushType.NONE
        nosimd = False
        flush_str = ""
        if gen_flushes:
            f = rng.below(4)
            if f == 0:
                flush, flush_str = FlushType.REIMPORT, "<reimport>"
            elif f == 1:
                flush, flush_str = FlushType.FLUSH, "<flush>"
            if flush != FlushType.NONE and not may_sleep and rng.bool():
                nosimd, flush_str = True, flush_str + "<nosimd>"
        divs.append(TestSgDivision(this_len, offset, relative, flush, nosimd))
        remaining -= this_len
        parts.append(f"{flush_str}{this_len // 100}.{this_len % 100:02d}%@"
                     f"{'alignmask+' if relative else ''}{offset}")
    return tuple(divs), ", ".join(parts)


def generate_random_testvec_config(rng: Prandom) -> TestvecConfig:
    """``generate_random_testvec_config()`` with testmgr's distribution;
    the name starts with "random:" and spells out every choice."""
    name = "random:"
    r = rng.below(4)
    if r < 2:
        mode = InplaceMode.OUT_OF_PLACE
    elif r == 2:
        mode, name = InplaceMode.INPLACE_ONE_SGLIST, name + " inplace_one_sglist"
    else:
        mode, name = InplaceMode.INPLACE_TWO_SGLISTS, name + " inplace_two_sglists"
    req_flags = 0
    if rng.bool():
        req_flags |= CRYPTO_TFM_REQ_MAY_SLEEP
        name += " may_sleep"
    f = rng.below(4)
    fin = (FinalizationType.FINAL, FinalizationType.FINUP, FinalizationType.DIGEST,
           FinalizationType.DIGEST)[f]
    name += (" use_final", " use_finup", " use_digest", " use_digest")[f]
    nosimd = nosimd_setkey = False
    if not req_flags & CRYPTO_TFM_REQ_MAY_SLEEP:
        if rng.bool():
            nosimd, name = True, name + " nosimd"
        if rng.bool():
            nosimd_setkey, name = True, name + " nosimd_setkey"
    src_divs, frag = generate_random_sgl_divisions(
        rng, XBUFSIZE, fin != FinalizationType.DIGEST, bool(req_flags & CRYPTO_TFM_REQ_MAY_SLEEP))
    name += f" src_divs=[{frag}]"
    dst_divs: tuple[TestSgDivision, ...] = ()
    if mode == InplaceMode.OUT_OF_PLACE and rng.bool():
        dst_divs, frag = generate_random_sgl_divisions(rng, XBUFSIZE, False, False)
        name += f" dst_divs=[{frag}]"
    iv_offset = key_offset = 0
    if rng.bool():
        iv_offset = rng.inclusive(1, MAX_ALGAPI_ALIGNMASK)
        name += f" iv_offset={iv_offset}"
    if rng.bool():
        key_offset = rng.inclusive(1, MAX_ALGAPI_ALIGNMASK)
        name += f" key_offset={key_offset}"
    # Cipher tests ignore flushes (hash only); strip them so that realising
    # the divisions never depends on them.
    src_divs = tuple(TestSgDivision(d.proportion_of_total, d.offset,
                                    d.offset_relative_to_alignmask) for d in src_divs)
    return TestvecConfig(name[:TESTVEC_CONFIG_NAMELEN - 1], mode, req_flags, src_divs, dst_divs,
                         iv_offset, key_offset, finalization_type=fin, nosimd=nosimd,
                         nosimd_setkey=nosimd_setkey, random=True)


def random_configs(seed: int, n: int) -> list[TestvecConfig]:
    """``n`` random configurations from one seed (deterministic)."""
    rng = Prandom(seed)
    return [generate_random_testvec_config(rng) for _ in range(n)]


def division_lengths(divs: tuple[TestSgDivision, ...], total: int) -> list[tuple[int, int]]:
    """Step 2 of ``build_test_sglist``: ``(division index, length)`` of the
    kept pieces; zero-length pieces are dropped, the rounding remainder
    goes to the last kept one, and if every piece is empty one empty
    piece over division 0 is kept."""
    out: list[tuple[int, int]] = []
    remaining = total
    for i, d in enumerate(divs):
        if remaining == 0:
            break
        n = min(remaining, (total * d.proportion_of_total + TEST_SG_TOTAL // 2) // TEST_SG_TOTAL)
        if n:
            out.append((i, n))
            remaining -= n
    if not out:
        out.append((0, 0))
    if remaining:
        i, n = out[-1]
        out[-1] = (i, n + remaining)
    return out
