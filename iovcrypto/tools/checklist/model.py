"""What the readers find and what the report summarises.

Both readers (C through tree-sitter, Python through :mod:`ast`) produce the
same records, so the three output formats do not care where a finding came
from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from iovcrypto.tools.checklist.catalogue import KINDS, Catalogue, Entry

SCHEMA_ID = "iovcrypto-checklist/2"

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

    ``construct`` says what was found: ``"call"`` (``name`` is the callee,
    ``arguments`` the argument texts), ``"declaration"`` of a catalogued
    struct (``name`` is the declared identifier), ``"acquire"`` /
    ``"release"`` (a call that takes or gives back pages), ``"field_read"``
    / ``"field_write"`` (``name`` is the field), ``"same_file_call"`` (a
    call of a function defined in the same file) and ``"reference"`` (a
    catalogued function named without being called, ``->free = sgl_free``).
    The data flow fills ``id`` (stable: path, line, column), ``group`` and
    ``pairs`` (ids of the file's groups and pairs), ``advice`` (what the
    data flow says this line becomes, when it decides more than the
    catalogue entry) and ``debug`` (the use sits only in a print).
    ``function`` is the enclosing function (``None`` outside one); ``scope``
    says what that is: ``"function"``, ``"struct <name>"``, ``"macro <name>"``,
    ``"file"``.  Lines and columns are 1-based, columns
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
    id: str = ""
    group: str | None = None
    pairs: tuple[str, ...] = ()
    advice: str = ""
    debug: bool = False
    kind_as: str = ""  # the kind the data flow decided, when not the entry's

    @property
    def replacement(self) -> str:
        """What this line becomes: the data flow's advice, else the catalogue's."""
        return self.advice or self.entry.replacement

    @property
    def kind(self) -> str:
        return self.kind_as or self.entry.kind

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


@dataclass(frozen=True)
class Question:
    """An open question of a group, answered when the data flow can."""

    key: str
    answer: str = ""


@dataclass
class Group:
    """One scatterlist table (or a set joined by the data flow) and its plan.

    ``members`` are finding ids in data-flow order (construction first, then
    consumers, across functions when the table crosses a call).
    ``iterator`` is the recommended iov_iter type (``KVEC``, ``BVEC``,
    ``FOLIOQ`` or ``ITER``: the iterator the caller already holds).
    ``road`` is ``library``, ``iov_iter``, ``bvec`` or ``scatterlist``.
    """

    id: str
    consumer: str | None
    members: list[str]
    table: str
    functions: list[str]
    iterator: str
    iterator_reason: str
    road: str
    road_reason: str
    questions: list[Question] = field(default_factory=list)
    aead_layout: dict | None = None
    synchronous: str = ""
    effort_points: int = 0
    effort_reason: str = ""


@dataclass
class Pair:
    """A page acquire site and the release that gives the pages back."""

    id: str
    acquire: str
    release: str
    callback: str | None
    owner: str


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
    groups: list[Group] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    benign_skips: int = 0

    def finding(self, fid: str) -> Finding:
        """The finding with id ``fid``."""
        for f in self.findings:
            if f.id == fid:
                return f
        raise KeyError(fid)

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
        groups = [g for fr in self.files for g in fr.groups]
        ungrouped = sum(cat.weights[f.kind] for f in findings
                        if f.group is None and f.construct != "declaration" and not f.debug)
        points = sum(g.effort_points for g in groups) + ungrouped
        minutes = points * cat.minutes_per_point
        return {
            "files": len(self.files),
            "findings": len(findings),
            "groups": len(groups),
            "pairs": sum(len(fr.pairs) for fr in self.files),
            "by_kind": by_kind,
            "functions_touching_pages": [{"path": p, "function": fn} for p, fn in pages],
            "functions_on_dma_path": [{"path": p, "function": fn} for p, fn in dma],
            "skipped_regions": sum(len(fr.skipped) for fr in self.files),
            "benign_skips": sum(fr.benign_skips for fr in self.files),
            "unreadable_files": [fr.path for fr in self.files
                                 if fr.status in ("binary", "unreadable")],
            "effort": {
                "points": points,
                "ungrouped_points": ungrouped,
                "hours": round(minutes / 60, 1),
                "size": effort_size(points),
                "weights": dict(cat.weights),
                "minutes_per_point": cat.minutes_per_point,
            },
        }


def with_ids(findings: list[Finding]) -> list[Finding]:
    """The findings with stable ids: ``L<line>.<column>`` (``-2``… on a tie)."""
    from dataclasses import replace

    seen: dict[str, int] = {}
    out = []
    for f in findings:
        base = f"L{f.line}.{f.column}"
        seen[base] = seen.get(base, 0) + 1
        out.append(replace(f, id=base if seen[base] == 1 else f"{base}-{seen[base]}"))
    return out


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
