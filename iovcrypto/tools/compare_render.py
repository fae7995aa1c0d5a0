"""How ``iovcrypto compare`` shows its records: a text table, markdown,
JSON, and a plot of time and bytes copied per path."""

from __future__ import annotations

import json
import os

import click
import numpy as np

from iovcrypto.tools.compare_dma import render_dma_markdown, render_dma_text
from iovcrypto.tools.compare_layout import LAYOUTS, PATH_DESC, PATHS
from iovcrypto.tools.roads import ROAD_KERNELS

# Rendering.

# The table's columns: (heading, key in a path's record or its counters,
# meaning).  A module that measures more appends its own column here.
COLUMNS: list[tuple[str, str | None, str]] = [
    ("path", None, "the route the operation took (legend below)"),
    ("µs/op", "time_us", "median time of one operation, in microseconds"),
    ("copies", "copies", "memory copies made (how many copy calls)"),
    ("copied", "bytes_copied", "bytes those copies moved, in total"),
    ("kmap", "kmaps", "pages mapped with kmap_local/kmap_atomic"),
    ("refs", "refs", "page references taken (get_page)"),
    ("pins", "pins", "pages pinned (FOLL_PIN)"),
    ("descB", "descriptor_bytes",
     "bytes allocated for descriptors: scatterlists, bio_vec arrays"),
    ("alloc", "allocations", "allocations made (kmalloc, pages, vmalloc)"),
    ("bnc", "bounce_buffers", "bounce buffers allocated by a walk"),
    ("segs", "segments", "descriptor entries handed to the driver, src + dst"),
    ("result", None, "ok, DIFF (output differs from the reference path) or err -ERRNO"),
]
_COLS = [(head, key) for head, key, _ in COLUMNS]


def _cells(p: dict) -> list[str]:
    if p["status"] == "n/a":
        return [p["path"]] + ["-"] * (len(_COLS) - 2) + ["n/a"]
    c = p["counters"]
    vals = [p["path"], f"{p['time_us']:.0f}"]
    for _, key in _COLS[2:-1]:
        vals.append(str(p[key] if key in p else c.get(key, 0)))
    vals.append({"ok": "ok", "mismatch": "DIFF", "error": f"err {p['err']}"}[p["status"]])
    return vals


def _title(r: dict) -> str:
    d = r["drivers"]
    size = f"{r['size']} B"
    if r.get("size_requested", r["size"]) != r["size"]:
        size += f" (asked {r['size_requested']}: whole blocks)"
    return f"{r['alg']} [{r['layout']}] {size}  sg={d['sg'] or '-'}  iter={d['iter'] or '-'}"


def render_text(records: list[dict], width: int = 80) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    buf = StringIO()
    con = Console(file=buf, width=width, force_terminal=False, color_system=None)
    for r in records:
        t = Table(title=escape(_title(r)), box=None, padding=(0, 1, 0, 0), title_justify="left",
                  show_edge=False)
        for head, _ in _COLS:
            t.add_column(head, justify="left" if head in ("path", "result") else "right",
                         no_wrap=True)
        for p in r["paths"]:
            t.add_row(*_cells(p))
        con.print(t)
        for line in r["ledger"]:
            con.print(escape(f"  ledger: {line}"))
        con.print()
    for k, v in PATH_DESC.items():
        con.print(escape(f"{k:10} {v}  [kernel: {ROAD_KERNELS[k]}]"))
    con.print()
    for head, _, meaning in COLUMNS[1:]:
        con.print(escape(f"{head:10} {meaning}"))
    text = "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
    dma = render_dma_text(records)
    return text + ("\n" + dma if dma else "")


def render_markdown(records: list[dict]) -> str:
    lines = []
    for r in records:
        lines += [f"### {_title(r)}", "", "| " + " | ".join(h for h, _ in _COLS) + " |",
                  "|" + "---|" * len(_COLS)]
        lines += ["| " + " | ".join(_cells(p)) + " |" for p in r["paths"]]
        lines += [f"- ledger: {x}" for x in r["ledger"]]
        lines.append("")
    lines += [f"- `{k}`: {v} (kernel: {ROAD_KERNELS[k]})" for k, v in PATH_DESC.items()]
    lines += [f"- `{head}`: {meaning}" for head, _, meaning in COLUMNS[1:]]
    return "\n".join(lines) + "\n" + render_dma_markdown(records)


SCHEMA_ID = "iovcrypto-compare/1"


def render_json(records: list[dict]) -> str:
    return json.dumps({"schema": SCHEMA_ID, "ok": not failed(records), "paths": PATH_DESC,
                       "columns": {key or head: meaning for head, key, meaning in COLUMNS},
                       "results": records}, indent=2) + "\n"


def failed(records: list[dict]) -> bool:
    return any(r["mismatch"] or r["ledger"] for r in records)


# Families for the plot: the template an algorithm is built on, with the
# RFC wrappers under the mode they wrap.
_FAMILY_OF = {"rfc4106": "gcm", "rfc4543": "gcm", "rfc4309": "ccm", "rfc3686": "ctr",
              "rfc7539": "chacha20poly1305", "rfc7539esp": "chacha20poly1305",
              "xchacha20": "chacha20"}
PLOT_FORMATS = ("png", "pdf", "svg")


def family(alg: str) -> str:
    base = alg.split("(", 1)[0]
    return _FAMILY_OF.get(base, base)


def plot(records: list[dict], path: str) -> None:
    """Small multiples: per algorithm (grouped by family), time and bytes
    copied per operation for each path, over the layouts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    algs = sorted({r["alg"] for r in records}, key=lambda a: (family(a), a))
    layouts = [lay for lay in LAYOUTS if any(r["layout"] == lay for r in records)]
    ncols = min(3, len(algs))
    nrows = -(-len(algs) // ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(5.2 * ncols, 4.6 * nrows + 1.2),
                             squeeze=False)
    colors = plt.get_cmap("tab10").colors
    x = np.arange(len(layouts))
    w = 0.8 / len(PATHS)
    for k, alg in enumerate(algs):
        top, bottom = axes[2 * (k // ncols)][k % ncols], axes[2 * (k // ncols) + 1][k % ncols]
        by_layout = {r["layout"]: r for r in records if r["alg"] == alg}
        for j, path_name in enumerate(PATHS):
            ps = [next((p for p in by_layout[lay]["paths"] if p["path"] == path_name), None)
                  if lay in by_layout else None for lay in layouts]
            ok = [p is not None and p["status"] != "n/a" for p in ps]
            t = [p["time_us"] if o else 0 for p, o in zip(ps, ok)]
            b = [p["counters"].get("bytes_copied", 0) if o else 0 for p, o in zip(ps, ok)]
            top.bar(x + j * w, t, w, color=colors[j], label=f"{path_name}: {PATH_DESC[path_name]}")
            bottom.bar(x + j * w, b, w, color=colors[j])
        size = next(iter(by_layout.values()))["size"]
        top.set_title(f"{family(alg)} · {alg} · {size} B", fontsize=10)
        top.set_ylabel("µs per operation (median)")
        bottom.set_ylabel("bytes copied per operation")
        for ax in (top, bottom):
            ax.set_xticks(x + 0.4 - w / 2, layouts, fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
    for k in range(len(algs), nrows * ncols):
        axes[2 * (k // ncols)][k % ncols].set_visible(False)
        axes[2 * (k // ncols) + 1][k % ncols].set_visible(False)
    h = fig.get_figheight()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.suptitle("iovcrypto compare: one encryption per path and buffer layout "
                 "(n/a paths have no bar)", y=1 - 0.15 / h, fontsize=12)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.45 / h),
               ncols=min(3, len(PATHS)), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 1.2 / h))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _check_plot_path(path: str) -> None:
    """Refuse a plot file that cannot be written, before the run."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in PLOT_FORMATS:
        raise click.BadParameter(f"{path!r}: the plot is written as "
                                 f"{', '.join('.' + f for f in PLOT_FORMATS)}",
                                 param_hint="--plot")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise click.BadParameter(f"{path!r}: directory {parent!r} does not exist or is not "
                                 "writable", param_hint="--plot")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "--plot needs matplotlib, which is not installed "
            "(pip install matplotlib, or the project's 'plot' extra)") from None
