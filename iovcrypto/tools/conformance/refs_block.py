"""References for the other block ciphers and lrw (ciphers.skcipher_ciphers),
computed with the libraries and never with the project's cores.

pycryptodome's DES (ECB, CBC, CTR) and DES3 (CBC, and CTR with its own
64-bit counter; ECB as EDE over single DES, since DES3 refuses the k1 == k2 / k2 == k3 keys the
kernel accepts), cryptography's SM4 (ECB, CBC, CTR) and Camellia (ECB,
CBC).  What no library has over them (CTR for Camellia, XTS, CTS, LRW) is
composed here from the library's ECB/CBC and Python ints, following the
definitions (IEEE 1619, RFC 2040, the LRW draft).

No library has ARIA, so :func:`aria_ecb_encrypt` is a second ARIA written
here from RFC 5794 and sharing nothing with ciphers.aria: one block at a
time on 128-bit Python ints, a round being sixteen lookups in tables
that fold each byte position's S-box and its column of A together (the
core instead gathers S-boxes, then A's rows, over numpy arrays), its
S-boxes computed through log/antilog tables and B's rows.  The modes
over it are the same compositions as for the other ciphers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from Crypto.Cipher import CAST as _PCAST
from Crypto.Cipher import DES as _PDES
from Crypto.Cipher import DES3 as _PDES3
from Crypto.Cipher import Blowfish as _PBlowfish
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # cryptography keeps SEED in its "decrepit" package
    from cryptography.hazmat.decrepit.ciphers.algorithms import SEED as _SEED
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import SEED as _SEED
try:  # cryptography moved Camellia to its "decrepit" package
    from cryptography.hazmat.decrepit.ciphers.algorithms import Camellia as _Camellia
except ImportError:  # pragma: no cover - older releases
    from cryptography.hazmat.primitives.ciphers.algorithms import Camellia as _Camellia

__all__ = [
    "aria_ecb_encrypt",
    "block_mode_encrypt",
    "cbc_iv_out",
    "ccm_encrypt_for",
    "ctr_iv_out_for",
    "des3_encrypt",
    "des_encrypt",
    "gf128_bbe",
    "lrw_encrypt",
    "lrw_iv_out",
    "sm4_gcm_encrypt",
    "xts_encrypt_for",
]

_LIB_CIPHERS = {"aes": algorithms.AES, "sm4": algorithms.SM4, "camellia": _Camellia,
                "seed": _SEED}


def _lib_mode(cipher: str, mode: object, key: bytes, data: bytes, enc: bool = True) -> bytes:
    if cipher == "aria":
        if isinstance(mode, modes.ECB):
            return aria_ecb_encrypt(key, data)
        if isinstance(mode, modes.CBC):
            out, chain = [], int.from_bytes(mode.initialization_vector, "big")
            for i in range(0, len(data), 16):
                blk = (int.from_bytes(data[i:i + 16], "big") ^ chain).to_bytes(16, "big")
                out.append(aria_ecb_encrypt(key, blk))
                chain = int.from_bytes(out[-1], "big")
            return b"".join(out)
        raise ValueError(f"mode: {mode!r} is not composed for aria")
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


_P64 = {"des": _PDES, "blowfish": _PBlowfish, "cast5": _PCAST}


def des_encrypt(mode: str, cipher: str = "des") -> Callable[[bytes, bytes | None, bytes], bytes]:
    """Single DES (which pycryptodome, like the kernel by default, takes
    with its weak keys), Blowfish or CAST-128 through pycryptodome."""
    mod = _P64[cipher]

    def enc(key: bytes, iv: bytes | None, pt: bytes) -> bytes:
        if mode == "ecb":
            return mod.new(key, mod.MODE_ECB).encrypt(pt)
        if mode == "cbc":
            return mod.new(key, mod.MODE_CBC, iv=iv).encrypt(pt)
        return mod.new(key, mod.MODE_CTR, nonce=b"", initial_value=iv).encrypt(pt)
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


def sm4_gcm_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    """gcm(sm4): the library's SM4-GCM, its 16-byte tag truncated."""
    ctx = Cipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
    ctx.authenticate_additional_data(assoc)
    ct = ctx.update(pt) + ctx.finalize()
    return ct + ctx.tag[:authsize]


def ccm_encrypt_for(cipher: str) -> Callable[[bytes, bytes, bytes, bytes, int], bytes]:
    """CCM (RFC 3610, SP 800-38C) composed over the library's ECB and CBC:
    the kernel's 16-byte IV carries L - 1 in byte 0 and the nonce after it;
    the MAC is the last block of a zero-IV CBC over B0 ‖ AD block(s) ‖
    payload, the payload is CTR from A1, the tag is MAC ⊕ E(A0)."""
    def enc(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
        lsize = iv[0] + 1
        nonce = iv[1:16 - lsize]
        flags = (0x40 if assoc else 0) | ((authsize - 2) // 2) << 3 | (lsize - 1)
        b0 = bytes([flags]) + nonce + len(pt).to_bytes(lsize, "big")
        adata = b""
        if assoc:
            n = len(assoc)
            adata = (n.to_bytes(2, "big") if n < 0xFF00 else b"\xff\xfe" + n.to_bytes(4, "big"))
            adata += assoc
            adata += bytes(-len(adata) % 16)
        mdata = b0 + adata + pt + bytes(-len(pt) % 16)
        mac = _lib_mode(cipher, modes.CBC(bytes(16)), key, mdata)[-16:]
        a0 = int.from_bytes(bytes([lsize - 1]) + nonce + bytes(lsize), "big")
        nblk = -(-len(pt) // 16)
        ctrs = b"".join((a0 + i).to_bytes(16, "big") for i in range(nblk + 1))
        ks = _lib_mode(cipher, modes.ECB(), key, ctrs)
        return _xor(pt, ks[16:16 + len(pt)]) + _xor(mac, ks[:16])[:authsize]
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


# ARIA (RFC 5794), one block at a time.

def _aria_sboxes() -> tuple[list[int], ...]:
    exp, log = [0] * 255, [0] * 256
    v = 1
    for i in range(255):               # 3 generates GF(2^8)* mod 0x11b
        exp[i], log[v] = v, i
        v ^= (v << 1) ^ (0x11B if v & 0x80 else 0)

    def power(x: int, e: int) -> int:
        return 0 if x == 0 else exp[log[x] * e % 255]

    def affine(rows: tuple[int, ...], const: int, x: int) -> int:
        return const ^ sum((bin(rows[i] & x).count("1") & 1) << i for i in range(8))

    aes_rows = tuple((0xF1 << i | 0xF1 >> (8 - i)) & 0xFF for i in range(8))
    b_rows = (0x7A, 0xBC, 0xEB, 0xB9, 0x34, 0x81, 0xBA, 0xCB)
    sb1 = [affine(aes_rows, 0x63, power(x, 254)) for x in range(256)]
    sb2 = [affine(b_rows, 0xE2, power(x, 247)) for x in range(256)]
    sb3, sb4 = [0] * 256, [0] * 256
    for x in range(256):
        sb3[sb1[x]], sb4[sb2[x]] = x, x
    return sb1, sb2, sb3, sb4


# The byte positions each output byte of A sums (RFC 5794 section 2.4.3).
_ARIA_A = ((3, 4, 6, 8, 9, 13, 14), (2, 5, 7, 8, 9, 12, 15), (1, 4, 6, 10, 11, 12, 15),
           (0, 5, 7, 10, 11, 13, 14), (0, 2, 5, 8, 11, 14, 15), (1, 3, 4, 9, 10, 14, 15),
           (0, 2, 7, 9, 10, 12, 13), (1, 3, 6, 8, 11, 12, 13), (0, 1, 4, 7, 10, 13, 15),
           (0, 1, 5, 6, 11, 12, 14), (2, 3, 5, 6, 8, 13, 15), (2, 3, 4, 7, 9, 12, 14),
           (1, 2, 6, 7, 9, 11, 12), (0, 3, 6, 7, 8, 10, 13), (0, 3, 4, 5, 9, 11, 14),
           (1, 2, 4, 5, 8, 10, 15))


@functools.cache
def _aria_tables() -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """(odd round, even round, SL2 alone): per byte position j and value b,
    the 128-bit word that byte contributes."""
    sb = _aria_sboxes()
    order = ((0, 1, 2, 3), (2, 3, 0, 1))     # SL1, SL2: the S-box of position j % 4
    rounds = []
    for sl in order:
        per_pos = []
        for j in range(16):
            box = sb[sl[j % 4]]
            outs = [i for i in range(16) if j in _ARIA_A[i]]
            per_pos.append([sum(box[b] << (8 * (15 - i)) for i in outs) for b in range(256)])
        rounds.append(per_pos)
    last = [[sb[order[1][j % 4]][b] << (8 * (15 - j)) for b in range(256)] for j in range(16)]
    return rounds[0], rounds[1], last


def _aria_layer(table: list[list[int]], x: int) -> int:
    y = 0
    for j in range(16):
        y ^= table[j][(x >> (8 * (15 - j))) & 0xFF]
    return y


@functools.lru_cache(maxsize=64)
def _aria_round_keys(key: bytes) -> tuple[int, ...]:
    odd, even, _ = _aria_tables()
    c = (0x517CC1B727220A94FE13ABE8FA9A6EE0, 0x6DB14ACC9E21C820FF28B1D5EF5DE2B0,
         0xDB92371D2126E9700324977504E8C90E)
    ck = {16: (0, 1, 2), 24: (1, 2, 0), 32: (2, 0, 1)}[len(key)]
    kl, kr = int.from_bytes(key[:16], "big"), int.from_bytes(key[16:] + bytes(32 - len(key)),
                                                              "big")
    w0 = kl
    w1 = _aria_layer(odd, w0 ^ c[ck[0]]) ^ kr
    w2 = _aria_layer(even, w1 ^ c[ck[1]]) ^ w0
    w3 = _aria_layer(odd, w2 ^ c[ck[2]]) ^ w1
    m = (1 << 128) - 1

    def rotl(v: int, n: int) -> int:
        return ((v << n) | (v >> (128 - n))) & m

    w = (w0, w1, w2, w3)
    # Right rotations by 19 and 31, then left ones by 61, 31 and 19.
    ek = [w[i] ^ rotl(w[(i + 1) % 4], r) for r in (128 - 19, 128 - 31, 61, 31, 19)
          for i in range(4)]
    return tuple(ek[:len(key) // 4 + 9])


def aria_ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """ARIA encryption of whole 16-byte blocks, one at a time."""
    odd, even, last = _aria_tables()
    ek = _aria_round_keys(bytes(key))
    out = []
    for i in range(0, len(data), 16):
        x = int.from_bytes(data[i:i + 16], "big")
        for r in range(len(ek) - 2):
            x = _aria_layer(odd if r % 2 == 0 else even, x ^ ek[r])
        out.append((_aria_layer(last, x ^ ek[-2]) ^ ek[-1]).to_bytes(16, "big"))
    return b"".join(out)
