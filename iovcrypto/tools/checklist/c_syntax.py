"""Tree-sitter plumbing of the C reader (:mod:`.c_reader`): the parser,
scopes and locals, declarator helpers, and the argument splitter for tokens
the parser left in ERROR nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import tree_sitter_c
from tree_sitter import Language, Node, Parser

from iovcrypto.tools.checklist.model import squash

_DECLARATIONS = ("declaration", "field_declaration", "parameter_declaration")
_OPAQUE = ("comment", "string_literal", "char_literal", "concatenated_string",
           "system_lib_string")
# A macro body is parsed as the body of a function; the prefix stays on the
# body's first line so that rows map one to one.
_MACRO_FUNCTION = "__iovcrypto_macro"
_MACRO_PREFIX = f"void {_MACRO_FUNCTION}(void) {{ ".encode()


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_c.language()))


@dataclass
class _Local:
    shape: str  # "array", "pointer" or "value"
    static: bool
    line: int
    struct: str | None = None  # the struct type name, when declared as one


@dataclass
class _FunctionInfo:
    name: str
    locals: dict[str, _Local] = field(default_factory=dict)
    vmalloc: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass
class _Scope:
    kind: str  # "function", "struct", "macro", "file"
    label: str
    function: _FunctionInfo | None = None


def declarator_name(node: Node | None) -> str | None:
    """The identifier a (possibly nested) declarator declares."""
    while node is not None:
        if node.type in ("identifier", "field_identifier", "type_identifier"):
            return _text(node)
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in node.named_children
                          if c.type.endswith("declarator") or c.type.endswith("identifier")),
                         None)
        node = inner
    return None


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _shape(node: Node) -> str:
    """array / pointer / function / value for a declarator (initialiser ignored)."""
    if node.type == "init_declarator":
        node = node.child_by_field_name("declarator") or node
    kinds = []
    cur: Node | None = node
    while cur is not None and not cur.type.endswith("identifier"):
        kinds.append(cur.type)
        cur = cur.child_by_field_name("declarator")
    if "function_declarator" in kinds:
        return "function"
    if kinds and kinds[0] == "pointer_declarator":
        return "pointer"
    if "array_declarator" in kinds:
        return "array"
    return "value"


def _unwrap_call(node: Node | None) -> Node | None:
    """The call expression behind casts and parentheses, if any."""
    while node is not None and node.type in ("cast_expression", "parenthesized_expression"):
        node = (node.child_by_field_name("value") if node.type == "cast_expression"
                else next(iter(node.named_children), None))
    return node if node is not None and node.type == "call_expression" else None


_TYPE_WORDS = frozenset({"int", "void", "char", "short", "long", "unsigned", "signed", "bool",
                         "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "size_t",
                         "ssize_t", "*"})


def _struct_name(decl: Node) -> str | None:
    """``scatterlist`` for a declaration of type ``struct scatterlist``, else None."""
    type_node = decl.child_by_field_name("type")
    if type_node is None or type_node.type != "struct_specifier":
        return None
    name = type_node.child_by_field_name("name")
    return _text(name) if name is not None else None


def _leaves(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.child_count == 0:
            out.append(n)
        else:
            stack.extend(reversed(n.children))
    return out


def _split_arguments(source: bytes, start: int, limit: int) -> tuple[int | None, tuple[str, ...]]:
    """Arguments of a call whose ``(`` is at ``start``: matching ``)`` and the parts.

    Used only for tokens the parser left in an ERROR node; strings and
    character literals are skipped so that their parentheses do not count.
    """
    depth, i, parts, begin = 0, start, [], start + 1
    quote = 0
    while i < min(limit, len(source)):
        ch = source[i]
        if quote:
            if ch == 0x5C:  # backslash
                i += 2
                continue
            if ch == quote:
                quote = 0
        elif ch in (0x22, 0x27):
            quote = ch
        elif ch in (0x28, 0x5B, 0x7B):
            depth += 1
        elif ch in (0x29, 0x5D, 0x7D):
            depth -= 1
            if depth == 0:
                parts.append(source[begin:i])
                texts = tuple(squash(p.decode("utf-8", "replace")) for p in parts)
                return i + 1, tuple(t for t in texts if t)
        elif ch == 0x2C and depth == 1:
            parts.append(source[begin:i])
            begin = i + 1
        i += 1
    return None, ()
