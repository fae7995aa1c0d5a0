"""Generic AES skcipher cores (ECB, CBC, CTR, XTS, CTS, ESSIV) against
``cryptography`` and independent reference code, on random keys, IVs,
lengths and splits; counter carry/wrap; IV output; argument errors."""

from __future__ import annotations

import errno
import hashlib
import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from ciphers.aes import AesBlockCipher
from ciphers.cbc import Cbc
from ciphers.ctr import Ctr, ctr_blocks
from ciphers.cts import Cts, cts_final_len
from ciphers.ecb import Ecb
from ciphers.essiv import Essiv, EssivCbc, essiv_iv
from ciphers.xts import Xts, gf128mul_x_ble, xts_final_len, xts_tweaks, xts_verify_key


def rnd(n: int) -> np.ndarray:
    return np.frombuffer(os.urandom(n), dtype=np.uint8).copy()


def feed(update, data: np.ndarray, out: np.ndarray, cuts: list[int]) -> None:
    """Call update on data split at the given cut points."""
    prev = 0
    for c in [*sorted(min(c, data.size) for c in cuts), data.size]:
        update(data[prev:c], out[prev:c])
        prev = c


def lib(mode: modes.Mode, key: bytes, data: bytes, enc: bool = True) -> bytes:
    c = Cipher(algorithms.AES(key), mode)
    ctx = c.encryptor() if enc else c.decryptor()
    return ctx.update(data) + ctx.finalize()


cuts_st = st.lists(st.integers(0, 2000), max_size=8)
keylen_st = st.sampled_from([16, 24, 32])


# --- AES blocks ------------------------------------------------------------------

def test_aes_block_cipher_errors() -> None:
    with pytest.raises(ValueError, match="key"):
        AesBlockCipher(bytes(20))
    with pytest.raises(TypeError, match="key"):
        AesBlockCipher("k" * 16)  # type: ignore[arg-type]
    a = AesBlockCipher(bytes(16))
    with pytest.raises(ValueError, match="multiple"):
        a.encrypt_blocks(np.zeros(17, np.uint8), np.zeros(17, np.uint8))
    with pytest.raises(ValueError, match="dst"):
        a.encrypt_blocks(np.zeros(16, np.uint8), np.zeros(32, np.uint8))
    with pytest.raises(TypeError, match="dst"):
        a.encrypt_blocks(np.zeros(16, np.uint8), bytes(16))
    with pytest.raises(TypeError, match="src"):
        a.encrypt_blocks([0] * 16, np.zeros(16, np.uint8))  # type: ignore[arg-type]
    a.encrypt_blocks(np.zeros(0, np.uint8), np.zeros(0, np.uint8))  # nothing to do
    # A key given as a uint8 array is the same key.
    assert AesBlockCipher(np.zeros(16, np.uint8)).encrypt_block(bytes(16)) == \
        a.encrypt_block(bytes(16))


@given(keylen_st, st.integers(1, 300), st.booleans())
def test_aes_blocks_in_and_out_of_place(keylen: int, nblocks: int, inplace: bool) -> None:
    key, data = os.urandom(keylen), rnd(16 * nblocks)
    want = lib(modes.ECB(), key, data.tobytes())
    a = AesBlockCipher(key)
    out = data.copy() if inplace else np.empty_like(data)
    a.encrypt_blocks(out if inplace else data, out)
    assert out.tobytes() == want
    a.decrypt_blocks(out, out)
    assert (out == data).all()
    assert a.encrypt_block(data[:16]) == want[:16]


# --- ECB / CBC --------------------------------------------------------------------

@given(keylen_st, st.integers(0, 40), cuts_st, st.booleans(), st.booleans())
def test_ecb_cbc_any_split(keylen: int, nblocks: int, cuts: list[int], enc: bool,
                           inplace: bool) -> None:
    key, iv, data = os.urandom(keylen), os.urandom(16), rnd(16 * nblocks)
    cuts = [c % (data.size + 1) for c in cuts]
    for mode, core in ((modes.ECB(), Ecb(AesBlockCipher(key), enc)),
                       (modes.CBC(iv), Cbc(AesBlockCipher(key), iv, enc))):
        want = lib(mode, key, data.tobytes(), enc)
        buf = data.copy()
        out = buf if inplace else np.empty_like(buf)
        feed(core.update, buf, out, cuts)
        core.finish()
        assert out.tobytes() == want
        assert core.pending == 0
        assert core.processed == data.size
        if isinstance(core, Cbc):
            last_ct = (want if enc else data.tobytes())[-16:] if nblocks else iv
            assert core.next_iv() == last_ct


def test_cbc_partial_block_left_over() -> None:
    core = Cbc(AesBlockCipher(bytes(16)), bytes(16))
    out = np.zeros(20, np.uint8)
    core.update(np.zeros(20, np.uint8), out)
    assert core.pending == 4 and core.processed == 16
    with pytest.raises(ValueError, match="incomplete"):
        core.finish()


def test_cbc_errors() -> None:
    with pytest.raises(ValueError, match="iv"):
        Cbc(AesBlockCipher(bytes(16)), bytes(8))
    with pytest.raises(TypeError, match="cipher"):
        Cbc(bytes(16), bytes(16))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dst"):
        Cbc(AesBlockCipher(bytes(16)), bytes(16)).update(np.zeros(16, np.uint8),
                                                       np.zeros(15, np.uint8))


def test_cbc_large_inplace_decrypt_keeps_iv() -> None:
    key, iv, data = os.urandom(32), os.urandom(16), rnd(200_000 - 200_000 % 16)
    ct = np.frombuffer(lib(modes.CBC(iv), key, data.tobytes()), np.uint8).copy()
    last = ct[-16:].tobytes()
    core = Cbc(AesBlockCipher(key), iv, encrypt=False)
    core.update(ct, ct)
    assert (ct == data).all()
    assert core.next_iv() == last


# --- CTR ----------------------------------------------------------------------------

@given(keylen_st, st.integers(0, 300), cuts_st, st.booleans())
def test_ctr_any_split(keylen: int, n: int, cuts: list[int], inplace: bool) -> None:
    key, iv, data = os.urandom(keylen), os.urandom(16), rnd(n)
    want = lib(modes.CTR(iv), key, data.tobytes())
    core = Ctr(AesBlockCipher(key), iv)
    out = data if inplace else np.empty_like(data)
    feed(core.update, data, out, cuts)
    assert out.tobytes() == want
    # IV output: one increment per block, a final partial block counting as one.
    assert core.next_iv() == ((int.from_bytes(iv, "big") + -(-n // 16)) % 2**128).to_bytes(
        16, "big")


@pytest.mark.parametrize("start", [
    2**64 - 3,                # carry from the low into the high 64-bit half
    (5 << 64) + 2**64 - 1,    # carry with a non-zero high half
    2**128 - 2,               # wrap of the whole 128-bit counter
    2**128 - 4096 * 16 + 5,   # wrap inside a 4096-block chunk
    2**64 - 4100,             # carry inside the second chunk
])
def test_ctr_carry_and_wrap(start: int) -> None:
    key = os.urandom(16)
    iv = (start % 2**128).to_bytes(16, "big")
    data = rnd(16 * 4200 + 7)
    want = lib(modes.CTR(iv), key, data.tobytes())  # cryptography wraps mod 2^128 too
    core = Ctr(AesBlockCipher(key), iv)
    out = np.empty_like(data)
    core.update(data[:33], out[:33])
    core.update(data[33:], out[33:])
    assert out.tobytes() == want
    assert core.counter == (start + 4201) % 2**128
    assert core.iv == core.counter.to_bytes(16, "big")


def test_ctr_blocks_helper() -> None:
    blocks = ctr_blocks(2**128 - 1, 3).reshape(3, 16)
    assert [int.from_bytes(bytes(b), "big") for b in blocks] == [2**128 - 1, 0, 1]
    with pytest.raises(ValueError, match="nblocks"):
        ctr_blocks(0, -1)


def test_ctr_errors() -> None:
    with pytest.raises(ValueError, match="iv"):
        Ctr(AesBlockCipher(bytes(16)), bytes(12))


# --- XTS -----------------------------------------------------------------------------

def ref_xts(key: bytes, iv: bytes, data: bytes, enc: bool) -> bytes:
    """Block-at-a-time IEEE 1619 XTS on Python ints (any AES key size)."""
    half = len(key) // 2
    e1 = Cipher(algorithms.AES(key[:half]), modes.ECB())
    blk = (e1.encryptor() if enc else e1.decryptor()).update
    t = int.from_bytes(
        Cipher(algorithms.AES(key[half:]), modes.ECB()).encryptor().update(iv), "little")

    def one(b: bytes, tw: int) -> bytes:
        x = (int.from_bytes(b, "little") ^ tw).to_bytes(16, "little")
        return (int.from_bytes(blk(x), "little") ^ tw).to_bytes(16, "little")

    def mul(v: int) -> int:
        v <<= 1
        return (v ^ 0x87) & (2**128 - 1) if v >> 128 else v

    n, r = divmod(len(data), 16)
    full = n - (1 if r else 0)
    out = bytearray()
    for i in range(full):
        out += one(data[16 * i:16 * i + 16], t)
        t = mul(t)
    if r:
        t2 = mul(t)
        last, tail = data[16 * full:16 * full + 16], data[16 * full + 16:]
        a, b = (t, t2) if enc else (t2, t)
        cc = one(last, a)
        out += one(tail + cc[r:], b) + cc[:r]
    return bytes(out)


def test_xts_tweak_matrix_matches_doubling() -> None:
    t = int.from_bytes(os.urandom(16), "little") | (1 << 127)
    tw = xts_tweaks(t, 500).reshape(500, 16)
    for i in range(500):
        assert int.from_bytes(bytes(tw[i]), "little") == t
        t = gf128mul_x_ble(t)


@pytest.mark.parametrize("keylen", [32, 48, 64])
def test_xts_every_length_16_to_100(keylen: int) -> None:
    key, iv = os.urandom(keylen), os.urandom(16)
    for n in range(16, 101):
        data = rnd(n)
        want = ref_xts(key, iv, data.tobytes(), True)
        if keylen != 48:
            assert want == lib(modes.XTS(iv), key, data.tobytes())
        core = Xts(key, iv)
        out = np.empty_like(data)
        head = n - xts_final_len(n)
        core.update(data[:head], out[:head])
        core.final(data[head:], out[head:])
        assert out.tobytes() == want, n
        assert core.next_iv() == iv
        back = Xts(key, iv, encrypt=False)
        back.final(out, out)
        assert (out == data).all()


@given(st.sampled_from([32, 48, 64]), st.integers(16, 2000), cuts_st, st.integers(0, 2000),
       st.booleans(), st.booleans())
def test_xts_any_split(keylen: int, n: int, cuts: list[int], fin: int, enc: bool,
                       inplace: bool) -> None:
    key, iv, data = os.urandom(keylen), os.urandom(16), rnd(n)
    want = ref_xts(key, iv, data.tobytes(), enc)
    # final() may start anywhere up to the stolen part, even mid-block.
    head = fin % (n - xts_final_len(n) + 1)
    core = Xts(key, iv, enc)
    out = data if inplace else np.empty_like(data)
    feed(core.update, data[:head], out[:head], [c % (head + 1) for c in cuts])
    core.final(data[head:], out[head:])
    assert out.tobytes() == want
    assert core.processed == n


def test_xts_rules() -> None:
    key = os.urandom(32)
    assert xts_verify_key(key) == 0
    assert xts_verify_key(bytes(33)) == -errno.EINVAL
    assert xts_verify_key(bytes(32)) == 0  # equal halves pass outside FIPS/forbid-weak
    assert xts_verify_key(bytes(32), forbid_weak_keys=True) == -errno.EINVAL
    Xts(bytes(32), bytes(16)).final(np.zeros(16, np.uint8), np.zeros(16, np.uint8))
    with pytest.raises(ValueError, match="identical"):
        Xts(bytes(32), bytes(16), forbid_weak_keys=True)
    with pytest.raises(ValueError, match="key"):
        Xts(bytes(40), bytes(16))
    with pytest.raises(ValueError, match="iv"):
        Xts(key, bytes(15))
    with pytest.raises(ValueError, match="shorter than 16"):
        Xts(key, bytes(16)).final(np.zeros(15, np.uint8), np.zeros(15, np.uint8))
    core = Xts(key, bytes(16))
    core.update(np.zeros(32, np.uint8), np.zeros(32, np.uint8))
    with pytest.raises(ValueError, match="final"):  # last full block already gone
        core.final(np.zeros(5, np.uint8), np.zeros(5, np.uint8))
    core = Xts(key, bytes(16))
    core.final(np.zeros(32, np.uint8), np.zeros(32, np.uint8))
    with pytest.raises(ValueError, match="finalized"):
        core.final(np.zeros(16, np.uint8), np.zeros(16, np.uint8))


# --- CTS ---------------------------------------------------------------------------

def ref_cts(key: bytes, iv: bytes, data: bytes) -> bytes:
    """CS3 from a zero-padded CBC encryption: swap the last two blocks and
    truncate the final one."""
    n = len(data)
    c = lib(modes.CBC(iv), key, data + bytes(-n % 16))
    if n <= 16:
        return c
    m = len(c) // 16
    lastn = n - 16 * (m - 1)
    return c[:16 * (m - 2)] + c[16 * (m - 1):] + c[16 * (m - 2):16 * (m - 2) + lastn]


@pytest.mark.parametrize("keylen", [16, 24, 32])
def test_cts_every_length_16_to_100(keylen: int) -> None:
    key, iv = os.urandom(keylen), os.urandom(16)
    for n in range(16, 101):
        data = rnd(n)
        want = ref_cts(key, iv, data.tobytes())
        core = Cts(AesBlockCipher(key), iv)
        out = np.empty_like(data)
        head = n - cts_final_len(n)
        core.update(data[:head], out[:head])
        core.final(data[head:], out[head:])
        assert out.tobytes() == want, n
        # IV output: the stored block at round_up(n, 16) - 32 (or the only block).
        off = max(-(-n // 16) * 16 - 32, 0)
        assert core.next_iv() == want[off:off + 16]
        back = Cts(AesBlockCipher(key), iv, encrypt=False)
        back.final(out, out)
        assert (out == data).all()
        assert back.next_iv() == core.next_iv()


@given(keylen_st, st.integers(16, 600), cuts_st, st.integers(0, 600), st.booleans(),
       st.booleans())
def test_cts_any_split(keylen: int, n: int, cuts: list[int], fin: int, enc: bool,
                       inplace: bool) -> None:
    key, iv, plain = os.urandom(keylen), os.urandom(16), rnd(n)
    ct = np.frombuffer(ref_cts(key, iv, plain.tobytes()), np.uint8).copy()
    src, want = (plain, ct) if enc else (ct, plain)
    head = fin % (n - cts_final_len(n) + 1)
    core = Cts(AesBlockCipher(key), iv, enc)
    out = src if inplace else np.empty_like(src)
    feed(core.update, src[:head], out[:head], [c % (head + 1) for c in cuts])
    core.final(src[head:], out[head:])
    assert out.tobytes() == want.tobytes()
    assert core.processed == n and core.pending == 0


def test_cts_rules() -> None:
    a = AesBlockCipher(bytes(16))
    with pytest.raises(ValueError, match="shorter than 16"):
        Cts(a, bytes(16)).final(np.zeros(15, np.uint8), np.zeros(15, np.uint8))
    core = Cts(a, bytes(16))
    core.update(np.zeros(32, np.uint8), np.zeros(32, np.uint8))
    with pytest.raises(ValueError, match="last two blocks"):
        core.final(np.zeros(16, np.uint8), np.zeros(16, np.uint8))
    # Exactly one block: plain CBC (the kernel's cbc_blocks <= 0 path).
    core = Cts(a, bytes(16))
    out = np.zeros(16, np.uint8)
    core.final(np.zeros(16, np.uint8), out)
    assert out.tobytes() == lib(modes.CBC(bytes(16)), bytes(16), bytes(16))
    assert cts_final_len(16) == 16 and cts_final_len(32) == 32 and cts_final_len(33) == 17


# --- ESSIV -----------------------------------------------------------------------------

@given(keylen_st, st.integers(0, 20), st.booleans())
def test_essiv_cbc(keylen: int, nblocks: int, enc: bool) -> None:
    key, iv, data = os.urandom(keylen), os.urandom(16), rnd(16 * nblocks)
    salt = hashlib.sha256(key).digest()
    eiv = lib(modes.ECB(), salt, iv)  # AES-256 under the salt, of the whole IV
    assert essiv_iv(key, iv) == eiv
    want = lib(modes.CBC(eiv), key, data.tobytes(), enc)
    core = EssivCbc(key, iv, enc)
    assert core.essiv_iv == eiv
    out = np.empty_like(data)
    core.update(data, out)
    assert out.tobytes() == want
    last_ct = (want if enc else data.tobytes())[-16:] if nblocks else eiv
    assert core.next_iv() == last_ct


def test_essiv_errors() -> None:
    with pytest.raises(ValueError, match="key"):
        Essiv(bytes(20))
    with pytest.raises(ValueError, match="iv"):
        Essiv(bytes(16)).generate_iv(bytes(8))
