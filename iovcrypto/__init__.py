"""iovcrypto: the iov_iter world and the crypto API duplicated on it.

This package root exports the iov_iter model and its crypto API by kernel
name.  It must not import :mod:`iovcrypto.tools` (which knows the
scatterlist world too), nor ``sgl`` or ``shims``.
"""

from ciphers.algapi import (
    CRYPTO_ALG_ASYNC,
    CRYPTO_ALG_INTERNAL,
    CRYPTO_TFM_NEED_KEY,
    CRYPTO_TFM_REQ_FORBID_WEAK_KEYS,
    CRYPTO_TFM_REQ_MAY_BACKLOG,
    CRYPTO_TFM_REQ_MAY_SLEEP,
    ERR_PTR,
    IS_ERR,
    IS_ERR_OR_NULL,
    PTR_ERR,
    CryptoAlg,
)
from iovcrypto.__about__ import __version__
from iovcrypto.aead import (
    AeadRequest,
    CryptoAead,
    aead_request_alloc,
    aead_request_ctx,
    aead_request_free,
    aead_request_set_ad,
    aead_request_set_callback,
    aead_request_set_iter,
    aead_request_set_tfm,
    crypto_aead_alg,
    crypto_aead_alg_name,
    crypto_aead_alignmask,
    crypto_aead_authsize,
    crypto_aead_blocksize,
    crypto_aead_chunksize,
    crypto_aead_clear_flags,
    crypto_aead_ctx,
    crypto_aead_decrypt,
    crypto_aead_driver_name,
    crypto_aead_encrypt,
    crypto_aead_get_flags,
    crypto_aead_ivsize,
    crypto_aead_maxauthsize,
    crypto_aead_reqsize,
    crypto_aead_reqtfm,
    crypto_aead_set_flags,
    crypto_aead_set_reqsize,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_free_aead,
    crypto_has_aead,
    crypto_register_aead,
    crypto_register_aeads,
    crypto_unregister_aead,
    crypto_unregister_aeads,
)
from iovcrypto.api import (
    CryptoAsyncRequest,
    CryptoTfm,
    CryptoWait,
    crypto_init_wait,
    crypto_registry,
    crypto_req_done,
    crypto_request_complete,
    crypto_tfm_alg_is_async,
    crypto_tfm_clear_flags,
    crypto_tfm_get_flags,
    crypto_tfm_set_flags,
    crypto_wait_req,
)
from iovcrypto.bvecq import (
    BVECQ_MEM_ALLOCED,
    BVECQ_MEM_EXTERNAL,
    BVECQ_MEM_GUP,
    BVECQ_MEM_PAGECACHE,
    BVECQ_POOL_SLOTS,
    bvecq,
    bvecq_alloc_chain,
    bvecq_alloc_one,
    bvecq_append,
    bvecq_get,
    bvecq_is_full,
    bvecq_next,
    bvecq_prepend,
    bvecq_put,
    iov_iter_bvec_queue,
)
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
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_folio_queue,
    iov_iter_init,
    iov_iter_kvec,
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
from iovcrypto.iov_iter_position import (
    iov_iter_advance,
    iov_iter_reexpand,
    iov_iter_restore,
    iov_iter_revert,
    iov_iter_save_state,
    iov_iter_truncate,
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
from iovcrypto.skcipher import (
    CRYPTO_SKCIPHER_REQ_CONT,
    CRYPTO_SKCIPHER_REQ_NOTFINAL,
    MAX_SYNC_SKCIPHER_REQSIZE,
    SYNC_SKCIPHER_REQUEST_ON_STACK,
    CryptoSkcipher,
    CryptoSyncSkcipher,
    SkcipherRequest,
    crypto_alloc_skcipher,
    crypto_alloc_sync_skcipher,
    crypto_free_skcipher,
    crypto_free_sync_skcipher,
    crypto_has_skcipher,
    crypto_register_skcipher,
    crypto_register_skciphers,
    crypto_skcipher_alg,
    crypto_skcipher_alg_name,
    crypto_skcipher_alignmask,
    crypto_skcipher_blocksize,
    crypto_skcipher_chunksize,
    crypto_skcipher_clear_flags,
    crypto_skcipher_ctx,
    crypto_skcipher_decrypt,
    crypto_skcipher_driver_name,
    crypto_skcipher_encrypt,
    crypto_skcipher_export,
    crypto_skcipher_get_flags,
    crypto_skcipher_import,
    crypto_skcipher_ivsize,
    crypto_skcipher_max_keysize,
    crypto_skcipher_min_keysize,
    crypto_skcipher_reqsize,
    crypto_skcipher_reqtfm,
    crypto_skcipher_set_flags,
    crypto_skcipher_set_reqsize,
    crypto_skcipher_setkey,
    crypto_skcipher_statesize,
    crypto_skcipher_walksize,
    crypto_sync_skcipher_blocksize,
    crypto_sync_skcipher_ivsize,
    crypto_sync_skcipher_setkey,
    crypto_unregister_skcipher,
    crypto_unregister_skciphers,
    skcipher_request_alloc,
    skcipher_request_ctx,
    skcipher_request_free,
    skcipher_request_set_callback,
    skcipher_request_set_iter,
    skcipher_request_set_sync_tfm,
    skcipher_request_set_tfm,
)
from iovcrypto.skcipher_walk import (
    SKCIPHER_WALK_COPY,
    SKCIPHER_WALK_DIFF,
    SKCIPHER_WALK_SLEEP,
    SKCIPHER_WALK_SLOW,
    SkcipherWalk,
    iter_map_and_copy,
    iter_pcopy,
    iter_pcopy_from,
    iter_pcopy_to,
    iter_pviews,
    iter_pzero,
    skcipher_walk_abort,
    skcipher_walk_aead_decrypt,
    skcipher_walk_aead_encrypt,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from iovcrypto.uio import (
    INT_MAX,
    ITER_ALLOW_P2PDMA,
    ITER_BVEC,
    ITER_BVECQ,
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
    iov_iter_is_bvecq,
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
from kmem.typecheck import check_exports as _check_exports

# ``iov_iter`` here is struct iov_iter (the class), which shadows the
# submodule attribute of the same name: import that module's functions with
# ``from iovcrypto.iov_iter import ...`` (or from here).
__all__ = [name for name, obj in dict(globals()).items()
           if not name.startswith("_") and not isinstance(obj, type(__import__("sys")))]
__all__ += ["__version__"]

# isort: split
# The skcipher drivers register themselves on import (after the API above).
from iovcrypto import (  # noqa: E402
    adiantum,
    cbc,
    chacha,
    ctr,
    cts,
    ecb,
    essiv,
    hctr2,
    lrw,
    xctr,
    xts,
)

# isort: split
# The hardware driver comes after the CPU drivers it outranks.
from iovcrypto import engine_aes  # noqa: E402

# isort: split
# The AEAD template drivers register themselves on import.
from iovcrypto import aegis128, authenc, ccm, chacha20poly1305, gcm  # noqa: E402

# isort: split
# The engine's gcm comes after the software gcm it outranks and falls back to.
from iovcrypto import engine_aes_gcm  # noqa: E402

# Kernel names are checked for argument types at this boundary (kmem.typecheck).
_check_exports(globals(), __name__, "ciphers", "dma")
