"""The catalogue: coverage of the issue's API list, precedence, validation."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from iovcrypto.tools.checklist.catalogue import KINDS, load_catalogue, parse_catalogue

# One name per family the issue asks the catalogue to cover.
ISSUE_NAMES = [
    "sg_init_table", "sg_set_page", "sg_next", "sg_nents", "for_each_sg", "sg_alloc_table",
    "sg_alloc_table_chained", "sg_alloc_table_from_pages_segment", "sg_free_table",
    "sg_miter_start", "sg_miter_next", "sg_miter_stop", "sg_copy_to_buffer",
    "sg_copy_from_buffer", "sg_pcopy_to_buffer", "sg_pcopy_from_buffer",
    "scatterwalk_map_and_copy", "scatterwalk_next", "scatterwalk_done_dst",
    "memcpy_from_scatterwalk", "memcpy_to_scatterwalk", "memcpy_from_sglist",
    "memcpy_to_sglist", "skcipher_walk_virt", "skcipher_walk_done",
    "skcipher_walk_aead_encrypt", "skcipher_request_set_crypt", "aead_request_set_crypt",
    "aead_request_set_ad", "ahash_request_set_crypt", "dma_map_sg", "dma_unmap_sg",
    "sg_dma_address", "sg_dma_len", "extract_iter_to_sg", "skb_to_sgvec", "sg_init_one",
    "sg_set_buf",
]


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_issue_names_are_catalogued(name):
    entry = load_catalogue().match(name)
    assert entry is not None, name
    assert entry.kind in KINDS
    assert entry.replacement


def test_every_entry_is_well_formed():
    cat = load_catalogue()
    for e in cat.all_entries():
        assert e.kind in KINDS, e.id
        assert set(e.questions) <= set(cat.questions), e.id
        assert e.replacement and e.category, e.id
    assert set(cat.weights) == set(KINDS)
    assert set(cat.kind_labels) == set(KINDS)
    assert set(cat.question_labels) == set(cat.questions)


def test_replacements_name_the_iov_iter_api():
    cat = load_catalogue()
    assert "skcipher_request_set_iter" in cat.match("skcipher_request_set_crypt").replacement
    assert "aead_request_set_iter" in cat.match("aead_request_set_crypt").replacement
    assert "proposed" in cat.match("skcipher_walk_virt").replacement
    assert cat.match("skcipher_walk_aead_decrypt").id == "skcipher_walk"
    assert cat.match("skcipher_walk_async").kind == "restructure"
    assert "copy_from_iter(buf, n, &copy)" in cat.match("memcpy_from_sglist").replacement
    assert "copy_to_iter(buf, n, &copy)" in cat.match("memcpy_to_sglist").replacement
    smc = cat.match("scatterwalk_map_and_copy").replacement
    assert "memcpy_from_sglist()" in smc and "memcpy_to_sglist()" in smc
    assert "iterate_and_advance()" in cat.match("scatterwalk_next").replacement
    assert "extract_iter_to_sg()" in cat.match("extract_iter_to_sg").replacement
    assert "copy_from_iter" in cat.match("sg_copy_to_buffer").replacement
    assert "copy_to_iter" in cat.match("sg_copy_from_buffer").replacement
    assert "extract_iter_to_sg" in cat.match("dma_map_sg").replacement


def test_kernel_facing_text_names_kernel_functions():
    """Never this project's Python modules; the proposed API is said to be proposed."""
    cat = load_catalogue()
    texts = [t for e in cat.all_entries() for t in (e.replacement, e.note)]
    texts += list(cat.questions.values())
    for text in texts:
        assert "shims." not in text and "iovcrypto." not in text and "sgl." not in text, text
        for proposed in ("skcipher_request_set_iter", "aead_request_set_iter"):
            if proposed in text:
                assert "proposed" in text, text


@pytest.mark.parametrize("name", [
    "dmaengine_prep_slave_sg", "akcipher_request_set_crypt", "kpp_request_set_input",
    "acomp_request_set_params", "af_alg_make_sg", "af_alg_pull_tsgl",
    "chacha20poly1305_encrypt_sg_inplace", "get_page", "put_page", "alloc_page",
    "__free_page", "pin_user_pages_fast", "unpin_user_pages"])
def test_wider_catalogue(name):
    assert load_catalogue().match(name) is not None, name


def test_field_rules():
    cat = load_catalogue()
    assert cat.field_for("src", "request", "read").entry.id == "request_sg_field"
    assert cat.field_for("length", "scatterlist", "write").entry.id == "sg_field_write"
    assert cat.field_for("length", "scatterlist", "read") is None


def test_kinds_of_the_examples():
    cat = load_catalogue()
    assert cat.match("skcipher_walk_virt").kind == "mechanical"
    assert cat.match("dma_map_sg").kind == "dma"
    assert cat.match("extract_iter_to_sg").kind == "ownership"
    assert cat.match("sg_set_buf").kind == "restructure"
    assert "refs" in cat.match("extract_iter_to_sg").questions
    assert "cleanup" in cat.match("extract_iter_to_sg").questions
    assert "device" in cat.match("dma_map_sg").questions


def test_exact_names_win_over_patterns():
    cat = load_catalogue()
    assert cat.match("sg_miter_skip").id == "sg_miter_skip"
    assert cat.match("sg_miter_next").id == "sg_miter"
    assert cat.match("scatterwalk_map_and_copy").id == "scatterwalk_map_and_copy"
    assert cat.match("scatterwalk_start").id == "scatterwalk_position"
    assert cat.match("scatterwalk_clamp").id == "scatterwalk_step"
    assert cat.match("scatterwalk_crypto_chain").id == "sg_chain"


@pytest.mark.parametrize("name", ["kmalloc", "copy_to_iter", "crypto_skcipher_encrypt",
                                  "sgx_init", "my_sg_init_table", "scatterwalk"])
def test_unrelated_names_are_not_matched(name):
    assert load_catalogue().match(name) is None


def test_struct_types():
    cat = load_catalogue()
    for struct in ("scatterlist", "scatter_walk", "skcipher_walk", "sg_table"):
        assert cat.match_struct(struct) is not None
    assert cat.match_struct("iov_iter") is None


def _raw() -> dict:
    text = resources.files("iovcrypto.tools.checklist").joinpath("catalogue.toml").read_text()
    return tomllib.loads(text)


def test_parse_rejects_unknown_kind():
    data = _raw()
    data["entry"][0]["kind"] = "cosmetic"
    with pytest.raises(ValueError, match="unknown kind"):
        parse_catalogue(data)


def test_parse_rejects_unknown_question():
    data = _raw()
    data["entry"][0]["questions"] = ["why"]
    with pytest.raises(ValueError, match="unknown questions"):
        parse_catalogue(data)


def test_parse_rejects_duplicate_ids():
    data = _raw()
    data["entry"][1]["id"] = data["entry"][0]["id"]
    with pytest.raises(ValueError, match="duplicate ids"):
        parse_catalogue(data)
