"""The data flow on fixtures written in the style of real callers and drivers.

One fixture per pattern of the issue; each test names the groups, pairs and
advice exactly (finding ids are ``L<line>.<column>`` of the fixture).
"""

from __future__ import annotations

import pytest

from iovcrypto.tools.checklist import scan_c_file, scan_c_source

from .helpers import C_FIXTURES, FLOW, RECALL


def _scan(name):
    report = scan_c_file(FLOW / name)
    assert report.status == "ok"
    return report


def _groups(report):
    return {g.id: g for g in report.groups}


def _advice(report, fid):
    return report.finding(fid).advice


def test_dm_crypt_style_mixed_aead_table_is_one_bvec_table():
    """kmalloc'd sector/IV/tag entries and a bio page in one 4-entry AEAD table:
    one iterator type (BVEC) per table, not kvec for three lines and bvec for one."""
    r = _scan("blkcrypt_aead.c")
    g1, g2 = r.groups
    assert (g1.table, g1.iterator, g1.consumer) == ("struct acme_blk_req.in", "BVEC", "L52.3")
    assert g1.members == ["L15.21", "L35.2", "L36.2", "L37.2", "L38.2", "L39.2", "L47.37",
                          "L50.2", "L52.3", "L54.3"]
    assert g1.iterator_reason == ("one bio_vec array for mixed entries (1 bio_vec page, "
                                  "3 kernel buffers)")
    assert (g2.table, g2.iterator, g2.consumer) == ("struct acme_blk_req.out", "BVEC", "L52.3")
    assert g2.functions == ["acme_blk_seal()", "acme_blk_iv_post()"]
    # AD = sector number + IV: entries 0 and 1 of both lists.
    assert (g1.aead_layout["holds"], g1.aead_layout["entries"]) == (True, ["L36.2", "L37.2"])
    assert (g2.aead_layout["holds"], g2.aead_layout["entries"]) == (True, ["L42.2", "L43.2"])
    assert _advice(r, "L36.2") == ("bvec_set_virt(&br->in[0], &br->sector, sizeof(__le64)) in "
                                   "the bio_vec array (the same virt_to_page() rule as "
                                   "sg_set_buf())")
    assert _advice(r, "L38.2") == ("bvec_set_page(&br->in[2], bv_in->bv_page, blk->sector_size, "
                                   "bv_in->bv_offset): the caller's bio_vec, trimmed")
    # kmap of sg_page() on pages held as bio_vecs: a copy or a step function.
    assert _advice(r, "L64.25") == (
        "the page is the caller's bio_vec: memcpy_from_bvec()/memcpy_to_bvec() or "
        "bvec_kmap_local() on it, not kmap_local_page(sg_page())")
    assert r.finding("L64.25").kind == "restructure"
    # A use only inside pr_debug() is dropped with the print and costs nothing.
    dbg = r.finding("L47.37")
    assert dbg.debug and dbg.advice == "drop it with the print: the use is only in a debug message"
    # Asynchronous: the lifetime question stays open and says until when.
    q = {x.key: x.answer for x in g1.questions}
    assert q["lifetime"] == ("open: asynchronous; the bio_vec/kvec array, the iterators and the "
                             "buffers must live in the request context until acme_blk_done() "
                             "runs")
    assert q["refs"].startswith("answered: the pages are the caller's")
    assert g1.road == "iov_iter" and g1.road_reason.startswith("asynchronous or hardware")


def test_tls_style_table_crosses_calls_and_the_callback_releases_pages():
    r = _scan("tls_rx.c")
    g = _groups(r)
    out, inp = g["G1"], g["G2"]
    assert (out.table, out.iterator, out.consumer) == ("sgout in acme_rx_record()", "BVEC",
                                                       "L65.2")
    # Data-flow order: built in acme_rx_record(), filled in acme_rx_pages(),
    # consumed in acme_rx_decrypt(), released in the completion callback.
    assert out.functions == ["acme_rx_record()", "acme_rx_pages()", "acme_rx_decrypt()",
                             "acme_rx_done()"]
    assert out.members == ["L74.31", "L84.2", "L85.2", "L86.8", "L89.2", "L90.9", "L38.68",
                           "L46.8", "L53.3", "L62.26", "L64.2", "L65.2", "L25.21", "L25.30",
                           "L26.21", "L30.2", "L30.14", "L33.3", "L33.12"]
    assert out.iterator_reason == ("one bio_vec array for mixed entries (1 extracted iov_iter "
                                   "range, 1 kernel buffer)")
    assert (inp.table, inp.iterator) == ("sgin in acme_rx_record()", "BVEC")
    assert inp.members == ["L74.21", "L78.2", "L79.2", "L80.8", "L90.9", "L61.69", "L64.2",
                           "L65.2"]
    # The AD (record header) sits in front of the skb in src and of the user pages in dst.
    assert (inp.aead_layout["slot"], inp.aead_layout["holds"]) == ("src", True)
    assert (out.aead_layout["slot"], out.aead_layout["entries"]) == ("dst", ["L85.2"])
    # iov_iter_get_pages2() in one function, put_page(sg_page()) in the callback.
    (p,) = r.pairs
    assert (p.id, p.acquire, p.release, p.callback) == ("P1", "L46.8", "L33.3", "acme_rx_done")
    # The AD sits in front of the user pages in dst, so the pages are still
    # extracted into the bio_vec array: the receive path owns the pins.
    assert p.owner == ("acme_rx_pages(): the user pages share a bio_vec array with other "
                       "entries (the AD in front), so they are still extracted: "
                       "iov_iter_extract_pages() pins user memory only, and the pins are "
                       "released in the completion callback acme_rx_done() with "
                       "unpin_user_page() when iov_iter_extract_will_pin()")
    assert _advice(r, "L80.8").startswith("bio_vec entries in the same array: the skb's "
                                          "linear part with bvec_set_virt()")
    assert r.finding("L46.8").pairs == ("P1",) and r.finding("L33.3").pairs == ("P1",)
    assert _advice(r, "L33.12") == "ownership: the page reference is put_page()'s business, see P1"
    assert r.finding("L86.8").construct == "same_file_call"
    assert r.finding("L25.30").construct == "field_read"


def test_dma_engine_driver_alignment_loop_debug_and_boundary():
    r = _scan("engine_dma.c")
    g1, _, g3 = r.groups
    # sg_page() fed to dma_map_page(): the engine conversion, a DMA road.
    assert g3.members == ["L64.80", "L66.31"] and g3.road == "scatterlist"
    assert _advice(r, "L66.31").startswith("the engine conversion: map pages from "
                                           "iov_iter_extract_pages()")
    assert r.finding("L66.31").kind == "dma"
    assert (g1.table, g1.consumer, g1.iterator, g1.road) == (
        "req->src in acme_aes_dma_start()", "L46.6", "ITER", "scatterlist")
    assert g1.members == ["L44.7", "L46.6", "L46.36", "L49.8", "L53.44", "L26.49", "L28.21",
                          "L31.2", "L31.21"]
    assert r.finding("L49.8").name == "dmaengine_prep_slave_sg"
    assert r.finding("L31.2").advice.startswith(
        "iov_iter_is_aligned(iter, addr_mask, len_mask) on the iterator instead of the loop "
        "(lib/iov_iter.c until v6.17; removed in the v6.18 cycle")
    assert r.finding("L53.44").debug
    ref = r.finding("L54.17")
    assert (ref.construct, ref.name, ref.rule) == ("reference", "sgl_free", "sg_table_free")
    write = r.finding("L61.2")
    assert (write.construct, write.text, write.group) == ("field_write",
                                                          "last->length -= extra", "G2")
    # __iomem and the type argument of list_first_entry() are not "skipped".
    assert r.skipped == [] and r.benign_skips == 2


def test_af_alg_style_pages_allocated_released_and_cleared():
    r = _scan("alg_tx.c")
    (g,) = r.groups
    assert g.table == "struct acme_tsgl.sg"
    assert g.functions == ["acme_tx_fill()", "acme_tx_pull()"]
    assert [(p.id, p.acquire, p.release) for p in r.pairs] == [
        ("P1", "L23.9", "L28.3"), ("P2", "L23.9", "L48.3"), ("P3", "L23.9", "L49.3")]
    assert r.pairs[1].owner == ("unchanged: acme_tx_fill() allocates and acme_tx_pull() frees "
                                "(in acme_tx_pull()); the bio_vec describing the page takes no "
                                "reference")
    assert _advice(r, "L49.3") == "nothing to clear: a bio_vec array owns no page (goes with P3)"
    assert [r.finding(i).construct for i in ("L23.9", "L28.3", "L48.3")] == [
        "acquire", "release", "release"]
    assert [r.finding(i).construct for i in ("L31.2", "L32.2")] == ["field_write"] * 2
    assert r.skipped == []  # min_t(unsigned int, ...) is a type argument


def test_smb_style_synchronous_software_user_takes_the_library_road():
    r = _scan("smb_seal.c")
    g1, g2 = r.groups
    assert (g1.iterator, g1.road) == ("KVEC", "library")
    assert g1.road_reason == (
        "synchronous (crypto_wait_req() at line 37 in acme_smb_seal()), software-only and "
        "lib/crypto offers gcm(aes): call the library on an iterate_and_advance_kernel() walk, "
        "no request (the SMB shape)")
    assert g1.aead_layout["holds"] is True  # assoc = 20 is the first entry's length
    q = {x.key: x.answer for x in g1.questions}
    assert q["lifetime"].startswith("answered: synchronous (crypto_wait_req() at line 37")
    assert _advice(r, "L31.2") == "kvec entry { .iov_base = hdr->nonce, .iov_len = 20 }"
    # The AD length out of step with the list is caught.
    assert g2.aead_layout["holds"] is False
    assert g2.aead_layout["text"] == ("AD length 20 matches no leading entries of src (16, "
                                      "body_len): the AD must sit in front of the text in src "
                                      "and dst")


def test_bio_vec_reuse_and_stack_lifetime_answered_by_the_wait():
    r = _scan("blkcrypt_sync.c")
    g1, g2, g3 = r.groups
    assert _advice(r, "L26.2") == ("reuse the bio_vec: sg = bv; the array is described by "
                                   "iov_iter_bvec()")
    assert g1.synchronous == "crypto_wait_req() at line 29 in acme_crypt_bvec()"
    q = {x.key: x.answer for x in g1.questions}
    assert q["lifetime"] == ("answered: synchronous (crypto_wait_req() at line 29 in "
                             "acme_crypt_bvec()); the table and buffers outlive the request")
    assert g2.members == ["L40.21", "L47.2", "L48.2", "L49.2", "L51.2"]
    assert (g3.consumer, g3.road) == ("L59.2", "bvec")


def test_effort_per_group_and_calibration():
    """Calibrated against two upstream conversions to the 2025 scatterwalk API.

    aspeed-hace-hash (2026-03, "Use memcpy_from_sglist() in
    aspeed_ahash_dma_prepare()"): one scatterwalk_map_and_copy() becomes
    memcpy_from_sglist(), +1/-2 lines.  Our estimate for that shape (a
    positional copy on a request's list, G1/G2 of calib_walk.c) is 3 points
    = 45 min: review, one mechanical line, test — high for the one line, and
    the per-group review dominates small changes.

    nx (2025-02, "crypto: nx - use the new scatterwalk functions", Eric
    Biggers' series): five positional copies, one open-coded copy and one
    hand-rolled walk, +17/-50 over four files, the walk (nx.c, 31 changed
    lines) the largest part.  Our estimate ranks it the same way: the walk
    group costs more than three copy groups (10 against 3 each), and the
    nx-sized total (about 4 copy groups of 3, an open-coded copy of 7, a walk
    of 10–14) is about 30 points ≈ 7.5 h, roughly 0.5 point per changed
    upstream line, against 1 for the one-line aspeed change: the estimate is
    an upper bound for a developer new to the driver, not for the API's author.
    """
    r = _scan("calib_walk.c")
    g1, g2, g3 = r.groups
    assert (g1.effort_points, g2.effort_points, g3.effort_points) == (3, 3, 10)
    assert g1.effort_reason == ("2 to review the group + 1 mechanical line(s) at 1 = 3 points "
                                "≈ 0.8 h at 15 min/point (1 line(s) of work)")
    assert g3.effort_points > 3 * g1.effort_points
    # Declarations and debug-only uses come with the group: one driver's 48
    # items no longer read as 38 hours.
    aead = _scan("blkcrypt_aead.c")
    g = aead.groups[0]
    assert "2 carried along" in g.effort_reason
    src = (FLOW / "blkcrypt_aead.c").read_bytes().replace(b'pr_debug("acme-blk: %d entries\\n", '
                                                          b'sg_nents(br->in));', b"")
    assert scan_c_source(src, "x.c").groups[0].effort_points == g.effort_points


def test_same_file_definitions_keep_their_calls_when_files_are_concatenated():
    """Concatenating sources (one of them defining catalogued names) drops no call."""
    parts = [p.read_bytes() for p in sorted(FLOW.glob("*.c"))]
    parts += [p.read_bytes() for p in sorted(C_FIXTURES.glob("*.c"))]
    own = b"int sg_nents(void *sg) { return 1; }\n"

    def calls(report):
        return [(f.name, f.text) for f in report.findings
                if f.construct in (*RECALL, "same_file_call") and f.entry.names
                and not f.rule.startswith("page_")]
    separate = [c for p in parts for c in calls(scan_c_source(p, "x.c"))]
    joined = scan_c_source(own + b"\n".join(parts), "all.c")
    assert sorted(calls(joined)) == sorted(separate)
    same = [f for f in joined.findings if f.name == "sg_nents"]
    assert len(same) == 4 and all(f.construct == "same_file_call" for f in same)


@pytest.mark.parametrize("name", sorted(p.name for p in FLOW.glob("*.c")))
def test_ids_groups_and_pairs_are_consistent(name):
    r = _scan(name)
    ids = [f.id for f in r.findings]
    assert len(ids) == len(set(ids))
    for g in r.groups:
        assert g.members and all(i in ids for i in g.members)
        assert g.consumer is None or g.consumer in g.members
        for i in g.members:
            assert r.finding(i).group is not None
    for p in r.pairs:
        assert p.id in r.finding(p.acquire).pairs and p.id in r.finding(p.release).pairs
    for f in r.findings:
        if f.group:
            assert f.id in next(g for g in r.groups if g.id == f.group).members


def test_pages_only_feeding_a_request_need_no_owner_after_the_conversion():
    src = b"""static int enc(struct skcipher_request *req, struct iov_iter *it, size_t len, u8 *iv)
{
\tstruct page *pages[4];
\tstruct scatterlist sg[4];
\tsize_t off;
\tssize_t got;
\tint i, err;

\tgot = iov_iter_get_pages2(it, pages, len, 4, &off);
\tsg_init_table(sg, 4);
\tfor (i = 0; i < 4; i++)
\t\tsg_set_page(&sg[i], pages[i], PAGE_SIZE - off, off);
\tskcipher_request_set_crypt(req, sg, sg, got, iv);
\terr = crypto_skcipher_encrypt(req);
\tfor (i = 0; i < 4; i++)
\t\tput_page(pages[i]);
\treturn err;
}
"""
    r = scan_c_source(src, "pages.c")
    (g,) = r.groups
    assert (g.iterator, g.consumer) == ("ITER", "L13.2")
    (p,) = r.pairs
    assert (p.acquire, p.release, p.callback) == ("L9.8", "L16.3", None)
    assert p.owner == ("nobody: the caller's iov_iter goes to the request as it is (proposed "
                       "iov_iter crypto API), no page is taken, and the release in enc() "
                       "goes away")
