"""What the C reader does where the grammar gives up: ERROR nodes (calls
still recognised from their tokens, annotations told from real gaps,
functions whose body the parser could not close) and ``#define`` bodies read
as code.  A mixin of :class:`~.c_reader._CReader`."""

from __future__ import annotations

from tree_sitter import Node

from iovcrypto.tools.checklist.c_syntax import (
    _MACRO_PREFIX,
    _TYPE_WORDS,
    _FunctionInfo,
    _leaves,
    _parser,
    _Scope,
    _split_arguments,
    _text,
    declarator_name,
)
from iovcrypto.tools.checklist.model import Finding, Skipped, squash


class Recovery:
    """ERROR-node recovery and macro bodies for :class:`~.c_reader._CReader`
    (it uses the reader's state on ``self``)."""

    def _error_children(self, node: Node, scope: _Scope) -> list[tuple[Node, _Scope, bool]]:
        """Children of an ERROR node with their scopes.

        A function whose body the parser could not close (an ``#ifdef`` that
        opens a brace in each branch, say) shows up as an ERROR holding the
        function's declarator followed by its statements: what follows the
        declarator still belongs to that function.
        """
        out = []
        for child in node.children:
            if child.type == "function_declarator" and scope.kind in ("file", "function"):
                name = declarator_name(child.child_by_field_name("declarator"))
                if self._is_function_name(name):
                    info = _FunctionInfo(name)
                    self._collect_locals(node, info)
                    scope = _Scope("function", name, info)
            out.append((child, scope, True))
        return out

    def _error(self, node: Node, scope: _Scope, row_base: int, col_base: int,
               report_skipped: bool) -> None:
        children = node.children
        for i, child in enumerate(children):
            if child.type != "identifier" or i + 1 >= len(children):
                continue
            nxt = children[i + 1]
            if _text(nxt)[:1] != "(":
                continue
            self._recovered_call(child, nxt, node, scope, row_base, col_base)
        if not report_skipped:
            return
        if self._only_annotations(node):
            self.benign += 1
            return
        start, _, end, _ = self._span(node, row_base, col_base)
        self.report.skipped.append(Skipped(self.path, start, end,
                                           squash(_text(node))[:80]))

    def _only_annotations(self, node: Node) -> bool:
        """An ERROR node that is just ``__init``-style decoration, or inside ``__aligned(8)``."""
        leaves = [c for c in _leaves(node) if c.type != "comment"]
        if leaves and all(_text(c) in self.cat.annotations for c in leaves):
            return True
        # ``static noinline_for_stack int f(void)``: the annotation was taken
        # for the type, and the real type is left over.
        prev = node.prev_sibling
        if leaves and prev is not None and _text(prev) in self.cat.annotations and \
                all(c.type in ("primitive_type", "type_identifier", "*")
                    or _text(c) in _TYPE_WORDS for c in leaves):
            return True
        parent = node.parent
        for _ in range(3):
            if parent is None:
                break
            if parent.type in ("function_declarator", "call_expression", "macro_type_specifier"):
                callee = parent.child_by_field_name("declarator") or \
                    parent.child_by_field_name("function") or \
                    parent.child_by_field_name("name")
                if callee is not None and (_text(callee) in self.cat.annotations
                                           or _text(callee) in self.cat.type_macros):
                    return True
            parent = parent.parent
        return False

    def _recovered_call(self, ident: Node, paren: Node, error: Node, scope: _Scope,
                        row_base: int, col_base: int) -> None:
        name = _text(ident)
        entry = self.cat.match(name)
        if entry is None:
            return
        start = paren.start_byte
        end, args = _split_arguments(self.source, start, error.end_byte)
        if end is None:
            return
        function, scope_label = self._scope_fields(scope)
        line, col, _, _ = self._span(ident, row_base, col_base)
        self.report.findings.append(Finding(
            path=self.path, line=line, column=col, end_line=line, end_column=col + len(name),
            function=function, scope=scope_label, construct="call", name=name,
            arguments=args, text=f"{name}({', '.join(args)})", entry=entry,
            detail="recovered from a region the parser could not place", recovered=True))

    def _macro(self, node: Node) -> None:
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("value")
        if name_node is None or body is None:
            return
        text = (body.text or b"").replace(b"\\\n", b" \n").replace(b"\\\r\n", b"  \n")
        sub = type(self)(_MACRO_PREFIX + text + b"\n;}\n", self.path, self.cat)
        sub.defined = self.defined
        sub.lines = self.lines
        tree = _parser().parse(sub.source)
        sub._walk(tree.root_node, _Scope("macro", f"macro {_text(name_node)}"),
                  body.start_point.row, body.start_point.column - len(_MACRO_PREFIX),
                  report_skipped=False)
        self.report.findings.extend(sub.report.findings)
