"""Upstream kernel bugs behind kmem.quirks switches: the model follows the
fixed kernel by default, reproduces the old one with the switch on, and the
default conformance run catches the old one."""

from __future__ import annotations

import warnings

import pytest

import iovcrypto as iov
import kmem
import sgl
from iovcrypto.tools.conformance import session as S
from shims.extract import extract_iter_to_sg

XARRAY_SG = "extract_xarray_to_sg_offset_v6_3_to_v7_1"
XARRAY_PAGES = "iov_iter_extract_xarray_pages_underflow_v6_3_to_v7_1"


def _pagecache(orders: list[int], first_index: int = 8) -> tuple[kmem.AddressSpace, list]:
    mapping = kmem.AddressSpace()
    folios, index = [], first_index
    for o in orders:
        f = kmem.folio_alloc(kmem.GFP_KERNEL, o)
        kmem.filemap_add_folio(mapping, f, index, kmem.GFP_KERNEL)
        folios.append(f)
        index += 1 << o
    return mapping, folios


def _drop(folios: list) -> None:
    for f in folios:
        kmem.filemap_remove_folio(f)
        kmem.folio_put(f)


def _xarray_sg(start: int, n: int) -> list[tuple[int, int]]:
    mapping, folios = _pagecache([0, 0])
    try:
        it = iov.iov_iter()
        iov.iov_iter_xarray(it, iov.ITER_SOURCE, mapping.i_pages, 8 * kmem.PAGE_SIZE + start, n)
        arr = sgl.sg_array(4)
        sgl.sg_init_table(arr, 4)
        table = sgl.SgTable()
        table.sgl = arr[0]
        got = extract_iter_to_sg(it, n, table, 4)
        return got, [(sg.offset, sg.length) for sg in arr[:table.nents]]
    finally:
        _drop(folios)


def test_extract_xarray_to_sg_fixed_by_default() -> None:
    # The minimal case: two order-0 page-cache folios, start 96.
    assert _xarray_sg(96, 4096) == (4096, [(96, 4000), (0, 96)])


def test_extract_xarray_to_sg_old_kernels_reuse_the_first_offset() -> None:
    with kmem.kernel_quirks(XARRAY_SG):
        assert _xarray_sg(96, 4096) == (4096, [(96, 4000), (96, 96)])


def test_unknown_quirk_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kernel quirk"), \
            kmem.kernel_quirks("no_such_bug"):
        pass
    assert not kmem.quirk(XARRAY_SG)


def test_default_conformance_run_catches_the_xarray_bug() -> None:
    opts = S.Options(alg="ecb(aes)", api="bridge", fuzz=0)
    assert S.run(opts).passed
    with kmem.kernel_quirks(XARRAY_SG):
        rep = S.run(opts)
    assert not rep.passed
    msgs = [f.message for f in rep.failures]
    assert all("ITER_XARRAY" in m and "bridge-iter" in m for m in msgs), msgs[:3]


def _xarray_hole_extract() -> tuple[int, int]:
    mapping, folios = _pagecache([0], first_index=8)
    try:
        it = iov.iov_iter()
        # Start inside index 9, where there is no folio: a hole.
        iov.iov_iter_xarray(it, iov.ITER_DEST, mapping.i_pages, 9 * kmem.PAGE_SIZE + 100, 1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kmem.KernelWarning)
            got, _pages, _off = iov.iov_iter_extract_pages(it, None, 1000, 4)
        return got, it.count
    finally:
        _drop(folios)


def test_extract_xarray_pages_hole_is_nothing_by_default() -> None:
    assert _xarray_hole_extract() == (0, 1000)


def test_extract_xarray_pages_old_kernels_claim_bytes_over_a_hole() -> None:
    with kmem.kernel_quirks(XARRAY_PAGES):
        assert _xarray_hole_extract() == (1000, 0)



def _cli(*args: str):
    import inspect

    from click.testing import CliRunner

    from iovcrypto.tools.conformance.command import conformance

    kw = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
    return CliRunner(**kw).invoke(conformance, ["--no-progress", *args], catch_exceptions=False)


def test_the_cli_switch_makes_the_default_run_catch_the_xarray_bug() -> None:
    args = ("--alg", "ecb(aes)", "--api", "bridge-iter", "--fuzz", "0")
    assert _cli(*args).exit_code == 0
    res = _cli(*args, "--kernel-quirk", XARRAY_SG)
    assert res.exit_code == 1, res.stdout + res.stderr
    fails = [line for line in res.stdout.splitlines() if line.startswith("alg: ")]
    assert fails and all("ITER_XARRAY" in line for line in fails), fails[:3]
    assert f"kernel quirk on: {XARRAY_SG}" in res.stdout
    # The reproduce line runs the same kernel.
    assert f"--kernel-quirk {XARRAY_SG}" in res.stdout
    assert not kmem.quirk(XARRAY_SG)


def test_the_cli_refuses_an_unknown_quirk_and_names_the_known_ones() -> None:
    res = _cli("--alg", "ecb(aes)", "--kernel-quirk", "xarray-offset")
    assert res.exit_code == 2
    assert "xarray-offset" in res.stderr
    assert XARRAY_SG in res.stderr and XARRAY_PAGES in res.stderr
