"""The ``iovcrypto`` command.

Subcommands are looked up lazily from ``SUBCOMMANDS`` so that ``--help`` and
``--version`` stay fast and importing one tool does not pull in the others.
"""

from __future__ import annotations

import importlib

import click

from iovcrypto.__about__ import KERNEL_STATEMENT, __version__

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
@click.version_option(__version__, prog_name="iovcrypto",
                      message=f"%(prog)s %(version)s ({KERNEL_STATEMENT})")
def cli() -> None:
    """Scatterlists and iov_iters side by side: the kernel crypto API
    duplicated on iov_iter, checked against the scatterlist one."""


@cli.command()
@click.option("--type", "alg_type", type=click.Choice(["skcipher", "aead"]),
              help="Only this kind of algorithm.")
def algorithms(alg_type: str | None) -> None:
    """List every registered driver and which API serves it natively.

    A driver appears under "sg" when a legacy (scatterlist) driver of that
    name is registered, and under "iter" when a converted (iov_iter) one is;
    the highest-priority driver of each name is what crypto_alloc_* picks.
    """
    import iovcrypto
    import sgl

    rows: dict[tuple[str, str], dict] = {}
    for world, registry in (("sg", sgl.crypto_registry), ("iter", iovcrypto.crypto_registry)):
        for alg, _impl in registry.algorithms(alg_type):
            row = rows.setdefault((alg.cra_name, alg.cra_driver_name),
                                  {"type": alg.type, "prio": alg.cra_priority, "worlds": []})
            row["worlds"].append(world)
    width = max((len(d) for _, d in rows), default=10)
    nwidth = max((len(n) for n, _ in rows), default=9)
    click.echo(f"{'type':9} {'algorithm':{nwidth}} {'driver':{width}} {'prio':>5}  apis")
    for (name, driver), row in sorted(rows.items(), key=lambda kv: (kv[1]["type"], kv[0][0],
                                                                    -kv[1]["prio"])):
        click.echo(f"{row['type']:9} {name:{nwidth}} {driver:{width}} {row['prio']:5}  "
                   + ",".join(row["worlds"]))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
