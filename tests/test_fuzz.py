"""Slow fuzzing: the conformance harness over every driver, API and bridge
with random buffer configurations, random vectors and accelerated-vs-generic
fuzzing, seeded so that a failure reproduces.

Marked ``slow``: CI runs it with the budget below (about a minute on two
cores); set IOVCRYPTO_FUZZ_SCALE=N to run N times as many rounds, and
IOVCRYPTO_FUZZ_SEED to explore other seeds (the seed is in the message of
any failure, with the command that reproduces it).
"""

import os

import pytest

from iovcrypto.tools.conformance import session
from iovcrypto.tools.conformance.report import reproduce_cmd

SCALE = max(1, int(os.environ.get("IOVCRYPTO_FUZZ_SCALE", "1")))
SEED = int(os.environ.get("IOVCRYPTO_FUZZ_SEED", "20261124"))


@pytest.mark.slow
@pytest.mark.parametrize("api", ["sg", "iter", "bridge"])
def test_every_driver_survives_random_configs_and_fuzzing(api):
    opts = session.Options(api=api, configs="random", random_configs=8 * SCALE,
                           seed=SEED, corpus_limit=2, random_vectors=10 * SCALE,
                           fuzz=48 * SCALE, all_realisations_vectors=1)
    report = session.run(opts)
    assert report.results, "the fuzz run selected no driver"
    failures = report.failures
    assert not failures, "\n".join(
        f"{f.message}\n  reproduce: {reproduce_cmd(f, SEED)}" for f in failures[:10])
