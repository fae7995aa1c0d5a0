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
reported: only module-level names and module attributes are, and local
aliases of them assigned in the same function (``start = a if dec else
b; start(walk, req)`` reports ``a`` and ``b`` at the call).

A module under ``sgl/`` that calls none of it directly but imports from a
legacy driver (gcm, ccm, chacha20poly1305 and authenc use aead_template.py)
is a legacy driver too, listed with what it builds on; a twin that still
imports from ``sgl`` is only partially converted.
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
    with_ids,
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
        # Per open scope: local name -> the scatterlist-side functions it may be.
        self.aliases: list[dict[str, list[tuple[str, str | None, object]]]] = [{}]

    def _scoped(self, node: ast.AST, name: str) -> None:
        self.stack.append(name)
        self.aliases.append({})
        self.generic_visit(node)
        self.aliases.pop()
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
        origin = ".".join([bound, *rest])
        # The origin's last part: the real name behind ``import ... as``.
        return origin.rpartition(".")[2], origin

    def _column(self, lineno: int, byte_col: int) -> int:
        if 0 < lineno <= len(self.lines):
            line = self.lines[lineno - 1].encode("utf-8")
            return len(line[:byte_col].decode("utf-8", "replace")) + 1
        return byte_col + 1

    def _resolve(self, expr: ast.expr) -> tuple[str, str | None, object] | None:
        """(name, origin, catalogue entry) when ``expr`` names scatterlist-side API."""
        found = self._origin(expr)
        if found is None:
            return None
        name, origin = found
        entry = self.cat.match(name)
        if entry is None:
            return None
        world = origin.split(".")[0] if origin else None
        if world is None:
            if entry.shared:
                return None
        elif world not in _SCATTERLIST_WORLDS:
            return None
        return name, origin, entry

    def _targets(self, expr: ast.expr) -> list[tuple[str, str | None, object]] | None:
        """What a call of ``expr`` may reach: a local alias's candidates or one name."""
        if isinstance(expr, ast.Name):
            for scope in reversed(self.aliases):
                if expr.id in scope:
                    return scope[expr.id]
        one = self._resolve(expr)
        return [one] if one else None

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            return
        local = node.targets[0].id
        value = node.value
        options = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
        found = [self._resolve(v) for v in options]
        scope = self.aliases[-1]
        if all(found):
            scope[local] = found
        else:
            scope.pop(local, None)  # rebound to something else

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        targets = self._targets(node.func)
        if targets is None:
            return
        via = node.func.id if isinstance(node.func, ast.Name) else None
        for name, origin, entry in targets:
            self._add(node, name, origin, entry, None if via == name else via)

    def _add(self, node: ast.Call, name: str, origin: str | None, entry: object,
             alias: str | None) -> None:
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
            detail=(f"from {origin}" if origin else "not imported")
            + (f", called as {alias}()" if alias else "")))


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


def _scan(source: bytes, path: str, module: str | None, cat: Catalogue
          ) -> tuple[FileReport, set[str], list[str]]:
    """(report, catalogue names defined, dotted origins of every import)."""
    tree, text, failed = _parse(source, path)
    if failed is not None:
        return failed, set(), []
    assert tree is not None
    mod = module or Path(path).stem
    bindings = _Bindings(mod, is_package=path.endswith("__init__.py"))
    bindings.collect(tree)
    reader = _PyReader(text, path, bindings, cat)
    reader.visit(tree)
    report = FileReport(path=path, language="python",
                        findings=with_ids(sorted(reader.findings, key=Finding.sort_key)))
    defines = {n for n in bindings.defined if cat.match(n) is not None}
    own = f"{bindings.module}."
    imports = [o for o in bindings.names.values() if not o.startswith(own)]
    return report, defines, [*imports, *bindings.star]


def scan_python_source(source: bytes, path: str, module: str | None = None,
                       catalogue: Catalogue | None = None) -> tuple[FileReport, set[str]]:
    """Findings in one Python module, and the catalogue names it defines.

    ``module`` is the dotted name used to resolve relative imports
    (``sgl.cbc``); without it relative imports stay unresolved.
    """
    report, defines, _ = _scan(source, path, module, catalogue or load_catalogue())
    return report, defines


def _imported_modules(origins: list[str], known: dict[str, str]) -> set[str]:
    """The known modules (relative paths) that ``origins`` come from: the
    longest known dotted prefix of each (``sgl.aead_template.AeadTemplateDriver`` →
    ``sgl/aead_template.py``)."""
    out = set()
    for origin in origins:
        parts = origin.split(".")
        for n in range(len(parts), 0, -1):
            rel = known.get(".".join(parts[:n]))
            if rel is not None:
                out.add(rel)
                break
    return out


def _legacy_imports(origins: list[str], known: dict[str, str]) -> tuple[str, ...]:
    """What of the legacy package a twin imports (relative paths where known)."""
    legacy = [o for o in origins if o.split(".")[0] == LEGACY_PACKAGE]
    found = _imported_modules(legacy, known)
    unknown = {o for o in legacy if not _imported_modules([o], known)}
    return tuple(sorted(found | unknown))


def scan_python_project(root: str | Path, catalogue: Catalogue | None = None
                        ) -> tuple[list[FileReport], list[DriverStatus], list[str]]:
    """Checklists for the legacy drivers under ``root/sgl`` and their twins' status.

    Returns (file reports for legacy drivers and not-fully-converted twins,
    one status per driver, the ``sgl`` modules that define the scatterlist API).
    """
    cat = catalogue or load_catalogue()
    root = Path(root)
    files: list[FileReport] = []
    api: list[str] = []
    legacy_dir = root / LEGACY_PACKAGE
    paths = sorted(legacy_dir.rglob("*.py")) if legacy_dir.is_dir() else []
    known = {module_name(p.relative_to(root).as_posix()): p.relative_to(root).as_posix()
             for p in paths}
    scanned: dict[str, tuple[FileReport, set[str]]] = {}
    for path in paths:
        rel = path.relative_to(root).as_posix()
        report, defines, origins = _scan(path.read_bytes(), rel, module_name(rel), cat)
        if defines:
            api.append(rel)
        elif report.status != "ok":
            files.append(report)  # cannot tell whether it is a driver
        else:
            scanned[rel] = (report, _imported_modules(origins, known) - {rel})
    # Drivers: modules that use the API directly, then (to a fixed point)
    # non-package modules that import from a driver.
    drivers = {rel for rel, (report, _) in scanned.items() if report.findings}
    grew = True
    while grew:
        grew = False
        for rel, (_, deps) in scanned.items():
            if rel not in drivers and not rel.endswith("__init__.py") and deps & drivers:
                drivers.add(rel)
                grew = True
    statuses: list[DriverStatus] = []
    for rel in sorted(drivers):
        report, deps = scanned[rel]
        builds_on = tuple(sorted(deps & drivers))
        if report.findings:
            files.append(report)
        twin_rel = CONVERTED_PACKAGE + rel[len(LEGACY_PACKAGE):]
        twin_path = root / twin_rel
        if not twin_path.is_file():
            statuses.append(DriverStatus(rel, None, NOT_CONVERTED, len(report.findings), 0,
                                         builds_on))
            continue
        twin, _, twin_origins = _scan(twin_path.read_bytes(), twin_rel,
                                      module_name(twin_rel), cat)
        if twin.findings or twin.status != "ok":
            files.append(twin)
        twin_imports = _legacy_imports(twin_origins, known)
        if twin.status != "ok":
            status = UNKNOWN
        else:
            status = PARTIAL if twin.findings or twin_imports else CONVERTED
        statuses.append(DriverStatus(rel, twin_rel, status, len(report.findings),
                                     len(twin.findings), builds_on, twin_imports))
    # Each twin right after its legacy module, as the drivers are listed.
    files.sort(key=lambda fr: (LEGACY_PACKAGE + fr.path[len(CONVERTED_PACKAGE):]
                               if fr.path.startswith(CONVERTED_PACKAGE + "/") else fr.path,
                               fr.path.startswith(CONVERTED_PACKAGE + "/")))
    return files, statuses, api
