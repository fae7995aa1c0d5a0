"""Argument types checked at the package boundary.

C would not compile a call that passes an int where a ``struct page *`` is
expected; Python would carry on until some attribute lookup fails deep
inside.  The kernel names a package exports are therefore wrapped (once,
when the package is imported) so that an argument of the wrong type raises
a ``TypeError`` that names the function and the argument, taken from the
function's own type hints.  Only parameters whose hint is a concrete class (or a union
of them, or a list of one) are checked, with plain isinstance calls.

The checks guard the public surface only.  A call made from inside the
model (from a module of one of :data:`INTERNAL_PACKAGES`) goes straight to
the function: the model passes what it has already checked, and paying
the checks again on every internal call was a tenth of a conformance run.
Callers outside the model (tests, scripts, users) are checked on every
call.

An ``int`` argument is what C would pass: a numpy integer is taken as the
Python int of the same value (numpy's fixed-width arithmetic would
otherwise overflow inside the model), and a value no C integer type holds
(outside ``[-2**63, 2**64)``) is a ``ValueError`` naming the argument.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

import numpy as np

_SEQUENCES = (list, tuple, dict, set, frozenset)
# Modules whose functions are not wrapped even when re-exported.  The model
# itself calls the byte-access helpers through ``kmem.access``, never
# through the package root, so wrapping the root names costs it nothing.
UNWRAPPED_MODULES: frozenset[str] = frozenset()
# The packages of the model itself: their calls to each other are internal.
INTERNAL_PACKAGES: frozenset[str] = frozenset(
    {"kmem", "dma", "ciphers", "sgl", "iovcrypto", "shims"})
# Which calling modules are the model's own, by module name (filled as
# callers are seen: a dictionary lookup instead of a split on every call).
_internal_caller: dict[str, bool] = {}
# The widest C integers: s64 and u64.
C_INT_MIN, C_INT_MAX = -(1 << 63), (1 << 64) - 1
# How a wrong argument type shows up when nothing checks it.
_WRONG_TYPE_SYMPTOMS = (AttributeError, IndexError, KeyError, OverflowError, TypeError)


def _element_types(ann: Any) -> tuple[type, ...] | None:
    """For a ``list[X]`` hint, the classes its elements may be."""
    if typing.get_origin(ann) is list:
        args = typing.get_args(ann)
        return _runtime_types(args[0]) if len(args) == 1 else None
    return None


def _runtime_types(ann: Any) -> tuple[type, ...] | None:
    """The classes an argument hinted ``ann`` may be, or None (unchecked)."""
    if ann is Any or ann is object or ann is inspect.Parameter.empty:
        return None
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for a in typing.get_args(ann):
            t = (type(None),) if a is type(None) else _runtime_types(a)
            if t is None:
                return None
            out.extend(t)
        return tuple(out)
    if origin is collections.abc.Callable:
        # A NULL function pointer is a value C passes; calling it is the bug.
        return (collections.abc.Callable, type(None))
    if origin is not None:
        return (origin,) if origin in _SEQUENCES else None
    if ann is int:
        return (int, np.integer)
    if ann is float:
        return (float, int, np.floating, np.integer)
    if ann is bytes:
        return (bytes, bytearray, memoryview)
    return (ann,) if isinstance(ann, type) else None


def _describe(types_: tuple[type, ...], qualified: bool = False) -> str:
    names = [_name(t, qualified) for t in types_ if t not in (np.integer, np.floating)]
    return names[0] if len(names) == 1 else " or ".join(names)


def _name(t: type, qualified: bool) -> str:
    if t is type(None):
        return "None"
    if qualified and t.__module__ != "builtins":
        return f"{t.__module__}.{t.__qualname__}"
    return t.__name__


def _wrong_type(fn: str, pname: str, types_: tuple[type, ...], got: type,
                verb: str = "be", article: str = "") -> TypeError:
    # Both worlds have a SkcipherRequest: say which one when the names clash.
    clash = any(t is not got and t.__name__ == got.__name__ for t in types_)
    return TypeError(f"{fn}(): {pname} must {verb} {_describe(types_, clash)}, "
                     f"got {article}{_name(got, clash)}")


def _plain_all(fast: tuple, plain_some: Callable[[tuple], bool]) -> Callable[[tuple], bool]:
    """``plain_some`` compiled, for a call that passes every checked
    argument positionally (the common call): one boolean expression instead
    of a loop, since the check runs on every call from outside the model."""
    if not fast:
        return plain_some
    need = max(pos for pos, _, _ in fast) + 1
    env: dict[str, Any] = {"plain_some": plain_some, "MIN": C_INT_MIN, "MAX": C_INT_MAX}
    terms = []
    for k, (pos, exact, is_int) in enumerate(fast):
        env[f"S{k}"] = exact
        terms.append(f"type(args[{pos}]) in S{k}")
        if is_int:
            terms.append(f"(type(args[{pos}]) is not int or MIN <= args[{pos}] <= MAX)")
    src = (f"def plain(args):\n"
           f"    if len(args) < {need}:\n"
           f"        return plain_some(args)\n"
           f"    return {' and '.join(terms)}\n")
    exec(src, env)
    return env["plain"]


def checked(fn: Callable) -> Callable:
    """``fn`` with its hinted argument types checked on every call."""
    try:
        hints = typing.get_type_hints(fn)
        params = list(inspect.signature(fn).parameters.values())
    except Exception:      # hints naming what the module cannot resolve
        return fn
    checks = []
    for i, p in enumerate(params):
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        hint = hints.get(p.name, inspect.Parameter.empty)
        t = _runtime_types(hint)
        if t is not None:
            pos = i if p.kind is not p.KEYWORD_ONLY else -1
            checks.append((pos, p.name, t, _element_types(hint), p.default is None,
                           int in t))
    if not checks:
        return fn
    name = fn.__name__
    # The common call: positional arguments whose exact types are known
    # good for their parameter: the hinted classes, and each subclass or
    # callable type once a full check has passed it as it is (learn()
    # below; never from a call whose numpy integer had to become an int).
    fast = tuple((pos, {x for x in t if x not in (np.integer, np.floating,
                                                  collections.abc.Callable)}
                  | ({type(None)} if none_default else set()), is_int)
                 for pos, _, t, _, none_default, is_int in checks if pos >= 0)

    def learn(args: tuple) -> None:
        n = len(args)
        for pos, exact, _ in fast:
            if pos < n:
                t = type(args[pos])
                if t not in exact:
                    exact.add(t)

    def plain_some(args: tuple) -> bool:
        n = len(args)
        for pos, exact, is_int in fast:
            if pos < n:
                a = args[pos]
                if type(a) not in exact:
                    return False
                if is_int and type(a) is int and not C_INT_MIN <= a <= C_INT_MAX:
                    return False
        return True

    plain = _plain_all(fast, plain_some)

    def check(args: tuple, kwargs: dict, elements: bool) -> tuple | None:
        """None if the arguments pass as they are, or the (args, kwargs)
        to call with (numpy integers made Python ints)."""
        fixed = None
        for pos, pname, t, elems, none_default, is_int in checks:
            if 0 <= pos < len(args):
                a = args[pos]
            elif pname in kwargs:
                a = kwargs[pname]
            else:
                continue           # missing: Python's own TypeError follows
            if not isinstance(a, t) and not (none_default and a is None):
                raise _wrong_type(name, pname, t, type(a))
            if is_int and isinstance(a, (int, np.integer)):
                if type(a) is not int and not isinstance(a, bool):
                    a = int(a)
                    if fixed is None:
                        fixed = (list(args), dict(kwargs))
                    if 0 <= pos < len(args):
                        fixed[0][pos] = a
                    else:
                        fixed[1][pname] = a
                if not C_INT_MIN <= a <= C_INT_MAX:
                    raise ValueError(f"{name}(): {pname} = {a} fits no C integer type")
            if elements and elems is not None and isinstance(a, list):
                for x in a:
                    if not isinstance(x, elems):
                        raise _wrong_type(name, pname, elems, type(x), "hold", "a ")
        return fixed

    # The arguments themselves are checked on every call (a few isinstance
    # calls against concrete classes: a wrong one must not be stored or
    # half-used).  The elements of a list argument are checked only when
    # the call fails the way a wrong element makes Python fail, so a long
    # list of views costs nothing on a correct call.
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        internal = _internal_caller.get(caller)
        if internal is None:
            internal = _internal_caller[caller] = caller.partition(".")[0] in INTERNAL_PACKAGES
        if internal:
            return fn(*args, **kwargs)
        if kwargs or not plain(args):
            fixed = check(args, kwargs, False)
            if fixed is not None:
                args, kwargs = tuple(fixed[0]), fixed[1]
            elif not kwargs:
                learn(args)
        try:
            return fn(*args, **kwargs)
        except _WRONG_TYPE_SYMPTOMS:
            check(args, kwargs, True)
            raise

    wrapper.__wrapped_unchecked__ = fn   # type: ignore[attr-defined]
    return wrapper


def check_exports(namespace: dict[str, Any], *packages: str) -> None:
    """Wrap, in a package's namespace, every public function defined in
    one of ``packages`` (names re-exported from elsewhere, kmem's in sgl
    say, are checked where they are defined, not again).  The kernel's own
    ``__``-prefixed names (``__free_pages``, ``__sg_alloc_table``) are
    public too."""
    for attr, obj in list(namespace.items()):
        private = attr.startswith("_") and not (attr.startswith("__")
                                                and not attr.endswith("__"))
        if (inspect.isfunction(obj) and not private
                and (obj.__module__ or "").split(".")[0] in packages
                and obj.__module__ not in UNWRAPPED_MODULES
                and not hasattr(obj, "__wrapped_unchecked__")):
            namespace[attr] = checked(obj)
