"""``iovcrypto checklist``: driver-conversion checklists (DESIGN §9).

Reads kernel C sources (tree-sitter) and this project's own legacy drivers
(Python :mod:`ast`) and lists every use of the scatterlist-side API with its
iov_iter-world replacement, the kind of change and the open questions.

- :mod:`.catalogue` — the catalogue (data in ``catalogue.toml``)
- :mod:`.c_reader` — C sources (tree-sitter plumbing in :mod:`.c_syntax`,
  ERROR nodes and macros in :mod:`.c_recovery`); :mod:`.flow` — their data
  flow (vocabulary in :mod:`.flow_base`, groups and pairs in
  :mod:`.flow_groups`); :mod:`.py_reader` — the project's drivers
- :mod:`.scan` — paths to a :class:`~.model.Report`
- :mod:`.markdown`, :mod:`.jsonout`, :mod:`.sarif` — the three formats
- :mod:`.command` — the click command
"""

from iovcrypto.tools.checklist.c_reader import scan_c_file, scan_c_source
from iovcrypto.tools.checklist.catalogue import Catalogue, Entry, load_catalogue
from iovcrypto.tools.checklist.jsonout import json_schema, render_json, report_dict
from iovcrypto.tools.checklist.markdown import render_markdown
from iovcrypto.tools.checklist.model import (
    DriverStatus,
    FileReport,
    Finding,
    Report,
    Skipped,
)
from iovcrypto.tools.checklist.py_reader import scan_python_project, scan_python_source
from iovcrypto.tools.checklist.sarif import render_sarif, sarif_dict
from iovcrypto.tools.checklist.scan import build_report

__all__ = [
    "Catalogue",
    "DriverStatus",
    "Entry",
    "FileReport",
    "Finding",
    "Report",
    "Skipped",
    "build_report",
    "json_schema",
    "load_catalogue",
    "render_json",
    "render_markdown",
    "render_sarif",
    "report_dict",
    "sarif_dict",
    "scan_c_file",
    "scan_c_source",
    "scan_python_project",
    "scan_python_source",
]
