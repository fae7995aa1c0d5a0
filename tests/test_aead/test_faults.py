"""Real AEAD drivers on user memory that faults: -EFAULT, iterators unmoved."""

import os

import numpy as np
import pytest

import iovcrypto as I
import kmem
from kmem import errno as E

ALGS = ["gcm(aes)", "rfc7539(chacha20,poly1305)", "authenc(hmac(sha256),cbc(aes))"]


def _key(name: str) -> bytes:
    if name.startswith("authenc"):
        from ciphers.authenc import authenc_key_blob

        return authenc_key_blob(os.urandom(32), os.urandom(16))
    return os.urandom(32)


@pytest.mark.parametrize("name", ALGS)
@pytest.mark.parametrize("where", ["src", "dst"])
def test_fault_in_user_memory_is_efault_and_leaves_iterators(name, where):
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        tfm = I.crypto_alloc_aead(name)
        assert not isinstance(tfm, int)
        key = _key(name)
        assert I.crypto_aead_setkey(tfm, key, len(key)) == 0
        authsize = I.crypto_aead_authsize(tfm)
        ivsize = I.crypto_aead_ivsize(tfm)
        assoclen, textlen = 16, 64
        total = assoclen + textlen + authsize
        # Two pages; the second is unmapped, so the end of the buffer faults.
        base = mm.mmap(2 * kmem.PAGE_SIZE)
        assert mm.munmap(base + kmem.PAGE_SIZE, kmem.PAGE_SIZE) == 0
        faulting = base + kmem.PAGE_SIZE - total + authsize   # the tag lies past the page
        good = mm.mmap(kmem.PAGE_SIZE)
        assert kmem.copy_to_user(good, np.arange(total, dtype=np.uint8), total) == 0
        src, dst = I.iov_iter(), I.iov_iter()
        if where == "src":        # decrypt: the tag to check cannot be read
            I.iov_iter_ubuf(src, I.ITER_SOURCE, faulting, total)
            I.iov_iter_ubuf(dst, I.ITER_DEST, good, assoclen + textlen)
            cryptlen, op = textlen + authsize, I.crypto_aead_decrypt
        else:                     # encrypt: the tag cannot be written
            I.iov_iter_ubuf(src, I.ITER_SOURCE, good, assoclen + textlen)
            I.iov_iter_ubuf(dst, I.ITER_DEST, faulting, total)
            cryptlen, op = textlen, I.crypto_aead_encrypt
        req = I.aead_request_alloc(tfm, kmem.GFP_KERNEL)
        iv = bytearray(os.urandom(ivsize))
        I.aead_request_set_iter(req, src, dst, cryptlen, iv)
        I.aead_request_set_ad(req, assoclen)
        before = [(it.iov_offset, it.count) for it in (src, dst)]
        assert op(req) == -E.EFAULT
        assert [(it.iov_offset, it.count) for it in (src, dst)] == before
        I.aead_request_free(req)
        I.crypto_free_aead(tfm)
