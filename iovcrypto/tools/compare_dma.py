"""The DMA cost table of ``iovcrypto compare``: for every path whose
driver programmed a device (the engine drivers, sgl/engine_aes.py and
iovcrypto/engine_aes.py), what the request cost on the DMA side.

Columns, per request (counted by kmem.stats, see its docstring):
``maps`` mapping calls that succeeded (one dma_map_sg, one dma_map_phys or
one dma_iova_link each), ``iovaB`` IOVA space allocated, ``dsegs`` DMA
segments handed out, ``hwdesc`` hardware descriptors written and
``hwdescB`` their bytes, ``bounceB`` bytes of bounce buffers, ``pins``
pages pinned (by the caller's extraction on the extracting path, by the
driver on the iov_iter path).  The point of the table is the comparison
the issue asks for: the extracting caller (extract_iter_to_sg + legacy
driver) against the iov_iter API (converted driver) on the same layout.
"""

from __future__ import annotations

from dma.engine import SIZEOF_ENGINE_DESC

# Allocations of the engine drivers are their bounce buffers.
ALLOC_CLASSES = {"sgl.engine_aes": "bounce", "iovcrypto.engine_aes": "bounce",
                 "sgl.engine_aes_gcm": "bounce", "iovcrypto.engine_aes_gcm": "bounce"}

DMA_COLS = (("path", None), ("driver", None), ("maps", "dma_maps"), ("iovaB", "iova_bytes"),
            ("dsegs", "dma_segments"), ("hwdesc", "hw_descriptors"), ("hwdescB", None),
            ("bounceB", "bounce_bytes"), ("pins", "pins"))


def dma_rows(record: dict) -> list[list[str]]:
    """The DMA cells of each path of one compare record that used a
    device; [] when none did."""
    rows = []
    for p in record["paths"]:
        c = p.get("counters") or {}
        if not c.get("hw_descriptors"):
            continue
        cells = []
        for head, key in DMA_COLS:
            if head == "path":
                cells.append(p["path"])
            elif head == "driver":
                cells.append(p.get("driver", ""))
            elif head == "hwdescB":
                cells.append(str(c.get("hw_descriptors", 0) * SIZEOF_ENGINE_DESC))
            else:
                cells.append(str(c.get(key, 0)))
        rows.append(cells)
    return rows


def render_dma_text(records: list[dict]) -> str:
    """One plain-text table per record that touched a device."""
    out = []
    for r in records:
        rows = dma_rows(r)
        if not rows:
            continue
        heads = [h for h, _ in DMA_COLS]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
        out.append(f"DMA costs: {r['alg']} on {r['layout']}, {r['size']} bytes")
        out.append(" ".join(h.ljust(w) if i < 2 else h.rjust(w)
                            for i, (h, w) in enumerate(zip(heads, widths, strict=True))))
        for row in rows:
            out.append(" ".join(c.ljust(w) if i < 2 else c.rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        out.append("")
    return "\n".join(out)


def render_dma_markdown(records: list[dict]) -> str:
    lines = []
    for r in records:
        rows = dma_rows(r)
        if not rows:
            continue
        lines += [f"#### DMA costs: {r['alg']} on {r['layout']}", "",
                  "| " + " | ".join(h for h, _ in DMA_COLS) + " |", "|" + "---|" * len(DMA_COLS)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")
