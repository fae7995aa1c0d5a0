"""The iovcrypto command's entry point and its own subcommand."""

import subprocess
import sys

from click.testing import CliRunner

from iovcrypto.__about__ import __version__
from iovcrypto.tools.cli import cli


def test_help_lists_every_subcommand():
    out = CliRunner().invoke(cli, ["--help"])
    assert out.exit_code == 0
    for name in ("algorithms", "checklist", "compare", "conformance"):
        assert name in out.output


def test_version():
    out = CliRunner().invoke(cli, ["--version"])
    assert out.exit_code == 0 and __version__ in out.output
    assert "Linux v7.3" in out.output           # which kernel the model follows


def test_algorithms_lists_both_worlds_and_filters():
    out = CliRunner().invoke(cli, ["algorithms"])
    assert out.exit_code == 0
    rows = [line.split() for line in out.output.splitlines()[1:]]
    gcm = [r for r in rows if r[1] == "gcm(aes)" and r[2] == "gcm-aes-openssl"]
    assert gcm and gcm[0][-1] == "sg,iter"
    assert any(r[0] == "skcipher" for r in rows)
    # Columns line up however long a name is (authenc over rfc3686 passes 30).
    lines = out.output.splitlines()
    col = lines[0].index("driver")
    assert all(line[col - 1] == " " and line[col] != " " for line in lines[1:])
    only = CliRunner().invoke(cli, ["algorithms", "--type", "aead"])
    assert all(line.split()[0] == "aead" for line in only.output.splitlines()[1:])


def test_importing_the_iov_iter_world_does_not_pull_in_the_tools():
    code = "import iovcrypto, sys; print(any(m.startswith(('sgl', 'shims', 'iovcrypto.tools')) " \
           "for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
