"""The C reader: scatterlist-side API uses in kernel sources, through tree-sitter.

Kernel C is not plain C: annotations (``__init``, ``__must_check``), iterator
macros used as statements (``for_each_sg(...) { ... }``), registration
macros at file scope (``module_init(x);``) and attribute macros after
declarators.  tree-sitter's C grammar recovers from all of these, either by
parsing them as calls (which is what they look like) or by wrapping the
tokens it cannot place in ERROR nodes.  This reader

- reports every catalogued call whose callee is a plain identifier, with the
  enclosing function, line, column and argument texts (calls through
  function pointers such as ``ops->sg_next(x)`` are not the kernel API);
- reports every declaration of a catalogued struct (locals, parameters,
  struct members, globals; arrays, pointers, values);
- looks inside ERROR nodes for calls it can still recognise from the tokens
  (marked ``recovered``) and reports the ERROR node itself as skipped,
  unless it holds nothing but known annotations;
- reads the bodies of ``#define`` macros as code, so calls hidden in macros
  are found (scope ``macro NAME``);
- never looks into comments or string literals.

``sg_init_one``/``sg_set_buf`` get a specific finding when their buffer
argument is, within the same function, a non-static local array or a local
whose address is taken (stack), or a pointer assigned from a vmalloc-family
allocator (vmalloc).
"""

from __future__ import annotations

from pathlib import Path

from tree_sitter import Node

from iovcrypto.tools.checklist.c_recovery import Recovery
from iovcrypto.tools.checklist.c_syntax import (
    _DECLARATIONS,
    _MACRO_FUNCTION,
    _OPAQUE,
    _FunctionInfo,
    _Local,
    _parser,
    _Scope,
    _shape,
    _struct_name,
    _text,
    _unwrap_call,
    declarator_name,
)
from iovcrypto.tools.checklist.catalogue import Catalogue, load_catalogue
from iovcrypto.tools.checklist.model import FileReport, Finding, squash

C_SUFFIXES = (".c", ".h")

# declarator_name and _struct_name are also reached here (flow.py does).
__all__ = ["C_SUFFIXES", "_struct_name", "declarator_name", "scan_c_file", "scan_c_source"]


class _CReader(Recovery):
    def __init__(self, source: bytes, path: str, catalogue: Catalogue) -> None:
        self.source = source
        self.path = path
        self.cat = catalogue
        self.lines = source.split(b"\n")
        self.report = FileReport(path=path, language="c")
        self.defined: dict[str, int] = {}
        self.benign = 0
        self._function_scopes: dict[str, _FunctionInfo] = {}

    # -- positions -------------------------------------------------------

    def _column(self, row: int, byte_col: int) -> int:
        if row >= len(self.lines):
            return byte_col + 1
        return len(self.lines[row][:byte_col].decode("utf-8", "replace")) + 1

    def _span(self, node: Node, row_base: int = 0, col_base: int = 0) -> tuple[int, ...]:
        (sr, sc), (er, ec) = node.start_point, node.end_point
        sc = sc + col_base if sr == 0 else sc
        ec = ec + col_base if er == 0 else ec
        sr, er = sr + row_base, er + row_base
        return sr + 1, self._column(sr, sc), er + 1, self._column(er, ec)

    # -- entry point -----------------------------------------------------

    def run(self) -> FileReport:
        tree = _parser().parse(self.source)
        root = tree.root_node
        self.defined = self._defined_functions(root)
        self._walk(root, _Scope("file", "file"), 0, 0, report_skipped=True)
        self.report.findings.sort(key=Finding.sort_key)
        self.report.skipped.sort(key=lambda s: (s.start_line, s.end_line))
        self.report.benign_skips = self.benign
        from iovcrypto.tools.checklist.flow import analyse

        analyse(self, root)
        return self.report

    def _defined_functions(self, root: Node) -> dict[str, int]:
        names: dict[str, int] = {}
        for child in root.children:
            if child.type == "function_definition":
                name = declarator_name(child.child_by_field_name("declarator"))
                if name:
                    names.setdefault(name, child.start_point.row + 1)
        return names

    # -- traversal -------------------------------------------------------

    def _walk(self, root: Node, scope: _Scope, row_base: int, col_base: int,
              report_skipped: bool) -> None:
        stack: list[tuple[Node, _Scope, bool]] = [(root, scope, False)]
        while stack:
            node, scope, in_error = stack.pop()
            kind = node.type
            if kind in _OPAQUE:
                continue
            if kind == "function_definition":
                scope = self._function_scope(node) or scope
            elif kind == "struct_specifier" and node.child_by_field_name("body") is not None:
                name = node.child_by_field_name("name")
                scope = _Scope("struct", f"struct {_text(name) if name else '(anonymous)'}",
                               scope.function)
            elif kind == "function_declarator" and scope.kind == "file":
                # Parameters of a prototype belong to that function's checklist.
                name = declarator_name(node.child_by_field_name("declarator"))
                if self._is_function_name(name):
                    scope = _Scope("function", name, _FunctionInfo(name))
            elif kind in ("preproc_function_def", "preproc_def"):
                self._macro(node)
                continue
            elif kind == "call_expression":
                self._call(node, scope, row_base, col_base)
            elif kind in _DECLARATIONS:
                self._declaration(node, scope, row_base, col_base)
            elif kind == "field_expression":
                self._field(node, scope, row_base, col_base)
            elif kind == "identifier":
                self._reference(node, scope, row_base, col_base)
            elif kind == "ERROR":
                # Only the outermost ERROR of a nest is a skipped region.
                self._error(node, scope, row_base, col_base, report_skipped and not in_error)
                stack.extend(reversed(self._error_children(node, scope)))
                continue
            stack.extend((c, scope, in_error) for c in reversed(node.children))

    def _is_function_name(self, name: str | None) -> bool:
        """A declarator name that is a function, not ``__aligned(8)`` or our macro wrapper."""
        return bool(name) and name != _MACRO_FUNCTION and name not in self.cat.annotations

    def _function_scope(self, node: Node) -> _Scope | None:
        name = declarator_name(node.child_by_field_name("declarator"))
        if not name or name == _MACRO_FUNCTION:
            return None
        info = _FunctionInfo(name)
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type != "function_declarator":
            declarator = declarator.child_by_field_name("declarator")
        params = declarator.child_by_field_name("parameters") if declarator else None
        for param in params.named_children if params is not None else ():
            if param.type != "parameter_declaration":
                continue
            decl = param.child_by_field_name("declarator")
            pname = declarator_name(decl)
            if pname and decl is not None:
                info.locals[pname] = _Local(_shape(decl), False, decl.start_point.row + 1,
                                            _struct_name(param))
        body = node.child_by_field_name("body")
        if body is not None:
            self._collect_locals(body, info)
        self._function_scopes.setdefault(name, info)
        return _Scope("function", name, info)

    def _collect_locals(self, body: Node, info: _FunctionInfo) -> None:
        stack = [body]
        while stack:
            node = stack.pop()
            if node.type in _OPAQUE:
                continue
            if node.type == "declaration":
                static = any(c.type == "storage_class_specifier" and _text(c) == "static"
                             for c in node.children)
                for decl in node.children_by_field_name("declarator"):
                    name = declarator_name(decl)
                    if not name:
                        continue
                    line = decl.start_point.row + 1
                    info.locals[name] = _Local(_shape(decl), static, line, _struct_name(node))
                    if decl.type == "init_declarator":
                        self._note_alloc(info, name, decl.child_by_field_name("value"), line)
            elif node.type == "assignment_expression":
                left = node.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    self._note_alloc(info, _text(left), node.child_by_field_name("right"),
                                     node.start_point.row + 1)
            stack.extend(node.children)

    def _note_alloc(self, info: _FunctionInfo, name: str, value: Node | None,
                    line: int) -> None:
        call = _unwrap_call(value)
        if call is None:
            return
        fn = call.child_by_field_name("function")
        if fn is not None and fn.type == "identifier" and _text(fn) in self.cat.vmalloc_allocators:
            info.vmalloc[name] = (_text(fn), line)

    # -- findings --------------------------------------------------------

    def _scope_fields(self, scope: _Scope) -> tuple[str | None, str]:
        if scope.kind == "function":
            return scope.label, "function"
        return None, scope.label

    def _call(self, node: Node, scope: _Scope, row_base: int, col_base: int) -> None:
        fn = node.child_by_field_name("function")
        if fn is None or fn.type != "identifier":
            return
        name = _text(fn)
        entry = self.cat.match(name)
        if entry is None:
            return
        args_node = node.child_by_field_name("arguments")
        arg_nodes = ([a for a in args_node.named_children if a.type != "comment"]
                     if args_node is not None else [])
        args = tuple(squash(_text(a)) for a in arg_nodes)
        detail = ""
        derived = self._derive(name, arg_nodes, scope)
        if derived is not None:
            entry, detail = derived
        construct = entry.role or "call"
        if name in self.defined:
            construct = "same_file_call"
            detail = (f"defined in this file at line {self.defined[name]}: the file's own "
                      f"{name}(), checked like the kernel's")
        function, scope_label = self._scope_fields(scope)
        line, col, end_line, end_col = self._span(node, row_base, col_base)
        self.report.findings.append(Finding(
            path=self.path, line=line, column=col, end_line=end_line, end_column=end_col,
            function=function, scope=scope_label, construct=construct, name=name,
            arguments=args, text=f"{name}({', '.join(args)})", entry=entry, detail=detail,
            debug=self._in_debug_print(node)))

    def _in_debug_print(self, node: Node) -> bool:
        """True when ``node`` sits in the arguments of a print (pr_debug, dev_dbg, ...)."""
        cur = node.parent
        while cur is not None and cur.type not in ("function_definition", "compound_statement"):
            if cur.type == "call_expression":
                fn = cur.child_by_field_name("function")
                if fn is not None and _text(fn) in self.cat.debug_prints:
                    return True
            cur = cur.parent
        return False

    def _base_struct(self, node: Node | None, scope: _Scope) -> str | None:
        """The struct type of the variable at the root of ``node`` (``sg[i]``, ``&x``)."""
        while node is not None and node.type in ("parenthesized_expression",
                                                 "subscript_expression", "pointer_expression"):
            node = (node.child_by_field_name("argument")
                    if node.type != "parenthesized_expression"
                    else next(iter(node.named_children), None))
        if node is None or node.type != "identifier" or scope.function is None:
            return None
        local = scope.function.locals.get(_text(node))
        return local.struct if local else None

    def _field(self, node: Node, scope: _Scope, row_base: int, col_base: int) -> None:
        """Reads of a request's src/dst and writes to a scatterlist entry's fields."""
        field_node = node.child_by_field_name("field")
        if field_node is None or scope.kind != "function":
            return
        name = _text(field_node)
        base = node.child_by_field_name("argument")
        struct = self._base_struct(base, scope)
        parent = node.parent
        written = (parent is not None and parent.type in ("assignment_expression",
                                                          "update_expression")
                   and parent.child_by_field_name("left" if parent.type ==
                                                  "assignment_expression" else "argument")
                   == node)
        if written:
            rule = self.cat.field_for(name, "scatterlist", "write")
            if rule is None or struct != "scatterlist":
                return
            construct = "field_write"
        else:
            rule = self.cat.field_for(name, "request", "read")
            if rule is None or struct is None or not struct.endswith("_request"):
                return
            if parent is not None and parent.type == "assignment_expression" and \
                    parent.child_by_field_name("left") == node:
                return
            if parent is not None and parent.type == "argument_list":
                callee = parent.parent.child_by_field_name("function") if parent.parent \
                    else None
                if callee is not None and (self.cat.match(_text(callee)) is not None
                                           or _text(callee) in self.defined):
                    return  # the call's own finding covers this read
            construct = "field_read"
        function, scope_label = self._scope_fields(scope)
        line, col, end_line, end_col = self._span(node, row_base, col_base)
        text = squash(_text(parent if written else node))
        self.report.findings.append(Finding(
            path=self.path, line=line, column=col, end_line=end_line, end_column=end_col,
            function=function, scope=scope_label, construct=construct, name=name,
            arguments=(), text=text, entry=rule.entry,
            detail=f"{'write to' if written else 'read of'} struct {struct}.{name}",
            debug=self._in_debug_print(node)))

    def _reference(self, node: Node, scope: _Scope, row_base: int, col_base: int) -> None:
        """A catalogued function named as a value (``.free = sgl_free``), not called."""
        parent = node.parent
        if parent is None:
            return
        ptype = parent.type
        if ptype == "initializer_pair":
            ok = parent.child_by_field_name("value") == node
        elif ptype == "assignment_expression":
            ok = parent.child_by_field_name("right") == node
        elif ptype == "init_declarator":
            ok = parent.child_by_field_name("value") == node
        elif ptype == "argument_list":
            ok = True
        else:
            ok = False
        if not ok:
            return
        name = _text(node)
        entry = self.cat.match(name)
        if entry is None or (scope.function is not None and name in scope.function.locals):
            return
        if ptype == "argument_list":
            call = parent.parent
            callee = call.child_by_field_name("function") if call is not None else None
            # Iterator macros take a cursor variable; a print takes values.
            if callee is None or _text(callee) in self.cat.debug_prints:
                return
        function, scope_label = self._scope_fields(scope)
        line, col, end_line, end_col = self._span(node, row_base, col_base)
        self.report.findings.append(Finding(
            path=self.path, line=line, column=col, end_line=end_line, end_column=end_col,
            function=function, scope=scope_label, construct="reference", name=name,
            arguments=(), text=squash(_text(parent if ptype != "argument_list" else node)),
            entry=entry, detail="function pointer to a catalogued function"))

    def _derive(self, name: str, args: list[Node], scope: _Scope):
        rules = [d for d in self.cat.derived if name in d.calls]
        if not rules or scope.function is None:
            return None
        index = rules[0].argument
        if index >= len(args):
            return None
        found = self._buffer_memory(args[index], scope.function)
        if found is None:
            return None
        memory, detail = found
        rule = self.cat.derived_for(name, memory)
        return (rule.entry, detail) if rule is not None else None

    def _buffer_memory(self, node: Node, info: _FunctionInfo) -> tuple[str, str] | None:
        """Classify a buffer expression as stack or vmalloc memory, if provable here."""
        addressed = False
        while True:
            kind = node.type
            if kind == "parenthesized_expression" and node.named_children:
                node = node.named_children[0]
            elif kind == "cast_expression":
                node = node.child_by_field_name("value")
            elif kind == "pointer_expression":
                op = node.child_by_field_name("operator")
                if op is None or _text(op) != "&":
                    return None
                addressed = True
                node = node.child_by_field_name("argument")
            elif kind == "subscript_expression":
                node = node.child_by_field_name("argument")
            elif kind == "binary_expression":
                op = node.child_by_field_name("operator")
                if op is None or _text(op) not in ("+", "-"):
                    return None
                node = node.child_by_field_name("left")
            elif kind == "field_expression":
                op = node.child_by_field_name("operator")
                if op is None or _text(op) != ".":
                    return None
                addressed = True
                node = node.child_by_field_name("argument")
            else:
                break
            if node is None:
                return None
        if node.type != "identifier":
            return None
        name = _text(node)
        local = info.locals.get(name)
        if name in info.vmalloc:
            alloc, line = info.vmalloc[name]
            return "vmalloc", f"`{name}` comes from {alloc}() at line {line}"
        if local is None or local.static:
            return None
        if local.shape == "array" or (local.shape == "value" and addressed):
            return "stack", f"`{name}` is on the stack (declared at line {local.line})"
        return None

    def _declaration(self, node: Node, scope: _Scope, row_base: int, col_base: int) -> None:
        type_node = node.child_by_field_name("type")
        if type_node is None or type_node.type != "struct_specifier":
            return
        sname = type_node.child_by_field_name("name")
        if sname is None:
            return
        entry = self.cat.match_struct(_text(sname))
        if entry is None:
            return
        declarators = list(node.children_by_field_name("declarator"))
        # Attribute macros after a declarator (``sg[2] __aligned(8)``) push it
        # into an ERROR child; the declarator inside is still what is declared.
        for child in node.children:
            if child.type == "ERROR":
                declarators += [c for c in child.named_children
                                if c.type.endswith("declarator") or c.type == "identifier"]
        function, scope_label = self._scope_fields(scope)
        for decl in declarators:
            name = declarator_name(decl)
            if not name or name in self.cat.annotations:
                continue
            shown = decl.child_by_field_name("declarator") if decl.type == "init_declarator" \
                else decl
            text = f"struct {_text(sname)} {squash(_text(shown or decl))}"
            line, col, end_line, end_col = self._span(decl, row_base, col_base)
            where = {"parameter_declaration": "parameter",
                     "field_declaration": "member"}.get(node.type, "variable")
            self.report.findings.append(Finding(
                path=self.path, line=line, column=col, end_line=end_line, end_column=end_col,
                function=function, scope=scope_label, construct="declaration", name=name,
                arguments=(), text=text, entry=entry, detail=f"{where}, {_shape(decl)}"))


def _is_binary(source: bytes) -> bool:
    return b"\x00" in source[:8192]


def scan_c_source(source: bytes, path: str, catalogue: Catalogue | None = None) -> FileReport:
    """Checklist findings for one C source given as bytes (``path`` is for display)."""
    cat = catalogue or load_catalogue()
    if not source.strip():
        return FileReport(path=path, language="c", status="empty", message="empty file")
    if _is_binary(source):
        return FileReport(path=path, language="c", status="binary",
                          message="binary file (NUL bytes), not read")
    return _CReader(source, path, cat).run()


def scan_c_file(path: str | Path, display: str | None = None,
                catalogue: Catalogue | None = None) -> FileReport:
    """Checklist findings for one C file on disk."""
    shown = display or str(path)
    try:
        source = Path(path).read_bytes()
    except OSError as exc:
        return FileReport(path=shown, language="c", status="unreadable",
                          message=f"cannot read: {exc.strerror or exc}")
    return scan_c_source(source, shown, catalogue)
