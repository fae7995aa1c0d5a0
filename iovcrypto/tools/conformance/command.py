"""``iovcrypto conformance``: the click command.

Exit status: 0 when every check passed, 1 when something failed, 2 when
nothing was selected (a filter that matches no driver is a mistake, not a
pass).
"""

from __future__ import annotations

import sys

import click

from iovcrypto.tools.conformance.report import render_json, render_ktap, render_text
from iovcrypto.tools.conformance.session import Options, run


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--alg", "alg", metavar="PATTERN",
              help="Algorithm (cra_name) or driver name; shell wildcards allowed.")
@click.option("--driver", metavar="NAME", help="Driver name (cra_driver_name); wildcards allowed.")
@click.option("--api", type=click.Choice(["sg", "iter", "bridge", "lib", "all"]), default="all",
              show_default=True, help="Scatterlist API, iov_iter API, the shims bridges, the "
              "library road (a caller walking its iov_iters into lib/crypto), or all.")
@click.option("--configs", type=click.Choice(["default", "random", "all"]), default="all",
              show_default=True,
              help="testmgr's nine default buffer configurations, random ones, or both.")
@click.option("--random-configs", type=click.IntRange(0), default=2, show_default=True,
              help="How many random configurations (generate_random_testvec_config).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed for random vectors, configurations and fuzzing.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=1, show_default=True,
              help="Parallel worker processes (results do not depend on it).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "ktap"]), default="text",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the report here instead of standard output.")
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
@click.option("--testmgr", "testmgr_path", metavar="PATH",
              type=click.Path(exists=True),
              help="A kernel tree (or its crypto/testmgr.h, with testmgr.c beside it): run "
                   "every vector testmgr has for each registered algorithm instead of the "
                   "built-in, corpus and random ones; list the others as skipped.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar (default: when standard error is a terminal).")
def conformance(alg: str | None, driver: str | None, api: str, configs: str,
                random_configs: int, seed: int, jobs: int, fmt: str, output: str | None,
                corpus_limit: int, full_corpus: bool, random_vectors: int, fuzz: int,
                all_realisations: int, testmgr_path: str | None,
                progress: bool | None) -> None:
    """Run testmgr-style conformance tests on every registered skcipher and
    AEAD driver, through the scatterlist API, the iov_iter API and the
    bridges, and report failures as crypto/testmgr.c prints them."""
    opts = Options(alg=alg, driver=driver, api=api, configs=configs,
                   random_configs=random_configs, seed=seed, jobs=jobs,
                   corpus_limit=None if full_corpus else corpus_limit,
                   random_vectors=random_vectors, fuzz=fuzz,
                   all_realisations_vectors=all_realisations,
                   testmgr=_load_testmgr(testmgr_path) if testmgr_path else None)
    show = sys.stderr.isatty() if progress is None else progress
    if show:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(TextColumn("conformance"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), transient=True) as bar:
            task = bar.add_task("", total=None)

            def tick(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label[:60])

            rep = run(opts, tick)
    else:
        rep = run(opts)
    text = {"text": render_text, "json": render_json, "ktap": render_ktap}[fmt](rep)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        if fmt != "text":
            click.echo(render_text(rep).splitlines()[-1], err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    if not rep.results and not rep.skipped:
        sys.exit(2)
    sys.exit(0 if rep.passed else 1)


def _load_testmgr(path: str) -> object:
    from iovcrypto.tools.conformance.testmgr import TestmgrError, load_testmgr

    try:
        return load_testmgr(path)
    except (TestmgrError, OSError) as e:
        raise click.BadParameter(str(e), param_hint="--testmgr") from None
