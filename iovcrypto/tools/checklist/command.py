"""``iovcrypto checklist``: what a driver or caller must change, line by line."""

from __future__ import annotations

from pathlib import Path

import click

from iovcrypto.tools.checklist.cocci import render_cocci
from iovcrypto.tools.checklist.jsonout import render_json
from iovcrypto.tools.checklist.markdown import render_markdown
from iovcrypto.tools.checklist.sarif import render_sarif
from iovcrypto.tools.checklist.scan import build_report, collect_files

RENDERERS = {"markdown": render_markdown, "json": render_json, "sarif": render_sarif,
             "cocci": render_cocci}
# Exit status when the paths hold nothing to read (no C file, no driver tree).
EXIT_NOTHING_SELECTED = 3


def project_root() -> Path | None:
    """The source checkout this package runs from, if it has ``sgl/`` and ``iovcrypto/``."""
    import iovcrypto

    root = Path(iovcrypto.__file__).resolve().parent.parent
    if (root / "sgl").is_dir() and (root / "iovcrypto").is_dir():
        return root
    return None


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="markdown",
              show_default=True, help="markdown for a cover letter, json for scripts, "
              "sarif (2.1.0) for code-scanning tools, cocci for a semantic patch "
              "(spatch) of the rewrites that need no judgement.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the report to FILE instead of standard output.")
@click.option("--self", "self_", is_flag=True,
              help="Also check this project's own legacy drivers (sgl/) against their "
              "iov_iter twins (iovcrypto/).")
@click.option("--python-root", metavar="DIR",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Like --self, for the sgl/ and iovcrypto/ trees under DIR.")
def checklist(paths: tuple[Path, ...], fmt: str, output: Path | None, self_: bool,
              python_root: Path | None) -> None:
    """Checklist of scatterlist-API uses to convert to the iov_iter API.

    PATHS are C files or directories (searched for *.c and *.h); Python files
    named explicitly are read too.  Every call and struct declaration of the
    scatterlist-side API is listed with its iov_iter replacement, the kind of
    change and the questions to answer, grouped by the table the data flows
    through (construction to consumer, across direct calls) with one
    recommended iterator type, the road to take, page acquire/release pairs
    and an effort estimate per group.  --format cocci writes a semantic patch
    for spatch with the rewrites that need no judgement.

    Exit status: 0 when the report was written, whatever it found; 2 on a
    usage error; 3 when the paths hold no C file to read.
    """
    if self_ and python_root is not None:
        raise click.UsageError("give either --self or --python-root, not both")
    if self_:
        python_root = project_root()
        if python_root is None:
            raise click.UsageError("--self needs a source checkout (sgl/ and iovcrypto/ "
                                   "next to each other); use --python-root DIR")
    if not paths and python_root is None:
        raise click.UsageError("give at least one PATH, or --self / --python-root")
    if python_root is not None and not (python_root / "sgl").is_dir():
        raise click.UsageError(f"{python_root} has no sgl/ directory: there are no legacy "
                               "drivers to check there")
    empty = [p for p in paths if p.is_dir() and not collect_files([p])]
    for p in empty:
        click.echo(f"checklist: no C files (*.c, *.h) under {p}", err=True)
    if paths and len(empty) == len(paths) and python_root is None:
        click.echo("checklist: nothing to check", err=True)
        raise SystemExit(EXIT_NOTHING_SELECTED)
    report = build_report(list(paths), python_root)
    text = RENDERERS[fmt](report)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.FileError(str(output), hint=exc.strerror or str(exc)) from exc
    click.echo(f"checklist written to {output}", err=True)
