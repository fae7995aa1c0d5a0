"""Data flow of one C file: tables, their consumers, page pairs, advice.

The C reader finds uses line by line; this pass follows the values.  Every
scatterlist array or table is a *key*: a local or parameter of a function,
a member of a struct (``rctx->dst`` in any function is the same member of
``struct acme_reqctx``), or a request's ``src``/``dst``.  Keys are joined
(union-find) where the data goes from one to the other:

- ``x = y``, ``x = sg_next(y)``, ``scatterwalk_ffwd(x, y, n)``, ``sg_chain``;
- a direct call of a function defined in the file: each table argument is
  joined with the callee's parameter (one call level, and further when the
  callee calls on);
- a page put into an entry (``sg_set_page(sg, pages[i], ...)``) joins the
  page array (or page variable) with the table, so that the release of
  ``sg_page(sg)`` finds the ``iov_iter_get_pages2()`` that took it;
- a completion callback registered with ``*_request_set_callback()`` reads
  ``req->src``/``req->dst``: those are the tables the registering function
  gave to ``*_request_set_crypt()``.

Each joined set that holds a catalogued use becomes a :class:`~.model.Group`
with one recommended iterator type, an AEAD layout check, the road it
should take and an effort estimate; acquire and release sites in one set
become :class:`~.model.Pair` records.  Findings get ids, their group and
pairs, and advice where the data flow decides more than the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from tree_sitter import Node

from iovcrypto.tools.checklist.model import Finding, Group, Pair, Question, squash, with_ids

if TYPE_CHECKING:
    from iovcrypto.tools.checklist.c_reader import _CReader

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


class Flow:
    def __init__(self, reader: _CReader, root: Node) -> None:
        self.r = reader
        self.root = root
        self.uf = _UF()
        self.fns: dict[str, _Fn] = {}
        self.members: dict[tuple[str, str], str] = {}  # (struct, field) -> struct type
        self.tables: set[Key] = set()
        self.key_of_finding: dict[str, list[Key]] = {}
        self.entries: dict[Key, list[_Entry]] = {}
        self.by_pos: dict[tuple[int, int, str], Finding] = {}
        self.extra: list[Finding] = []
        self.acquires: list[tuple[Finding, str, Key | None, str]] = []
        self.releases: list[tuple[Finding, str, Key | None, str]] = []
        self.advice: dict[str, tuple[str, str]] = {}  # finding id -> (advice, kind)
        self.allocs: list[tuple[str, int]] = []
        self.locals: dict[str, dict[str, str | None]] = {}
        self._nodes: dict[tuple, Node] | None = None
        self._alg = ""

    # -- setup -------------------------------------------------------------

    def _index(self) -> None:
        self.r.report.findings = with_ids(self.r.report.findings)
        for f in self.r.report.findings:
            self.by_pos[(f.line, f.column, f.name)] = f

    def _collect(self) -> None:
        from iovcrypto.tools.checklist.c_reader import _struct_name, declarator_name

        order = 0
        for node in _descendants(self.root, ("function_definition", "struct_specifier")):
            if node.type == "struct_specifier":
                sname = _t(node.child_by_field_name("name"))
                body = node.child_by_field_name("body")
                if not sname or body is None:
                    continue
                for decl in body.named_children:
                    if decl.type != "field_declaration":
                        continue
                    st = _struct_name(decl)
                    for d in decl.children_by_field_name("declarator"):
                        name = declarator_name(d)
                        if name and st:
                            self.members[(sname, name)] = st
                continue
            name = declarator_name(node.child_by_field_name("declarator"))
            if not name or name.startswith("__iovcrypto"):
                continue
            info = self._locals(name)
            fd = node.child_by_field_name("declarator")
            while fd is not None and fd.type != "function_declarator":
                fd = fd.child_by_field_name("declarator")
            params = []
            plist = fd.child_by_field_name("parameters") if fd is not None else None
            for p in plist.named_children if plist is not None else ():
                if p.type == "parameter_declaration":
                    params.append(declarator_name(p.child_by_field_name("declarator")) or "")
            self.fns.setdefault(name, _Fn(name, node, params, order))
            order += 1
            for local, struct in info.items():
                if struct in ("scatterlist", "sg_table", "sg_append_table"):
                    self.tables.add(("var", name, local))

    def _locals(self, fn: str) -> dict[str, str | None]:
        scope = self.r._function_scopes.get(fn)
        out = {k: v.struct for k, v in scope.locals.items()} if scope else {}
        self.locals[fn] = out
        return out

    # -- keys --------------------------------------------------------------

    def struct_of(self, node: Node | None, fn: str) -> str | None:
        node = _strip(node)
        while node is not None and node.type in ("subscript_expression", "pointer_expression"):
            node = _strip(node.child_by_field_name("argument"))
        if node is None:
            return None
        if node.type == "identifier":
            return self.locals.get(fn, {}).get(_t(node))
        if node.type == "field_expression":
            base = self.struct_of(node.child_by_field_name("argument"), fn)
            return self.members.get((base or "?", _t(node.child_by_field_name("field"))))
        return None

    def key(self, node: Node | None, fn: str) -> tuple[Key | None, int | None]:
        """The table (or page variable) an expression denotes, and a literal index."""
        index = None
        while node is not None:
            t = node.type
            if t == "binary_expression" and _t(node.child_by_field_name("operator")) == "+":
                left = node.child_by_field_name("left")
                lk, _ = self.key(left, fn)
                if lk is not None and lk[0] == "member":
                    return lk, None
                return None, index
            if t in ("parenthesized_expression", "cast_expression"):
                node = _strip(node)
            elif t == "pointer_expression":
                node = node.child_by_field_name("argument")
            elif t == "subscript_expression":
                idx = node.child_by_field_name("index")
                if idx is not None and idx.type == "number_literal" and index is None:
                    try:
                        index = int(_t(idx), 0)
                    except ValueError:
                        index = None
                node = node.child_by_field_name("argument")
            elif t == "field_expression":
                fname = _t(node.child_by_field_name("field"))
                base = node.child_by_field_name("argument")
                if fname == "sgl":
                    node = base
                    continue
                bstruct = self.struct_of(base, fn)
                if fname in ("src", "dst") and bstruct and bstruct.endswith("_request"):
                    return ("req", fn, fname), index
                return ("member", bstruct or "?", fname), index
            elif t == "identifier":
                name = _t(node)
                if name in self.locals.get(fn, {}):
                    return ("var", fn, name), index
                return ("glob", name), index
            elif t == "call_expression" and _callee(node) in _RETURNS_TABLE:
                args = _args(node)
                node = args[0] if args else None
            else:
                return None, index
        return None, index

    def _is_table(self, k: Key | None) -> bool:
        if k is None:
            return False
        if k in self.tables or k[0] == "req":
            return True
        if k[0] == "member":
            return self.members.get((k[1], k[2])) in ("scatterlist", "sg_table",
                                                      "sg_append_table")
        return False

    def _finding(self, node: Node, name: str) -> Finding | None:
        line, col, _, _ = self.r._span(node)
        return self.by_pos.get((line, col, name))

    def _attach(self, f: Finding | None, k: Key | None) -> None:
        if f is not None and k is not None:
            self.key_of_finding.setdefault(f.id, []).append(k)

    # -- the pass ----------------------------------------------------------

    def run(self) -> None:
        self._index()
        self._collect()
        for fn in sorted(self.fns.values(), key=lambda f: f.order):
            self._function(fn)
        self._callbacks()
        self._declarations_and_fields()
        self._build()

    def _function(self, fn: _Fn) -> None:
        body = fn.node.child_by_field_name("body")
        if body is None:
            return
        for node in _descendants(body, ("call_expression", "assignment_expression",
                                        "init_declarator")):
            if node.type == "call_expression":
                self._call(node, fn)
            else:
                self._assign(node, fn)

    def _assign(self, node: Node, fn: _Fn) -> None:
        if node.type == "assignment_expression":
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        else:
            left, right = node.child_by_field_name("declarator"), node.child_by_field_name("value")
            from iovcrypto.tools.checklist.c_reader import declarator_name
            name = declarator_name(left)
            left = None
            lk = ("var", fn.name, name) if name else None
        if left is not None:
            lk, _ = self.key(left, fn.name)
        rnode = _strip(right)
        if lk is None or rnode is None:
            return
        if node.type == "init_declarator" and rnode.type == "number_literal" and lk[0] == "var":
            fn.consts[lk[2]] = _t(rnode)
        if rnode.type == "call_expression":
            callee = _callee(rnode)
            fam = _ACQUIRE.get(callee)
            if fam is not None and fam[1] is None:
                f = self._finding(rnode, callee)
                if f is not None:
                    self.acquires.append((f, fam[0], lk, fn.name))
                    self._attach(f, lk)
                return
            if callee in ("sgl_alloc", "sgl_alloc_order"):
                self.tables.add(lk)
                self._attach(self._finding(rnode, callee), lk)
                return
            if callee == "sg_page":
                return
        rk, _ = self.key(rnode, fn.name)
        if rk is not None and (self._is_table(rk) or self._is_table(lk)):
            if rnode.type == "binary_expression" and rk[0] != "member":
                # sgout = sgin + n: another list carved from the same local
                # array; sg = ctx->sg + i is a position in a context's table.
                return
            self.uf.union(lk, rk)
            if self._is_table(rk):
                self.tables.add(lk)

    def _call(self, node: Node, fn: _Fn) -> None:
        name = _callee(node)
        if not name:
            return
        args = _args(node)
        line = node.start_point.row + 1
        f = self._finding(node, name)
        if name.startswith("crypto_alloc_") and args and args[0].type == "string_literal" \
                and not self._alg:
            self._alg = _t(args[0]).strip('"')
        if name in _WAITS:
            fn.waits.append(line)
            fn.wait_names.setdefault(line, f"{name}()")
            return
        if name.endswith("_request_set_callback") and len(args) >= 3:
            cb = _t(_strip(args[2]))
            fn.callbacks.append((cb, line))
            return
        if name == "aead_request_set_ad" and len(args) >= 2:
            fn.ad.append((squash(_t(args[0])), squash(_t(args[1])), f))
            return
        if name in self.r.defined and name not in TABLE_ARGS:
            self._same_file_call(node, fn, name, args)
            return
        for i in TABLE_ARGS.get(name, ()):
            if i < len(args):
                k, index = self.key(args[i], fn.name)
                if k is None:
                    continue
                self.tables.add(k)
                self._attach(f, k)
                if i == TABLE_ARGS[name][0]:
                    self._entry(name, args, k, index, f, fn)
        if name in _JOINS:
            keys = [self.key(args[i], fn.name)[0] for i in TABLE_ARGS[name] if i < len(args)]
            keys = [k for k in keys if k is not None]
            for k in keys[1:]:
                self.uf.union(keys[0], k)
        if name in ("skcipher_request_set_crypt", "aead_request_set_crypt") and len(args) >= 3:
            for slot, i in (("src", 1), ("dst", 2)):
                k, _ = self.key(args[i], fn.name)
                if k is not None:
                    fn.crypt[slot] = k
        fam = _ACQUIRE.get(name)
        if fam is None and name.startswith("pin_user_pages"):
            fam = ("pin", 3)
        if fam is not None and fam[1] is not None and fam[1] < len(args) and f is not None:
            pk = self._page_key(args[fam[1]], fn.name)
            self.acquires.append((f, fam[0], pk, fn.name))
            self._attach(f, pk)
        rel = _RELEASE.get(name)
        if rel is not None and args and f is not None:
            pk = self._page_key(args[rel[1]], fn.name)
            self.releases.append((f, rel[0], pk, fn.name))
            self._attach(f, pk)
        if name == "sg_assign_page" and len(args) == 2 and _t(args[1]).strip() == "NULL" \
                and f is not None:
            k, _ = self.key(args[0], fn.name)
            self.releases.append((f, "clear", k, fn.name))

    def _page_key(self, node: Node, fn: str) -> Key | None:
        node = _strip(node)
        if node is None:
            return None
        if node.type == "call_expression" and _callee(node) == "sg_page":
            args = _args(node)
            return self.key(args[0], fn)[0] if args else None
        return self.key(node, fn)[0]

    def _entry(self, name: str, args: list[Node], k: Key, index: int | None,
               f: Finding | None, fn: _Fn) -> None:
        if f is None:
            return
        source, length = None, ""
        if name in ("sg_set_buf", "sg_init_one") and len(args) >= 3:
            source = {"sg_buf_on_stack": "stack", "sg_buf_vmalloc": "vmalloc"}.get(f.rule, "virt")
            length = _t(args[2])
            if name == "sg_init_one":
                index = 0
        elif name in ("sg_set_page", "sg_assign_page") and len(args) >= 2:
            page = _strip(args[1])
            if page is not None and page.type == "field_expression" and \
                    _t(page.child_by_field_name("field")) == "bv_page":
                source = "bvec"
            elif _t(page) == "NULL":
                return
            elif page is not None and page.type == "call_expression" and \
                    _callee(page) == "sg_page":
                source = "copy"
            else:
                source = "page"
                pk = self._page_key(args[1], fn.name)
                if pk is not None and any(
                        a[2] is not None and self.uf.find(a[2]) == self.uf.find(pk)
                        and a[0].name.startswith("iov_iter_") for a in self.acquires):
                    source = "iter"
                # A page variable or array joins the table; another table's
                # page (an entry copied across) stays that table's.
                if pk is not None and pk[0] in ("var", "member") and not self._is_table(pk):
                    self.uf.union(k, pk)
            length = _t(args[2]) if len(args) >= 3 else ""
        elif name in ("skb_to_sgvec", "skb_to_sgvec_nomark") and len(args) >= 4:
            source, length = "skb", _t(args[3])
        elif name in ("extract_iter_to_sg", "netfs_extract_iter_to_sg") and len(args) >= 2:
            source, length = "iter", _t(args[1])
        elif name.startswith("sg_alloc_table_from_pages") or \
                name == "sg_alloc_append_table_from_pages":
            source = "page"
        elif name == "sg_set_folio":
            source = "folio"
            length = _t(args[2]) if len(args) >= 3 else ""
        elif name == "af_alg_make_sg":
            source = "iter"
        if source is not None:
            self.entries.setdefault(k, []).append(_Entry(f, index, source, squash(length)))

    def _same_file_call(self, node: Node, fn: _Fn, name: str, args: list[Node]) -> None:
        callee = self.fns.get(name)
        if callee is None:
            return
        fn.callees.add(name)
        callee.callers.add(fn.name)
        passed = []
        for i, a in enumerate(args):
            k, _ = self.key(a, fn.name)
            if i < len(callee.params) and callee.params[i] and k is not None:
                pk = ("var", name, callee.params[i])
                if self._is_table(k) or self._is_table(pk) or k in self.uf.parent:
                    self.uf.union(k, pk)
                    if self._is_table(k) or self._is_table(pk):
                        self.tables.update((k, pk))
                        passed.append(k)
        if not passed:
            return
        f = self._finding(node, name)
        if f is None:
            line, col, end_line, end_col = self.r._span(node)
            texts = tuple(squash(_t(a)) for a in args)
            f = Finding(path=self.r.path, line=line, column=col, end_line=end_line,
                        end_column=end_col, function=fn.name, scope="function",
                        construct="same_file_call", name=name, arguments=texts,
                        text=f"{name}({', '.join(texts)})",
                        entry=self.r.cat.internal["same_file_call"],
                        detail=f"defined in this file at line {self.r.defined[name]}",
                        id=f"L{line}.{col}")
            self.extra.append(f)
            self.by_pos[(line, col, name)] = f
        for k in passed:
            self._attach(f, k)

    def _callbacks(self) -> None:
        for fn in self.fns.values():
            for cb, _ in fn.callbacks:
                if cb not in self.fns:
                    continue
                self.fns[cb].callers.add(fn.name)
                fn.callees.add(cb)
                for slot, k in fn.crypt.items():
                    self.uf.union(k, ("req", cb, slot))

    def _declarations_and_fields(self) -> None:
        for f in self.r.report.findings:
            if f.construct == "declaration" and f.function:
                k = ("var", f.function, f.name)
                self.tables.add(k)
                self._attach(f, k)
            elif f.construct == "declaration" and f.scope.startswith("struct "):
                self._attach(f, ("member", f.scope[7:], f.name))
            elif f.construct in ("field_read", "field_write") and f.function:
                node = self._node_at(f)
                if node is not None:
                    k, _ = self.key(node if f.construct == "field_read"
                                    else node.child_by_field_name("argument"), f.function)
                    self._attach(f, k)
            elif f.construct == "call" and f.function and f.name not in TABLE_ARGS:
                pass

    def _node_at(self, f: Finding, kind: str = "field_expression") -> Node | None:
        """The ``kind`` node of ``f``'s function that starts where ``f`` does."""
        if f.function not in self.fns:
            return None
        if self._nodes is None:
            self._nodes = {}
            for fn in self.fns.values():
                for n in _descendants(fn.node, ("field_expression", "call_expression")):
                    line, col, _, _ = self.r._span(n)
                    self._nodes.setdefault((fn.name, n.type, line, col), n)
        return self._nodes.get((f.function, kind, f.line, f.column))

    # -- groups and pairs --------------------------------------------------

    def _build(self) -> None:
        report = self.r.report
        findings = {f.id: f for f in [*report.findings, *self.extra]}
        comp: dict[Key, list[str]] = {}
        for fid, keys in self.key_of_finding.items():
            roots = []
            for k in keys:
                r = self.uf.find(k)
                if r not in roots:
                    roots.append(r)
            for r in roots:
                comp.setdefault(r, [])
                if fid not in comp[r]:
                    comp[r].append(fid)
        table_roots = {self.uf.find(k) for k in self.tables} | \
            {self.uf.find(k) for k in self.uf.parent if self._is_table(k)}
        self.comp_keys: dict[Key, list[Key]] = {}
        for k in list(self.uf.parent):
            self.comp_keys.setdefault(self.uf.find(k), []).append(k)
        self.dma_roots = {self.uf.find(k) for fid, keys in self.key_of_finding.items()
                          for k in keys if findings[fid].name in _DMA
                          or findings[fid].entry.kind == "dma"}
        pairs = self._pairs(findings)
        paired: set[str] = {p.acquire for p in pairs} | {p.release for p in pairs}
        # Acquire/release calls are findings only when the data flow ties them
        # to a table or a pair; other page traffic is not this checklist's.
        keep_ids: set[str] = set()
        groups: list[Group] = []
        group_of: dict[str, str] = {}
        roots = sorted((r for r in comp if r in table_roots),
                       key=lambda r: min(self._pos(findings[i]) for i in comp[r]))
        for root in roots:
            ids = comp[root]
            real = [i for i in ids if not findings[i].rule.startswith("page_")
                    or i in paired or self._touches_table(findings[i])]
            if not any(findings[i].construct not in ("declaration",) for i in real):
                continue
            g = self._group(f"G{len(groups) + 1}", root, real, findings, pairs)
            groups.append(g)
            for i in g.members:
                group_of.setdefault(i, g.id)
                keep_ids.add(i)
        drop = {f.id for f in findings.values()
                if f.construct in ("acquire", "release") and f.entry.role
                and f.entry.id.startswith("page_") and f.id not in keep_ids
                and f.id not in paired and not self._touches_table(f)}
        pair_of: dict[str, list[str]] = {}
        for p in pairs:
            pair_of.setdefault(p.acquire, []).append(p.id)
            pair_of.setdefault(p.release, []).append(p.id)
        out = []
        for f in [*report.findings, *self.extra]:
            if f.id in drop:
                continue
            adv = self.advice.get(f.id)
            f = replace(f, group=group_of.get(f.id), pairs=tuple(pair_of.get(f.id, ())),
                        advice=adv[0] if adv else f.advice,
                        kind_as=adv[1] if adv else "")
            out.append(f)
        out.sort(key=Finding.sort_key)
        report.findings = out
        report.groups = groups
        report.pairs = pairs

    def _touches_table(self, f: Finding) -> bool:
        return any(a.startswith("sg_page(") for a in f.arguments)

    def _pos(self, f: Finding) -> tuple[int, int, int]:
        fn = self.fns.get(f.function or "")
        return (0 if f.scope.startswith("struct ") else 1, f.line, f.column) if fn is None \
            else (1, f.line, f.column)

    def _pairs(self, findings: dict[str, Finding]) -> list[Pair]:
        pairs = []
        for acq, fam, ak, _afn in self.acquires:
            if ak is None:
                continue
            for rel, rfam, rk, rfn in self.releases:
                if rk is None or self.uf.find(ak) != self.uf.find(rk):
                    continue
                if rfam != "clear" and rfam not in _RELEASES_OF[fam]:
                    continue
                cb = rfn if self._is_callback(rfn) else None
                pairs.append(Pair(f"P{len(pairs) + 1}", acq.id, rel.id, cb,
                                  self._owner(acq, fam, rel, rfam, cb, ak)))
        return pairs

    def _is_callback(self, fn: str) -> bool:
        return any(cb == fn for f in self.fns.values() for cb, _ in f.callbacks)

    def _owner(self, acq: Finding, fam: str, rel: Finding, rfam: str, cb: str | None,
               key: Key) -> str:
        where = f"in the completion callback {cb}()" if cb else f"in {rel.function}()"
        dma = self.uf.find(key) in self.dma_roots
        if rfam == "clear":
            return ("nobody: a bio_vec array holds no page to clear; the line goes with the "
                    "release it follows")
        if fam == "alloc":
            return (f"unchanged: {acq.function}() allocates and {rel.function}() frees "
                    f"({where}); the bio_vec describing the page takes no reference")
        if dma:
            return (f"the driver: iov_iter_extract_pages() pins user memory only "
                    f"(iov_iter_extract_will_pin()); unpin after dma_unmap, {where}")
        root = self.uf.find(key)
        sources = {e.source for k in self.comp_keys.get(root, [root])
                   for e in self.entries.get(k, [])}
        if "iter" in sources and sources - {"iter"}:
            return (f"{acq.function}(): the user pages share a bio_vec array with other "
                    "entries (the AD in front), so they are still extracted: "
                    "iov_iter_extract_pages() pins user memory only, and the pins are "
                    f"released {where} with unpin_user_page() when "
                    "iov_iter_extract_will_pin()")
        return ("nobody: the caller's iov_iter goes to the request as it is (proposed "
                "iov_iter crypto API), no page is taken, and the release "
                f"{where} goes away")

    def _group(self, gid: str, root: Key, ids: list[str], findings: dict[str, Finding],
               pairs: list[Pair]) -> Group:
        members = [findings[i] for i in ids]
        fnames = self._fn_order({f.function for f in members if f.function})
        rank = {n: i for i, n in enumerate(fnames)}
        members.sort(key=lambda f: (rank.get(f.function or "", -1), f.line, f.column))
        consumer = self._consumer(members)
        keys = self.comp_keys.get(root, [root])
        entries = [e for k in keys for e in self.entries.get(k, [])]
        entries.sort(key=lambda e: (e.index is None, e.index or 0, e.finding.line))
        iterator, why = self._iterator(entries, keys, members)
        sync = self._sync(consumer, members)
        # Advice first (it decides, e.g., that sg_page() feeds dma_map_page()),
        # then the road, then the consumer's advice again for the road taken.
        self._advise(members, iterator, entries, consumer, [], "")
        road, road_why = self._road(consumer, members, sync, iterator,
                                    any(k[0] == "req" for k in keys))
        layout = self._layout(consumer, root, entries, members)
        if layout is not None and layout.get("ad") and layout["ad"] not in ids:
            ad = findings[layout["ad"]]
            members.append(ad)
            ids.append(ad.id)
            members.sort(key=lambda f: (rank.get(f.function or "", -1), f.line, f.column))
        if layout is not None:
            layout.pop("ad", None)
        gpairs = [p for p in pairs if p.acquire in ids or p.release in ids]
        self._advise(members, iterator, entries, consumer, gpairs, road)
        questions = self._questions(members, sync, entries, layout, gpairs, consumer)
        # A context member names the table best, then a variable of the
        # function where the data flow starts, then the request's field.
        first = fnames[0] if fnames else None

        def _pref(k: Key) -> tuple[int, int]:
            if k[0] == "member":
                return 0, 0
            if k[0] == "var" and k[1] == first:
                return 1, 0 if self._is_table(k) else 1
            if k[0] == "req":
                return 2, 0
            return 3, rank.get(k[1], 99)
        named = sorted(keys, key=_pref)
        table = self._label(named[0] if named else root)
        g = Group(id=gid, consumer=consumer.id if consumer else None,
                  members=[f.id for f in members], table=table,
                  functions=[f"{n}()" for n in fnames], iterator=iterator,
                  iterator_reason=why, road=road, road_reason=road_why,
                  questions=questions, aead_layout=layout, synchronous=sync)
        g.effort_points, g.effort_reason = self._effort(members, gpairs, fnames)
        return g

    def _label(self, k: Key) -> str:
        if k[0] == "var":
            return f"{k[2]} in {k[1]}()"
        if k[0] == "member":
            return f"struct {k[1]}.{k[2]}" if k[1] != "?" else f"member {k[2]}"
        if k[0] == "req":
            return f"req->{k[2]} in {k[1]}()"
        return k[-1]

    def _fn_order(self, names: set[str]) -> list[str]:
        """Callers before callees, then by position in the file."""
        out: list[str] = []
        pending = sorted(names, key=lambda n: self.fns[n].order if n in self.fns else 10**6)
        while pending:
            for n in pending:
                callers = self.fns[n].callers & set(pending) if n in self.fns else set()
                if not callers - {n}:
                    out.append(n)
                    pending.remove(n)
                    break
            else:
                out.append(pending.pop(0))
        return out

    def _consumer(self, members: list[Finding]) -> Finding | None:
        for names in (_REQUEST_SETTERS, _DMA, _COPIES):
            for f in members:
                if f.name in names and f.construct in ("call", "same_file_call"):
                    return f
        for f in members:
            if f.construct == "field_read":
                return f
        return None

    def _iterator(self, entries: list[_Entry], keys: list[Key],
                  members: list[Finding]) -> tuple[str, str]:
        sources = {e.source for e in entries}
        if any(k[0] == "req" for k in keys) and not sources:
            return "ITER", "the request's own iov_iter (req->src/req->dst), passed down as it is"
        if not sources:
            return "ITER", ("no entry is built here: the table comes from the caller, "
                            "whose iov_iter is passed down instead")
        if sources == {"copy"}:
            return "ITER", ("the entries are copied from another table: describe that "
                            "table's memory with its iov_iter and keep it to the boundary")
        if sources == {"iter"}:
            return "ITER", ("the entries are extracted from an iov_iter the caller already "
                            "holds: pass that iterator instead of extracting")
        if sources <= {"virt", "stack", "vmalloc"}:
            return "KVEC", "every entry is a kernel virtual buffer: a kvec array needs no page"
        if sources == {"folio"}:
            return "FOLIOQ", "folios (page cache): a folio_queue describes them"
        counts = {s: sum(e.source == s for e in entries) for s in sorted(sources)}
        words = {"virt": "kernel buffer", "stack": "stack buffer", "vmalloc": "vmalloc buffer",
                 "bvec": "bio_vec page", "page": "page", "iter": "extracted iov_iter range",
                 "skb": "skb range", "folio": "folio", "copy": "copied entry"}
        parts = ", ".join(f"{n} {words[s]}{'s' if n > 1 else ''}" for s, n in counts.items())
        why = f"one bio_vec array for mixed entries ({parts})"
        if sources & {"stack", "vmalloc"}:
            why += "; the stack/vmalloc buffers need a kmalloc'd copy (no bio_vec over them)"
        return "BVEC", why

    def _sync(self, consumer: Finding | None, members: list[Finding]) -> str:
        fns = [consumer.function] if consumer and consumer.function else []
        fns += [f.function for f in members if f.function and f.function not in fns]
        for name in fns:
            fn = self.fns.get(name or "")
            if fn is None:
                continue
            after = [w for w in fn.waits if consumer is None or w >= consumer.line
                     or name != consumer.function]
            if after and not any(cb != "crypto_req_done" and cb in self.fns
                                 for cb, _ in fn.callbacks):
                return f"{fn.wait_names[after[0]]} at line {after[0]} in {name}()"
        return ""

    def _road(self, consumer: Finding | None, members: list[Finding], sync: str,
              iterator: str, request: bool) -> tuple[str, str]:
        names = {f.name for f in members}
        if names & _DMA or any(f.kind == "dma" or self.advice.get(f.id, ("", ""))[1] == "dma"
                               for f in members if not f.debug):
            return "scatterlist", ("kept on scatterlists for now: the device boundary "
                                   "(dma_map_sg()/dmaengine_prep_slave_sg()) takes a mapped "
                                   "table; build it from the iov_iter just before mapping")
        if request and (consumer is None or consumer.name not in _REQUEST_SETTERS):
            return "iov_iter", ("a driver: the request will carry iov_iters (proposed "
                                "iov_iter crypto API); walk a copy of req->src/req->dst")
        if consumer is None:
            return "bvec", "no crypto request consumes it: a bio_vec array (bvecq for chains)"
        if consumer.name in ("ahash_request_set_crypt", "akcipher_request_set_crypt",
                             "kpp_request_set_input", "kpp_request_set_output") or \
                consumer.name.startswith("acomp_"):
            return "scatterlist", f"{consumer.name}() has no iov_iter form"
        if consumer.name in _COPIES:
            return "bvec", ("only copied: a bio_vec array and copy_to_iter()/"
                            "copy_from_iter() (bvecq for long chains)")
        alg = self._algorithm()
        if sync and alg in LIBRARY_ALGS:
            return "library", (f"synchronous ({sync}), software-only and lib/crypto offers "
                               f"{alg}: call the library on an iterate_and_advance_kernel() "
                               "walk, no request (the SMB shape)")
        if sync:
            what = f"{alg} is not in lib/crypto" if alg else "the algorithm is chosen at run time"
            return "iov_iter", (f"synchronous ({sync}) but {what}: the iov_iter request API "
                                "(proposed aead_request_set_iter()/skcipher_request_set_iter())")
        return "iov_iter", ("asynchronous or hardware-capable: the iov_iter request API "
                            "(proposed aead_request_set_iter()/skcipher_request_set_iter())")

    def _algorithm(self) -> str:
        """The first algorithm name the file allocates by a string literal."""
        return self._alg

    def _layout(self, consumer: Finding | None, root: Key, entries: list[_Entry],
                members: list[Finding]) -> dict | None:
        if consumer is None or consumer.name != "aead_request_set_crypt":
            return None
        fn = self.fns.get(consumer.function or "")
        if fn is None:
            return None
        req = consumer.arguments[0] if consumer.arguments else ""
        ads = [a for a in fn.ad if a[0] == req] or [a for f in self.fns.values() for a in f.ad
                                                    if a[0] == req]
        slot = "src" if self.uf.find(fn.crypt.get("src", ("none",))) == root else "dst"
        if not ads:
            return {"slot": slot, "assoclen": None, "entries": [], "holds": None,
                    "text": "no aead_request_set_ad() found for this request: the AD length "
                            "is 0 or set elsewhere; check it"}
        ad_text = ads[0][1]
        owner = next((f for f in self.fns.values() if ads[0] in f.ad), fn)
        ad_id = ads[0][2].id if ads[0][2] is not None else None
        want = sorted(owner.consts.get(t, t) for t in _terms(ad_text))
        have: list[str] = []
        used: list[_Entry] = []
        for e in entries:
            if e.index is None:
                break
            have = sorted(have + _terms(e.length))
            used.append(e)
            if have == want:
                idx = ", ".join(str(u.index) for u in used)
                return {"slot": slot, "assoclen": ad_text, "entries": [u.finding.id for u in used],
                        "holds": True, "ad": ad_id,
                        "text": f"AD ({ad_text}) is entr{'y' if len(used) == 1 else 'ies'} "
                                f"{idx} of {slot}, in front: the layout holds; keep those "
                                f"entries first in the {slot} iterator"}
            if len(have) >= len(want):
                break
        if not entries:
            return {"slot": slot, "assoclen": ad_text, "entries": [], "holds": None, "ad": ad_id,
                    "text": f"the {slot} table is not built here: check that its first "
                            f"{ad_text} bytes are the AD"}
        return {"slot": slot, "assoclen": ad_text, "entries": [e.finding.id for e in used],
                "holds": False, "ad": ad_id,
                "text": f"AD length {ad_text} matches no leading entries of {slot} "
                        f"({', '.join(e.length for e in entries if e.index is not None)}): "
                        "the AD must sit in front of the text in src and dst"}

    def _advise(self, members: list[Finding], iterator: str, entries: list[_Entry],
                consumer: Finding | None, pairs: list[Pair], road: str) -> None:
        sources = {e.source for e in entries}
        pair_ids = {f: p.id for p in pairs for f in (p.acquire, p.release)}
        for f in members:
            adv = self._advice_for(f, iterator, sources, consumer, pair_ids, road)
            if adv is not None:
                self.advice[f.id] = adv

    def _advice_for(self, f: Finding, iterator: str, sources: set[str],
                    consumer: Finding | None, pair_ids: dict[str, str],
                    road: str) -> tuple[str, str] | None:
        if f.debug:
            return "drop it with the print: the use is only in a debug message", ""
        if f.construct == "declaration" and f.entry.id == "struct_scatterlist" and \
                iterator in ("BVEC", "KVEC"):
            kind = "bio_vec" if iterator == "BVEC" else "kvec"
            init = "iov_iter_bvec()" if iterator == "BVEC" else "iov_iter_kvec()"
            shown = f.text[len("struct scatterlist "):]
            return (f"struct {kind} {shown}, and a struct iov_iter beside it for {init}",
                    "mechanical")
        if f.name == "sg_page":
            return self._sg_page_use(f, sources, pair_ids)
        if f.name in ("for_each_sg", "sg_next", "for_each_sgtable_sg") and self._align_loop(f):
            return ("iov_iter_is_aligned(iter, addr_mask, len_mask) on the iterator instead of "
                    "the loop (lib/iov_iter.c until v6.17; removed in the v6.18 cycle: on newer "
                    "kernels check each segment where the iterator is built or extracted)",
                    "mechanical")
        if f.name == "sg_set_page" and len(f.arguments) >= 4:
            m = re.fullmatch(r"(.+?)(\.|->)bv_page", f.arguments[1])
            if m:
                bv, op = m.group(1), m.group(2)
                if f.arguments[2] == f"{bv}{op}bv_len" and f.arguments[3] == f"{bv}{op}bv_offset":
                    entry = f.arguments[0][1:] if f.arguments[0].startswith("&") \
                        else f"*{f.arguments[0]}"
                    return (f"reuse the bio_vec: {entry} = {'*' if op == '->' else ''}{bv}; "
                            "the array is described by iov_iter_bvec()", "mechanical")
                return (f"bvec_set_page({f.arguments[0]}, {f.arguments[1]}, {f.arguments[2]}, "
                        f"{f.arguments[3]}): the caller's bio_vec, trimmed", "mechanical")
            if "iter" in {e.source for e in self._entries_of(f)}:
                return (f"bvec_set_page({f.arguments[0]}, {f.arguments[1]}, {f.arguments[2]}, "
                        f"{f.arguments[3]}) on pages from iov_iter_extract_pages() (pins user "
                        "memory only; unpin if iov_iter_extract_will_pin())"
                        + (", behind the AD entry" if consumer is not None
                           and consumer.name == "aead_request_set_crypt" else ""), "")
        if f.name in ("skb_to_sgvec", "skb_to_sgvec_nomark") and iterator == "BVEC":
            return ("bio_vec entries in the same array: the skb's linear part with "
                    "bvec_set_virt() and each frag with bvec_set_page(skb_frag_page(), ...); "
                    "the skb keeps the frag references and must outlive the request", "")
        if f.name == "sg_assign_page" and len(f.arguments) == 2 and f.arguments[1] == "NULL":
            p = pair_ids.get(f.id)
            return ("nothing to clear: a bio_vec array owns no page"
                    + (f" (goes with {p})" if p else ""), "mechanical")
        if f.name in ("sg_set_buf", "sg_init_one") and iterator == "BVEC" and \
                f.rule not in ("sg_buf_on_stack", "sg_buf_vmalloc"):
            buf = f.arguments[1] if len(f.arguments) > 1 else "buf"
            ln = f.arguments[2] if len(f.arguments) > 2 else "len"
            return (f"bvec_set_virt({f.arguments[0]}, {buf}, {ln}) in the bio_vec array (the "
                    "same virt_to_page() rule as sg_set_buf())", "mechanical")
        if f.name in ("sg_set_buf", "sg_init_one") and iterator == "KVEC":
            buf = f.arguments[1] if len(f.arguments) > 1 else "buf"
            ln = f.arguments[2] if len(f.arguments) > 2 else "len"
            # A stack or vmalloc buffer is fine in a kvec, but its lifetime
            # still decides: the kind stays the derived rule's.
            keep = f.rule in ("sg_buf_on_stack", "sg_buf_vmalloc")
            return (f"kvec entry {{ .iov_base = {buf}, .iov_len = {ln} }}",
                    "" if keep else "mechanical")
        if f.name == "sg_init_table" and iterator in ("BVEC", "KVEC"):
            kind = "bio_vec" if iterator == "BVEC" else "kvec"
            return (f"a {kind} array of the same size; no initialisation, no end marker",
                    "mechanical")
        if f.name in ("aead_request_set_crypt", "skcipher_request_set_crypt") and \
                consumer is not None and consumer.name == f.name:
            api = "aead" if f.name.startswith("aead") else "skcipher"
            if road == "library":
                return ("the lib/crypto function for the algorithm, fed by an "
                        "iterate_and_advance_kernel() walk over the iov_iter (no request)",
                        "restructure")
            init = {"BVEC": "iov_iter_bvec()", "KVEC": "iov_iter_kvec()",
                    "FOLIOQ": "iov_iter_folio_queue()",
                    "ITER": "the caller's iov_iter"}[iterator]
            return (f"{api}_request_set_iter(req, &src_iter, &dst_iter, cryptlen, iv) "
                    f"(proposed iov_iter crypto API) over {init}", "restructure")
        return None

    def _entries_of(self, f: Finding) -> list[_Entry]:
        return [e for es in self.entries.values() for e in es if e.finding.id == f.id]

    def _sg_page_use(self, f: Finding, sources: set[str],
                     pair_ids: dict[str, str]) -> tuple[str, str] | None:
        node = self._node_at(f, "call_expression")
        if node is None or _callee(node) != "sg_page":
            return None
        cur = node.parent
        while cur is not None and cur.type in ("parenthesized_expression", "cast_expression",
                                               "binary_expression", "argument_list"):
            cur = cur.parent
        user = _callee(cur) if cur is not None and cur.type == "call_expression" else ""
        if user in _CPU_PAGE_USES:
            if "bvec" in sources:
                return (f"the page is the caller's bio_vec: memcpy_from_bvec()/"
                        f"memcpy_to_bvec() or bvec_kmap_local() on it, not {user}(sg_page())",
                        "restructure")
            return (f"a copy (copy_from_iter()/copy_to_iter()) or a step function of "
                    f"iterate_and_advance(): {user}() only wants the bytes", "restructure")
        if user in _RELEASE or user in _ACQUIRE:
            p = next((pair_ids[i] for i in pair_ids
                      if i.startswith(f"L{f.line}.")), None)
            return (f"ownership: the page reference is {user}()'s business"
                    + (f", see {p}" if p else ""), "ownership")
        if user in _DMA_PAGE_USES:
            return ("the engine conversion: map pages from iov_iter_extract_pages() (or the "
                    "dma_iova_* range API) at the device boundary", "dma")
        if user == "sg_set_page":
            return ("copy the entry: bio_vec to bio_vec (the table is rebuilt from another)",
                    "mechanical")
        return None

    def _align_loop(self, f: Finding) -> bool:
        n = self._node_at(f, "call_expression")
        body = _loop_body(n) if n is not None else None
        if body is None:
            return False
        text = _t(body)
        return bool(_ALIGN_CHECK.search(text)) and ("return" in text or "break" in text)

    def _questions(self, members: list[Finding], sync: str, entries: list[_Entry],
                   layout: dict | None, pairs: list[Pair],
                   consumer: Finding | None) -> list[Question]:
        keys: dict[str, None] = {}
        for f in members:
            if f.debug:
                continue
            for q in f.entry.questions:
                keys.setdefault(q, None)
        if layout is not None:
            keys.setdefault("aead_layout", None)
        out = []
        stack = [e for e in entries if e.source == "stack"]
        for q in keys:
            answer = ""
            if q == "lifetime":
                if sync:
                    answer = (f"answered: synchronous ({sync}); the table and buffers "
                              "outlive the request")
                elif consumer is not None and consumer.name in _REQUEST_SETTERS:
                    fn = self.fns.get(consumer.function or "")
                    cbs = [cb for cb, _ in fn.callbacks] if fn else []
                    where = f" until {cbs[0]}() runs" if cbs else ""
                    answer = ("open: asynchronous; the bio_vec/kvec array, the iterators and "
                              f"the buffers must live in the request context{where}")
                    if stack:
                        answer += (f"; stack buffer at line {stack[0].finding.line} does not "
                                   "survive")
            elif q == "stack_vmalloc" and stack:
                answer = (f"open: line {stack[0].finding.line} describes a stack buffer: a kvec "
                          "can, a bio_vec cannot")
            elif q == "stack_vmalloc" and entries and not any(
                    e.source in ("stack", "vmalloc") for e in entries):
                answer = ("open, narrowed: no entry is provably a stack or vmalloc buffer in "
                          "the functions that build it; check the buffers handed in")
            elif q == "aead_layout" and layout is not None:
                answer = ("answered: " if layout["holds"] else "open: ") + layout["text"]
            elif q == "cleanup" and pairs:
                answer = "see " + ", ".join(f"{p.id} ({p.owner})" for p in pairs)
            elif q == "refs" and entries and {e.source for e in entries} <= {"bvec", "virt"}:
                answer = ("answered: the pages are the caller's (bio_vecs, kernel buffers); no "
                          "reference is taken or needed")
            out.append(Question(q, answer))
        return out

    def _effort(self, members: list[Finding], pairs: list[Pair],
                fnames: list[str]) -> tuple[int, str]:
        """Points for converting one group, with the sum spelled out.

        Calibrated against upstream conversions (see tests/test_checklist/
        test_flow.py::test_effort_calibration): a line costs its kind's
        weight, except that declarations and debug-only uses come with the
        group, a restructure is paid once per group (later restructure lines
        cost like mechanical ones), a DMA path once per group, and each page
        pair and each extra function crossed adds review.
        """
        cat = self.r.cat
        w = cat.weights
        e = cat.effort
        parts: list[str] = [f"{e.get('group', 2)} to review the group"]
        points = e.get("group", 2)
        kinds = {"mechanical": 0, "restructure": 0, "ownership": 0, "dma": 0}
        free = 0
        for f in members:
            k = self.advice.get(f.id, ("", ""))[1] or f.kind
            if f.construct == "declaration" or f.debug:
                free += 1
                continue
            kinds[k] += 1
        lines = sum(kinds.values())
        if kinds["restructure"]:
            points += w["restructure"] + (kinds["restructure"] - 1) * w["mechanical"]
            parts.append(f"{w['restructure']} for the restructure"
                         + (f" + {kinds['restructure'] - 1} more line(s) at "
                            f"{w['mechanical']}" if kinds["restructure"] > 1 else ""))
        if kinds["mechanical"]:
            points += kinds["mechanical"] * w["mechanical"]
            parts.append(f"{kinds['mechanical']} mechanical line(s) at {w['mechanical']}")
        unpaired = kinds["ownership"] - min(kinds["ownership"], 2 * len(pairs))
        if pairs:
            points += len(pairs) * e.get("pair", 3)
            parts.append(f"{len(pairs)} page pair(s) at {e.get('pair', 3)}")
        if unpaired:
            points += unpaired * w["mechanical"] * 2
            parts.append(f"{unpaired} other ownership line(s) at {2 * w['mechanical']}")
        if kinds["dma"]:
            points += w["dma"] + (kinds["dma"] - 1) * w["mechanical"]
            parts.append(f"{w['dma']} for the DMA path"
                         + (f" + {kinds['dma'] - 1} more line(s)" if kinds["dma"] > 1 else ""))
        if len(fnames) > 1:
            points += (len(fnames) - 1) * e.get("extra_function", 2)
            parts.append(f"{len(fnames) - 1} extra function(s) at {e.get('extra_function', 2)}")
        hours = points * cat.minutes_per_point / 60
        reason = (" + ".join(parts) + f" = {points} points ≈ {hours:.1f} h at "
                  f"{cat.minutes_per_point} min/point ({lines} line(s) of work"
                  + (f", {free} carried along" if free else "") + ")")
        return points, reason


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


def analyse(reader: _CReader, root: Node) -> None:
    """Give the reader's findings ids, groups, pairs and data-flow advice."""
    Flow(reader, root).run()
