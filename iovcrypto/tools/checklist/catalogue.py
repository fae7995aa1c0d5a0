"""The catalogue of scatterlist-side kernel API and its iov_iter replacements.

The data lives in ``catalogue.toml`` next to this module so that it can be
read, reviewed and extended without touching the readers.  This module only
loads it and answers "which entry covers this name?".
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

KINDS: tuple[str, ...] = ("mechanical", "restructure", "ownership", "dma")


@dataclass(frozen=True)
class Entry:
    """One scatterlist-side API item (a call, a struct type or a derived rule)."""

    id: str
    names: tuple[str, ...]
    category: str
    replacement: str
    kind: str
    questions: tuple[str, ...] = ()
    pages: bool = False
    shared: bool = False
    note: str = ""
    role: str = ""  # "acquire" / "release" for page acquire and release sites

    def matches(self, name: str) -> bool:
        """True when ``name`` is one of the exact names or fits one of the patterns."""
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.names)

    def is_pattern_match(self, name: str) -> bool:
        """True when ``name`` is matched only by a pattern, not listed exactly."""
        return name not in self.names and self.matches(name)


@dataclass(frozen=True)
class Derived:
    """A refinement of a call by the kind of memory one argument points to."""

    entry: Entry
    calls: tuple[str, ...]
    argument: int
    memory: str


@dataclass(frozen=True)
class Field:
    """A struct field whose read or write is part of the scatterlist API."""

    entry: Entry
    fields: tuple[str, ...]
    base: str  # "request" or "scatterlist"
    access: str  # "read" or "write"


@dataclass(frozen=True)
class Catalogue:
    """The loaded catalogue: call entries, struct types, derived rules, questions."""

    entries: tuple[Entry, ...]
    types: tuple[Entry, ...]
    derived: tuple[Derived, ...]
    questions: dict[str, str]
    question_labels: dict[str, str]
    kind_labels: dict[str, str]
    weights: dict[str, int]
    minutes_per_point: int
    vmalloc_allocators: frozenset[str]
    annotations: frozenset[str]
    fields: tuple[Field, ...] = ()
    internal: dict[str, Entry] = field(default_factory=dict)
    effort: dict[str, int] = field(default_factory=dict)
    type_macros: frozenset[str] = frozenset()
    debug_prints: frozenset[str] = frozenset()
    _by_id: dict[str, Entry] = field(default_factory=dict, repr=False, compare=False)
    _matched: dict[str, Entry | None] = field(default_factory=dict, repr=False,
                                              compare=False)

    def match(self, name: str) -> Entry | None:
        """The first call entry covering ``name`` (exact names before patterns)."""
        try:
            return self._matched[name]
        except KeyError:
            found = self._match(name)
            self._matched[name] = found
            return found

    def _match(self, name: str) -> Entry | None:
        for entry in self.entries:
            if name in entry.names:
                return entry
        for entry in self.entries:
            if entry.matches(name):
                return entry
        return None

    def match_struct(self, struct_name: str) -> Entry | None:
        """The type entry for ``struct <struct_name>``, if catalogued."""
        for entry in self.types:
            if struct_name in entry.names:
                return entry
        return None

    def field_for(self, name: str, base: str, access: str) -> Field | None:
        """The field rule for ``base->name`` read or written, if catalogued."""
        for f in self.fields:
            if name in f.fields and f.base == base and f.access == access:
                return f
        return None

    def derived_for(self, call: str, memory: str) -> Derived | None:
        """The derived rule for ``call`` when its buffer argument is ``memory``."""
        for rule in self.derived:
            if call in rule.calls and rule.memory == memory:
                return rule
        return None

    def by_id(self, rule_id: str) -> Entry:
        """Any entry (call, type or derived) by its id."""
        if not self._by_id:
            for e in self.all_entries():
                self._by_id[e.id] = e
        return self._by_id[rule_id]

    def all_entries(self) -> tuple[Entry, ...]:
        """Every entry, in catalogue order: calls, types, derived, fields, internal."""
        return (*self.entries, *self.types, *(d.entry for d in self.derived),
                *(f.entry for f in self.fields), *self.internal.values())

    def kind_label(self, kind: str) -> str:
        """The human label of a kind of change ("ownership/lifetime review", ...)."""
        return self.kind_labels.get(kind, kind)


def _entry(raw: dict, names: tuple[str, ...], questions: dict[str, str]) -> Entry:
    kind = raw["kind"]
    if kind not in KINDS:
        raise ValueError(f"catalogue entry {raw['id']!r}: unknown kind {kind!r}")
    unknown = [q for q in raw.get("questions", []) if q not in questions]
    if unknown:
        raise ValueError(f"catalogue entry {raw['id']!r}: unknown questions {unknown}")
    return Entry(
        id=raw["id"],
        names=names,
        category=raw["category"],
        replacement=raw["replacement"],
        kind=kind,
        questions=tuple(raw.get("questions", ())),
        pages=bool(raw.get("pages", False)),
        shared=bool(raw.get("shared", False)),
        note=raw.get("note", ""),
        role=raw.get("role", ""),
    )


def parse_catalogue(data: dict) -> Catalogue:
    """Build a :class:`Catalogue` from the parsed TOML document ``data``."""
    questions = {k: q["text"] for k, q in data["questions"].items()}
    labels = {k: q["label"] for k, q in data["questions"].items()}
    entries = tuple(_entry(r, tuple(r["names"]), questions) for r in data["entry"])
    types = tuple(_entry(r, (r["struct"],), questions) for r in data.get("type", ()))
    derived = tuple(
        Derived(
            entry=_entry(r, tuple(r["calls"]), questions),
            calls=tuple(r["calls"]),
            argument=int(r["argument"]),
            memory=r["memory"],
        )
        for r in data.get("derived", ())
    )
    fields = tuple(
        Field(entry=_entry(r, tuple(r["fields"]), questions), fields=tuple(r["fields"]),
              base=r["base"], access=r["access"])
        for r in data.get("field", ())
    )
    internal = {r["id"]: _entry(r, (), questions) for r in data.get("internal", ())}
    ids = [e.id for e in (*entries, *types, *(d.entry for d in derived),
                          *(f.entry for f in fields), *internal.values())]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"catalogue: duplicate ids {dupes}")
    weights = dict(data["weights"])
    minutes = int(weights.pop("minutes_per_point"))
    return Catalogue(
        entries=entries,
        types=types,
        derived=derived,
        questions=questions,
        question_labels=labels,
        kind_labels=dict(data["kinds"]),
        weights={k: int(v) for k, v in weights.items()},
        minutes_per_point=minutes,
        vmalloc_allocators=frozenset(data["allocators"]["vmalloc"]),
        annotations=frozenset(data["allocators"]["annotations"]),
        fields=fields,
        internal=internal,
        effort={k: int(v) for k, v in data.get("effort", {}).items()},
        type_macros=frozenset(data["allocators"].get("type_macros", ())),
        debug_prints=frozenset(data["allocators"].get("debug_prints", ())),
    )


@cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped in this package (``catalogue.toml``)."""
    text = resources.files(__package__).joinpath("catalogue.toml").read_text("utf-8")
    return parse_catalogue(tomllib.loads(text))
