"""Turning command-line paths into a :class:`~.model.Report`."""

from __future__ import annotations

from pathlib import Path

from iovcrypto.tools.checklist.c_reader import C_SUFFIXES, scan_c_file
from iovcrypto.tools.checklist.catalogue import Catalogue, load_catalogue
from iovcrypto.tools.checklist.model import FileReport, Report
from iovcrypto.tools.checklist.py_reader import scan_python_project, scan_python_source


def collect_files(paths: list[str | Path]) -> list[tuple[Path, str]]:
    """(file, display path) for every C source under ``paths``.

    Directories are searched recursively for ``*.c`` and ``*.h``; a file
    named explicitly is read whatever its suffix (a ``.py`` file is read by
    the Python reader).  Order: as given, then sorted within directories;
    duplicates are dropped.
    """
    out: dict[Path, str] = {}
    for given in paths:
        p = Path(given)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix in C_SUFFIXES:
                    out.setdefault(f.resolve(), (p / f.relative_to(p)).as_posix())
        else:
            out.setdefault(p.resolve(), p.as_posix())
    return [(f, shown) for f, shown in out.items()]


def scan_file(path: Path, shown: str, catalogue: Catalogue) -> FileReport:
    """One file through the reader its suffix calls for."""
    if path.suffix == ".py":
        try:
            source = path.read_bytes()
        except OSError as exc:
            return FileReport(path=shown, language="python", status="unreadable",
                              message=f"cannot read: {exc.strerror or exc}")
        return scan_python_source(source, shown, None, catalogue)[0]
    return scan_c_file(path, shown, catalogue)


def build_report(paths: list[str | Path], python_root: str | Path | None = None,
                 catalogue: Catalogue | None = None) -> Report:
    """Checklist for the C (and explicitly named Python) files under ``paths``,
    plus, with ``python_root``, this project's legacy drivers and their twins."""
    cat = catalogue or load_catalogue()
    report = Report(catalogue=cat)
    for path, shown in collect_files(paths):
        report.files.append(scan_file(path, shown, cat))
    if python_root is not None:
        root = Path(python_root).resolve()
        files, drivers, api = scan_python_project(root, cat)
        for fr in files:
            fr.root = root.as_posix()
        report.files += files
        report.drivers = drivers
        report.api_modules = api
        report.python_root = root.as_posix()
    return report
