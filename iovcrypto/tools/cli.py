"""The ``iovcrypto`` command.

Subcommands are looked up lazily from ``SUBCOMMANDS`` so that ``--help`` and
``--version`` stay fast and importing one tool does not pull in the others.
"""

from __future__ import annotations

import importlib

import click

from iovcrypto.__about__ import __version__

# name -> "module:attribute" of a click command.
SUBCOMMANDS: dict[str, str] = {
    "checklist": "iovcrypto.tools.checklist.command:checklist",
    "conformance": "iovcrypto.tools.conformance.command:conformance",
    "compare": "iovcrypto.tools.compare:compare",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(SUBCOMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="iovcrypto")
def cli() -> None:
    """Scatterlists and iov_iters side by side: the kernel crypto API
    duplicated on iov_iter, checked against the scatterlist one."""


@cli.command()
def algorithms() -> None:
    """List the memory kinds and iterator types this model knows."""
    import kmem

    click.echo("memory kinds: " + ", ".join(k.value for k in kmem.Kind))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
