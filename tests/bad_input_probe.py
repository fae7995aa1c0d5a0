"""The bad-input probe: every public callable of the model's packages, called
with junk, boundary and huge values in each argument position, under a time
budget per call.

Run as a script (``python tests/bad_input_probe.py [PART/PARTS]``), in a
process of its own: the junk leaves the model's global state (ledger,
current mm, registry) in any shape.  It prints one line per call that broke
DESIGN §4 (only a return value, TypeError/ValueError, or KernelBug may come
out; a TypeError/ValueError must be raised on purpose by the model, not by
Python or numpy tripping over the value) or that outlived its budget.

The callables are discovered from the package roots, so a package or
kernel name added later is probed without touching this file.
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import importlib.util
import inspect
import linecache
import os
import signal
import sys
import time
import traceback
import typing
import warnings

import numpy as np

ROOTS = ("kmem", "sgl", "iovcrypto", "shims", "dma")
OURS = ("kmem", "sgl", "iovcrypto", "shims", "dma", "ciphers")
# CPU seconds per call (a CPU-time clock: the machine's load does not count).
BUDGET_S = float(os.environ.get("IOVCRYPTO_PROBE_BUDGET", "3"))
# Names a fresh process cannot call with junk and stay meaningful.
SKIP = {"kthread_use_mm", "use_mm", "fail_allocations", "rcu_read_lock", "pagefault_disable",
        "preempt", "check_leaks", "expect_violations"}

JUNK = [None, -1, 0, 1, 16, 2**31 - 1, 2**63, 2**64 - 1, 2**64, np.uint64(2**64 - 1), np.int64(-1),
        np.uint8(255), 3.5, float("inf"), float("nan"), "x", b"abc", [None], object(),
        np.zeros(3, np.uint8)]


class Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise Hang()


def discover():
    """(qualified name, callable) for every public name of every root."""
    seen = set()
    for root in ROOTS:
        if importlib.util.find_spec(root) is None:
            continue
        mod = importlib.import_module(root)
        names = getattr(mod, "__all__", None) or dir(mod)
        for name in sorted(names):
            if name.startswith("__") and name.endswith("__"):
                continue
            if name.startswith("_") and not name.startswith("__"):
                continue
            obj = getattr(mod, name, None)
            if obj is None or inspect.ismodule(obj) or not callable(obj):
                continue
            if name in SKIP or (isinstance(obj, type) and issubclass(obj, (BaseException,
                                                                      enum.Enum))):
                continue
            key = (getattr(obj, "__module__", root), name)
            if key in seen:
                continue
            seen.add(key)
            yield f"{root}.{name}", obj


class Plausible:
    """Fresh, valid arguments for a parameter, from its hint and name."""

    def __init__(self) -> None:
        import kmem
        self.k = kmem

    def world(self, qual: str):
        import iovcrypto
        import sgl
        return sgl if qual.startswith(("sgl", "shims")) else iovcrypto

    def make(self, qual: str, pname: str, hint) -> object:
        w = self.world(qual)
        types_ = _hint_types(hint)
        for t in types_:
            v = self._of_type(qual, w, t, pname)
            if v is not _NONE:
                return v
        if int in types_ or hint is inspect.Parameter.empty or not types_:
            return self._int(pname)
        return None if type(None) in types_ else _NONE_ARG

    def _int(self, pname: str) -> int:
        k = self.k
        p = pname.lower()
        if p in ("gfp", "gfp_mask", "flags") or p.endswith("gfp"):
            return k.GFP_KERNEL
        if any(s in p for s in ("addr", "buf", "ptr", "vaddr", "from_", "to", "src", "dst",
                                "key", "iv", "start")):
            return k.kmalloc(256, k.GFP_KERNEL)
        if "order" in p:
            return 0
        if any(s in p for s in ("len", "size", "count", "bytes", "nents", "nr")):
            return 16
        return 0

    def _of_type(self, qual, w, t, pname):
        import iovcrypto
        import sgl
        k = self.k
        name = getattr(t, "__name__", "")
        if t is bool:
            return False
        if t is int or t is float:
            return _NONE
        if t is str:
            return "cbc(aes)" if "name" in pname or "alg" in pname else "x"
        if t in (bytes, bytearray, memoryview):
            return b"\x00" * 16
        if t is np.ndarray:
            return np.zeros(16, np.uint8)
        if name == "Folio":
            return k.folio_alloc(k.GFP_KERNEL, 0)
        if name == "Page":
            return k.alloc_page(k.GFP_KERNEL)
        if name == "iov_iter":
            it = iovcrypto.iov_iter()
            v = iovcrypto.kvec(k.kmalloc(64, k.GFP_KERNEL), 64)
            iovcrypto.iov_iter_kvec(it, iovcrypto.ITER_SOURCE, [v], 1, 64)
            return it
        if name in ("Scatterlist", "list") and qual.startswith(("sgl", "shims")):
            sg = [sgl.Scatterlist()]
            sgl.sg_init_one(sg, k.kmalloc(64, k.GFP_KERNEL), 64)
            return sg
        if name == "SgTable":
            t_ = sgl.SgTable()
            sgl.sg_alloc_table(t_, 2, k.GFP_KERNEL)
            return t_
        if name in ("CryptoSkcipherBase", "CryptoSkcipher", "CryptoTfm"):
            return w.crypto_alloc_skcipher("cbc(aes)", 0, 0)
        if name in ("CryptoAeadBase", "CryptoAead"):
            return w.crypto_alloc_aead("gcm(aes)", 0, 0)
        if name in ("SkcipherRequestBase", "SkcipherRequest"):
            return w.skcipher_request_alloc(w.crypto_alloc_skcipher("cbc(aes)", 0, 0),
                                            k.GFP_KERNEL)
        if name in ("AeadRequestBase", "AeadRequest"):
            return w.aead_request_alloc(w.crypto_alloc_aead("gcm(aes)", 0, 0), k.GFP_KERNEL)
        if isinstance(t, type):
            with contextlib.suppress(Exception):
                return t()
        return _NONE


_NONE = object()
_NONE_ARG = object()


def _hint_types(hint) -> tuple:
    if hint is inspect.Parameter.empty or hint is typing.Any or hint is object:
        return ()
    origin = typing.get_origin(hint)
    if origin in (typing.Union, __import__("types").UnionType):
        out = []
        for a in typing.get_args(hint):
            out.extend((type(None),) if a is type(None) else _hint_types(a))
        return tuple(out)
    if origin is not None:
        return (origin,)
    return (hint,) if isinstance(hint, type) else ()


def _signature(obj):
    fn = getattr(obj, "__wrapped_unchecked__", obj)
    target = fn.__init__ if inspect.isclass(fn) else fn
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return None
    try:
        hints = typing.get_type_hints(target)
    except Exception:
        hints = {}
    return [(p.name, hints.get(p.name, inspect.Parameter.empty), p.default is not p.empty)
            for p in params]


def _ours(tb) -> bool:
    """Whether the exception was raised on purpose by a ``raise`` in our code."""
    frames = traceback.extract_tb(tb)
    if len(frames) <= 1:
        return True       # the call itself did not bind (Python names the function)
    last = frames[-1]
    top = last.filename.replace(os.sep, "/")
    in_ours = any(f"/{p}/" in top for p in OURS)
    # A raise spread over lines reports the line of the expression that
    # was being evaluated; look back a few lines for the statement.
    src = [linecache.getline(last.filename, n) for n in range(last.lineno - 3, last.lineno + 1)]
    return in_ours and any(line.lstrip().startswith("raise") for line in src)


def call(fn, args):
    """None if ``fn(*args)`` answered within the rules, else what went wrong."""
    import kmem
    signal.setitimer(signal.ITIMER_PROF, BUDGET_S)
    try:
        r = fn(*args)
        if inspect.isgenerator(r):
            for _ in zip(range(100), r):
                pass
    except Hang:
        return f"no answer within {BUDGET_S:g} s of CPU time"
    except (TypeError, ValueError) as e:
        if not _ours(e.__traceback__):
            f = traceback.extract_tb(e.__traceback__)[-1]
            return (f"{type(e).__name__} not raised on purpose: {str(e)[:90]} "
                    f"({os.path.basename(f.filename)}:{f.lineno})")
    except kmem.KernelBug:
        pass
    except BaseException as e:
        f = traceback.extract_tb(e.__traceback__)[-1]
        return f"{type(e).__name__}: {str(e)[:90]} ({os.path.basename(f.filename)}:{f.lineno})"
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return None


def main() -> int:
    part, parts = (int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "0/1").split("/"))
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGPROF, _alarm)
    import kmem
    plausible = Plausible()
    found: dict[str, str] = {}
    outcomes = [0, 0]
    targets = [t for i, t in enumerate(discover()) if i % parts == part]
    verbose = os.environ.get("IOVCRYPTO_PROBE_VERBOSE")
    for qual, fn in targets:
        t0 = time.perf_counter()
        sig = _signature(fn)
        if sig is None:
            continue
        # First every argument plausible (pos -1), then junk in each place.
        for pos in range(-1, len(sig)):
            for junk in JUNK if pos >= 0 else JUNK[:1]:
                # Fresh plausible arguments around the junk, each time: a call
                # may free or consume what it is given.
                args = []
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for i, (pname, hint, _) in enumerate(sig):
                        if i == pos:
                            args.append(junk)
                            continue
                        try:
                            v = plausible.make(qual, pname, hint)
                        except BaseException:
                            v = None
                        args.append(None if v is _NONE_ARG else v)
                bad = call(fn, args)
                outcomes[bad is None] += 1
                if bad and qual not in found:
                    found[qual] = f"{qual}({', '.join(_short(a) for a in args)}) -> {bad}"
                    if verbose:
                        print(found[qual], file=sys.stderr, flush=True)
        kmem.ledger.records.clear()
        if verbose:
            print(f"{time.perf_counter() - t0:6.2f}s {qual}", file=sys.stderr, flush=True)
    for line in found.values():
        print(line)
    if verbose:
        print(f"{len(targets)} callables, {sum(outcomes)} calls, {outcomes[False]} bad",
              file=sys.stderr)
    return 0


def _short(a) -> str:
    r = repr(a)
    if isinstance(a, np.generic):
        r = f"np.{type(a).__name__}({a})"
    return r if len(r) < 40 else f"<{type(a).__name__}>"


if __name__ == "__main__":
    sys.exit(main())
