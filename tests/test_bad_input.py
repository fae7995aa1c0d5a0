"""Bad input gets a clear answer (DESIGN §4).

The probe (``tests/bad_input_probe.py``) calls every public callable of
kmem, sgl, iovcrypto, shims (and dma, when it exists) with junk, boundary
and huge values — numpy integers, floats, inf, nan, 2**64 — in each
argument position, the others plausible, under a CPU-time budget per call,
in a process of its own.  The cases the issue named are checked one by one
below as well, so that a regression names itself."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import iovcrypto
import kmem
import sgl
import shims
from kmem import GFP_KERNEL
from kmem import errno as E

PROBE = Path(__file__).with_name("bad_input_probe.py")


def test_the_probe_finds_nothing():
    root = str(PROBE.parent.parent)
    out = subprocess.run([sys.executable, str(PROBE)], capture_output=True, text=True,
                         timeout=600, cwd=root, env={"PYTHONPATH": root, "PATH": ""})
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout == "", "bad input answered against DESIGN §4:\n" + out.stdout


def test_the_probe_covers_the_audited_preconditions():
    """The functions of kmem/preconditions.md are among those it calls."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bad_input_probe", PROBE)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    probed = {qual for qual, _ in probe.discover()}
    audited = {
        "kmem." + name for name in (
            "alloc_pages", "alloc_page", "folio_alloc", "__get_free_pages", "folio_put",
            "put_page", "folio_get", "get_page", "__free_pages", "__free_page", "free_pages",
            "get_user_pages", "get_user_pages_fast", "pin_user_pages", "pin_user_pages_fast",
            "unpin_user_page", "unpin_user_pages", "unpin_user_pages_dirty_lock", "xa_mk_value",
            "xa_store_range", "xa_err", "xa_is_err", "filemap_add_folio", "filemap_remove_folio",
            "kmap", "kunmap", "kmap_local_page", "kmap_local_folio", "kmap_atomic",
            "kunmap_local", "kunmap_atomic", "memcpy_to_page", "memcpy_from_page",
            "memzero_page", "folio_page")
    } | {"sgl.sg_set_folio", "iovcrypto.copy_page_to_iter", "iovcrypto.copy_folio_from_iter"}
    assert audited <= probed, sorted(audited - probed)


HUGE = [2**64 - 1, 2**63, 2**40, 2**31 - 1]


@pytest.mark.parametrize("length", HUGE)
def test_huge_lengths_answer_at_once(length):
    addr = kmem.kmalloc(64, GFP_KERNEL)
    page = kmem.alloc_page(GFP_KERNEL)
    for call in (lambda: kmem.read_virt(addr, length), lambda: kmem.virt_views(addr, length),
                 lambda: kmem.memset(addr, 0, length), lambda: kmem.page_views(page, 0, length),
                 lambda: kmem.memcpy(addr, addr, length),
                 lambda: kmem.memcpy_to_page(page, 0, addr, length),
                 lambda: kmem.memzero_page(page, 0, length)):
        with pytest.raises(kmem.KernelBug):
            call()
    for world in (sgl, iovcrypto):
        tfm = world.crypto_alloc_aead("gcm(aes)", 0, 0)
        assert world.crypto_aead_setkey(tfm, addr, length) == -E.EINVAL
        world.crypto_free_aead(tfm)
    with pytest.raises(ValueError, match="xa_store_range"):
        kmem.xa_store_range(kmem.XArray(), 0, length, 1)
    assert sgl.sg_alloc_table(sgl.SgTable(), length if length < 2**32 else 2**32 - 1,
                              GFP_KERNEL) == -E.ENOMEM
    kmem.kfree(addr)
    kmem.__free_page(page)


def test_ints_beyond_c_and_numpy_ints():
    with pytest.raises(ValueError, match=r"read_virt\(\): length = 18446744073709551616"):
        kmem.read_virt(kmem.kmalloc(8, GFP_KERNEL), 2**64)
    with pytest.raises(TypeError, match=r"read_virt\(\): length must be int, got float"):
        kmem.read_virt(kmem.kmalloc(8, GFP_KERNEL), float("inf"))
    # numpy integers are taken as the ints they hold, not as fixed-width numbers.
    assert kmem.PAGE_ALIGN(np.uint64(2**64 - 1)) == 2**64 - 1 + 4095 & ~4095
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        assert kmem.get_user_pages(np.uint64(2**64 - 1), 1, 0)[0] == -E.EFAULT
    tfm = sgl.crypto_alloc_sync_skcipher("cbc(aes)", np.uint64(2**64 - 1), 0)
    assert not isinstance(tfm, int)         # type & mask (0) selects any driver
    sgl.crypto_free_sync_skcipher(tfm)
    addr = kmem.kmalloc(np.uint8(16), np.uint32(GFP_KERNEL))
    kmem.memset(addr, -1, 4)                 # C stores the low byte
    assert kmem.read_virt(addr, 4) == b"\xff" * 4
    kmem.kfree(addr)


def test_kernel_double_underscore_names_check_their_arguments():
    with pytest.raises(TypeError, match=r"__free_pages\(\): page must be Page, got None"):
        kmem.__free_pages(None, 0)
    with pytest.raises(TypeError, match=r"__free_page\(\): page must be Page"):
        kmem.__free_page(None)
    with pytest.raises(TypeError, match=r"__pa\(\): vaddr must be int"):
        kmem.__pa(None)
    with pytest.raises(TypeError, match=r"__sg_alloc_table\(\): table must be SgTable"):
        sgl.__sg_alloc_table(None, 1, 2, None, 0, GFP_KERNEL, sgl.sg_kmalloc)


def test_the_issues_other_wrong_errors():
    with pytest.raises(ValueError, match="nents must be >= 1"):
        sgl.sg_init_marker(sgl.sg_array(1), 0)
    with pytest.raises(ValueError, match="n_pages must be >= 1"):
        sgl.sg_alloc_table_from_pages(sgl.SgTable(), [kmem.alloc_page(GFP_KERNEL)], 0, 0, 0,
                                      GFP_KERNEL)
    for world in (sgl, iovcrypto):
        with pytest.raises(TypeError, match="alg must be CryptoAlg"):
            world.CryptoAead(None, None, 0)
    with pytest.raises(kmem.KernelBug, match="never started"):
        sgl.sg_page_iter_dma_address(sgl.SgDmaPageIter())
    with pytest.raises(ValueError, match=r"register_bridges\(\): types"):
        shims.register_bridges(types=(1, 2))
    with pytest.raises(TypeError, match="SegmentArray"):
        iovcrypto.SegmentArray(float("inf"), [])
    with pytest.raises(TypeError, match=r"write_virt\(\): addr must be int, got Folio"):
        kmem.write_virt(kmem.alloc_page(GFP_KERNEL), b"x")
    req = iovcrypto.skcipher_request_alloc(iovcrypto.crypto_alloc_skcipher("cbc(aes)", 0, 0),
                                           GFP_KERNEL)
    with pytest.raises(TypeError, match=r"req must be sgl\.skcipher\.SkcipherRequest, got "
                                        r"iovcrypto\.skcipher\.SkcipherRequest"):
        sgl.crypto_skcipher_encrypt(req)
    with pytest.raises(TypeError, match=r"WARN\(\): condition must be true or false"):
        kmem.WARN(np.zeros(3))


def test_kvmalloc_refuses_more_than_int_max_and_vmalloc_answers_fast():
    with pytest.warns(kmem.KernelWarning):
        assert kmem.kvmalloc(2**31, GFP_KERNEL) == 0
    assert kmem.kvmalloc(2**31, GFP_KERNEL | kmem.__GFP_NOWARN) == 0
    assert kmem.vmalloc(2**31 - 1) == 0          # beyond the model's vmalloc limit
    kmem.ledger.records.clear()
