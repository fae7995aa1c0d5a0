"""Configurations, buffer realisations and vectors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import iovcrypto as iov
import kmem
from iovcrypto.tools.conformance import buffers as B
from iovcrypto.tools.conformance.areas import alloc_area
from iovcrypto.tools.conformance.configs import (
    DEFAULT_CIPHER_TESTVEC_CONFIGS,
    TEST_SG_TOTAL,
    InplaceMode,
    division_lengths,
    random_configs,
    valid_testvec_config,
)
from iovcrypto.tools.conformance.refs import SPECS
from iovcrypto.tools.conformance.vectors import (
    AeadVec,
    builtin_vectors,
    corpus_vectors,
    parse_nist,
    random_vectors,
)
from kmem import errno as E

NAMES = ["in-place (one sglist)", "in-place (two sglists)", "out-of-place",
         "unaligned buffer, offset=1", "buffer aligned only to alignmask",
         "two even aligned splits", "one src, two even splits dst",
         "uneven misaligned splits, may sleep", "misaligned splits crossing pages, inplace"]


def test_the_nine_default_configs() -> None:
    assert [c.name for c in DEFAULT_CIPHER_TESTVEC_CONFIGS] == NAMES
    assert all(valid_testvec_config(c) for c in DEFAULT_CIPHER_TESTVEC_CONFIGS)
    last = DEFAULT_CIPHER_TESTVEC_CONFIGS[8]
    assert last.inplace_mode == InplaceMode.INPLACE_ONE_SGLIST
    assert [(d.proportion_of_total, d.offset) for d in last.src_divs] == \
        [(7500, kmem.PAGE_SIZE - 32), (2500, kmem.PAGE_SIZE - 7)]
    assert DEFAULT_CIPHER_TESTVEC_CONFIGS[4].iv_off(15) == 16


def test_random_configs_are_valid_deterministic_and_named() -> None:
    a, b = random_configs(42, 40), random_configs(42, 40)
    assert [c.name for c in a] == [c.name for c in b]
    assert [c.name for c in a] != [c.name for c in random_configs(43, 40)]
    assert all(c.name.startswith("random:") and valid_testvec_config(c) for c in a)
    modes = {c.inplace_mode for c in a}
    assert modes == set(InplaceMode)
    assert any(len(c.src_divs) > 1 for c in a)


@given(st.lists(st.integers(1, 5000), min_size=1, max_size=8), st.integers(0, 9000))
def test_division_lengths_cover_the_total(props: list[int], total: int) -> None:
    props[-1] += TEST_SG_TOTAL - sum(props) if sum(props) < TEST_SG_TOTAL else 0
    if sum(props) != TEST_SG_TOTAL:
        return
    from iovcrypto.tools.conformance.configs import TestSgDivision
    parts = division_lengths(tuple(TestSgDivision(p) for p in props), total)
    assert sum(n for _, n in parts) == total
    assert all(n > 0 for _, n in parts) or parts == [(0, 0)]


def test_sglist_poison_and_corruption_detection() -> None:
    cfg = DEFAULT_CIPHER_TESTVEC_CONFIGS[7]
    data = bytes(range(200)) * 5
    t = B.build_cipher_test_sglists(cfg, 0, 1000, 1000, data)
    try:
        assert B.verify_correct_output(t.src.pieces, data, 0, True) == 0
        assert len(t.src.pieces) == 3 and t.src.nents == 3
        p = t.src.pieces[1]
        kmem.fill_views(p.area.views(p.offset + p.length, 1, write=True), 0)
        assert B.verify_correct_output(t.src.pieces, data, 0, True) == -E.EOVERFLOW
        assert B.verify_correct_output(t.src.pieces, data[:-1] + b"x", 0, False) == -E.EINVAL
        assert not t.src.is_corrupted()
        t.src.sgl[0].length += 1
        assert t.src.is_corrupted()
        # Out of place: dst starts as poison only.
        assert B.read_pieces(t.dst.pieces, 0, 4) == b"\xfe" * 4
    finally:
        t.free()


@pytest.mark.parametrize("itype,kind", B.ITER_REALISATIONS)
@pytest.mark.parametrize("cfg", DEFAULT_CIPHER_TESTVEC_CONFIGS, ids=lambda c: c.name)
def test_iter_realisations_describe_the_input(itype: str, kind: str, cfg) -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        t = B.build_cipher_test_iters(cfg, 7, 3000, 3016, data, itype, kind)
        # (An ITER_BVECQ also covers a trailer slot after the data.)
        more = B.BQ.TRAILER if itype == "BVECQ" else 0
        try:
            assert t.src.it.iter_type == getattr(iov, f"ITER_{itype}")
            if t.src is t.dst:
                # In place, one iterator object as both: ITER_DEST, sized
                # for the larger side.
                assert t.src.it.count == 3016 + more and not t.src.it.data_source
                assert B.read_pieces(t.src.pieces, 0, 3000) == data
            else:
                assert t.src.it.count == 3000 + more and t.dst.it.count == 3016 + more
                buf = bytearray(3000)
                assert iov.copy_from_iter(buf, 3000, t.src.it.copy()) == 3000
                assert bytes(buf) == data
            before = B.iter_snapshot(t.dst.it)
            assert iov.copy_to_iter(bytes(3016), 3016, t.dst.it.copy()) == 3016
            assert B.iter_snapshot(t.dst.it) == before
            assert B.verify_correct_output(t.dst.pieces, bytes(3016), 0, True) == 0
            assert not t.src.segs_corrupted()
        finally:
            t.free()


def test_builtin_and_corpus_vectors_agree_with_the_references() -> None:
    for name, spec in SPECS.items():
        vecs = builtin_vectors(name) + corpus_vectors(name, 4) + random_vectors(name, 3, 4)
        assert vecs, name
        for v in vecs:
            if isinstance(v, AeadVec):
                if not v.novrfy:
                    assert spec.encrypt(v.key, v.iv, v.assoc, v.ptext, v.authsize) == v.ctext, \
                        (name, v.source)
            elif v.setkey_error:
                continue    # refused at setkey: there is nothing to encrypt
            elif not (name == "xts(aes)" and v.key[:len(v.key) // 2] == v.key[len(v.key) // 2:]):
                assert spec.encrypt(v.key, v.iv, v.ptext) == v.ctext, (name, v.source)
                if v.iv_out is not None:
                    assert spec.iv_out(v.iv, v.ctext) == v.iv_out, (name, v.source)


def test_random_aead_vectors_include_inauthentic_ones() -> None:
    vecs = random_vectors("gcm(aes)", 9, 8)
    assert any(v.novrfy for v in vecs) and any(not v.novrfy for v in vecs)


def test_parse_nist_inherits_section_fields(tmp_path) -> None:
    p = tmp_path / "x.rsp"
    p.write_text("# c\n[Alen = 0, Plen = 24]\n\nKey = 00ff\n\nCount = 0\nCT = 01\n\n"
                 "Count = 1\nCT = 02\nFAIL\n")
    recs = list(parse_nist(str(p)))
    assert [(r["Key"], r["CT"], r["Alen"], "FAIL" in r) for r in recs] == \
        [("00ff", "01", "0", False), ("00ff", "02", "0", True)]


def test_a_bvecq_position_is_judged_as_a_place() -> None:
    # 100 | 200 in one segment, 50 | trailer in the next (prepended head).
    from iovcrypto.tools.conformance import bvecq_layout as BQ

    areas = [alloc_area("page", 300) for _ in range(4)]
    pieces = [B.Piece(a, 8, n) for a, n in zip(areas, (100, 200, 50, BQ.TRAILER))]
    try:
        head = BQ.build_chain(pieces)
        it = iov.iov_iter()
        BQ.iter_init(it, iov.ITER_SOURCE, 350, head)
        before = B.iter_snapshot(it)
        snap = list(before)
        snap[4] -= 300
        at = dict(end_of_slot=(id(head), 1, 200), next_slot=(id(head.next), 0, 0),
                  past_the_last_slot=(id(head), 2, 0))
        for ptr, slot, off in at.values():
            snap[5], snap[8], snap[3] = ptr, slot, off
            assert not BQ.misplaced(head, tuple(snap), before, 300)
            assert BQ.misplaced(head, tuple(snap), before, 299)
        # Field values that name no place of the chain.
        for ptr, slot, off in ((id(head), 1, 201), (id(head), 3, 0), (id(head), 2, 5),
                               (id(object()), 0, 0)):
            snap[5], snap[8], snap[3] = ptr, slot, off
            assert BQ.misplaced(head, tuple(snap), before, 300)
        # What the model's advance leaves is one of the equivalent forms.
        iov.iov_iter_advance(it, 300)
        assert not BQ.misplaced(head, B.iter_snapshot(it), before, 300)
    finally:
        for a in areas:
            a.free()
