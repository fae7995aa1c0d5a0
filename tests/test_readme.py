"""The README's example runs as printed, and its exit statuses are the
command's."""

import importlib
import importlib.util
import re
from pathlib import Path

from iovcrypto.tools.conformance.command import EXIT_STATUSES

README = Path(__file__).parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_request_example_runs():
    # With every driver registered (dma's asynchronous engine ones outrank
    # the software ones), whatever other tests imported before.
    if importlib.util.find_spec("dma") is not None:
        importlib.import_module("dma")
    (code,) = re.findall(r"```python\n(.*?)```", _section("A request through each API"), re.S)
    assert 10 <= len(code.splitlines()) <= 30
    exec(compile(code, "README.md", "exec"), {})


def test_the_exit_statuses_are_documented():
    text = " ".join(_section("The command").split())
    for status in EXIT_STATUSES:
        assert f"**{status}**" in text
    assert "**3** nothing selected" in text
