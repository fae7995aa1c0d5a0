"""Python twins of migration_guide.md's worked C conversions that live
nowhere else: each mirrors the C line for line over the model's kernel
names, and the tests run it against an independent reference.

``blkx_crypt_sector`` is §4.2: a dm-crypt-style caller on the iov_iter
request API, with the AD (sector number and IV, kmalloc'd) glued in front
of the data page by ``bvec_set_virt()`` and the tag behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    CryptoWait,
    aead_request_alloc,
    aead_request_free,
    aead_request_set_ad,
    aead_request_set_callback,
    aead_request_set_iter,
    bio_vec,
    bvec_set_page,
    bvec_set_virt,
    crypto_aead_decrypt,
    crypto_aead_encrypt,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_free_aead,
    crypto_init_wait,
    crypto_req_done,
    crypto_wait_req,
    iov_iter,
    iov_iter_bvec,
)
from kmem import errno as E

BLKX_SECTOR = 512
BLKX_IV_SIZE = 12
BLKX_TAG_SIZE = 16
SECTOR_NR_SIZE = 8


@dataclass
class BlkxReq:
    """The per-request context of §4.2: everything the request points at
    lives here, as long as the request (not on a stack frame)."""

    req: object
    sector: int          # kmalloc'd: little-endian sector number
    org_iv: int          # kmalloc'd: the IV, also authenticated
    tag: int             # kmalloc'd: the tag (a metadata buffer in dm-crypt)
    iv: bytearray
    bv_in: list = field(default_factory=lambda: [bio_vec() for _ in range(4)])
    bv_out: list = field(default_factory=lambda: [bio_vec() for _ in range(4)])
    src: iov_iter = field(default_factory=iov_iter)
    dst: iov_iter = field(default_factory=iov_iter)


def blkx_crypt_sector(br: BlkxReq, in_page: kmem.Page, in_off: int,
                      out_page: kmem.Page, out_off: int, enc: bool) -> int:
    """§4.2's ``blkx_crypt_sector()``: one bio_vec array per direction, the
    AD in front by bvec_set_virt(), ITER_SOURCE in, ITER_DEST out."""
    adlen = SECTOR_NR_SIZE + BLKX_IV_SIZE
    total = adlen + BLKX_SECTOR + BLKX_TAG_SIZE

    bvec_set_virt(br.bv_in[0], br.sector, SECTOR_NR_SIZE)
    bvec_set_virt(br.bv_in[1], br.org_iv, BLKX_IV_SIZE)
    bvec_set_page(br.bv_in[2], in_page, BLKX_SECTOR, in_off)
    bvec_set_virt(br.bv_in[3], br.tag, BLKX_TAG_SIZE)
    iov_iter_bvec(br.src, ITER_SOURCE, br.bv_in, 4, total)

    br.bv_out[0] = br.bv_in[0]
    br.bv_out[1] = br.bv_in[1]
    bvec_set_page(br.bv_out[2], out_page, BLKX_SECTOR, out_off)
    br.bv_out[3] = br.bv_in[3]
    iov_iter_bvec(br.dst, ITER_DEST, br.bv_out, 4, total)

    aead_request_set_ad(br.req, adlen)
    aead_request_set_iter(br.req, br.src, br.dst,
                          BLKX_SECTOR if enc else BLKX_SECTOR + BLKX_TAG_SIZE, br.iv)
    return crypto_aead_encrypt(br.req) if enc else crypto_aead_decrypt(br.req)


def _read_page(page: kmem.Page, off: int, n: int) -> bytes:
    buf = np.empty(n, dtype=np.uint8)
    kmem.memcpy_from_page(buf, page, off, n)
    return buf.tobytes()


@pytest.mark.parametrize("driver", [
    "gcm(aes)", "gcm-aes-openssl", "gcm_base(ctr(aes-generic),ghash-generic)"])
def test_blkx_crypt_sector_matches_the_reference(driver: str) -> None:
    rng = np.random.default_rng(7)
    key = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
    iv = rng.integers(0, 256, BLKX_IV_SIZE, dtype=np.uint8).tobytes()
    data = rng.integers(0, 256, BLKX_SECTOR, dtype=np.uint8).tobytes()
    sector_nr = (1234567).to_bytes(SECTOR_NR_SIZE, "little")

    tfm = crypto_alloc_aead(driver)
    assert not isinstance(tfm, int), f"{driver}: {tfm}"
    assert crypto_aead_setkey(tfm, key, len(key)) == 0
    assert crypto_aead_setauthsize(tfm, BLKX_TAG_SIZE) == 0
    req = aead_request_alloc(tfm, kmem.GFP_KERNEL)
    wait = CryptoWait()
    crypto_init_wait(wait)
    aead_request_set_callback(req, 0, crypto_req_done, wait)

    sector = kmem.kmalloc(SECTOR_NR_SIZE, kmem.GFP_KERNEL)
    org_iv = kmem.kmalloc(BLKX_IV_SIZE, kmem.GFP_KERNEL)
    tag = kmem.kmalloc(BLKX_TAG_SIZE, kmem.GFP_KERNEL)
    kmem.write_virt(sector, sector_nr)
    kmem.write_virt(org_iv, iv)
    plain, cipher, back = (kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(3))
    off = 96  # the sector sits mid-page, as a bio_vec may
    kmem.memcpy_to_page(plain, off, np.frombuffer(data, np.uint8), BLKX_SECTOR)
    br = BlkxReq(req, sector, org_iv, tag, bytearray(iv))
    try:
        assert crypto_wait_req(blkx_crypt_sector(br, plain, off, cipher, off, True), wait) == 0
        ref = AESGCM(key).encrypt(iv, data, sector_nr + iv)
        assert _read_page(cipher, off, BLKX_SECTOR) + kmem.read_virt(tag, BLKX_TAG_SIZE) == ref

        br.iv[:] = iv
        assert crypto_wait_req(blkx_crypt_sector(br, cipher, off, back, off, False), wait) == 0
        assert _read_page(back, off, BLKX_SECTOR) == data

        # A bit flipped in the tag: -EBADMSG, and the proposal's API zeroes
        # the plaintext area of dst instead of leaving unauthenticated data.
        kmem.write_virt(tag, ref[BLKX_SECTOR:-1] + bytes([ref[-1] ^ 1]))
        br.iv[:] = iv
        assert crypto_wait_req(blkx_crypt_sector(br, cipher, off, back, off, False),
                               wait) == -E.EBADMSG
        assert _read_page(back, off, BLKX_SECTOR) == bytes(BLKX_SECTOR)
    finally:
        for page in (plain, cipher, back):
            kmem.__free_page(page)
        for addr in (sector, org_iv, tag):
            kmem.kfree(addr)
        aead_request_free(req)
        crypto_free_aead(tfm)
