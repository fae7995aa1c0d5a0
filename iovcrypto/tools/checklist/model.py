"""What the readers find and what the report summarises.

Both readers (C through tree-sitter, Python through :mod:`ast`) produce the
same records, so the three output formats do not care where a finding came
from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from iovcrypto.tools.checklist.catalogue import KINDS, Catalogue, Entry

SCHEMA_ID = "iovcrypto-checklist/1"

# Driver statuses of the Python reader.
CONVERTED = "converted"
PARTIAL = "partially converted"
NOT_CONVERTED = "not converted"
UNKNOWN = "unknown"  # the twin exists but could not be read

_SPACES = re.compile(r"\s+")


def squash(text: str) -> str:
    """Collapse runs of whitespace (argument text spanning lines) to one space."""
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class Finding:
    """One use of the scatterlist-side API.

    ``construct`` is ``"call"`` for a call (``name`` is the callee,
    ``arguments`` the argument texts) and ``"declaration"`` for a struct
    declaration (``name`` is the declared identifier, ``text`` the
    declaration).  ``function`` is the enclosing function (``None`` outside
    one); ``scope`` says what that is: ``"function"``, ``"struct <name>"``,
    ``"macro <name>"``, ``"file"``.  Lines and columns are 1-based, columns
    counted in characters.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    function: str | None
    scope: str
    construct: str
    name: str
    arguments: tuple[str, ...]
    text: str
    entry: Entry
    detail: str = ""
    recovered: bool = False

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def rule(self) -> str:
        return self.entry.id

    def sort_key(self) -> tuple[int, int, str]:
        return (self.line, self.column, self.name)


@dataclass(frozen=True)
class Skipped:
    """A region the parser could not make sense of (an ERROR node), not analysed."""

    path: str
    start_line: int
    end_line: int
    text: str


@dataclass
class FileReport:
    """Everything found in one file.

    ``status`` is ``"ok"``, ``"empty"``, ``"binary"`` or ``"unreadable"``;
    ``message`` explains anything but ``"ok"``.  ``path`` is as shown to the
    user; when it is relative, it is relative to ``root`` (an absolute
    directory) or, when ``root`` is ``None``, to the working directory.
    """

    path: str
    language: str
    status: str = "ok"
    message: str = ""
    root: str | None = None
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def functions(self) -> list[str | None]:
        """Enclosing functions (or scopes) in order of first finding."""
        seen: dict[str | None, None] = {}
        for f in sorted(self.findings, key=Finding.sort_key):
            seen.setdefault(scope_label(f), None)
        return list(seen)


@dataclass(frozen=True)
class DriverStatus:
    """A legacy driver of this project and how far its iov_iter twin has come.

    ``builds_on``: the legacy drivers whose code this one imports (a driver
    may reach the scatterlist API only through another one, as ccm does
    through sgl/aead_template.py).  ``twin_imports``: modules of the legacy
    package the twin still imports; any makes it partially converted.
    """

    module: str
    twin: str | None
    status: str
    legacy_findings: int
    twin_findings: int
    builds_on: tuple[str, ...] = ()
    twin_imports: tuple[str, ...] = ()


@dataclass
class Report:
    """The whole checklist: files, legacy drivers, and the catalogue used."""

    catalogue: Catalogue
    files: list[FileReport] = field(default_factory=list)
    drivers: list[DriverStatus] = field(default_factory=list)
    api_modules: list[str] = field(default_factory=list)
    python_root: str | None = None

    def all_findings(self) -> list[Finding]:
        return [f for fr in self.files for f in fr.findings]

    def summary(self) -> dict:
        """Counts by kind, functions touching pages or DMA, and an effort estimate."""
        cat = self.catalogue
        findings = self.all_findings()
        by_kind = {k: 0 for k in KINDS}
        for f in findings:
            by_kind[f.kind] += 1
        pages: dict[tuple[str, str], None] = {}
        dma: dict[tuple[str, str], None] = {}
        for f in findings:
            key = (f.path, scope_label(f))
            if f.entry.pages:
                pages.setdefault(key, None)
            if f.kind == "dma":
                dma.setdefault(key, None)
        points = sum(cat.weights[k] * n for k, n in by_kind.items())
        minutes = points * cat.minutes_per_point
        return {
            "files": len(self.files),
            "findings": len(findings),
            "by_kind": by_kind,
            "functions_touching_pages": [{"path": p, "function": fn} for p, fn in pages],
            "functions_on_dma_path": [{"path": p, "function": fn} for p, fn in dma],
            "skipped_regions": sum(len(fr.skipped) for fr in self.files),
            "unreadable_files": [fr.path for fr in self.files
                                 if fr.status in ("binary", "unreadable")],
            "effort": {
                "points": points,
                "hours": round(minutes / 60, 1),
                "size": effort_size(points),
                "weights": dict(cat.weights),
                "minutes_per_point": cat.minutes_per_point,
            },
        }


def effort_size(points: int) -> str:
    """A T-shirt size for a number of effort points (S < 10 ≤ M < 30 ≤ L < 80 ≤ XL)."""
    if points < 10:
        return "S"
    if points < 30:
        return "M"
    if points < 80:
        return "L"
    return "XL"


def scope_label(f: Finding) -> str:
    """How a finding's enclosing scope is named in reports: ``foo()``, ``struct x``, ..."""
    if f.scope == "function" and f.function:
        return f"{f.function}()"
    if f.scope == "file":
        return "(file scope)"
    return f.scope
