"""Against a real kernel's crypto/testmgr.h and testmgr.c, when one is at
hand: IOVCRYPTO_KERNEL_TREE names one or more trees (os.pathsep between
them), each a Linux source tree or any directory with crypto/testmgr.[ch]
(``.ci/fetch-testmgr DIR`` puts Debian's there).  Every array the reader
meets must be readable, and every algorithm this project registers that
the tree tests must pass all of the tree's vectors through every driver
in both worlds.  The whole conformance run over a tree (every layout,
the bridges, the library road) is ``iovcrypto conformance --testmgr DIR``."""

from __future__ import annotations

import os

import pytest

from iovcrypto.tools.conformance import runner as R
from iovcrypto.tools.conformance.configs import DEFAULT_CIPHER_TESTVEC_CONFIGS
from iovcrypto.tools.conformance.testmgr import load_testmgr
from iovcrypto.tools.conformance.testmgr_transcribed import registered

TREES = [t for t in os.environ.get("IOVCRYPTO_KERNEL_TREE", "").split(os.pathsep) if t]

pytestmark = pytest.mark.skipif(
    not TREES, reason="no kernel tree: set IOVCRYPTO_KERNEL_TREE to a Linux tree "
                      "(.ci/fetch-testmgr DIR fetches the files it needs)")


@pytest.fixture(scope="module", params=TREES or [None])
def tree(request):
    return load_testmgr(request.param)


def test_every_array_is_read(tree) -> None:
    assert not tree.unreadable
    tested = list(tree.tested())
    assert len(tested) > 80 and all(s.array in tree.arrays for s in tested)
    # the AEADs whose vectors name zeroed_string
    assert len(tree.vectors("gcm(aes)")) > 10


@pytest.mark.parametrize("world", ["sg", "iter"])
def test_registered_algorithms_pass_the_trees_vectors(tree, world: str) -> None:
    plan = R.Plan([DEFAULT_CIPHER_TESTVEC_CONFIGS[0]], faults=False, large=False,
                  discard=False, async_reuse=False)
    reg = registered(world)
    ran: set[str] = set()
    for suite in tree.tested():
        if suite.alg not in reg:
            continue
        vecs = tree.vectors(suite.alg)
        for alg in reg[suite.alg]:
            res = R.run_target(R.Target(alg, world), vecs, plan, seed=1)
            assert not res.failures, [f.message for f in res.failures[:3]]
            assert res.stats.vectors == len(vecs)
        ran.add(suite.alg)
    # the templates every kernel since v6.1 tests, at least
    assert {"gcm(aes)", "rfc4106(gcm(aes))", "xts(aes)", "adiantum(xchacha12,aes)",
            "hctr2(aes)", "aegis128", "essiv(authenc(hmac(sha256),cbc(aes)),sha256)",
            "authenc(hmac(sha256),cbc(aes))", "lrw(aes)"} <= ran
