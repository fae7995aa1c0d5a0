"""The C reader on the four driver fixtures, look-alikes and bad input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from iovcrypto.tools.checklist import scan_c_file, scan_c_source

from .helpers import C_FIXTURES, GARBAGE, rows

SKCIPHER = [
    (40, "acme_cbc_crypt", "struct skcipher_walk walk", "struct_skcipher_walk"),
    (44, "acme_cbc_crypt", "skcipher_walk_virt(&walk, req, false)", "skcipher_walk"),
    (51, "acme_cbc_crypt", "skcipher_walk_done(&walk, nbytes - blocks)", "skcipher_walk"),
    (70, "acme_ctr_crypt", "struct skcipher_walk walk", "struct_skcipher_walk"),
    (74, "acme_ctr_crypt", "skcipher_walk_virt(&walk, req, false)", "skcipher_walk"),
    (81, "acme_ctr_crypt", "skcipher_walk_done(&walk, walk.nbytes - n)", "skcipher_walk"),
    (84, "acme_ctr_crypt", "skcipher_walk_abort(&walk)", "skcipher_walk"),
]

AEAD = [
    (17, "macro ACME_COPY_TAG", "scatterwalk_map_and_copy(buf, (req)->dst, pos, len, 1)",
     "scatterwalk_map_and_copy"),
    (20, "struct acme_gcm_reqctx", "struct scatterlist src[2]", "struct_scatterlist"),
    (21, "struct acme_gcm_reqctx", "struct scatterlist dst[2]", "struct_scatterlist"),
    (21, "struct acme_gcm_reqctx", "struct scatterlist *payload", "struct_scatterlist"),
    (30, "acme_gcm_run", "struct scatterlist *payload", "struct_scatterlist"),
    (38, "acme_gcm_encrypt", "struct scatterlist *sg", "struct_scatterlist"),
    (44, "acme_gcm_encrypt", "scatterwalk_map_and_copy(rctx->ad, req->src, 0, req->assoclen, 0)",
     "scatterwalk_map_and_copy"),
    (46, "acme_gcm_encrypt", "scatterwalk_ffwd(rctx->src, req->src, req->assoclen)",
     "scatterwalk_ffwd"),
    (63, "acme_gcm_decrypt",
     "memcpy_from_sglist(expected, req->src, req->assoclen + len, authsize)",
     "memcpy_from_sglist"),
    (65, "acme_gcm_decrypt", "sg_init_table(rctx->dst, 2)", "sg_init_table"),
    (66, "acme_gcm_decrypt", "sg_set_buf(&rctx->dst[0], rctx->tag, authsize)", "sg_set_buf"),
    (67, "acme_gcm_decrypt", "sg_set_buf(&rctx->dst[1], expected, authsize)", "sg_buf_on_stack"),
    (75, "acme_gcm_selftest", "struct scatterlist sg", "struct_scatterlist"),
    (87, "acme_gcm_selftest", "sg_init_one(&sg, buf, 64)", "sg_buf_vmalloc"),
    (88, "acme_gcm_selftest", "aead_request_set_crypt(req, &sg, &sg, 32, buf + 48)",
     "aead_request_set_crypt"),
    (89, "acme_gcm_selftest", "aead_request_set_ad(req, 16)", "aead_request_set_ad"),
]

DMA = [
    (19, "struct acme_dma_req", "struct sg_table src_sgt", "struct_sg_table"),
    (20, "struct acme_dma_req", "struct sg_table *dst_sgt", "struct_sg_table"),
    (25, "acme_dma_fill_ring", "struct scatterlist *sgl", "struct_scatterlist"),
    (28, "acme_dma_fill_ring", "struct scatterlist *sg", "struct_scatterlist"),
    (31, "acme_dma_fill_ring", "for_each_sg(sgl, sg, nents, i)", "sg_walk"),
    (32, "acme_dma_fill_ring", "sg_dma_address(sg)", "sg_dma"),
    (33, "acme_dma_fill_ring", "sg_dma_len(sg)", "sg_dma"),
    (41, "acme_dma_map", "struct sg_table *sgt", "struct_sg_table"),
    (42, "acme_dma_map", "struct scatterlist *sg", "struct_scatterlist"),
    (42, "acme_dma_map", "struct scatterlist *src", "struct_scatterlist"),
    (46, "acme_dma_map", "sg_nents_for_len(req->src, req->cryptlen)", "sg_count"),
    (49, "acme_dma_map", "sg_alloc_table(sgt, nents, GFP_ATOMIC)", "sg_table_alloc"),
    (54, "acme_dma_map", "for_each_sg(sgt->sgl, sg, nents, i)", "sg_walk"),
    (55, "acme_dma_map", "sg_set_page(sg, sg_page(src), src->length, src->offset)",
     "sg_set_page"),
    (55, "acme_dma_map", "sg_page(src)", "sg_page"),
    (56, "acme_dma_map", "sg_next(src)", "sg_walk"),
    (59, "acme_dma_map", "for_each_sg(sgt->sgl, sg, sgt->orig_nents, i)", "sg_walk"),
    (62, "acme_dma_map", "dma_map_sg(dev, sgt->sgl, sgt->orig_nents, DMA_TO_DEVICE)",
     "dma_map_sg"),
    (64, "acme_dma_map", "sg_free_table(sgt)", "sg_table_free"),
    (73, "acme_dma_unmap",
     "dma_unmap_sg(dev, dreq->src_sgt.sgl, dreq->src_sgt.orig_nents, DMA_TO_DEVICE)",
     "dma_map_sg"),
    (74, "acme_dma_unmap", "sg_free_table(&dreq->src_sgt)", "sg_table_free"),
    (81, "acme_dma_bounce_tail", "sg_copy_to_buffer(req->src, sg_nents(req->src), bounce, len)",
     "sg_copy_to_buffer"),
    (81, "acme_dma_bounce_tail", "sg_nents(req->src)", "sg_count"),
]

ITER_CALLER = [
    (22, "acme_crypt_iter", "struct sg_table sgt", "struct_sg_table"),
    (29, "acme_crypt_iter", "sg_alloc_table(&sgt, max_sg, GFP_NOFS)", "sg_table_alloc"),
    (34, "acme_crypt_iter", "extract_iter_to_sg(iter, len, &sgt, max_sg, 0)",
     "extract_iter_to_sg"),
    (39, "acme_crypt_iter", "sg_mark_end(&sgt.sgl[sgt.nents - 1])", "sg_end_marker"),
    (48, "acme_crypt_iter", "skcipher_request_set_crypt(req, sgt.sgl, sgt.sgl, got, cctx->iv)",
     "skcipher_request_set_crypt"),
    (53, "acme_crypt_iter", "sg_free_table(&sgt)", "sg_table_free"),
    (59, "acme_crypt_pages", "struct scatterlist *sgl", "struct_scatterlist"),
    (66, "acme_crypt_pages", "iov_iter_extract_pages(iter, &pages, SIZE_MAX, max_sg, 0, &off)",
     "iov_iter_extract_pages"),
    (70, "acme_crypt_pages", "sg_init_table(sgl, npages)", "sg_init_table"),
    (74, "acme_crypt_pages", "sg_set_page(&sgl[i], pages[i], part, off)", "sg_set_page"),
]


def test_skcipher_walk_driver():
    report = scan_c_file(C_FIXTURES / "acme_skcipher.c")
    assert report.status == "ok"
    assert rows(report) == SKCIPHER
    # __init / __exit / __must_check and module_init() are tolerated silently.
    assert report.skipped == []


def test_aead_driver():
    report = scan_c_file(C_FIXTURES / "acme_aead.c")
    assert rows(report) == AEAD
    assert report.skipped == []
    by_line = {f.line: f for f in report.findings if f.construct == "call"}
    assert by_line[67].kind == "ownership"
    assert by_line[67].detail == "`expected` is on the stack (declared at line 60)"
    assert by_line[87].detail == "`buf` comes from vzalloc() at line 76"
    assert by_line[44].arguments == ("rctx->ad", "req->src", "0", "req->assoclen", "0")
    members = [f for f in report.findings if f.scope == "struct acme_gcm_reqctx"]
    assert [f.detail for f in members] == ["member, array", "member, array", "member, pointer"]


def test_dma_engine_driver():
    report = scan_c_file(C_FIXTURES / "acme_dma.c")
    assert rows(report) == DMA
    # The brace-less for_each_sg body is what tree-sitter could not place.
    assert [(s.start_line, s.end_line, s.text) for s in report.skipped] == [(60, 60, "total")]
    assert {f.function for f in report.findings if f.kind == "dma"} == {
        "acme_dma_fill_ring", "acme_dma_map", "acme_dma_unmap"}


def test_caller_building_a_scatterlist_from_an_iov_iter():
    report = scan_c_file(C_FIXTURES / "acme_netfs_crypt.c")
    assert rows(report) == ITER_CALLER
    assert report.skipped == []
    extract = next(f for f in report.findings if f.name == "extract_iter_to_sg")
    assert extract.entry.pages and {"refs", "cleanup"} <= set(extract.entry.questions)


def test_columns_are_one_based_characters():
    report = scan_c_file(C_FIXTURES / "acme_skcipher.c")
    first_call = next(f for f in report.findings if f.construct == "call")
    assert (first_call.line, first_call.column) == (44, 8)  # "\terr = skcipher_walk_virt"
    src = "int f(void)\n{\n\t/* é */ sg_init_table(s, 1);\n}\n".encode()
    f = scan_c_source(src, "u.c").findings[0]
    assert (f.line, f.column) == (3, 10)


LOOK_ALIKES = b"""
/* sg_init_table(sg, 2); scatterwalk_map_and_copy(a, b, 0, 1, 0); */
// skcipher_walk_virt(&walk, req, false);
#include <linux/scatterlist.h>
struct ops { int (*sg_next)(void *p); void (*dma_map_sg)(void); };
static const char *names[] = { "sg_set_buf", "extract_iter_to_sg(iter)" };
static int f(struct ops *ops, void *p)
{
	int sg_init_one = 0;             /* a variable, not a call */
	char c = 'x';
	ops->sg_next(p);                 /* through a pointer: not the kernel API */
	ops->dma_map_sg();
	pr_info("sg_copy_to_buffer(%d)\\n", sg_init_one);
	return sizeof(struct scatterlist) + c;
}
"""


def test_no_false_positives_from_look_alikes():
    report = scan_c_source(LOOK_ALIKES, "lookalike.c")
    assert report.status == "ok"
    assert report.findings == []


def test_functions_defined_in_the_file_are_reported_as_such():
    """A file that defines a catalogued name (or many files concatenated, one
    of them lib/scatterlist.c) keeps its calls, marked as same-file calls."""
    src = b"static int sg_nents(int x) { return x; }\nint g(void) { return sg_nents(3); }\n"
    (f,) = scan_c_source(src, "own.c").findings
    assert (f.line, f.construct, f.name, f.rule) == (2, "same_file_call", "sg_nents", "sg_count")
    assert f.detail.startswith("defined in this file at line 1")


def test_memory_classification_of_buffers():
    src = b"""
int f(struct acme *ctx, u8 *param, struct scatterlist *sg)
{
	static u8 keep[16];
	u8 local[16];
	struct { u8 b[16]; } s;
	struct acme_blob blob;
	u8 *heap = kmalloc(32, GFP_KERNEL);
	u8 *big;
	void *vbig = (void *)kvmalloc(1 << 20, GFP_KERNEL);

	big = vmalloc(1 << 20);
	sg_set_buf(sg, keep, 16);
	sg_set_buf(sg, local + 4, 8);
	sg_set_buf(sg, s.b, 16);
	sg_set_buf(sg, &blob, sizeof(blob));
	sg_set_buf(sg, heap, 32);
	sg_set_buf(sg, param, 16);
	sg_set_buf(sg, ctx->buf, 16);
	sg_init_one(sg, big, 4096);
	sg_init_one(sg, (u8 *)vbig + 16, 4096);
	return 0;
}
"""
    report = scan_c_source(src, "mem.c")
    got = [(f.line, f.rule) for f in report.findings if f.construct == "call"]
    assert got == [
        (13, "sg_set_buf"), (14, "sg_buf_on_stack"), (15, "sg_buf_on_stack"),
        (16, "sg_buf_on_stack"), (17, "sg_set_buf"), (18, "sg_set_buf"), (19, "sg_set_buf"),
        (20, "sg_buf_vmalloc"), (21, "sg_buf_vmalloc"),
    ]
    vm = [f.detail for f in report.findings if f.rule == "sg_buf_vmalloc"]
    assert vm == ["`big` comes from vmalloc() at line 12",
                  "`vbig` comes from kvmalloc() at line 10"]


def test_kernel_macros_are_tolerated():
    src = b"""
static int __init __must_check acme_init(void)
{
	struct scatterlist *sg;
	int i, n = 0;

	for_each_sg(sgl, sg, 4, i) {
		n += sg->length;
	}
	for_each_sg_page(sgl, &piter, 4, 0)
		n++;
	return n;
}
static void __exit acme_exit(void) { }
module_init(acme_init);
module_exit(acme_exit);
MODULE_LICENSE("GPL");
"""
    report = scan_c_source(src, "macros.c")
    assert rows(report) == [
        (4, "acme_init", "struct scatterlist *sg", "struct_scatterlist"),
        (7, "acme_init", "for_each_sg(sgl, sg, 4, i)", "sg_walk"),
        (10, "acme_init", "for_each_sg_page(sgl, &piter, 4, 0)", "sg_page_iter"),
    ]


def test_multiline_macro_body_keeps_line_numbers():
    src = b"#define MAP(sg, b) \\\n\tdo { \\\n\t\tsg_init_one(sg, b, 16); \\\n\t} while (0)\n"
    report = scan_c_source(src, "m.c")
    assert [(f.line, f.column, f.scope) for f in report.findings] == [(3, 3, "macro MAP")]


def test_calls_recovered_from_error_regions():
    src = b"int x = sg_init_one(&s, buf, 1) @@@ }}}\n"
    report = scan_c_source(src, "bad.c")
    assert [f.text for f in report.findings] == ["sg_init_one(&s, buf, 1)"]
    assert report.skipped


def test_garbage_file():
    report = scan_c_file(GARBAGE)
    assert report.status == "ok"
    assert report.skipped, "a file of garbage must report what it skipped"
    assert all(s.start_line >= 1 and s.end_line >= s.start_line for s in report.skipped)
    # Nested ERROR nodes are reported once, as their outermost region.
    spans = [(s.start_line, s.end_line) for s in report.skipped]
    assert len(spans) == len(set(spans))


def test_binary_empty_and_missing_files(tmp_path):
    binary = tmp_path / "blob.c"
    binary.write_bytes(bytes(range(256)) * 4)
    empty = tmp_path / "empty.c"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.h"
    blank.write_bytes(b"\n\n   \t\n")
    assert scan_c_file(binary).status == "binary"
    assert scan_c_file(empty).status == "empty"
    assert scan_c_file(blank).status == "empty"
    missing = scan_c_file(tmp_path / "nope.c")
    assert missing.status == "unreadable" and "cannot read" in missing.message
    for r in (scan_c_file(binary), scan_c_file(empty)):
        assert r.findings == [] and r.skipped == []


def test_invalid_utf8_is_read():
    src = b"/* caf\xe9 */\nint f(void) { sg_init_table(sg, 1); return 0; }\n"
    report = scan_c_source(src, "latin1.c")
    assert rows(report) == [(2, "f", "sg_init_table(sg, 1)", "sg_init_table")]


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(data):
    report = scan_c_source(data, "fuzz.c")
    assert report.status in ("ok", "empty", "binary")
    for f in report.findings:
        assert f.line >= 1 and f.column >= 1


@given(st.lists(st.sampled_from([
    "sg_init_table(", "sg_set_buf(&sg, b, 1)", "{", "}", "(", ")", ";", "struct scatterlist",
    "sg[2]", "*", "for_each_sg(a, b, c, d)", "/* x */", '"s"', "#define M(x) sg_next(x)\n",
    "__init", "int", "f", "\n", ",", "=", "vmalloc(3)", "u8 buf[4];"]), max_size=40))
def test_token_soup_never_crashes(tokens):
    src = " ".join(tokens).encode()
    report = scan_c_source(src, "soup.c")
    assert report.status in ("ok", "empty")
    for f in report.findings:
        assert f.line >= 1 and f.end_line >= f.line
        assert f.name in f.text


def test_function_the_parser_could_not_close():
    report = scan_c_file(C_FIXTURES.parent / "c_extra" / "acme_ifdef.c")
    assert rows(report) == [
        (4, "acme", "struct scatterlist sg[2]", "struct_scatterlist"),
        (5, "acme", "struct scatterlist one", "struct_scatterlist"),
        (10, "acme", "sg_init_one(sg, tag, 16)", "sg_buf_on_stack"),
        (13, "acme", "sg_init_table(sg, 2)", "sg_init_table"),
        (17, "acme", "sg_set_buf(&sg[1], x->buf, x->len)", "sg_set_buf"),
        (19, "acme", "skcipher_walk_virt(&walk, req, false)", "skcipher_walk"),
    ]
    # The whole function is one skipped region, reported once.
    assert [(s.start_line, s.end_line) for s in report.skipped] == [(2, 20)]


def test_benign_parse_errors_are_counted_not_reported():
    """Type arguments of container_of()/list_entry() and annotations the grammar
    does not know lose nothing: counted, not shown as skipped regions."""
    src = b"""struct acme_ctx { struct work_struct work; struct scatterlist sg[2]; };
static void acme_work(struct work_struct *work)
{
\tstruct acme_ctx *ctx = container_of(work, struct acme_ctx, work);
\tstruct acme_ctx *c2 = list_entry(work, struct acme_ctx, work);
\tsg_init_table(ctx->sg, 2);
}
static noinline_for_stack int acme_big(void) { return 0; }
struct acme_dev { void __iomem *regs; };
"""
    report = scan_c_source(src, "benign.c")
    assert report.skipped == []
    assert report.benign_skips == 4
    assert [(f.line, f.text) for f in report.findings] == [
        (1, "struct scatterlist sg[2]"), (6, "sg_init_table(ctx->sg, 2)")]
    # A real parse error is still reported.
    bad = scan_c_source(src + b"int x = sg_init_one(&s, buf, 1) @@@ }}}\n", "bad.c")
    assert bad.skipped and bad.benign_skips == 4
