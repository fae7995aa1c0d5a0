"""import_ubuf and import_iovec (the readv/writev path)."""

from __future__ import annotations

import numpy as np
import pytest

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    MAX_RW_COUNT,
    UIO_FASTIOV,
    UIO_MAXIOV,
    SegmentArray,
    import_iovec,
    import_ubuf,
    iov_iter,
    iovec,
    iter_is_iovec,
    iter_is_ubuf,
)

PAGE = kmem.PAGE_SIZE


@pytest.fixture
def user():
    mm = kmem.current_mm()
    base = mm.mmap(16 * PAGE)
    yield base
    mm.munmap(base, 16 * PAGE)


def _put_iovecs(uaddr: int, pairs: list[tuple[int, int]]) -> None:
    raw = np.array(pairs, dtype="<u8").reshape(-1).view(np.uint8)
    assert kmem.copy_to_user(uaddr, raw, len(raw)) == 0


def test_import_ubuf(user):
    it = iov_iter()
    assert import_ubuf(ITER_DEST, user, 100, it) == 0 and iter_is_ubuf(it) and it.count == 100
    assert import_ubuf(ITER_DEST, user, MAX_RW_COUNT + 5, it) == 0
    assert it.count == MAX_RW_COUNT
    assert import_ubuf(ITER_DEST, kmem.TASK_SIZE - 10, 100, it) == -kmem.errno.EFAULT


def test_single_segment_becomes_ubuf(user):
    _put_iovecs(user, [(user + PAGE, 300)])
    it = iov_iter()
    fast = [iovec() for _ in range(UIO_FASTIOV)]
    ret, allocated = import_iovec(ITER_SOURCE, user, 1, UIO_FASTIOV, fast, it)
    assert (ret, allocated) == (300, None)
    assert iter_is_ubuf(it) and it.ubuf == user + PAGE and it.data_source


def test_fast_array_and_allocated_array(user):
    pairs = [(user + PAGE, 10), (user + 2 * PAGE, 0), (user + 3 * PAGE, 20)]
    _put_iovecs(user, pairs)
    it = iov_iter()
    fast = [iovec() for _ in range(UIO_FASTIOV)]
    ret, allocated = import_iovec(ITER_DEST, user, 3, UIO_FASTIOV, fast, it)
    assert (ret, allocated) == (30, None) and iter_is_iovec(it)
    assert it.vec is fast and fast[2] == iovec(user + 3 * PAGE, 20) and it.nr_segs == 3
    many = [(user + PAGE, 1)] * 20
    _put_iovecs(user, many)
    ret, allocated = import_iovec(ITER_DEST, user, 20, UIO_FASTIOV, fast, it)
    assert ret == 20 and isinstance(allocated, SegmentArray) and it.vec is allocated.segs
    assert kmem.kmalloc_size(allocated) == 20 * 16
    kmem.kfree(allocated)


def test_zero_segments(user):
    it = iov_iter()
    assert import_iovec(ITER_DEST, user, 0, UIO_FASTIOV, [], it) == (0, None)
    assert it.count == 0 and iter_is_iovec(it)


def test_errors(user):
    it = iov_iter()
    assert import_iovec(ITER_DEST, user, UIO_MAXIOV + 1, 8, None, it)[0] == -kmem.errno.EINVAL
    _put_iovecs(user, [(user, 10), (user, 1 << 63)])            # negative as ssize_t
    assert import_iovec(ITER_DEST, user, 2, 8, None, it) == (-kmem.errno.EINVAL, None)
    _put_iovecs(user, [(user, 10), (kmem.TASK_SIZE, 10)])        # fails access_ok
    assert import_iovec(ITER_DEST, user, 2, 8, None, it) == (-kmem.errno.EFAULT, None)
    _put_iovecs(user, [(user, 10)] * 12)                         # allocated, then freed
    _put_iovecs(user + 11 * 16, [(kmem.TASK_SIZE, 10)])
    assert import_iovec(ITER_DEST, user, 12, 8, None, it) == (-kmem.errno.EFAULT, None)
    # The array itself runs into an unmapped page.
    mm = kmem.current_mm()
    mm.munmap(user + 8 * PAGE, PAGE)
    _put_iovecs(user + 8 * PAGE - 16, [(user, 10)])
    assert import_iovec(ITER_DEST, user + 8 * PAGE - 16, 2, 8, None, it) == \
        (-kmem.errno.EFAULT, None)
    with kmem.fail_allocations():
        assert import_iovec(ITER_DEST, user, 12, 8, None, it) == (-kmem.errno.ENOMEM, None)


def test_total_capped_at_max_rw_count(user):
    big = MAX_RW_COUNT - 100
    _put_iovecs(user, [(user, big), (user, 1000), (user, 50)])
    it = iov_iter()
    ret, _ = import_iovec(ITER_DEST, user, 3, 8, None, it)
    assert ret == MAX_RW_COUNT == it.count
    assert [s.iov_len for s in it.vec[:3]] == [big, 100, 0]
