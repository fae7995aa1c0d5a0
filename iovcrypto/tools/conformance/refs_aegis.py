"""The conformance reference for aegis128: AEGIS-128 as its specification
(Wu and Preneel, CAESAR v1.1) writes it, byte by byte, on an AES round of
its own.  No library implements AEGIS-128, and this shares nothing with
ciphers/aegis128.py (which it exists to check); both reproduce testmgr.h's
aegis128_tv_template.
"""

from __future__ import annotations

__all__ = ["aegis128_encrypt"]


def _gf_mul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = (a << 1) ^ (0x11B if a & 0x80 else 0)
        b >>= 1
    return r


def _make_sbox() -> bytes:
    """FIPS 197 5.1.1: the inverse in GF(2^8) (as a^254), then the affine
    transformation bit by bit."""
    out = bytearray(256)
    for a in range(256):
        inv, p, e = 1, a, 254
        while e:
            if e & 1:
                inv = _gf_mul(inv, p)
            p, e = _gf_mul(p, p), e >> 1
        inv = inv if a else 0
        b = 0
        for i in range(8):
            bit = (inv >> i) ^ (inv >> ((i + 4) % 8)) ^ (inv >> ((i + 5) % 8)) \
                ^ (inv >> ((i + 6) % 8)) ^ (inv >> ((i + 7) % 8)) ^ (0x63 >> i)
            b |= (bit & 1) << i
        out[a] = b
    return bytes(out)


_SBOX = _make_sbox()


def _aes_round(x: bytes, key: bytes) -> bytes:
    """One AES encryption round (SubBytes, ShiftRows, MixColumns, AddRoundKey)
    on a column-major 16-byte state, byte by byte (FIPS 197 5.1)."""
    s = [_SBOX[b] for b in x]
    t = [s[4 * ((c + r) % 4) + r] for c in range(4) for r in range(4)]
    out = bytearray(16)
    for c in range(4):
        a = t[4 * c:4 * c + 4]
        for r in range(4):
            out[4 * c + r] = _gf_mul(a[r], 2) ^ _gf_mul(a[(r + 1) % 4], 3) \
                ^ a[(r + 2) % 4] ^ a[(r + 3) % 4]
    return bytes(o ^ k for o, k in zip(out, key))


def _xor16(*blocks: bytes) -> bytes:
    v = 0
    for b in blocks:
        v ^= int.from_bytes(b, "little")
    return v.to_bytes(16, "little")


def aegis128_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    """AEGIS-128 from the specification (Wu and Preneel, CAESAR v1.1):
    StateUpdate128 with the constants, the padded AD and plaintext, the
    length block and the XOR of the state as the tag."""
    const = bytes([0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 121, 98,
                   219, 61, 24, 85, 109, 194, 47, 241, 32, 17, 49, 66, 115, 181, 40, 221])
    c0, c1 = const[:16], const[16:]
    st = [_xor16(key, iv), c1, c0, _xor16(key, c0), _xor16(key, c1)]

    def update(m: bytes) -> None:
        old = list(st)
        for i in range(5):
            st[i] = _aes_round(old[i - 1], old[i])
        st[0] = _xor16(st[0], m)

    for i in range(10):
        update(key if i % 2 == 0 else _xor16(key, iv))
    for i in range(0, len(assoc), 16):
        update(assoc[i:i + 16].ljust(16, b"\0"))
    ct = bytearray()
    for i in range(0, len(pt), 16):
        p = pt[i:i + 16]
        z = _xor16(st[1], st[4], (int.from_bytes(st[2], "little")
                                & int.from_bytes(st[3], "little")).to_bytes(16, "little"))
        ct += _xor16(p.ljust(16, b"\0"), z)[:len(p)]
        update(p.ljust(16, b"\0"))
    lens = (8 * len(assoc)).to_bytes(8, "little") + (8 * len(pt)).to_bytes(8, "little")
    tmp = _xor16(st[3], lens)
    for _ in range(7):
        update(tmp)
    return bytes(ct) + _xor16(*st)[:authsize]
