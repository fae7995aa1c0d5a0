"""Bad input gets a clear answer (DESIGN §4): every public kernel name of
kmem, dma, sgl, iovcrypto and shims, called with arguments of the wrong type or
absurd values, returns or raises TypeError/ValueError/KernelBug — never an
IndexError, KeyError, AttributeError, OverflowError, MemoryError or a numpy
error.  Run in a fresh process, since the junk may leave the model's global
state (ledger, current mm) in any shape."""

import subprocess
import sys

PROBE = r'''
import inspect, random, warnings
import numpy as np
import kmem, dma, sgl, iovcrypto, shims
warnings.simplefilter("ignore")
junk = [None, -1, 0, 1, 7, 4096, 2**70, -2**70, "x", b"abc", 3.5, [], [None], {},
        object(), np.zeros(3, np.int32), np.zeros(3, np.uint8)]
bad = {}
for mod in (kmem, dma, sgl, iovcrypto, shims):
    for name in sorted(dir(mod)):
        fn = getattr(mod, name)
        if not inspect.isfunction(fn) or name.startswith("_") or name == "on_stack":
            continue
        try:
            n = len(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            continue
        if n == 0:
            continue
        rng = random.Random(name)
        for _ in range(60):
            args = [rng.choice(junk) for _ in range(min(n, 6))]
            try:
                r = fn(*args)
                if inspect.isgenerator(r):
                    for _ in zip(range(100), r):
                        pass
            except (TypeError, ValueError, kmem.KernelBug):
                pass
            except BaseException as e:
                bad.setdefault(f"{mod.__name__}.{name}{tuple(map(repr, args))}",
                               f"{type(e).__name__}: {str(e)[:100]}")
for k, v in sorted(bad.items()):
    print(k, "->", v)
'''


def test_every_kernel_name_answers_bad_input_clearly():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == "", "bad input surfaced as the wrong error:\n" + out.stdout
