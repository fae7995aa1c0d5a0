"""The Python reader: this project's own legacy drivers and their twins.

A legacy driver is a module under ``sgl/`` that calls scatterlist-side API
(catalogue names) without defining any of it; its twin is the module with
the same relative path under ``iovcrypto/`` (``sgl/cbc.py`` ↔
``iovcrypto/cbc.py``).  Modules under ``sgl/`` that *define* catalogue
names are the scatterlist API itself: they are listed, not checklisted
(they go away at the end of the migration, they are not converted).

Both worlds export some names unchanged (``aead_request_set_ad``, the
skcipher walk), so a call counts as scatterlist-side by where its name
comes from, not by its spelling alone:

- imported from ``sgl`` (absolutely, or relatively from inside ``sgl/``)
  or from ``shims`` → scatterlist-side;
- imported from ``iovcrypto`` → iov_iter-side, never a finding;
- not imported at all (a global, a star import of an unknown module) →
  scatterlist-side unless the catalogue marks the name ``shared``.

Calls through local objects (``walk.done()``) are not resolved and not
reported: only module-level names and module attributes are.
"""

from __future__ import annotations

import ast
from pathlib import Path

from iovcrypto.tools.checklist.catalogue import Catalogue, load_catalogue
from iovcrypto.tools.checklist.model import (
    CONVERTED,
    NOT_CONVERTED,
    PARTIAL,
    UNKNOWN,
    DriverStatus,
    FileReport,
    Finding,
    Skipped,
    squash,
)

LEGACY_PACKAGE = "sgl"
CONVERTED_PACKAGE = "iovcrypto"
_SCATTERLIST_WORLDS = ("sgl", "shims")


def module_name(relpath: str) -> str:
    """Dotted module name of a root-relative path (``sgl/cbc.py`` → ``sgl.cbc``)."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


class _Bindings(ast.NodeVisitor):
    """Where each name used in a module comes from (dotted origin)."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.names: dict[str, str] = {}
        self.star: list[str] = []
        self.defined: set[str] = set()

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = self.package.split(".") if self.package else []
        if node.level > 1:
            base = base[: len(base) - (node.level - 1)]
        return ".".join([*base, *([node.module] if node.module else [])])

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.names[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.names[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node)
        for alias in node.names:
            if alias.name == "*":
                self.star.append(base)
            else:
                self.names[alias.asname or alias.name] = f"{base}.{alias.name}".lstrip(".")

    def collect(self, tree: ast.Module) -> None:
        self.visit(tree)
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.defined.add(stmt.name)
                self.names.setdefault(stmt.name, f"{self.module}.{stmt.name}")


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


class _PyReader(ast.NodeVisitor):
    def __init__(self, source: str, path: str, bindings: _Bindings, cat: Catalogue) -> None:
        self.source = source
        self.lines = source.splitlines()
        self.path = path
        self.bindings = bindings
        self.cat = cat
        self.stack: list[str] = []
        self.findings: list[Finding] = []

    def _scoped(self, node: ast.AST, name: str) -> None:
        self.stack.append(name)
        self.generic_visit(node)
        self.stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scoped(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scoped(node, node.name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node, node.name)

    def _origin(self, func: ast.expr) -> tuple[str, str | None] | None:
        """(called name, origin module path or None when not imported)."""
        parts = _dotted(func)
        if parts is None:
            return None
        root, rest = parts[0], parts[1:]
        bound = self.bindings.names.get(root)
        if bound is None:
            if rest:
                return None  # an attribute of a local object
            return root, (self.bindings.star[0] if self.bindings.star else None)
        return parts[-1], ".".join([bound, *rest])

    def _column(self, lineno: int, byte_col: int) -> int:
        if 0 < lineno <= len(self.lines):
            line = self.lines[lineno - 1].encode("utf-8")
            return len(line[:byte_col].decode("utf-8", "replace")) + 1
        return byte_col + 1

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        found = self._origin(node.func)
        if found is None:
            return
        name, origin = found
        entry = self.cat.match(name)
        if entry is None:
            return
        world = origin.split(".")[0] if origin else None
        if world is None:
            if entry.shared:
                return
        elif world not in _SCATTERLIST_WORLDS:
            return
        args = [squash(ast.get_source_segment(self.source, a) or "") for a in node.args]
        args += [f"{k.arg}={squash(ast.get_source_segment(self.source, k.value) or '')}"
                 if k.arg else f"**{squash(ast.get_source_segment(self.source, k.value) or '')}"
                 for k in node.keywords]
        function = ".".join(self.stack) or None
        end_line = node.end_lineno or node.lineno
        self.findings.append(Finding(
            path=self.path, line=node.lineno, column=self._column(node.lineno, node.col_offset),
            end_line=end_line,
            end_column=self._column(end_line, node.end_col_offset or node.col_offset),
            function=function, scope="function" if function else "file", construct="call",
            name=name, arguments=tuple(args), text=f"{name}({', '.join(args)})", entry=entry,
            detail=f"from {origin}" if origin else "not imported"))


def _parse(source: bytes, path: str) -> tuple[ast.Module | None, str, FileReport | None]:
    if not source.strip():
        return None, "", FileReport(path=path, language="python", status="empty",
                                    message="empty file")
    if b"\x00" in source[:8192]:
        return None, "", FileReport(path=path, language="python", status="binary",
                                    message="binary file (NUL bytes), not read")
    text = source.decode("utf-8", "replace")
    try:
        return ast.parse(text, filename=path), text, None
    except SyntaxError as exc:
        line = exc.lineno or 1
        report = FileReport(path=path, language="python", status="unreadable",
                            message=f"syntax error at line {line}: {exc.msg}")
        report.skipped.append(Skipped(path, line, line, squash(exc.text or "")[:80]))
        return None, "", report


def scan_python_source(source: bytes, path: str, module: str | None = None,
                       catalogue: Catalogue | None = None) -> tuple[FileReport, set[str]]:
    """Findings in one Python module, and the catalogue names it defines.

    ``module`` is the dotted name used to resolve relative imports
    (``sgl.cbc``); without it relative imports stay unresolved.
    """
    cat = catalogue or load_catalogue()
    tree, text, failed = _parse(source, path)
    if failed is not None:
        return failed, set()
    assert tree is not None
    mod = module or Path(path).stem
    bindings = _Bindings(mod, is_package=path.endswith("__init__.py"))
    bindings.collect(tree)
    reader = _PyReader(text, path, bindings, cat)
    reader.visit(tree)
    report = FileReport(path=path, language="python",
                        findings=sorted(reader.findings, key=Finding.sort_key))
    defines = {n for n in bindings.defined if cat.match(n) is not None}
    return report, defines


def scan_python_project(root: str | Path, catalogue: Catalogue | None = None
                        ) -> tuple[list[FileReport], list[DriverStatus], list[str]]:
    """Checklists for the legacy drivers under ``root/sgl`` and their twins' status.

    Returns (file reports for legacy drivers and not-fully-converted twins,
    one status per driver, the ``sgl`` modules that define the scatterlist API).
    """
    cat = catalogue or load_catalogue()
    root = Path(root)
    files: list[FileReport] = []
    drivers: list[DriverStatus] = []
    api: list[str] = []
    legacy_dir = root / LEGACY_PACKAGE
    for path in sorted(legacy_dir.rglob("*.py")) if legacy_dir.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        report, defines = scan_python_source(path.read_bytes(), rel, module_name(rel), cat)
        if defines:
            api.append(rel)
            continue
        if report.status != "ok":
            files.append(report)  # cannot tell whether it is a driver
            continue
        if not report.findings:
            continue
        files.append(report)
        twin_rel = CONVERTED_PACKAGE + rel[len(LEGACY_PACKAGE):]
        twin_path = root / twin_rel
        if not twin_path.is_file():
            drivers.append(DriverStatus(rel, None, NOT_CONVERTED, len(report.findings), 0))
            continue
        twin, _ = scan_python_source(twin_path.read_bytes(), twin_rel, module_name(twin_rel),
                                     cat)
        if twin.findings or twin.status != "ok":
            files.append(twin)
        if twin.status != "ok":
            status = UNKNOWN
        else:
            status = PARTIAL if twin.findings else CONVERTED
        drivers.append(DriverStatus(rel, twin_rel, status, len(report.findings),
                                    len(twin.findings)))
    return files, drivers, api
