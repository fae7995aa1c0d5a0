"""iovcrypto: the iov_iter world and the crypto API duplicated on it.

This package root exports the iov_iter model and its crypto API by kernel
name.  It must not import :mod:`iovcrypto.tools` (which knows the
scatterlist world too), nor ``sgl`` or ``shims``.
"""

from iovcrypto.__about__ import __version__
from iovcrypto.iov_iter import (
    copy_folio_from_iter,
    copy_folio_from_iter_atomic,
    copy_folio_to_iter,
    copy_from_iter,
    copy_from_iter_full,
    copy_from_iter_full_nocache,
    copy_from_iter_nocache,
    copy_page_from_iter,
    copy_page_to_iter,
    copy_page_to_iter_nofault,
    copy_to_iter,
    copy_to_iter_full,
    iov_iter_advance,
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_folio_queue,
    iov_iter_init,
    iov_iter_kvec,
    iov_iter_reexpand,
    iov_iter_restore,
    iov_iter_revert,
    iov_iter_save_state,
    iov_iter_truncate,
    iov_iter_ubuf,
    iov_iter_xarray,
    iov_iter_zero,
    page_copy_sane,
)
from iovcrypto.iov_iter_extract import (
    iov_iter_extract_pages,
    iov_iter_get_pages2,
    iov_iter_get_pages_alloc2,
)
from iovcrypto.iov_iter_import import (
    SegmentArray,
    dup_iter,
    import_iovec,
    import_ubuf,
    iovec_from_user,
)
from iovcrypto.iov_iter_query import (
    fault_in_iov_iter_readable,
    fault_in_iov_iter_writeable,
    iov_iter_alignment,
    iov_iter_gap_alignment,
    iov_iter_is_aligned,
    iov_iter_npages,
    iov_iter_npages_cap,
    iov_iter_single_seg_count,
)
from iovcrypto.iterate import (
    iov_iter_spans,
    iterate_and_advance,
    iterate_and_advance2,
    iterate_and_advance_kernel,
)
from iovcrypto.uio import (
    INT_MAX,
    ITER_ALLOW_P2PDMA,
    ITER_BVEC,
    ITER_DEST,
    ITER_DISCARD,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_SOURCE,
    ITER_UBUF,
    ITER_XARRAY,
    MAX_RW_COUNT,
    READ,
    UIO_FASTIOV,
    UIO_MAXIOV,
    WRITE,
    bio_vec,
    bvec_set_folio,
    bvec_set_page,
    bvec_set_virt,
    iov_iter,
    iov_iter_count,
    iov_iter_extract_will_pin,
    iov_iter_is_bvec,
    iov_iter_is_discard,
    iov_iter_is_folioq,
    iov_iter_is_kvec,
    iov_iter_is_xarray,
    iov_iter_rw,
    iov_iter_state,
    iov_iter_type,
    iov_length,
    iovec,
    iter_iov,
    iter_iov_addr,
    iter_iov_len,
    iter_is_iovec,
    iter_is_ubuf,
    kvec,
    user_backed_iter,
)

# ``iov_iter`` here is struct iov_iter (the class), which shadows the
# submodule attribute of the same name: import that module's functions with
# ``from iovcrypto.iov_iter import ...`` (or from here).
__all__ = [name for name, obj in dict(globals()).items()
           if not name.startswith("_") and not isinstance(obj, type(__import__("sys")))]
__all__ += ["__version__"]
