"""``iovcrypto conformance``: the click command.

Exit status (:data:`EXIT_STATUSES`): 0 when every check passed, 1 when
something failed, 2 on a usage error (click's own, and options that
contradict each other), 3 when nothing was tested (no driver matched the
filters, or the options leave nothing to check) — never a pass.
"""

from __future__ import annotations

import difflib
import os
import sys
from typing import IO

import click
from click.core import ParameterSource

from iovcrypto.tools.conformance.report import render_json, render_ktap, render_text
from iovcrypto.tools.conformance.session import Options, run
from kmem.quirks import QUIRKS

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING = 0, 1, 2, 3
EXIT_STATUSES = {EXIT_PASSED: "every check passed", EXIT_FAILED: "failures",
                 EXIT_USAGE: "usage error", EXIT_NOTHING: "nothing selected or nothing checked"}
APIS = ("sg", "iter", "bridge", "bridge-sg", "bridge-iter", "lib", "all")


def _given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE,
                                               ParameterSource.ENVIRONMENT)


def _check_contradictions(ctx: click.Context, configs: str, random_configs: int) -> None:
    if _given(ctx, "full_corpus") and _given(ctx, "corpus_limit"):
        raise click.UsageError("--full-corpus and --vectors contradict each other: "
                               "give one of them")
    if configs == "default" and _given(ctx, "random_configs"):
        raise click.UsageError("--random-configs has no effect with --configs default")


def _known_names() -> list[str]:
    import iovcrypto
    import sgl

    names: set[str] = set()
    for reg in (sgl.crypto_registry, iovcrypto.crypto_registry):
        for alg, _impl in reg.algorithms():
            if alg.type in ("skcipher", "aead"):
                names.update((alg.cra_name, alg.cra_driver_name))
    return sorted(names)


def _nothing_selected(filters: list[tuple[str, str]]) -> None:
    """The error for filters that match no driver: on stderr, with the
    names closest to what was asked for."""
    names = _known_names()
    click.echo("error: nothing selected: no driver matches "
               + " with ".join(f"{flag} {value!r}" for flag, value in filters) + ".", err=True)
    for flag, value in filters:
        close = difflib.get_close_matches(value, names, n=5, cutoff=0.5)
        if flag != "--api" and close:
            click.echo(f"  close to {value!r}: " + ", ".join(close), err=True)
    click.echo("  (`iovcrypto algorithms` lists every algorithm and driver)", err=True)
    sys.exit(EXIT_NOTHING)


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog="Exit status: 0 every check passed, 1 failures, 2 usage error, "
                      "3 nothing selected or nothing checked.")
@click.option("--alg", "alg", metavar="PATTERN", multiple=True,
              help="Algorithm (cra_name) or driver name; shell wildcards allowed; repeatable.")
@click.option("--driver", metavar="NAME", multiple=True,
              help="Driver name (cra_driver_name); wildcards allowed; repeatable.")
@click.option("--api", type=click.Choice(APIS), default="all", show_default=True,
              help="Scatterlist API, iov_iter API, the shims bridges (both, or one), the "
              "library road (a caller walking its iov_iters into lib/crypto), or all.")
@click.option("--configs", type=click.Choice(["default", "random", "all"]), default="all",
              show_default=True,
              help="testmgr's nine default buffer configurations, random ones, or both.")
@click.option("--random-configs", type=click.IntRange(0), default=2, show_default=True,
              help="How many random configurations (generate_random_testvec_config); "
                   "more than 2 also adds a request of several MiB.")
@click.option("--seed", type=click.IntRange(0), default=1, show_default=True,
              help="Seed for random vectors, configurations and fuzzing.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=1, show_default=True,
              help="Parallel worker processes (results do not depend on it).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "ktap"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8", lazy=False),
              help="Write the report here instead of standard output (opened before the run).")
@click.option("--vectors", "corpus_limit", type=click.IntRange(0), default=6, show_default=True,
              help="Corpus vectors per algorithm (a sample of the installed corpora).")
@click.option("--full-corpus", is_flag=True, help="Every applicable corpus vector (slow).")
@click.option("--random-vectors", type=click.IntRange(0), default=4, show_default=True,
              help="Random vectors per algorithm from the reference libraries.")
@click.option("--fuzz", type=click.IntRange(0), default=8, show_default=True,
              help="Rounds of each accelerated driver against its generic twin (0: off).")
@click.option("--all-realisations", type=click.IntRange(0), default=1, show_default=True,
              help="Vectors run over every iov_iter type and memory kind per default "
                   "configuration (later ones rotate through them).")
@click.option("--testmgr", "testmgr_path", metavar="PATH|builtin",
              help="A kernel tree (or its crypto/testmgr.h, with testmgr.c beside it): run "
                   "every vector testmgr has for each registered algorithm instead of the "
                   "built-in, corpus and random ones; list the others as skipped.  "
                   "'builtin': the same from the vectors transcribed from a v7.2 "
                   "testmgr.h that ship with iovcrypto (no tree needed).")
@click.option("--kernel-quirk", "kernel_quirks", multiple=True, metavar="NAME",
              type=click.Choice(sorted(QUIRKS)),
              help="Run with this upstream kernel bug switched on, to see whether the run "
                   "catches it (the model follows the fixed kernel); repeatable.  Names say "
                   "the kernels that have the bug (migration_guide.md section 7): "
                   + ", ".join(sorted(QUIRKS)) + ".")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when standard error is a "
                   "terminal).")
@click.pass_context
def conformance(ctx: click.Context, alg: tuple[str, ...], driver: tuple[str, ...], api: str,
                configs: str, random_configs: int, seed: int, jobs: int, fmt: str,
                output: IO[str] | None, corpus_limit: int, full_corpus: bool,
                random_vectors: int, fuzz: int, all_realisations: int,
                testmgr_path: str | None, kernel_quirks: tuple[str, ...],
                progress: bool | None) -> None:
    """Run testmgr-style conformance tests on every registered skcipher and
    AEAD driver, through the scatterlist API, the iov_iter API and the
    bridges, and report failures as crypto/testmgr.c prints them."""
    _check_contradictions(ctx, configs, random_configs)
    opts = Options(alg=alg or None, driver=driver or None, api=api, configs=configs,
                   random_configs=random_configs, seed=seed, jobs=jobs,
                   corpus_limit=None if full_corpus else corpus_limit,
                   random_vectors=random_vectors, fuzz=fuzz,
                   all_realisations_vectors=all_realisations,
                   testmgr=_load_testmgr(testmgr_path) if testmgr_path else None,
                   kernel_quirks=tuple(dict.fromkeys(kernel_quirks)))
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        # The bar goes where the decision to show it was made: standard
        # error, so that a report redirected to a file stays clean.
        with Progress(TextColumn("conformance"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), transient=True,
                      console=Console(stderr=True, force_terminal=progress)) as bar:
            task = bar.add_task("", total=None)

            def tick(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label[:40])

            rep = run(opts, tick)
    else:
        rep = run(opts)
    if not rep.results and not rep.skipped:
        _nothing_selected([("--alg", a) for a in alg] + [("--driver", d) for d in driver]
                          + ([("--api", api)] if api != "all" else []))
    text = {"text": render_text, "json": render_json, "ktap": render_ktap}[fmt](rep)
    if output is not None:
        output.write(text if text.endswith("\n") else text + "\n")
        output.close()
        if fmt != "text":
            click.echo(render_text(rep).splitlines()[-1], err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    if rep.failures:
        sys.exit(EXIT_FAILED)
    sys.exit(EXIT_PASSED if rep.checks else EXIT_NOTHING)


def _load_testmgr(path: str) -> object:
    from iovcrypto.tools.conformance.testmgr import TestmgrError, load_testmgr

    if path == "builtin" and not os.path.exists(path):
        from iovcrypto.tools.conformance.testmgr_transcribed import load_transcribed

        return load_transcribed()
    try:
        return load_testmgr(path)
    except (TestmgrError, OSError) as e:
        raise click.BadParameter(str(e), param_hint="--testmgr") from None
