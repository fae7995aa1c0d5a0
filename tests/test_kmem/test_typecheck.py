"""Argument types checked at the package boundary, and absurd sizes."""

import numpy as np
import pytest

import kmem
import sgl
from kmem.errno import ENOMEM


def test_wrong_argument_type_names_function_and_argument():
    with pytest.raises(TypeError, match=r"folio_put\(\): folio must be Folio, got int"):
        kmem.folio_put(3)
    with pytest.raises(TypeError, match=r"kthread_use_mm\(\): mm must be MmStruct"):
        kmem.kthread_use_mm([])
    assert kmem.current.mm is None or isinstance(kmem.current.mm, kmem.MmStruct)


def test_list_elements_are_checked_when_a_call_fails():
    with pytest.raises(TypeError, match="must hold Page"):
        kmem.unpin_user_pages([3], 1)
    with pytest.raises(TypeError, match=r"gather\(\): views must hold ndarray, got a None"):
        kmem.gather([None])
    with pytest.raises(TypeError, match=r"copy_views\(\): src must hold ndarray, got a None"):
        kmem.copy_views([np.zeros(2, np.uint8)], [None])


def test_correct_calls_are_unchanged_and_the_original_is_reachable():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    assert kmem.page_count(page) == 1
    assert kmem.folio_put.__wrapped_unchecked__ is not kmem.folio_put
    kmem.folio_put(page)
    assert page.freed


def test_absurd_sizes_fail_cleanly():
    mm = kmem.mm_alloc()
    assert mm.mmap(2**70) == -ENOMEM
    assert mm.munmap(0x1000, 2**70) == -kmem.errno.EINVAL
    assert kmem.vmalloc(2**64 - 1) == 0
    with pytest.raises(ValueError, match=r"vmalloc\(\): size = \d+ fits no C integer type"):
        kmem.vmalloc(2**70)
    with pytest.raises(ValueError, match="n must be"):
        sgl.DMA_BIT_MASK(65)
    with pytest.raises(ValueError, match="nents must be"):
        sgl.sg_array(2**40)
    with pytest.raises(ValueError, match="order"):
        kmem.alloc_device_pages(2**70)


def test_exhausted_model_ram_fails_allocations_with_null(monkeypatch):
    from kmem import page_alloc

    monkeypatch.setattr(page_alloc, "MAX_BANKS", len(page_alloc._banks))
    got = []
    for _ in range(100_000):
        block = kmem.alloc_pages(kmem.GFP_KERNEL, 10)
        if block is None:
            break
        got.append(block)
    else:
        raise AssertionError("allocation never failed with the banks capped")
    assert kmem.kmalloc(kmem.KMALLOC_MAX_SIZE, kmem.GFP_KERNEL) == 0   # an order-10 block too
    for block in got:
        kmem.__free_pages(block, 10)


def test_compiled_common_call_check_agrees_with_the_loop():
    # The boundary check of an all-positional call is compiled into one
    # expression; it must accept and refuse exactly what the loop does.
    from kmem.typecheck import C_INT_MAX, C_INT_MIN, _plain_all

    rng = np.random.default_rng(7)
    pools = [3, -1, C_INT_MAX, C_INT_MAX + 1, C_INT_MIN, C_INT_MIN - 1, True, np.int64(4),
             None, "s", b"b", [1], 2.5, kmem.GFP_KERNEL]
    for _ in range(300):
        nparams = int(rng.integers(1, 5))
        fast = []
        for pos in sorted(rng.choice(nparams, int(rng.integers(1, nparams + 1)), replace=False)):
            exact = frozenset(rng.choice([int, str, bytes, list, type(None), float],
                                         int(rng.integers(1, 3)), replace=False).tolist())
            fast.append((int(pos), exact, int in exact))
        fast = tuple(fast)

        def loop(args, fast=fast):
            for pos, exact, is_int in fast:
                if pos < len(args):
                    a = args[pos]
                    if type(a) not in exact:
                        return False
                    if is_int and type(a) is int and not C_INT_MIN <= a <= C_INT_MAX:
                        return False
            return True

        compiled = _plain_all(fast, loop)
        for _ in range(20):
            args = tuple(pools[int(k)] for k in rng.integers(0, len(pools),
                                                             int(rng.integers(0, nparams + 1))))
            assert compiled(args) == loop(args), (fast, args)


def test_a_subclass_passed_once_is_taken_fast_and_the_check_still_holds():
    # A head page is a Folio, a subclass of the hinted Page: the first call
    # takes the full check, later ones the compiled one.  Neither may let
    # a wrong type through, and a numpy integer must still become an int.
    import iovcrypto

    page = kmem.alloc_page(kmem.GFP_KERNEL)
    assert type(page) is not kmem.Page and isinstance(page, kmem.Page)
    bv = iovcrypto.bio_vec()
    for _ in range(3):
        iovcrypto.bvec_set_page(bv, page, 16, 0)
        assert bv.bv_page is page
        with pytest.raises(TypeError, match=r"bvec_set_page\(\): page must be Page, got int"):
            iovcrypto.bvec_set_page(bv, 3, 16, 0)
        iovcrypto.bvec_set_page(bv, page, np.int64(32), 0)
        assert type(bv.bv_len) is int and bv.bv_len == 32
        with pytest.raises(ValueError, match="fits no C integer type"):
            iovcrypto.bvec_set_page(bv, page, 2**64, 0)
    kmem.folio_put(page)
