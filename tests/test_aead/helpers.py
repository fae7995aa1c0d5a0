"""Shared pieces of the AEAD driver tests: per-algorithm key/IV/AD
generators, an independent reference composition of every algorithm on
``cryptography`` (never our code), and scatterlist buffers in three shapes:

- ``inplace``: one list, src is dst;
- ``alias``: two different lists describing the same memory (each entry
  of the first split in two in the second);
- ``oop``: separate src and dst memory (dst pre-filled with a marker).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

import kmem
from ciphers.authenc import authenc_key_blob
from sgl import (
    aead_request_alloc,
    aead_request_free,
    aead_request_set_ad,
    aead_request_set_callback,
    aead_request_set_crypt,
    crypto_aead_decrypt,
    crypto_aead_encrypt,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_free_aead,
    sg_array,
    sg_init_table,
    sg_mark_end,
    sg_set_page,
)
from tests.test_sgl.layouts import Layout, build

NAMES = (
    "gcm(aes)", "rfc4106(gcm(aes))", "rfc4543(gcm(aes))", "ccm(aes)", "rfc4309(ccm(aes))",
    "rfc7539(chacha20,poly1305)", "rfc7539esp(chacha20,poly1305)",
    "authenc(hmac(sha1),cbc(aes))", "authenc(hmac(sha256),cbc(aes))",
    "authenc(hmac(sha512),cbc(aes))",
)
ESP = ("rfc4106(gcm(aes))", "rfc4543(gcm(aes))", "rfc4309(ccm(aes))",
       "rfc7539esp(chacha20,poly1305)")
AUTHSIZES = {
    "gcm(aes)": (4, 8, 12, 13, 14, 15, 16), "rfc4106(gcm(aes))": (8, 12, 16),
    "rfc4543(gcm(aes))": (16,), "ccm(aes)": (4, 6, 8, 10, 12, 14, 16),
    "rfc4309(ccm(aes))": (8, 12, 16), "rfc7539(chacha20,poly1305)": (16,),
    "rfc7539esp(chacha20,poly1305)": (16,), "authenc(hmac(sha1),cbc(aes))": tuple(range(1, 21)),
    "authenc(hmac(sha256),cbc(aes))": tuple(range(1, 33)),
    "authenc(hmac(sha512),cbc(aes))": tuple(range(1, 65)),
}
IVSIZES = {"gcm(aes)": 12, "ccm(aes)": 16, "rfc7539(chacha20,poly1305)": 12}
KINDS = ("page", "folio", "kmalloc", "vmalloc", "tail", "stack")


def drivers(name: str) -> tuple[str, str]:
    """(generic driver, accelerated driver) of a cra_name."""
    from ciphers.aead_algs import aead_impls
    found = [i for i in aead_impls() if i.cra_name == name]
    gen = [i.cra_driver_name for i in found if not i.accelerated]
    acc = [i.cra_driver_name for i in found if i.accelerated]
    return gen[0], acc[0]


def ivsize(name: str) -> int:
    if name.startswith("authenc"):
        return 16
    return IVSIZES.get(name, 8)


def rand_key(name: str, rng: np.random.Generator) -> bytes:
    def rb(n: int) -> bytes:
        return rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    aes = int(rng.choice([16, 24, 32]))
    if name in ("gcm(aes)", "ccm(aes)"):
        return rb(aes)
    if name in ("rfc4106(gcm(aes))", "rfc4543(gcm(aes))"):
        return rb(aes + 4)
    if name == "rfc4309(ccm(aes))":
        return rb(aes + 3)
    if name.startswith("rfc7539esp"):
        return rb(36)
    if name.startswith("rfc7539"):
        return rb(32)
    return authenc_key_blob(rb(int(rng.integers(0, 140))), rb(aes))


def rand_iv(name: str, rng: np.random.Generator) -> bytes:
    iv = rng.integers(0, 256, ivsize(name), dtype=np.uint8).tobytes()
    if name == "ccm(aes)":
        lprime = int(rng.integers(1, 8))
        # Random counter bytes: the template must zero them itself.
        return bytes([lprime]) + iv[1:]
    return iv


def rand_ad(name: str, iv: bytes, rng: np.random.Generator, adlen: int | None = None) -> bytes:
    """AD for a request; for the ESP variants it ends with the IV copy and
    has the length the template accepts (16/20, or >= 8 for rfc7539esp)."""
    if name in ESP:
        if name.startswith("rfc7539esp"):
            n = int(rng.integers(0, 40)) if adlen is None else adlen
        else:
            n = int(rng.choice([8, 12])) if adlen is None else adlen
        return rng.integers(0, 256, n, dtype=np.uint8).tobytes() + iv
    n = int(rng.integers(0, 70)) if adlen is None else adlen
    return rng.integers(0, 256, n, dtype=np.uint8).tobytes()


def reference_encrypt(name: str, key: bytes, authsize: int, iv: bytes, ad: bytes,
                      pt: bytes) -> bytes:
    """ciphertext ‖ tag as an independent composition on ``cryptography``
    (salt ‖ IV nonce and AD without the IV copy for the ESP variants)."""
    if name == "gcm(aes)":
        return AESGCM(key).encrypt(iv, pt, ad)[:len(pt) + authsize]
    if name == "rfc4106(gcm(aes))":
        return AESGCM(key[:-4]).encrypt(key[-4:] + iv, pt, ad[:-8])[:len(pt) + authsize]
    if name == "rfc4543(gcm(aes))":
        return pt + AESGCM(key[:-4]).encrypt(key[-4:] + iv, b"", ad + pt)
    if name == "ccm(aes)":
        nonce = iv[1:15 - iv[0]]
        return AESCCM(key, authsize).encrypt(nonce, pt, ad)
    if name == "rfc4309(ccm(aes))":
        return AESCCM(key[:-3], authsize).encrypt(key[-3:] + iv, pt, ad[:-8])
    if name == "rfc7539(chacha20,poly1305)":
        return ChaCha20Poly1305(key).encrypt(iv, pt, ad)
    if name == "rfc7539esp(chacha20,poly1305)":
        return ChaCha20Poly1305(key[:32]).encrypt(key[32:] + iv, pt, ad[:-8])
    # authenc: parse the blob the simple way (our blobs are well formed).
    enckeylen = int.from_bytes(key[4:8], "big")
    authkey, enckey = key[8:len(key) - enckeylen], key[len(key) - enckeylen:]
    hname = name[len("authenc(hmac("):name.index(")")]
    enc = Cipher(algorithms.AES(enckey), modes.CBC(iv)).encryptor()
    ct = enc.update(pt) + enc.finalize()
    return ct + hmac.new(authkey, ad + ct, getattr(hashlib, hname)).digest()[:authsize]


def rand_text(name: str, rng: np.random.Generator, maxlen: int = 600) -> bytes:
    n = int(rng.integers(0, maxlen))
    if name.startswith("authenc"):
        n -= n % 16
    return rng.integers(0, 256, n, dtype=np.uint8).tobytes()


# ------------------------------------------------------------------ tfms

def alloc(driver: str, key: bytes, authsize: int):
    tfm = crypto_alloc_aead(driver)
    assert not isinstance(tfm, int), (driver, tfm)
    assert crypto_aead_setkey(tfm, key, len(key)) == 0
    assert crypto_aead_setauthsize(tfm, authsize) == 0
    return tfm


# ------------------------------------------------------------------ buffers

def segments(total: int, rng: np.random.Generator, max_parts: int = 6) -> list[tuple[str, int]]:
    """A random division of ``total`` (> 0) bytes into entries of random kinds."""
    parts = int(rng.integers(1, max_parts + 1))
    parts = min(parts, total)
    cuts = sorted(rng.choice(np.arange(1, total), size=parts - 1, replace=False).tolist()) \
        if parts > 1 else []
    bounds = [0, *cuts, total]
    return [(str(rng.choice(KINDS)), b - a) for a, b in itertools.pairwise(bounds)]


def alias_list(lay: Layout, rng: np.random.Generator) -> list:
    """A second list over the same memory as ``lay``, entries split anew."""
    specs = []
    for page, off, n in lay.pieces:
        if n >= 2:
            cut = int(rng.integers(1, n))
            specs += [(page, off, cut), (page, off + cut, n - cut)]
        else:
            specs.append((page, off, n))
    arr = sg_array(len(specs))
    sg_init_table(arr, len(specs))
    for sg, (page, off, n) in zip(arr, specs):
        # Pages of one piece are contiguous: an offset past the first page is fine.
        sg_set_page(sg, page, n, off)
    sg_mark_end(arr[-1])
    return arr


@dataclass
class Result:
    ret: int
    src: bytes          # src bytes after the request
    dst: bytes          # dst bytes after the request (== src in place)
    iv: bytes           # req->iv contents after the request


MARK = 0xA5


def run(driver: str | object, key: bytes | None, authsize: int, iv: bytes, src_bytes: bytes,
        assoclen: int, cryptlen: int, decrypt: bool, shape: str, rng: np.random.Generator,
        dst_len: int | None = None) -> Result:
    """One request through the scatterlist API on a random layout.
    ``src_bytes`` is the whole src (AD ‖ text [‖ tag]); dst covers
    ``dst_len`` bytes (default: what the request writes)."""
    tfm = alloc(driver, key, authsize) if isinstance(driver, str) else driver
    if dst_len is None:
        dst_len = assoclen + cryptlen + (0 if decrypt else authsize)
    total = max(len(src_bytes), dst_len) if shape != "oop" else len(src_bytes)
    buf = np.zeros(max(total, 1), dtype=np.uint8)
    buf[:len(src_bytes)] = np.frombuffer(src_bytes, np.uint8)
    src = build(segments(max(total, 1), rng), chunk=int(rng.choice([0, 3])),
                seed=int(rng.integers(1 << 30)), fill=False)
    src.fill(buf)
    dst = None
    if shape == "inplace":
        dst_sgl = src.sgl
    elif shape == "alias":
        dst_sgl = alias_list(src, rng)
    else:
        dst = build(segments(max(dst_len, 1), rng), seed=int(rng.integers(1 << 30)), fill=False)
        dst.fill(np.full(max(dst_len, 1), MARK, np.uint8))
        dst_sgl = dst.sgl
    req = aead_request_alloc(tfm, kmem.GFP_KERNEL)
    aead_request_set_callback(req, 0, None, None)
    ivbuf = bytearray(iv)
    aead_request_set_crypt(req, src.sgl, dst_sgl, cryptlen, ivbuf)
    aead_request_set_ad(req, assoclen)
    before = (req.assoclen, req.cryptlen, req.iv, req.src, req.dst, req.base.flags)
    ret = (crypto_aead_decrypt if decrypt else crypto_aead_encrypt)(req)
    assert (req.assoclen, req.cryptlen, req.iv, req.src, req.dst, req.base.flags) == before
    aead_request_free(req)
    s = src.flat().tobytes()[:len(src_bytes)]
    d = s if dst is None else dst.flat().tobytes()[:dst_len]
    if shape != "oop":
        d = src.flat().tobytes()[:dst_len]
    src.free()
    if dst is not None:
        dst.free()
    if isinstance(driver, str):
        crypto_free_aead(tfm)
    return Result(ret, s, d, bytes(ivbuf))


# ------------------------------------------------------------------ iov_iters

IOV_KINDS = ("kvec", "bvec", "folioq", "xarray", "ubuf", "iovec")


def _split(rng: np.random.Generator, n: int) -> list[int]:
    if n <= 1:
        return [n]
    cuts = sorted({int(c) for c in rng.integers(1, n, size=int(rng.integers(0, 6)))})
    pts = [0, *cuts, n]
    return [b - a for a, b in itertools.pairwise(pts)]


def iov_layout(kind: str, n: int, extra: int, direction: int, rng: np.random.Generator):
    """An iterator of ``kind`` holding ``n + extra`` bytes (tests.test_iov_iter
    layouts), randomly segmented."""
    from tests.test_iov_iter.layouts import make
    want = n + extra
    page = kmem.PAGE_SIZE
    if kind in ("folioq", "xarray"):
        orders = [int(o) for o in sorted(rng.integers(0, 3, size=2), reverse=True)]
        while sum(page << o for o in orders) < want + page:
            orders.append(1)
        orders.sort(reverse=True)
        start = int(rng.integers(0, page))
        total = sum(page << o for o in orders) - start
        return make(kind, [], direction, orders=orders, start=start, slack=total - want,
                    seed=int(rng.integers(1 << 30)))
    if kind == "discard":
        return make(kind, [want], direction)
    return make(kind, _split(rng, n) + ([extra] if extra else []), direction,
                seed=int(rng.integers(1 << 30)))


@dataclass
class IovResult:
    ret: int
    src: bytes
    dst: bytes          # b"" for a DISCARD dst
    iv: bytes
    moved: tuple[int, int]    # (src, dst) bytes the iterators advanced


def iov_run(driver: str | object, key: bytes | None, authsize: int, iv: bytes,
            src_bytes: bytes, assoclen: int, cryptlen: int, decrypt: bool, *,
            src_kind: str, dst_kind: str, rng: np.random.Generator,
            dst_len: int | None = None, extra: int = 3) -> IovResult:
    """One request through the iov_iter API.  ``dst_kind`` is an iterator
    kind, "discard", "same" (in place: one iterator as src and dst) or
    "copy" (a copy of the src iterator: two iterators, same memory)."""
    from iovcrypto import (
        ITER_DEST,
        ITER_SOURCE,
        aead_request_alloc,
        aead_request_free,
        aead_request_set_ad,
        aead_request_set_iter,
        crypto_aead_decrypt,
        crypto_aead_encrypt,
        crypto_aead_setauthsize,
        crypto_aead_setkey,
        crypto_alloc_aead,
        crypto_free_aead,
    )
    if isinstance(driver, str):
        tfm = crypto_alloc_aead(driver)
        assert crypto_aead_setkey(tfm, key, len(key)) == 0
        assert crypto_aead_setauthsize(tfm, authsize) == 0
    else:
        tfm = driver
    if dst_len is None:
        dst_len = assoclen + cryptlen + (0 if decrypt else authsize)
    shared = dst_kind in ("same", "copy")
    n = max(len(src_bytes), dst_len) if shared else len(src_bytes)
    # One iterator as both is ITER_DEST; two iterators are SOURCE and DEST.
    src = iov_layout(src_kind, n, extra, ITER_DEST if dst_kind == "same" else ITER_SOURCE, rng)
    flat = src.flat()
    flat[:len(src_bytes)] = np.frombuffer(src_bytes, np.uint8)
    kmem.copy_views(src.views(), [flat])
    dst = None
    if dst_kind == "same":
        dst_it = src.it
    elif dst_kind == "copy":
        dst_it = src.it.copy()
        dst_it.data_source = False          # the ITER_DEST twin
    else:
        dst = iov_layout(dst_kind, dst_len, extra, ITER_DEST, rng)
        if dst_kind != "discard":
            kmem.copy_views(dst.views(), [np.full(dst.total(), MARK, np.uint8)])
        dst_it = dst.it
    counts = (src.it.count, dst_it.count)
    req = aead_request_alloc(tfm, kmem.GFP_KERNEL)
    ivbuf = bytearray(iv)
    aead_request_set_iter(req, src.it, dst_it, cryptlen, ivbuf)
    aead_request_set_ad(req, assoclen)
    ret = (crypto_aead_decrypt if decrypt else crypto_aead_encrypt)(req)
    assert (req.src, req.dst, req.cryptlen, req.assoclen, req.iv) == \
        (src.it, dst_it, cryptlen, assoclen, ivbuf)
    moved = (counts[0] - src.it.count, counts[1] - dst_it.count)
    aead_request_free(req)
    s = src.flat().tobytes()[:len(src_bytes)]
    if shared:
        d = src.flat().tobytes()[:dst_len]
    elif dst_kind == "discard":
        d = b""
    else:
        d = dst.flat().tobytes()[:dst_len]
    src.free()
    if dst is not None:
        dst.free()
    if isinstance(driver, str):
        crypto_free_aead(tfm)
    return IovResult(ret, s, d, bytes(ivbuf), moved)
