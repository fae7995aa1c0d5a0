"""The vocabulary of the data-flow pass (:mod:`.flow`): which calls take,
join, consume, acquire and release tables and pages; the keys, entries and
union-find the pass builds; and the tree-sitter node helpers both halves of
the pass use."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from iovcrypto.tools.checklist.model import Finding, squash

# Arguments that are tables, by callee (positions in the kernel's order).
TABLE_ARGS: dict[str, tuple[int, ...]] = {
    "sg_init_table": (0,), "sg_init_one": (0,), "sg_set_buf": (0,), "sg_set_page": (0,),
    "sg_assign_page": (0,), "sg_set_folio": (0,), "sg_mark_end": (0,), "sg_unmark_end": (0,),
    "sg_init_marker": (0,), "sg_chain": (0, 2), "__sg_chain": (0, 1),
    "skb_to_sgvec": (1,), "skb_to_sgvec_nomark": (1,), "extract_iter_to_sg": (2,),
    "netfs_extract_iter_to_sg": (2,),
    "sg_alloc_table": (0,), "sg_alloc_table_chained": (0,), "sg_alloc_table_from_pages": (0,),
    "sg_alloc_table_from_pages_segment": (0,), "sg_alloc_append_table_from_pages": (0,),
    "sg_free_table": (0,), "sg_free_table_chained": (0,), "sgl_free": (0,),
    "sgl_free_order": (0,), "sgl_free_n_order": (0,),
    "skcipher_request_set_crypt": (1, 2), "aead_request_set_crypt": (1, 2),
    "ahash_request_set_crypt": (1,), "akcipher_request_set_crypt": (1, 2),
    "kpp_request_set_input": (1,), "kpp_request_set_output": (1,),
    "acomp_request_set_params": (1, 2), "acomp_request_set_src_sg": (1,),
    "acomp_request_set_dst_sg": (1,),
    "dma_map_sg": (1,), "dma_map_sg_attrs": (1,), "dma_map_sgtable": (1,), "dma_unmap_sg": (1,),
    "dma_unmap_sg_attrs": (1,), "dma_unmap_sgtable": (1,), "dma_sync_sg_for_cpu": (1,),
    "dma_sync_sg_for_device": (1,), "dma_sync_sgtable_for_cpu": (1,),
    "dma_sync_sgtable_for_device": (1,), "dmaengine_prep_slave_sg": (1,),
    "sg_copy_to_buffer": (0,), "sg_copy_from_buffer": (0,), "sg_pcopy_to_buffer": (0,),
    "sg_pcopy_from_buffer": (0,), "sg_copy_buffer": (0,), "sg_zero_buffer": (0,),
    "scatterwalk_map_and_copy": (1,), "memcpy_from_sglist": (1,), "memcpy_to_sglist": (0,),
    "memcpy_sglist": (0, 1), "scatterwalk_ffwd": (0, 1), "sg_nents": (0,), "sg_nents_for_len": (0,),
    "sg_next": (0,), "sg_last": (0,), "for_each_sg": (0, 1), "for_each_sgtable_sg": (0, 1),
    "for_each_sg_page": (0,), "for_each_sgtable_page": (0,), "sg_miter_start": (1,),
    "sg_page": (0,), "sg_virt": (0,), "sg_phys": (0,), "sg_dma_address": (0,),
    "sg_dma_len": (0,), "sg_split": (0,), "chacha20poly1305_encrypt_sg_inplace": (0,),
    "chacha20poly1305_decrypt_sg_inplace": (0,), "af_alg_make_sg": (0,),
    "scatterwalk_start": (0, 1), "scatterwalk_start_at_pos": (0, 1),
    "scatterwalk_advance": (0,), "scatterwalk_clamp": (0,), "scatterwalk_map": (0,),
    "scatterwalk_done": (0,), "scatterwalk_next": (0,), "scatterwalk_done_src": (0,),
    "scatterwalk_done_dst": (0,), "scatterwalk_skip": (0,), "scatterwalk_copychunks": (1,),
    "memcpy_from_scatterwalk": (1,), "memcpy_to_scatterwalk": (0,),
}
# Calls that make their table arguments one table (chains, cursors, views).
_JOINS = {"sg_chain", "__sg_chain", "scatterwalk_ffwd", "for_each_sg", "for_each_sgtable_sg",
          "scatterwalk_start", "scatterwalk_start_at_pos"}
# Calls whose value is (a position in) the table of argument 0.
_RETURNS_TABLE = {"sg_next", "sg_last", "scatterwalk_ffwd"}
# Consumers, best first: where the table's data really goes.
_REQUEST_SETTERS = {"skcipher_request_set_crypt", "aead_request_set_crypt",
                    "ahash_request_set_crypt", "akcipher_request_set_crypt",
                    "kpp_request_set_input", "kpp_request_set_output",
                    "acomp_request_set_params", "acomp_request_set_src_sg",
                    "acomp_request_set_dst_sg", "chacha20poly1305_encrypt_sg_inplace",
                    "chacha20poly1305_decrypt_sg_inplace"}
_DMA = {"dma_map_sg", "dma_map_sg_attrs", "dma_map_sgtable", "dmaengine_prep_slave_sg"}
_COPIES = {"sg_copy_to_buffer", "sg_copy_from_buffer", "sg_pcopy_to_buffer",
           "sg_pcopy_from_buffer", "sg_copy_buffer", "scatterwalk_map_and_copy",
           "memcpy_from_sglist", "memcpy_to_sglist", "memcpy_sglist"}
# Page acquire sites: family and the argument holding the pages (None: the
# value the call returns).
_ACQUIRE: dict[str, tuple[str, int | None]] = {
    "iov_iter_get_pages2": ("ref", 1), "iov_iter_get_pages_alloc2": ("ref", 1),
    "iov_iter_get_pages": ("ref", 1), "iov_iter_get_pages_alloc": ("ref", 1),
    "iov_iter_extract_pages": ("pin", 1), "pin_user_pages": ("pin", 3),
    "pin_user_pages_fast": ("pin", 3), "pin_user_pages_unlocked": ("pin", 2),
    "pin_user_pages_remote": ("pin", 4), "get_page": ("ref", 0), "folio_get": ("ref", 0),
    "try_get_page": ("ref", 0), "alloc_page": ("alloc", None), "alloc_pages": ("alloc", None),
    "alloc_pages_node": ("alloc", None), "folio_alloc": ("alloc", None),
    "extract_iter_to_sg": ("pin", 2),
}
_RELEASE: dict[str, tuple[str, int]] = {
    "put_page": ("ref", 0), "folio_put": ("ref", 0), "__free_page": ("alloc", 0),
    "__free_pages": ("alloc", 0), "unpin_user_page": ("pin", 0), "unpin_user_pages": ("pin", 0),
    "unpin_user_pages_dirty_lock": ("pin", 0), "unpin_folio": ("pin", 0),
}
# put_page() also frees an allocated page; anything may be cleared.
_RELEASES_OF = {"ref": {"ref"}, "pin": {"pin"}, "alloc": {"alloc", "ref"}}
_WAITS = ("crypto_wait_req", "wait_for_completion", "wait_for_completion_interruptible",
          "wait_for_completion_killable", "wait_for_completion_timeout")
_CPU_PAGE_USES = {"kmap", "kmap_atomic", "kmap_local_page", "page_address",
                  "flush_dcache_page", "memcpy_from_page", "memcpy_to_page", "memzero_page",
                  "kmap_local_folio", "page_to_virt", "lowmem_page_address"}
_DMA_PAGE_USES = {"dma_map_page", "dma_map_page_attrs", "dma_map_single"}
# Algorithms lib/crypto offers as functions (AES modes from v7.3, the
# ChaCha20-Poly1305 AEAD for years): a synchronous software user of one of
# these can leave the crypto API.
LIBRARY_ALGS = {"gcm(aes)", "ccm(aes)", "rfc4106(gcm(aes))", "rfc4309(ccm(aes))", "cbc(aes)",
                "ctr(aes)", "xts(aes)", "ecb(aes)", "cts(cbc(aes))", "xctr(aes)",
                "rfc7539(chacha20,poly1305)", "chacha20", "rfc7539esp(chacha20,poly1305)"}
_ALIGN_CHECK = re.compile(
    r"IS_ALIGNED\s*\([^,]*\b(offset|length)\b|\b(offset|length)\s*[&%]")

Key = tuple




@dataclass
class _Fn:
    name: str
    node: Node
    params: list[str]
    order: int
    callers: set[str] = field(default_factory=set)
    callees: set[str] = field(default_factory=set)
    waits: list[int] = field(default_factory=list)
    wait_names: dict[int, str] = field(default_factory=dict)
    callbacks: list[tuple[str, int]] = field(default_factory=list)
    crypt: dict[str, Key] = field(default_factory=dict)  # "src"/"dst" -> table key
    ad: list[tuple[str, str, Finding | None]] = field(default_factory=list)
    consts: dict[str, str] = field(default_factory=dict)


@dataclass
class _Entry:
    """One entry put into a table: where its bytes come from."""

    finding: Finding
    index: int | None
    source: str  # virt, stack, vmalloc, bvec, page, iter, skb, folio
    length: str


class _UF:
    def __init__(self) -> None:
        self.parent: dict[Key, Key] = {}

    def find(self, k: Key) -> Key:
        self.parent.setdefault(k, k)
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def union(self, a: Key, b: Key) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _t(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


def _args(call: Node) -> list[Node]:
    a = call.child_by_field_name("arguments")
    return [c for c in a.named_children if c.type != "comment"] if a is not None else []


def _callee(call: Node) -> str:
    fn = call.child_by_field_name("function")
    return _t(fn) if fn is not None and fn.type == "identifier" else ""


def _strip(node: Node | None) -> Node | None:
    while node is not None and node.type in ("parenthesized_expression", "cast_expression"):
        node = (node.child_by_field_name("value") if node.type == "cast_expression"
                else next(iter(node.named_children), None))
    return node


def _terms(text: str) -> list[str]:
    """Top-level ``+`` terms of an expression text, normalised."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "+" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return sorted(squash(t).replace(" ", "") for t in out if t.strip())



def _loop_body(call: Node) -> Node | None:
    """The body a for_each_sg()/sg_next() loop runs."""
    cur = call
    while cur is not None and cur.type not in ("for_statement", "while_statement",
                                               "expression_statement", "compound_statement"):
        cur = cur.parent
    if cur is None:
        return None
    if cur.type in ("for_statement", "while_statement"):
        return cur.child_by_field_name("body")
    if cur.type == "expression_statement":
        nxt = cur.next_named_sibling
        return nxt
    return None


def _descendants(node: Node, types: tuple[str, ...]) -> list[Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type in types:
            out.append(n)
        if n.type in ("comment", "string_literal"):
            continue
        stack.extend(reversed(n.children))
    return out

