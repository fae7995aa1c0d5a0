"""The lib/crypto faces (ciphers.lib_*): every corpus vector through the
incremental library calls, split at every byte offset for short inputs and
at random offsets for long ones; the error returns of the kernel."""

from __future__ import annotations

import functools
import itertools
import random

import numpy as np
import pytest
from Crypto.Cipher import ChaCha20_Poly1305
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import kmem
from ciphers import lib_aes_gcm
from ciphers.lib_aes import (
    XTS_FORBID_WEAK_KEYS,
    aes_cbc_cts_decrypt,
    aes_cbc_cts_encrypt,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_ctr,
    aes_ecb_decrypt,
    aes_ecb_encrypt,
    aes_enckey,
    aes_key,
    aes_prepareenckey,
    aes_preparekey,
    aes_xctr,
    aes_xts_decrypt,
    aes_xts_encrypt,
    aes_xts_key,
    aes_xts_preparekey,
)
from ciphers.lib_aes_ccm import (
    aes_ccm_auth_update,
    aes_ccm_ctx,
    aes_ccm_decrypt,
    aes_ccm_decrypt_final,
    aes_ccm_decrypt_update,
    aes_ccm_encrypt_final,
    aes_ccm_encrypt_update,
    aes_ccm_init,
    aes_ccm_key,
    aes_ccm_preparekey,
)
from ciphers.lib_aes_gcm import (
    aes_gcm_auth_update,
    aes_gcm_ctx,
    aes_gcm_decrypt,
    aes_gcm_decrypt_final,
    aes_gcm_decrypt_update,
    aes_gcm_encrypt_final,
    aes_gcm_encrypt_update,
    aes_gcm_init,
    aes_gcm_key,
    aes_gcm_preparekey,
)
from ciphers.lib_chacha20poly1305 import (
    chacha20poly1305_decrypt,
    chacha20poly1305_encrypt,
    xchacha20poly1305_decrypt,
    xchacha20poly1305_encrypt,
)
from iovcrypto.tools.conformance.vectors import corpus_vectors
from kmem import errno
from kmem.sanitizer import KernelWarning

SHORT = 48          # inputs up to this many bytes are split at every offset


def _splits(n: int, rng: random.Random, step: int = 1, full: bool = False) -> list[list[int]]:
    """Cut lists for ``n`` bytes: every (step-aligned) offset for short
    inputs (or ``full``), three random ones otherwise; always the unsplit
    input too."""
    if n <= SHORT or full:
        return [[]] + [[c] for c in range(step, n, step)]
    return [[]] + [sorted(rng.sample(range(step, n, step), min(3, n // step - 1)))
                   for _ in range(3) if n // step > 1]


def _chunks(n: int, cuts: list[int]) -> list[tuple[int, int]]:
    pts = [0, *cuts, n]
    return [(a, b) for a, b in itertools.pairwise(pts)]


def _sample(vecs: list, every: int) -> list:
    return vecs if every == 1 else vecs[::every]


# --- AEADs ---------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _gcm_key(k: bytes, authsize: int) -> aes_gcm_key:
    key = aes_gcm_key()
    assert aes_gcm_preparekey(key, k, len(k), authsize) == 0
    return key


def _gcm_run(vec, cuts: list[int], ad_cut: int, enc: bool) -> tuple[int, bytes]:
    key = _gcm_key(vec.key, vec.authsize)
    ctx = aes_gcm_ctx()
    aes_gcm_init(ctx, vec.iv, key)
    aes_gcm_auth_update(ctx, vec.assoc[:ad_cut], ad_cut)
    aes_gcm_auth_update(ctx, vec.assoc[ad_cut:], len(vec.assoc) - ad_cut)
    n = len(vec.ptext)
    buf = np.frombuffer(bytearray(vec.ptext if enc else vec.ctext[:n]), dtype=np.uint8)
    fn = aes_gcm_encrypt_update if enc else aes_gcm_decrypt_update
    for a, b in _chunks(n, cuts):
        fn(ctx, buf[a:b], buf[a:b], b - a)   # in place, as the SMB caller does
    if enc:
        tag = np.zeros(vec.authsize, dtype=np.uint8)
        aes_gcm_encrypt_final(ctx, tag)
        return 0, buf.tobytes() + tag.tobytes()
    return aes_gcm_decrypt_final(ctx, vec.ctext[n:]), buf.tobytes()


def _ccm_nonce(iv: bytes) -> bytes:
    return iv[1:15 - iv[0]]


def _ccm_run(vec, cuts: list[int], ad_cut: int, enc: bool) -> tuple[int, bytes]:
    key = aes_ccm_key()
    assert aes_ccm_preparekey(key, vec.key, len(vec.key), vec.authsize) == 0
    n = len(vec.ptext)
    nonce = _ccm_nonce(vec.iv)
    ctx = aes_ccm_ctx()
    assert aes_ccm_init(ctx, n, len(vec.assoc), nonce, len(nonce), key) == 0
    aes_ccm_auth_update(ctx, vec.assoc[:ad_cut], ad_cut)
    aes_ccm_auth_update(ctx, vec.assoc[ad_cut:], len(vec.assoc) - ad_cut)
    src = np.frombuffer(vec.ptext if enc else vec.ctext[:n], dtype=np.uint8)
    dst = np.zeros(n, dtype=np.uint8)   # out of place this time
    fn = aes_ccm_encrypt_update if enc else aes_ccm_decrypt_update
    for a, b in _chunks(n, cuts):
        fn(ctx, dst[a:b], src[a:b], b - a)
    if enc:
        tag = np.zeros(vec.authsize, dtype=np.uint8)
        aes_ccm_encrypt_final(ctx, tag)
        return 0, dst.tobytes() + tag.tobytes()
    return aes_ccm_decrypt_final(ctx, vec.ctext[n:]), dst.tobytes()


@functools.lru_cache(maxsize=4)
def _aead_vectors(name: str):
    return [v for v in corpus_vectors(name, None)
            if not v.setkey_error and not v.setauthsize_error and not v.crypt_error]


def _check_aead(run, vecs, full: bool) -> int:
    rng = random.Random(1)
    checked = 0
    for vec in vecs:
        ad_cut = rng.randint(0, len(vec.assoc))
        for cuts in _splits(len(vec.ptext), rng, full=full):
            if not vec.novrfy:
                assert run(vec, cuts, ad_cut, True) == (0, vec.ctext), (vec.source, cuts)
            err, out = run(vec, cuts, ad_cut, False)
            if vec.novrfy:
                assert err == -errno.EBADMSG, (vec.source, cuts)
            else:
                assert (err, out) == (0, vec.ptext), (vec.source, cuts)
            checked += 1
    return checked


@pytest.fixture(params=[True, False], ids=["arch", "generic"])
def impl(request, monkeypatch):
    """Both implementations behind the library faces, as testmgr runs both."""
    monkeypatch.setattr(lib_aes_gcm, "LIB_ARCH", request.param)
    return request.param


@pytest.mark.parametrize(("name", "run"), [("gcm(aes)", _gcm_run), ("ccm(aes)", _ccm_run)])
def test_aead_corpus_sampled(name, run, impl):
    vecs = _aead_vectors(name)
    assert vecs
    # Every vector once (unsplit and three random splits of long ones);
    # the first 40 at every offset.  The slow test below takes them all.
    n_full, every = (40, 25) if impl else (12, 60)     # the generic core is slower
    assert _check_aead(run, vecs[:n_full], full=True) > n_full
    assert _check_aead(run, _sample(vecs, every), full=False) >= len(vecs) // every


@pytest.mark.slow
@pytest.mark.parametrize(("name", "run"), [("gcm(aes)", _gcm_run), ("ccm(aes)", _ccm_run)])
def test_aead_corpus_every_offset(name, run, impl):
    vecs = _aead_vectors(name)
    assert _check_aead(run, vecs, full=False) >= len(vecs)


def test_gcm_one_shot_zeroes_on_bad_tag(impl):
    vec = next(v for v in _aead_vectors("gcm(aes)") if v.ptext and not v.novrfy)
    key = aes_gcm_key()
    assert aes_gcm_preparekey(key, vec.key, len(vec.key), vec.authsize) == 0
    n = len(vec.ptext)
    out = np.full(n, 0xAA, dtype=np.uint8)
    tag = bytearray(vec.ctext[n:])
    assert aes_gcm_decrypt(out, vec.ctext, n, bytes(tag), vec.assoc, len(vec.assoc),
                           vec.iv, key) == 0
    assert out.tobytes() == vec.ptext
    tag[-1] ^= 1
    assert aes_gcm_decrypt(out, vec.ctext, n, bytes(tag), vec.assoc, len(vec.assoc),
                           vec.iv, key) == -errno.EBADMSG
    assert not out.any()


def test_gcm_and_ccm_key_errors():
    k = bytes(16)
    assert aes_gcm_preparekey(aes_gcm_key(), k, 16, 5) == -errno.EINVAL
    assert aes_gcm_preparekey(aes_gcm_key(), bytes(20), 20, 16) == -errno.EINVAL
    assert aes_ccm_preparekey(aes_ccm_key(), k, 16, 7) == -errno.EINVAL
    assert aes_ccm_preparekey(aes_ccm_key(), k, 16, 2) == -errno.EINVAL
    key = aes_ccm_key()
    assert aes_ccm_preparekey(key, k, 16, 16) == 0
    assert aes_ccm_init(aes_ccm_ctx(), 0, 0, bytes(13), 6, key) == -errno.EINVAL
    assert aes_ccm_init(aes_ccm_ctx(), 0, 0, bytes(14), 14, key) == -errno.EINVAL
    # L = 2: data_len must fit in 16 bits (the template would let 65536 by).
    assert aes_ccm_init(aes_ccm_ctx(), 65535, 0, bytes(13), 13, key) == 0
    assert aes_ccm_init(aes_ccm_ctx(), 65536, 0, bytes(13), 13, key) == -errno.EOVERFLOW
    out = np.zeros(4, dtype=np.uint8)
    assert aes_ccm_decrypt(out, bytes(4), 65536, bytes(16), b"", 0, bytes(13), 13,
                           key) == -errno.EOVERFLOW


def test_ccm_length_mismatch_warns_and_fails(impl):
    key = aes_ccm_key()
    assert aes_ccm_preparekey(key, bytes(16), 16, 8) == 0
    ctx = aes_ccm_ctx()
    assert aes_ccm_init(ctx, 10, 4, bytes(12), 12, key) == 0
    aes_ccm_auth_update(ctx, bytes(4), 4)
    buf = np.zeros(9, dtype=np.uint8)
    aes_ccm_decrypt_update(ctx, buf, buf, 9)     # one byte short of data_len
    with kmem.expect_violations("warn"), pytest.warns(KernelWarning):
        assert aes_ccm_decrypt_final(ctx, bytes(8)) == -errno.EBADMSG


def test_gcm_ad_after_data_warns():
    key = aes_gcm_key()
    assert aes_gcm_preparekey(key, bytes(16), 16, 16) == 0
    ctx = aes_gcm_ctx()
    aes_gcm_init(ctx, bytes(12), key)
    buf = np.zeros(4, dtype=np.uint8)
    aes_gcm_encrypt_update(ctx, buf, buf, 4)
    with kmem.expect_violations("warn"), pytest.warns(KernelWarning):
        aes_gcm_auth_update(ctx, b"late", 4)


# --- ChaCha20-Poly1305 ----------------------------------------------------

def test_chacha20poly1305_corpus():
    vecs = [v for v in _aead_vectors("rfc7539(chacha20,poly1305)")
            if len(v.iv) == 12 and v.iv[:4] == bytes(4) and v.authsize == 16]
    assert vecs
    for vec in vecs:
        nonce = int.from_bytes(vec.iv[4:], "little")
        n = len(vec.ptext)
        if not vec.novrfy:
            dst = np.zeros(n + 16, dtype=np.uint8)
            chacha20poly1305_encrypt(dst, vec.ptext, n, vec.assoc, len(vec.assoc), nonce,
                                     vec.key)
            assert dst.tobytes() == vec.ctext, vec.source
        out = np.full(n, 0x5A, dtype=np.uint8)
        ok = chacha20poly1305_decrypt(out, vec.ctext, n + 16, vec.assoc, len(vec.assoc),
                                      nonce, vec.key)
        assert ok is (not vec.novrfy), vec.source
        # Verified before decryption: a failed dst is untouched.
        assert out.tobytes() == (vec.ptext if ok else bytes([0x5A]) * n)


def test_xchacha20poly1305_against_pycryptodome():
    rng = random.Random(3)
    for n in (0, 1, 15, 16, 17, 63, 64, 65, 300):
        key, nonce = rng.randbytes(32), rng.randbytes(24)
        ad, p = rng.randbytes(rng.randint(0, 40)), rng.randbytes(n)
        ref = ChaCha20_Poly1305.new(key=key, nonce=nonce)
        ref.update(ad)
        ct, tag = ref.encrypt_and_digest(p)
        dst = np.zeros(n + 16, dtype=np.uint8)
        xchacha20poly1305_encrypt(dst, p, n, ad, len(ad), nonce, key)
        assert dst.tobytes() == ct + tag
        out = np.zeros(n, dtype=np.uint8)
        assert xchacha20poly1305_decrypt(out, dst, n + 16, ad, len(ad), nonce, key)
        assert out.tobytes() == p
        dst[-1] ^= 1
        assert not xchacha20poly1305_decrypt(out, dst, n + 16, ad, len(ad), nonce, key)
    assert not chacha20poly1305_decrypt(np.zeros(0, np.uint8), bytes(15), 15, b"", 0, 0,
                                        bytes(32))


# --- unauthenticated modes -------------------------------------------------

def _cipher_vectors(name: str):
    return [v for v in corpus_vectors(name, None) if not v.setkey_error and not v.crypt_error]


def _aes_key(k: bytes) -> aes_key:
    key = aes_key()
    assert aes_preparekey(key, k, len(k)) == 0
    return key


@pytest.mark.parametrize("mode", ["ecb", "cbc", "ctr"])
def test_block_modes_corpus_every_block_split(mode):
    vecs = _cipher_vectors(f"{mode}(aes)")
    assert vecs
    rng = random.Random(2)
    for vec in vecs:
        key = _aes_key(vec.key)
        n = len(vec.ptext)
        for enc in (True, False):
            want = vec.ctext if enc else vec.ptext
            for cuts in _splits(n, rng, step=16, full=True):
                src = np.frombuffer(vec.ptext if enc else vec.ctext, dtype=np.uint8)
                dst = np.zeros(n, dtype=np.uint8)
                iv = np.frombuffer(bytearray(vec.iv or bytes(16)), dtype=np.uint8)
                for a, b in _chunks(n, cuts):
                    if mode == "ecb":
                        (aes_ecb_encrypt if enc else aes_ecb_decrypt)(dst[a:b], src[a:b],
                                                                     b - a, key)
                    elif mode == "cbc":
                        (aes_cbc_encrypt if enc else aes_cbc_decrypt)(dst[a:b], src[a:b],
                                                                     b - a, iv, key)
                    else:
                        aes_ctr(dst[a:b], src[a:b], b - a, iv, key)
                assert dst.tobytes() == want, (vec.source, cuts)
                if vec.iv_out is not None and mode != "ecb":
                    assert iv.tobytes() == vec.iv_out, vec.source


def test_block_modes_reject_partial_blocks_and_decrypt_with_enckey():
    ek = aes_enckey()
    assert aes_prepareenckey(ek, bytes(16), 16) == 0
    assert aes_prepareenckey(aes_enckey(), bytes(17), 17) == -errno.EINVAL
    buf = np.zeros(32, dtype=np.uint8)
    with pytest.raises(ValueError, match="len"):
        aes_ecb_encrypt(buf, buf, 17, ek)
    with pytest.raises(TypeError, match="key"):
        aes_ecb_decrypt(buf, buf, 16, ek)   # C: const struct aes_key *


def test_ctr_partial_final_block_consumes_a_counter():
    key = _aes_key(bytes(range(16)))
    ctr = np.frombuffer(bytearray(b"\x00" * 15 + b"\xff"), dtype=np.uint8)
    out = np.zeros(20, dtype=np.uint8)
    aes_ctr(out, bytes(20), 20, ctr, key)
    assert int.from_bytes(ctr.tobytes(), "big") == 0xFF + 2


def test_xts_corpus_incremental():
    vecs = _cipher_vectors("xts(aes)")
    assert vecs
    for vec in vecs:
        key = aes_xts_key()
        assert aes_xts_preparekey(key, vec.key, len(vec.key), 0) == 0
        n = len(vec.ptext)
        tail = 16 + n % 16 if n % 16 else 0
        for enc in (True, False):
            src = np.frombuffer(vec.ptext if enc else vec.ctext, dtype=np.uint8)
            want = vec.ctext if enc else vec.ptext
            fn = aes_xts_encrypt if enc else aes_xts_decrypt
            # Non-final calls whole blocks, the final one takes the tail.
            for first in range(16, n - tail + 1, 16):
                if n - first and n - first < 16:
                    continue
                dst = np.zeros(n, dtype=np.uint8)
                tweak = np.frombuffer(bytearray(vec.iv), dtype=np.uint8)
                fn(dst[:first], src[:first], first, tweak, key, False)
                if first < n:
                    fn(dst[first:], src[first:], n - first, tweak, key, True)
                assert dst.tobytes() == want, (vec.source, first)


def test_xts_weak_keys_and_lengths():
    key = aes_xts_key()
    assert aes_xts_preparekey(key, bytes(32), 32, XTS_FORBID_WEAK_KEYS) == -errno.EINVAL
    assert aes_xts_preparekey(key, bytes(32), 32, 0) == 0
    assert aes_xts_preparekey(key, bytes(40), 40, 0) == -errno.EINVAL


def test_cbc_cts_against_cryptography_cs3():
    rng = random.Random(5)
    for n in (16, 17, 31, 32, 33, 47, 48, 100):
        k, iv, p = rng.randbytes(16), rng.randbytes(16), rng.randbytes(n)
        enc_key = _aes_key(k)
        ct = np.zeros(n, dtype=np.uint8)
        aes_cbc_cts_encrypt(ct, p, n, np.frombuffer(bytearray(iv), np.uint8), enc_key)
        # CS3 from CBC: pad, encrypt, swap the last two blocks, truncate.
        pad = p + bytes(-n % 16)
        c = Cipher(algorithms.AES(k), modes.CBC(iv)).encryptor().update(pad)
        if n > 16:
            m = len(c)
            c = c[:m - 32] + c[m - 16:] + c[m - 32:m - 16]
        assert ct.tobytes() == c[:n]
        back = np.zeros(n, dtype=np.uint8)
        aes_cbc_cts_decrypt(back, ct, n, np.frombuffer(bytearray(iv), np.uint8), enc_key)
        assert back.tobytes() == p


def test_xctr_against_blockwise_definition():
    rng = random.Random(4)
    k, iv = rng.randbytes(32), rng.randbytes(16)
    key = aes_enckey()
    assert aes_prepareenckey(key, k, 32) == 0
    n = 16 * 5 + 7
    p = rng.randbytes(n)
    ecb = Cipher(algorithms.AES(k), modes.ECB()).encryptor()
    ref = bytearray()
    for i in range(1, 7):
        blk = bytes(a ^ b for a, b in zip(iv, i.to_bytes(16, "little"), strict=True))
        ref += ecb.update(blk)
    want = bytes(a ^ b for a, b in zip(p, ref, strict=False))
    for cut in range(0, n, 16):       # non-final calls whole blocks
        out = np.zeros(n, dtype=np.uint8)
        ctr = aes_xctr(out[:cut], p[:cut], cut, 1, iv, key)
        ctr = aes_xctr(out[cut:], p[cut:], n - cut, ctr, iv, key)
        assert out.tobytes() == want
        assert ctr == 7
