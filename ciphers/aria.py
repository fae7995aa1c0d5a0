"""ARIA (RFC 5794; the "aria" cipher of crypto/aria_generic.c): 128-bit
blocks, 128/192/256-bit keys, 12/14/16 rounds.

Neither ``cryptography`` nor pycryptodome offers ARIA, so this is the
model's own core, vectorised over many blocks at once: the state of n
blocks is one ``(n, 16)`` uint8 array, and a round is

- the round-key XOR (one broadcast XOR),
- the substitution layer SL1 (odd rounds) or SL2 (even rounds) as a
  single gather from a ``(4, 256)`` table, the S-box chosen by the byte's
  column modulo 4,
- the diffusion layer A, an involutive 16x16 binary matrix with seven
  ones per row: one gather of the seven contributing columns of every
  output byte, ``(n, 7, 16)``, reduced with XOR.

There is no loop over blocks or bytes; the only Python loop is over the
rounds.  The key schedule (RFC 5794 §2.2) works on 128-bit Python ints
for the rotations and reuses the vectorised FO/FE on one block.

The S-boxes are computed from their algebraic definitions rather than
transcribed: SB1 is AES's (the affine map of the inverse in GF(2^8) mod
x^8+x^4+x^3+x+1), SB2 is the affine map ``B . x^247 + 0xE2`` of the ARIA
specification, SB3 and SB4 are the inverses of SB1 and SB2.  RFC 5794's
tables and appendix vectors check them (tests/test_skcipher).

Decryption is the same network with the decryption round keys: the
encryption keys in reverse order, the inner ones passed through A.
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import BlockCipher, as_key_bytes, u8_view

__all__ = [
    "ARIA_BLOCK_SIZE",
    "ARIA_KEYSIZES",
    "AriaBlockCipher",
    "aria_diffuse",
    "aria_rounds",
    "aria_sboxes",
]

ARIA_BLOCK_SIZE = 16
ARIA_KEYSIZES = (16, 24, 32)


# S-boxes.

def _gf_mul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return r


def _gf_pow(x: int, e: int) -> int:
    r = 1
    while e:
        if e & 1:
            r = _gf_mul(r, x)
        x = _gf_mul(x, x)
        e >>= 1
    return r


def _affine(cols: tuple[int, ...], const: int, x: int) -> int:
    """The GF(2)-linear map whose k-th column is ``cols[k]``, plus ``const``."""
    r = const
    for k in range(8):
        if x >> k & 1:
            r ^= cols[k]
    return r


# AES's affine map (FIPS 197 §5.1.1): b ^ rotl1 ^ rotl2 ^ rotl3 ^ rotl4.
_AES_COLS = tuple(((0x1F << k) | (0x1F << k >> 8)) & 0xFF for k in range(8))
# ARIA's matrix B for SB2, as the images of the basis vectors 1, 2, 4, ...
_B_COLS = (0xAC, 0xC5, 0x12, 0xCF, 0x5B, 0x5F, 0x85, 0xEE)


def _make_sboxes() -> np.ndarray:
    sb1 = [_affine(_AES_COLS, 0x63, _gf_pow(x, 254)) for x in range(256)]
    sb2 = [_affine(_B_COLS, 0xE2, _gf_pow(x, 247)) for x in range(256)]
    sb3 = [0] * 256
    sb4 = [0] * 256
    for x in range(256):
        sb3[sb1[x]] = x
        sb4[sb2[x]] = x
    out = np.array([sb1, sb2, sb3, sb4], dtype=np.uint8)
    out.setflags(write=False)
    return out


_SB = _make_sboxes()


def aria_sboxes() -> np.ndarray:
    """SB1..SB4 as a read-only ``(4, 256)`` uint8 array."""
    return _SB


# SL1 applies SB1, SB2, SB3, SB4 to the bytes of each 32-bit word in turn;
# SL2 applies their inverses, SB3, SB4, SB1, SB2.
_COL = np.arange(16) % 4
_SL = (_SB[[0, 1, 2, 3]], _SB[[2, 3, 0, 1]])  # (odd, even), each (4, 256)

# A: output byte j is the XOR of the input bytes _A_ROWS[j] (RFC 5794 §2.4.3).
_A_ROWS = (
    (3, 4, 6, 8, 9, 13, 14), (2, 5, 7, 8, 9, 12, 15),
    (1, 4, 6, 10, 11, 12, 15), (0, 5, 7, 10, 11, 13, 14),
    (0, 2, 5, 8, 11, 14, 15), (1, 3, 4, 9, 10, 14, 15),
    (0, 2, 7, 9, 10, 12, 13), (1, 3, 6, 8, 11, 12, 13),
    (0, 1, 4, 7, 10, 13, 15), (0, 1, 5, 6, 11, 12, 14),
    (2, 3, 5, 6, 8, 13, 15), (2, 3, 4, 7, 9, 12, 14),
    (1, 2, 6, 7, 9, 11, 12), (0, 3, 6, 7, 8, 10, 13),
    (0, 3, 4, 5, 9, 11, 14), (1, 2, 4, 5, 8, 10, 15),
)
# Gather index (7, 16): row k holds the k-th contributor of every output byte.
_A_IDX = np.array(_A_ROWS, dtype=np.intp).T.copy()


def aria_diffuse(x: np.ndarray) -> np.ndarray:
    """The diffusion layer A over an ``(n, 16)`` uint8 state (a new array)."""
    return np.bitwise_xor.reduce(x[:, _A_IDX], axis=1)


def _round(x: np.ndarray, rk: np.ndarray, odd: bool) -> np.ndarray:
    """FO (odd) or FE (even): A(SL(x ^ rk))."""
    return aria_diffuse(_SL[0 if odd else 1][_COL, x ^ rk])


def aria_rounds(keylen: int) -> int:
    """12, 14 or 16 rounds for a 16-, 24- or 32-byte key."""
    return (keylen + 32) // 4


# Key schedule (RFC 5794 §2.2).

_C = (0x517CC1B727220A94FE13ABE8FA9A6EE0,
      0x6DB14ACC9E21C820FF28B1D5EF5DE2B0,
      0xDB92371D2126E9700324977504E8C90E)
_M128 = (1 << 128) - 1


def _blk(v: int) -> np.ndarray:
    return np.frombuffer(v.to_bytes(16, "big"), dtype=np.uint8).reshape(1, 16)


def _int(b: np.ndarray) -> int:
    return int.from_bytes(b.tobytes(), "big")


def _rotr(v: int, n: int) -> int:
    return ((v >> n) | (v << (128 - n))) & _M128


def _expand(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(encryption, decryption) round keys, each ``(rounds + 1, 16)``."""
    kl = int.from_bytes(key[:16], "big")
    kr = int.from_bytes(key[16:].ljust(16, b"\0"), "big")
    first = (len(key) - 16) // 8          # CK1 is C1, C2 or C3 by key size
    ck = [_C[(first + i) % 3] for i in range(3)]
    w0 = kl
    w1 = _int(_round(_blk(w0), _blk(ck[0]), True)) ^ kr
    w2 = _int(_round(_blk(w1), _blk(ck[1]), False)) ^ w0
    w3 = _int(_round(_blk(w2), _blk(ck[2]), True)) ^ w1
    w = (w0, w1, w2, w3)
    ek = []
    for rot in (19, 31, 128 - 61, 128 - 31, 128 - 19):
        for i in range(4):
            ek.append(w[i] ^ _rotr(w[(i + 1) % 4], rot))
    nrk = aria_rounds(len(key)) + 1
    enc = np.frombuffer(b"".join(k.to_bytes(16, "big") for k in ek[:nrk]),
                        dtype=np.uint8).reshape(nrk, 16)
    dec = np.empty_like(enc)
    dec[0], dec[-1] = enc[-1], enc[0]
    dec[1:-1] = aria_diffuse(enc[-2:0:-1])
    enc.setflags(write=False)
    dec.setflags(write=False)
    return enc, dec


def _crypt(rk: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The ARIA network over an ``(n, 16)`` state with round keys ``rk``:
    FO, FE, ... for all rounds but the last, then SL2 and the last key."""
    last = rk.shape[0] - 2
    for i in range(last):
        x = _round(x, rk[i], i % 2 == 0)
    return _SL[1][_COL, x ^ rk[last]] ^ rk[last + 1]


#: Blocks per vectorised call: the (n, 7, 16) gather stays cache-sized.
_CHUNK_BLOCKS = 1024


class AriaBlockCipher(BlockCipher):
    """aria with an expanded key (``aria_set_key()``): 16-byte blocks,
    16/24/32-byte keys (ValueError otherwise; the setkey returns -EINVAL
    before this is built), many blocks per call."""

    __slots__ = ("_dk", "_ek")

    cra_name = "aria"

    def __init__(self, key: bytes | np.ndarray) -> None:
        kb = as_key_bytes(key)
        if len(kb) not in ARIA_KEYSIZES:
            raise ValueError(f"key: an ARIA key is 16, 24 or 32 bytes, got {len(kb)}")
        self.block_size = ARIA_BLOCK_SIZE
        self.key_length = len(kb)
        self._ek, self._dk = _expand(kb)

    @property
    def rounds(self) -> int:
        """12, 14 or 16 (``ctx->rounds``)."""
        return self._ek.shape[0] - 1

    def _run_keys(self, rk: np.ndarray, src: object, dst: object) -> None:
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        n = s.size
        if n % ARIA_BLOCK_SIZE:
            raise ValueError(f"src: length {n} is not a multiple of the aria block size (16)")
        if d.size != n:
            raise ValueError(f"dst: length {d.size} differs from src length {n}")
        step = _CHUNK_BLOCKS * ARIA_BLOCK_SIZE
        for off in range(0, n, step):
            end = min(off + step, n)
            d[off:end] = _crypt(rk, s[off:end].reshape(-1, 16)).reshape(-1)

    def encrypt_blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Encrypt ``len(src) // 16`` independent blocks from src into dst."""
        self._run_keys(self._ek, src, dst)

    def decrypt_blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Decrypt ``len(src) // 16`` independent blocks from src into dst."""
        self._run_keys(self._dk, src, dst)

    def _bytes(self, data: bytes) -> bytes:
        x = np.frombuffer(data, dtype=np.uint8)
        if x.size % ARIA_BLOCK_SIZE:
            raise ValueError(f"data: length {x.size} is not a multiple of 16")
        return _crypt(self._ek, x.reshape(-1, 16)).tobytes()

    @property
    def encrypt_bytes(self) -> object:
        """Bytes-to-bytes encryption of whole blocks (CBC encryption's and
        CBC-MAC's serial loops)."""
        return self._bytes

    def encrypt_block(self, block: bytes | np.ndarray) -> bytes:
        """Encrypt one block (``aria_encrypt()``)."""
        b = u8_view(block, "block")
        if b.size != ARIA_BLOCK_SIZE:
            raise ValueError(f"block: must be 16 bytes, got {b.size}")
        return _crypt(self._ek, b.reshape(1, 16)).tobytes()

    def decrypt_block(self, block: bytes | np.ndarray) -> bytes:
        """Decrypt one block (``aria_decrypt()``)."""
        b = u8_view(block, "block")
        if b.size != ARIA_BLOCK_SIZE:
            raise ValueError(f"block: must be 16 bytes, got {b.size}")
        return _crypt(self._dk, b.reshape(1, 16)).tobytes()
