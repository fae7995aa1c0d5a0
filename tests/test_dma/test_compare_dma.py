"""compare's DMA cost table: the extracting caller against the iov_iter
API on the engine drivers."""

from iovcrypto.tools.compare import run_compare
from iovcrypto.tools.compare_render import render_markdown, render_text


def _paths(rec):
    return {p["path"]: p for p in rec["paths"]}


def test_dma_costs_per_path_on_the_engine():
    recs = run_compare(("cbc(aes)",), ("pages", "user"), size=16384, repeat=1)
    for rec in recs:
        assert rec["drivers"] == {"sg": "cbc-aes-engine", "iter": "cbc-aes-engine"}
        assert not rec["mismatch"] and not rec["ledger"] and not rec["errors"]
        p = _paths(rec)
        for path in ("a:extract", "b:sg", "c:iter", "d:sg>it", "e:it>sg"):
            c = p[path]["counters"]
            assert c["hw_descriptors"] >= 1 and c["dma_maps"] >= 1 and c["iova_bytes"] > 0
    pages, user = recs
    # Pages: no bounce; the converted driver links each page (two-step).
    assert _paths(pages)["c:iter"]["counters"]["bounce_bytes"] == 0
    assert _paths(pages)["c:iter"]["counters"]["dma_maps"] > \
        _paths(pages)["b:sg"]["counters"]["dma_maps"]
    # User memory: the extracting caller pins both sides for the scatterlist,
    # the converted driver only what it must write through after a bounce.
    a, c = _paths(user)["a:extract"]["counters"], _paths(user)["c:iter"]["counters"]
    assert a["pins"] > c["pins"] > 0
    text = render_text(recs, width=120)
    assert "DMA costs: cbc(aes) on pages" in text and "DMA costs: cbc(aes) on user" in text
    assert "hwdesc" in text and "iovaB" in text
    assert "#### DMA costs: cbc(aes) on pages" in render_markdown(recs)


def test_no_dma_table_without_a_device():
    recs = run_compare(("ecb(aes)",), ("pages",), size=4096, repeat=1)
    assert "DMA costs" not in render_text(recs)


def test_the_iov_iter_api_never_copies_more_than_the_extracting_caller():
    """On the engine drivers, over the layouts that bounce (fragmented,
    user) and those that do not: the converted driver copies no more bytes
    than extract_iter_to_sg + the legacy driver, and the legacy bounce
    through sg_copy_*_buffer is counted (its one-piece path was not)."""
    recs = run_compare(("cbc(aes)", "gcm(aes)"), ("pages", "fragmented", "user"), size=16384,
                       repeat=1)
    for rec in recs:
        assert rec["drivers"]["iter"].endswith("-aes-engine")
        p = _paths(rec)
        a, c = p["a:extract"]["counters"], p["c:iter"]["counters"]
        assert c["bytes_copied"] <= a["bytes_copied"], (rec["alg"], rec["layout"])
        if c["bounce_bytes"]:
            # A bounce copies the text in and out, on both paths.
            assert a["bytes_copied"] >= 2 * 16384
