"""References for the other block ciphers and lrw (ciphers.skcipher_ciphers),
computed with the libraries and never with the project's cores.

pycryptodome's DES3 (CBC, and CTR with its own 64-bit counter; ECB as EDE
over single DES, since DES3 refuses the k1 == k2 / k2 == k3 keys the
kernel accepts), cryptography's SM4 (ECB, CBC, CTR) and Camellia (ECB,
CBC).  What no library has over them (CTR for Camellia, XTS, CTS, LRW) is
composed here from the library's ECB/CBC and Python ints, following the
definitions (IEEE 1619, RFC 2040, the LRW draft).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from Crypto.Cipher import DES as _PDES
from Crypto.Cipher import DES3 as _PDES3
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # cryptography moved Camellia to its "decrepit" package
    from cryptography.hazmat.decrepit.ciphers.algorithms import Camellia as _Camellia
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import Camellia as _Camellia

__all__ = ["block_mode_encrypt", "cbc_iv_out", "ctr_iv_out_for", "des3_encrypt",
           "gf128_bbe", "lrw_encrypt", "lrw_iv_out", "xts_encrypt_for"]

_LIB_CIPHERS = {"aes": algorithms.AES, "sm4": algorithms.SM4, "camellia": _Camellia}


def _lib_mode(cipher: str, mode: object, key: bytes, data: bytes, enc: bool = True) -> bytes:
    c = Cipher(_LIB_CIPHERS[cipher](key), mode)
    ctx = c.encryptor() if enc else c.decryptor()
    return ctx.update(data) + ctx.finalize()


def _xor(a: bytes, b: bytes) -> bytes:
    return (np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).tobytes()


def des3_encrypt(mode: str) -> Callable[[bytes, bytes | None, bytes], bytes]:
    def enc(key: bytes, iv: bytes | None, pt: bytes) -> bytes:
        if mode == "ecb":
            # EDE by its definition over single DES: pycryptodome's DES3
            # refuses the k1 == k2 / k2 == k3 keys the kernel accepts.
            k1, k2, k3 = key[:8], key[8:16], key[16:]
            stage = _PDES.new(k1, _PDES.MODE_ECB).encrypt(pt)
            stage = _PDES.new(k2, _PDES.MODE_ECB).decrypt(stage)
            return _PDES.new(k3, _PDES.MODE_ECB).encrypt(stage)
        if mode == "cbc":
            return _PDES3.new(key, _PDES3.MODE_CBC, iv=iv).encrypt(pt)
        return _PDES3.new(key, _PDES3.MODE_CTR, nonce=b"", initial_value=iv).encrypt(pt)
    return enc


def block_mode_encrypt(cipher: str, mode: str) -> Callable[[bytes, bytes | None, bytes], bytes]:
    def enc(key: bytes, iv: bytes | None, pt: bytes) -> bytes:
        if mode == "ecb":
            return _lib_mode(cipher, modes.ECB(), key, pt)
        if mode == "cbc":
            return _lib_mode(cipher, modes.CBC(iv), key, pt)
        if mode == "ctr" and cipher == "sm4":
            return _lib_mode(cipher, modes.CTR(iv), key, pt)
        if mode == "ctr":
            c0, n = int.from_bytes(iv, "big"), -(-len(pt) // 16)
            ctrs = b"".join(((c0 + i) % (1 << 128)).to_bytes(16, "big") for i in range(n))
            return _xor(pt, _lib_mode(cipher, modes.ECB(), key, ctrs)[:len(pt)])
        if mode == "cts":
            return _cts_compose(lambda d: _lib_mode(cipher, modes.CBC(iv), key, d), pt)
        raise ValueError(mode)
    return enc


def _cts_compose(cbc: Callable[[bytes], bytes], pt: bytes) -> bytes:
    if len(pt) <= 16:
        return cbc(pt)
    r = len(pt) % 16 or 16
    c = cbc(pt + bytes(16 - r if r != 16 else 0))
    n = len(c) // 16
    return c[:16 * (n - 2)] + c[16 * (n - 1):] + c[16 * (n - 2):16 * (n - 2) + r]


def xts_encrypt_for(cipher: str) -> Callable[[bytes, bytes, bytes], bytes]:
    """IEEE 1619 XTS over the library's ECB: T_j = E_k2(IV)·x^j (little-endian,
    x^128 = x^7 + x^2 + x + 1), ciphertext stealing for a partial tail."""
    def enc(key: bytes, iv: bytes, pt: bytes) -> bytes:
        half = len(key) // 2
        k1, k2 = key[:half], key[half:]
        t = int.from_bytes(_lib_mode(cipher, modes.ECB(), k2, iv), "little")
        full, r = divmod(len(pt), 16)
        tweaks = []
        for _ in range(full + 1):
            tweaks.append(t.to_bytes(16, "little"))
            t <<= 1
            if t >> 128:
                t = (t & ((1 << 128) - 1)) ^ 0x87

        def blocks(data: bytes, tws: list[bytes]) -> bytes:
            tw = b"".join(tws)
            return _xor(_lib_mode(cipher, modes.ECB(), k1, _xor(data, tw)), tw)

        if not r:
            return blocks(pt, tweaks[:full])
        head = blocks(pt[:16 * (full - 1)], tweaks[:full - 1]) if full > 1 else b""
        cc = blocks(pt[16 * (full - 1):16 * full], [tweaks[full - 1]])
        last = blocks(pt[16 * full:] + cc[r:], [tweaks[full]])
        return head + last + cc[:r]
    return enc


def gf128_bbe(a: int, b: int) -> int:
    r = 0
    for i in range(128):
        if a >> i & 1:
            r ^= b
        b = (b << 1) ^ (0x87 if b >> 127 else 0)
        b &= (1 << 128) - 1
    return r


@functools.lru_cache(maxsize=64)
def _lrw_mulinc(k2: int) -> tuple[int, ...]:
    return tuple(gf128_bbe((1 << (k + 1)) - 1, k2) for k in range(128))


def lrw_encrypt(cipher: str) -> Callable[[bytes, bytes, bytes], bytes]:
    """LRW as the draft (and the kernel) computes it: T = K2 ⊗ I once, then
    per block T ^= K2 ⊗ (2^(k+1) - 1) for the k trailing ones of I."""
    def enc(key: bytes, iv: bytes, pt: bytes) -> bytes:
        k1, k2 = key[:-16], int.from_bytes(key[-16:], "big")
        mulinc = _lrw_mulinc(k2)
        index = int.from_bytes(iv, "big")
        t = gf128_bbe(index, k2)
        tws = []
        for _ in range(len(pt) // 16):
            tws.append(t.to_bytes(16, "big"))
            ones = (~index & (index + 1)).bit_length() - 1
            t ^= mulinc[min(ones, 127)]
            index = (index + 1) % (1 << 128)
        tw = b"".join(tws)
        return _xor(_lib_mode(cipher, modes.ECB(), k1, _xor(pt, tw)), tw)
    return enc


def lrw_iv_out(iv: bytes, ct: bytes) -> bytes:
    return ((int.from_bytes(iv, "big") + len(ct) // 16) % (1 << 128)).to_bytes(16, "big")


def ctr_iv_out_for(bs: int) -> Callable[[bytes, bytes], bytes]:
    def iv_out(iv: bytes, ct: bytes) -> bytes:
        v = (int.from_bytes(iv, "big") + -(-len(ct) // bs)) % (1 << (8 * bs))
        return v.to_bytes(bs, "big")
    return iv_out


def cbc_iv_out(bs: int) -> Callable[[bytes, bytes], bytes]:
    return lambda iv, ct: ct[-bs:] if len(ct) >= bs else iv
