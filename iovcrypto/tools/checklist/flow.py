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

from typing import TYPE_CHECKING

from tree_sitter import Node

from iovcrypto.tools.checklist.flow_base import (
    _ACQUIRE,
    _JOINS,
    _RELEASE,
    _RETURNS_TABLE,
    _UF,
    _WAITS,
    LIBRARY_ALGS,
    TABLE_ARGS,
    Key,
    _args,
    _callee,
    _descendants,
    _Entry,
    _Fn,
    _strip,
    _t,
)
from iovcrypto.tools.checklist.flow_groups import Grouping
from iovcrypto.tools.checklist.model import Finding, squash, with_ids

if TYPE_CHECKING:
    from iovcrypto.tools.checklist.c_reader import _CReader

# The vocabulary lives in flow_base; its public tables are still reached here.
__all__ = ["LIBRARY_ALGS", "TABLE_ARGS", "Flow", "analyse"]


class Flow(Grouping):
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



def analyse(reader: _CReader, root: Node) -> None:
    """Give the reader's findings ids, groups, pairs and data-flow advice."""
    Flow(reader, root).run()
