"""Shared helpers for the skcipher driver tests: the algorithm table,
reference implementations on contiguous bytes (cryptography /
pycryptodome, plus a plain XTS for the keys OpenSSL refuses), and a
runner that pushes one request through the scatterlist API over
kmem-backed layouts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from Crypto.Cipher import ChaCha20 as PyChaCha20
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import kmem
from ciphers.skcipher_algs import impls
from sgl import (
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_skcipher_decrypt,
    crypto_skcipher_encrypt,
    crypto_skcipher_setkey,
    sg_array,
    sg_init_table,
    sg_mark_end,
    sg_set_page,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_crypt,
)
from tests.test_ciphers.test_sk_vectors import _kernel_chacha_oracle
from tests.test_sgl.layouts import Layout, build


@dataclass(frozen=True)
class Alg:
    name: str
    keysizes: tuple[int, ...]
    ivsize: int
    min_len: int      # smallest valid cryptlen (0, or 16 for xts/cts)
    block: int        # lengths must be multiples of this (16 for ecb/cbc/essiv)


ALGS = {
    "ecb(aes)": Alg("ecb(aes)", (16, 24, 32), 0, 0, 16),
    "cbc(aes)": Alg("cbc(aes)", (16, 24, 32), 16, 0, 16),
    "ctr(aes)": Alg("ctr(aes)", (16, 24, 32), 16, 0, 1),
    "rfc3686(ctr(aes))": Alg("rfc3686(ctr(aes))", (20, 28, 36), 8, 0, 1),
    "xts(aes)": Alg("xts(aes)", (32, 48, 64), 16, 16, 1),
    "cts(cbc(aes))": Alg("cts(cbc(aes))", (16, 24, 32), 16, 16, 1),
    "chacha20": Alg("chacha20", (32,), 16, 0, 1),
    "xchacha20": Alg("xchacha20", (32,), 32, 0, 1),
    "essiv(cbc(aes),sha256)": Alg("essiv(cbc(aes),sha256)", (16, 24, 32), 16, 0, 16),
}
DRIVERS = {name: [i.cra_driver_name for i in impls() if i.cra_name == name] for name in ALGS}
ALL_DRIVERS = [(name, d) for name, ds in DRIVERS.items() for d in ds]


def rand_key(rng: np.random.Generator, alg: Alg, size: int | None = None) -> bytes:
    n = size or alg.keysizes[int(rng.integers(len(alg.keysizes)))]
    return rng.bytes(n)


def rand_iv(rng: np.random.Generator, alg: Alg) -> bytes:
    iv = bytearray(rng.bytes(alg.ivsize))
    if alg.name == "xchacha20":
        # Keep the 64-bit stream position below the 32-bit wrap, where the
        # kernel and pycryptodome agree.
        iv[24:32] = int(rng.integers(0, 1 << 30)).to_bytes(8, "little")
    return bytes(iv)


def rand_len(rng: np.random.Generator, alg: Alg, hi: int = 3000) -> int:
    n = int(rng.integers(max(alg.min_len, 0), hi))
    return n - n % alg.block


# References on contiguous bytes.

def _lib(mode: object, key: bytes, data: bytes, encrypt: bool) -> bytes:
    c = Cipher(algorithms.AES(key), mode)
    ctx = c.encryptor() if encrypt else c.decryptor()
    return ctx.update(data) + ctx.finalize()


def _xts_plain(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    """IEEE 1619 XTS from AES-ECB, one block at a time (any AES size)."""
    half = len(key) // 2
    e1 = Cipher(algorithms.AES(key[:half]), modes.ECB())
    blk = (e1.encryptor() if encrypt else e1.decryptor()).update
    t = int.from_bytes(_lib(modes.ECB(), key[half:], iv, True), "little")

    def mul(x: int) -> int:
        x <<= 1
        return (x & ((1 << 128) - 1)) ^ 0x87 if x >> 128 else x

    def one(b: bytes, tw: int) -> bytes:
        tb = tw.to_bytes(16, "little")
        x = bytes(a ^ c for a, c in zip(b, tb))
        return bytes(a ^ c for a, c in zip(blk(x), tb))

    n, r = len(data) // 16, len(data) % 16
    full = n - 1 if r else n
    out = bytearray()
    for i in range(full):
        out += one(data[16 * i:16 * i + 16], t)
        t = mul(t)
    if r:
        t2 = mul(t)
        first, second = (t, t2) if encrypt else (t2, t)
        cc = one(data[16 * full:16 * full + 16], first)
        tail = data[16 * full + 16:]
        out += one(tail + cc[r:], second) + cc[:r]
    return bytes(out)


def _cts_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    if len(pt) <= 16:
        return _lib(modes.CBC(iv), key, pt, True)
    padded = pt + bytes(-len(pt) % 16)
    c = _lib(modes.CBC(iv), key, padded, True)
    lastn = len(pt) - (len(padded) - 16)
    return c[:-32] + c[-16:] + c[-32:-32 + lastn]


def reference(name: str, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    """The algorithm on contiguous bytes by a reference library."""
    if name == "ecb(aes)":
        return _lib(modes.ECB(), key, data, encrypt)
    if name == "cbc(aes)":
        return _lib(modes.CBC(iv), key, data, encrypt)
    if name == "essiv(cbc(aes),sha256)":
        essiv = _lib(modes.ECB(), hashlib.sha256(key).digest(), iv, True)
        return _lib(modes.CBC(essiv), key, data, encrypt)
    if name == "ctr(aes)":
        return _lib(modes.CTR(iv), key, data, True)
    if name == "rfc3686(ctr(aes))":
        return _lib(modes.CTR(key[-4:] + iv + b"\0\0\0\1"), key[:-4], data, True)
    if name == "xts(aes)":
        half = len(key) // 2
        if half == 24 or key[:half] == key[half:]:
            return _xts_plain(key, iv, data, encrypt)
        return _lib(modes.XTS(iv), key, data, encrypt)
    if name == "cts(cbc(aes))":
        if encrypt:
            return _cts_encrypt(key, iv, data)
        raise ValueError("cts decryption is checked by round trip")
    if name == "chacha20":
        ks = _kernel_chacha_oracle(key, iv, len(data))
        return bytes(np.frombuffer(data, np.uint8) ^ np.frombuffer(ks, np.uint8))
    if name == "xchacha20":
        c = PyChaCha20.new(key=key, nonce=iv[:24])
        c.seek(int.from_bytes(iv[24:32], "little") * 64)
        return c.encrypt(data)
    raise ValueError(name)


def expected_iv(name: str, iv: bytes, src: bytes, out: bytes, encrypt: bool) -> bytes:
    """req->iv after the request (spec §3.5)."""
    n = len(src)
    ct = out if encrypt else src
    if n == 0:
        return iv
    if name in ("cbc(aes)", "essiv(cbc(aes),sha256)"):
        return ct[-16:]
    if name == "ctr(aes)":
        v = (int.from_bytes(iv, "big") + -(-n // 16)) % (1 << 128)
        return v.to_bytes(16, "big")
    if name == "cts(cbc(aes))":
        if n == 16:
            return ct
        start = -(-n // 16) * 16 - 32
        return ct[start:start + 16]
    return iv


# The scatterlist runner.

def relist(lay: Layout, rng: np.random.Generator) -> list:
    """A second scatterlist over exactly the memory of ``lay``, with the
    entries cut at other places (two lists over the same memory)."""
    specs = []
    for page, off, n in lay.pieces:
        cuts = sorted({int(c) for c in rng.integers(1, n, size=min(2, max(n - 1, 0)))}) \
            if n > 1 else []
        pos = 0
        for c in [*cuts, n]:
            if c > pos:
                specs.append((page, off + pos, c - pos))
                pos = c
    if not specs:
        page, off, _ = lay.pieces[0]
        specs.append((page, off, 0))
    arr = sg_array(len(specs))
    sg_init_table(arr, len(arr))
    for sg, (page, off, n) in zip(arr, specs):
        sg_set_page(sg, page, n, off)
    sg_mark_end(arr[len(arr) - 1])
    return arr


def segments(rng: np.random.Generator, n: int, style: str) -> list[tuple[str, int]]:
    """Segment (kind, length) lists of total n for a layout style."""
    if n == 0:
        return [("kmalloc", 0)]
    if style == "one":
        return [("kmalloc", n)]
    if style == "bytes":
        return [("kmalloc", 1)] * n
    if style == "vmalloc":
        return [("vmalloc", n)]
    if style == "pages":
        out, left = [], n
        while left:
            k = min(left, 4096)
            out.append(("page", k))
            left -= k
        return out
    out, left = [], n
    kinds = ("kmalloc", "page", "folio", "vmalloc", "tail")
    while left:
        k = min(left, int(rng.integers(1, 70 if rng.random() < 0.6 else 900)))
        out.append((kinds[int(rng.integers(len(kinds)))], k))
        left -= k
    return out


@dataclass
class Result:
    err: int
    out: bytes
    iv: bytes
    fields_ok: bool


def sgl_crypt(driver: str, key: bytes, iv: bytes, data: bytes, encrypt: bool, *,
              src_segs: list | None = None, dst_segs: list | None = None,
              inplace: str = "", seed: int = 0, flags: int = 0) -> Result:
    """One request through the scatterlist API.  ``inplace``: "" (out of
    place), "same" (src == dst list), "alias" (two lists, same memory)."""
    rng = np.random.default_rng(seed)
    n = len(data)
    src = build(src_segs or [("kmalloc", n)], chunk=int(rng.integers(0, 6)), seed=seed,
                fill=False)
    src.fill(np.frombuffer(data, np.uint8))
    dst = None
    if inplace == "same":
        dst_sgl = src.sgl
    elif inplace == "alias":
        dst_sgl = relist(src, rng)
    else:
        dst = build(dst_segs or [("kmalloc", n)], chunk=int(rng.integers(0, 6)), seed=seed + 7)
        dst_sgl = dst.sgl
    tfm = crypto_alloc_skcipher(driver)
    assert not isinstance(tfm, int), (driver, tfm)
    try:
        if flags:
            tfm.crt_flags |= flags
        err = crypto_skcipher_setkey(tfm, key, len(key))
        assert err == 0, (driver, len(key), err)
        req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
        ivbuf = bytearray(iv)
        skcipher_request_set_crypt(req, src.sgl, dst_sgl, n, ivbuf)
        err = (crypto_skcipher_encrypt if encrypt else crypto_skcipher_decrypt)(req)
        fields_ok = (req.src is src.sgl[0] or req.src is src.sgl) and req.cryptlen == n \
            and req.iv is ivbuf and req.base.tfm is tfm
        out = (dst.flat() if dst is not None else src.flat())[:n].tobytes()
        skcipher_request_free(req)
        return Result(err, out, bytes(ivbuf), fields_ok)
    finally:
        crypto_free_skcipher(tfm)
        src.free()
        if dst is not None:
            dst.free()
