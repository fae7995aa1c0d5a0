"""What each kernel algorithm is, computed by the reference libraries.

For every cra_name the harness knows, an :class:`AlgSpec`: the kernel's key
sizes, IV size, length rules, authsizes and assoclen rules, and a
reference encryption computed with ``cryptography`` or ``pycryptodome``
(never with this project's own ``ciphers`` cores, which are what is under
test), composed where no library has the kernel's construction:

- ``rfc3686(ctr(aes))``: CTR from the block nonce ‖ IV ‖ be32(1);
- ``cts(cbc(aes))``: CBC over the zero-padded message, last two blocks
  swapped and the final one truncated (CS3);
- ``essiv(cbc(aes),sha256)``: CBC with the IV encrypted by AES-256 keyed
  with SHA-256(key);
- ``rfc4106``/``rfc4309``/``rfc7539esp``: the base AEAD with nonce =
  salt ‖ IV and the AD without its trailing 8-byte IV copy;
- ``rfc4543``: GMAC over the whole AD and the plaintext, plaintext copied;
- ``gcm(aria)``: GCM over a plain ARIA of its own (refs_block) and
  pycryptodome's GHASH; ``gcm(sm4)``: cryptography's SM4-GCM;
  ``ccm(sm4)``: RFC 3610 composed over cryptography's SM4-ECB/CBC;
- ``aegis128``: the specification's state update byte by byte (an AES
  round of our own, S-box from GF(2^8) inverses), no library has AEGIS-128;
- ``essiv(authenc(hmac(sha256),cbc(aes)),sha256)``: that authenc with the
  IV encrypted by AES-256(SHA-256(enckey ‖ authkey)), which also replaces
  the last 16 bytes of the authenticated AD;
- ``authenc(hmac(shaN),<child>)``: the child skcipher's reference (cbc,
  ctr, rfc3686), then HMAC over AD ‖ ciphertext, the rtattr key blob of
  include/crypto/authenc.h.

Random vectors follow testmgr's ``generate_random_cipher_testvec``/
``generate_random_aead_testvec`` distributions, bent to each algorithm's
rules (whole blocks for ECB/CBC, at least 16 bytes for XTS/CTS, the ESP
assoclen rules) so that the reference can compute them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from Crypto.Cipher import AES as _PAES
from Crypto.Cipher import ChaCha20 as _PChaCha
from Crypto.Cipher import _mode_gcm as _pgcm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ciphers.authenc import AUTHENC_INSTANCES
from iovcrypto.tools.conformance.configs import Prandom
from iovcrypto.tools.conformance.refs_aegis import aegis128_encrypt
from iovcrypto.tools.conformance.refs_block import (
    aria_ecb_encrypt,
    block_mode_encrypt,
    cbc_iv_out,
    ccm_encrypt_for,
    ctr_iv_out_for,
    des3_encrypt,
    des_encrypt,
    lrw_encrypt,
    lrw_iv_out,
    sm4_gcm_encrypt,
    xts_encrypt_for,
)

AES_KEYS = (16, 24, 32)


def _aes(mode: object, key: bytes, data: bytes, enc: bool = True) -> bytes:
    c = Cipher(algorithms.AES(key), mode)
    ctx = c.encryptor() if enc else c.decryptor()
    return ctx.update(data) + ctx.finalize()


def ecb_encrypt(key: bytes, iv: bytes | None, pt: bytes) -> bytes:
    return _aes(modes.ECB(), key, pt)


def cbc_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    return _aes(modes.CBC(iv), key, pt)


def ctr_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    return _aes(modes.CTR(iv), key, pt)


def ctr_iv_out(iv: bytes, n: int) -> bytes:
    """crypto_inc over the whole block, once per (partial) block."""
    v = (int.from_bytes(iv, "big") + -(-n // 16)) % (1 << 128)
    return v.to_bytes(16, "big")


def rfc3686_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    return ctr_encrypt(key[:-4], key[-4:] + iv + (1).to_bytes(4, "big"), pt)


def xts_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    return _aes(modes.XTS(iv), key, pt)


def cts_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    if len(pt) <= 16:
        return cbc_encrypt(key, iv, pt)
    r = len(pt) % 16 or 16
    c = cbc_encrypt(key, iv, pt + bytes(16 - r if r != 16 else 0))
    n = len(c) // 16
    return c[:16 * (n - 2)] + c[16 * (n - 1):] + c[16 * (n - 2):16 * (n - 2) + r]


def essiv_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    salt = hashlib.sha256(key).digest()
    return cbc_encrypt(key, ecb_encrypt(salt, None, iv), pt)


def chacha20_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    c = Cipher(algorithms.ChaCha20(key, iv), None).encryptor()
    return c.update(pt) + c.finalize()


def xchacha20_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    c = _PChaCha.new(key=key, nonce=iv[:24])
    pos = int.from_bytes(iv[24:32], "little")
    if pos:
        c.seek(pos * 64)
    return c.encrypt(pt)


# No library has XCTR, HCTR2 or 12-round ChaCha: plain references written
# from the definitions (the HCTR2 paper, RFC 8452's POLYVAL, the ChaCha
# paper), on Python ints and AES-ECB from cryptography, sharing nothing with
# the project's cores.

# pycryptodome loads its GHASH back ends once, at import of its GCM mode;
# loading them again declares the same C functions twice, which cffi refuses.
_PGHASH_C = _pgcm._ghash_clmul or _pgcm._ghash_portable


def polyval_ref(h: bytes, data: bytes) -> bytes:
    """POLYVAL through pycryptodome's GHASH, by RFC 8452 Appendix A:
    POLYVAL(H, X) = ByteReverse(GHASH(mulX_GHASH(ByteReverse(H)),
    ByteReverse(X_1), ...)). pycryptodome's C GHASH shares nothing with
    the project's table-driven one, and a per-block Python reference took
    seconds per MiB, more than every driver it checks."""
    v = int.from_bytes(h[::-1], "big")
    v = (v >> 1) ^ (0xE1 << 120) if v & 1 else v >> 1
    g = _pgcm._GHASH(v.to_bytes(16, "big"), _PGHASH_C)
    g.update(np.frombuffer(data, np.uint8).reshape(-1, 16)[:, ::-1].tobytes())
    return g.digest()[::-1]


def xctr_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    n = -(-len(pt) // 16)
    base = int.from_bytes(iv, "little")
    ctrs = b"".join((base ^ i).to_bytes(16, "little") for i in range(1, n + 1))
    ks = ecb_encrypt(key, None, ctrs)
    return bytes(a ^ b for a, b in zip(pt, ks))


def _hctr2_hash(key: bytes, tweak: bytes, x: bytes) -> bytes:
    rem = len(x) % 16
    head = (32 * 8 * 2 + 2 + (1 if rem else 0)).to_bytes(8, "little") + bytes(8)
    pad = b"\x01" + bytes(15 - rem) if rem else b""
    return polyval_ref(ecb_encrypt(key, None, bytes(16)), head + tweak + x + pad)


def hctr2_encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
    def xor(a: bytes, b: bytes) -> bytes:
        return bytes(p ^ q for p, q in zip(a, b))

    m, n = pt[:16], pt[16:]
    mm = xor(m, _hctr2_hash(key, iv, n))
    uu = ecb_encrypt(key, None, mm)
    s = xor(xor(mm, uu), ecb_encrypt(key, None, b"\x01" + bytes(15)))
    v = xctr_encrypt(key, s, n)
    return xor(uu, _hctr2_hash(key, iv, v)) + v


def _chacha_rounds(st: list[int], nrounds: int) -> list[int]:
    x = list(st)

    def qr(a: int, b: int, c: int, d: int) -> None:
        for s1, s2, r in ((a, d, 16), (c, b, 12), (a, d, 8), (c, b, 7)):
            if s1 == a:
                x[a] = (x[a] + x[b]) & 0xFFFFFFFF
            else:
                x[c] = (x[c] + x[d]) & 0xFFFFFFFF
            v = x[s2] ^ x[s1]
            x[s2] = ((v << r) | (v >> (32 - r))) & 0xFFFFFFFF

    for _ in range(nrounds // 2):
        qr(0, 4, 8, 12), qr(1, 5, 9, 13), qr(2, 6, 10, 14), qr(3, 7, 11, 15)
        qr(0, 5, 10, 15), qr(1, 6, 11, 12), qr(2, 7, 8, 13), qr(3, 4, 9, 14)
    return x


def _chacha_stream(st: list[int], nblocks: int, nrounds: int) -> np.ndarray:
    """The keystream of ``nblocks`` blocks from state ``st`` (counter in word
    12), every block at once: numpy columns, one per state word."""
    x = np.tile(np.array(st, dtype=np.uint32), (nblocks, 1))
    x[:, 12] = (st[12] + np.arange(nblocks, dtype=np.uint64)) & 0xFFFFFFFF
    init = x.copy()
    c = [x[:, i].copy() for i in range(16)]

    def rotl(v: np.ndarray, r: int) -> np.ndarray:
        return (v << np.uint32(r)) | (v >> np.uint32(32 - r))

    def qr(a: int, b: int, cc: int, d: int) -> None:
        c[a] += c[b]
        c[d] = rotl(c[d] ^ c[a], 16)
        c[cc] += c[d]
        c[b] = rotl(c[b] ^ c[cc], 12)
        c[a] += c[b]
        c[d] = rotl(c[d] ^ c[a], 8)
        c[cc] += c[d]
        c[b] = rotl(c[b] ^ c[cc], 7)

    for _ in range(nrounds // 2):
        qr(0, 4, 8, 12), qr(1, 5, 9, 13), qr(2, 6, 10, 14), qr(3, 7, 11, 15)
        qr(0, 5, 10, 15), qr(1, 6, 11, 12), qr(2, 7, 8, 13), qr(3, 4, 9, 14)
    out = np.stack(c, axis=1) + init
    return out.astype("<u4").view(np.uint8).reshape(-1)


def xchacha12_encrypt(key: bytes, iv: bytes, pt: bytes, nrounds: int = 12) -> bytes:
    words = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    kw = [int.from_bytes(key[i:i + 4], "little") for i in range(0, 32, 4)]
    nw = [int.from_bytes(iv[i:i + 4], "little") for i in range(0, 16, 4)]
    x = _chacha_rounds(words + kw + nw, nrounds)
    sub = x[0:4] + x[12:16]
    # crypto_xchacha_crypt(): ChaCha state words 12..15 from IV[24:32] ‖ IV[16:24]
    ctr = int.from_bytes(iv[24:28], "little")
    tail = [int.from_bytes(iv[i:i + 4], "little") for i in (28, 16, 20)]
    if not pt:
        return b""
    ks = _chacha_stream(words + sub + [ctr, *tail], -(-len(pt) // 64), nrounds)
    return (np.frombuffer(pt, np.uint8) ^ ks[:len(pt)]).tobytes()


def _poly1305_core(r: bytes, data: bytes) -> int:
    """Poly1305 without the s key: whole 16-byte blocks, h mod p mod 2^128."""
    rr = int.from_bytes(r, "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    p, h = (1 << 130) - 5, 0
    for i in range(0, len(data), 16):
        h = (h + int.from_bytes(data[i:i + 16], "little") + (1 << 128)) * rr % p
    return h & ((1 << 128) - 1)


def _nhpoly1305(key: bytes, msg: bytes) -> int:
    k = np.frombuffer(key[16:16 + 4 * 268], dtype="<u4").astype(np.uint64)
    msg += bytes(-len(msg) % 16)
    out = b""
    for c in range(0, len(msg), 1024):
        m = np.frombuffer(msg[c:c + 1024], dtype="<u4").astype(np.uint64).reshape(-1, 4)
        u = m.shape[0]
        sums = []
        for p in range(4):
            kk = k[4 * p:4 * p + 4 * u].reshape(-1, 4)
            a = (m + kk) & 0xFFFFFFFF
            sums.append(int(np.sum(a[:, 0] * a[:, 2] + a[:, 1] * a[:, 3], dtype=np.uint64)))
        out += b"".join(x.to_bytes(8, "little") for x in sums)
    return _poly1305_core(key[:16], out)


def _adiantum(nrounds: int) -> Callable[[bytes, bytes, bytes], bytes]:
    def stream(key: bytes, iv: bytes, data: bytes) -> bytes:
        if nrounds == 20:
            return xchacha20_encrypt(key, iv, data)
        return xchacha12_encrypt(key, iv, data)

    def encrypt(key: bytes, iv: bytes, pt: bytes) -> bytes:
        d = stream(key, b"\x01" + bytes(31), bytes(32 + 16 + 1088))
        ke, kt, kh = d[:32], d[32:48], d[48:]
        left, right = pt[:-16], int.from_bytes(pt[-16:], "little")
        header = _poly1305_core(kt, (8 * len(left)).to_bytes(16, "little") + iv)
        m = (right + header + _nhpoly1305(kh, left)) % 2**128
        cm = ecb_encrypt(ke, None, m.to_bytes(16, "little"))
        cl = stream(key, cm + b"\x01" + bytes(15), left)
        cr = (int.from_bytes(cm, "little") - header - _nhpoly1305(kh, cl)) % 2**128
        return cl + cr.to_bytes(16, "little")

    return encrypt


def _cipher_specs() -> list[AlgSpec]:
    """The AlgSpecs of ciphers.skcipher_ciphers' algorithms."""
    des, cam, sm4 = (24,), (16, 24, 32), (16,)
    out = [AlgSpec("ecb(des3_ede)", "skcipher", des, 0, des3_encrypt("ecb"), block=8),
           AlgSpec("cbc(des3_ede)", "skcipher", des, 8, des3_encrypt("cbc"), block=8,
                   iv_out=cbc_iv_out(8)),
           AlgSpec("ctr(des3_ede)", "skcipher", des, 8, des3_encrypt("ctr"),
                   iv_out=ctr_iv_out_for(8)),
           AlgSpec("ecb(des)", "skcipher", (8,), 0, des_encrypt("ecb"), block=8),
           AlgSpec("cbc(des)", "skcipher", (8,), 8, des_encrypt("cbc"), block=8,
                   iv_out=cbc_iv_out(8)),
           AlgSpec("ctr(des)", "skcipher", (8,), 8, des_encrypt("ctr"),
                   iv_out=ctr_iv_out_for(8))]
    for name, keys in (("blowfish", (4, 16, 56)), ("cast5", (5, 10, 16))):
        out += [AlgSpec(f"ecb({name})", "skcipher", keys, 0, des_encrypt("ecb", name), block=8),
                AlgSpec(f"cbc({name})", "skcipher", keys, 8, des_encrypt("cbc", name), block=8,
                        iv_out=cbc_iv_out(8)),
                AlgSpec(f"ctr({name})", "skcipher", keys, 8, des_encrypt("ctr", name),
                        iv_out=ctr_iv_out_for(8))]
    for name, keys in (("sm4", sm4), ("camellia", cam)):
        out += [AlgSpec(f"ecb({name})", "skcipher", keys, 0, block_mode_encrypt(name, "ecb"),
                        block=16),
                AlgSpec(f"cbc({name})", "skcipher", keys, 16, block_mode_encrypt(name, "cbc"),
                        block=16, iv_out=cbc_iv_out(16)),
                AlgSpec(f"ctr({name})", "skcipher", keys, 16, block_mode_encrypt(name, "ctr"),
                        iv_out=ctr_iv_out_for(16)),
                AlgSpec(f"xts({name})", "skcipher", tuple(2 * k for k in keys), 16,
                        xts_encrypt_for(name), minlen=16)]
    # SEED: the library's ECB is the driver's block function too, so its
    # published vectors (RFC 4269, testmgr's) are what check the cipher; the
    # reference checks the ecb walk around it.
    out.append(AlgSpec("ecb(seed)", "skcipher", sm4, 0, block_mode_encrypt("seed", "ecb"),
                       block=16))
    out += [AlgSpec("ecb(aria)", "skcipher", cam, 0, block_mode_encrypt("aria", "ecb"),
                    block=16),
            AlgSpec("cbc(aria)", "skcipher", cam, 16, block_mode_encrypt("aria", "cbc"),
                    block=16, iv_out=cbc_iv_out(16)),
            AlgSpec("ctr(aria)", "skcipher", cam, 16, block_mode_encrypt("aria", "ctr"),
                    iv_out=ctr_iv_out_for(16))]
    out.append(AlgSpec("cts(cbc(sm4))", "skcipher", sm4, 16, block_mode_encrypt("sm4", "cts"),
                       minlen=16))
    out += [AlgSpec(f"lrw({name})", "skcipher", tuple(k + 16 for k in AES_KEYS), 16,
                    lrw_encrypt(name), block=16, iv_out=lrw_iv_out)
            for name in ("aes", "camellia")]
    return out


# AEADs: encrypt(key, iv, assoc, pt, authsize) -> ct ‖ tag

def gcm_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    c = _PAES.new(key, _PAES.MODE_GCM, nonce=iv, mac_len=authsize)
    c.update(assoc)
    ct, tag = c.encrypt_and_digest(pt)
    return ct + tag


def gcm_encrypt_over(ecb: Callable[[bytes, bytes], bytes]) -> Callable[..., bytes]:
    """GCM (SP 800-38D, 12-byte IV) composed over a block cipher's ECB
    encryption ``ecb(key, data)`` and pycryptodome's GHASH: gcm over the
    ciphers no library has a GCM for."""
    def enc(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
        def padded(b: bytes) -> bytes:
            return b + bytes(-len(b) % 16)

        j0 = int.from_bytes(iv + b"\0\0\0\1", "big")
        n = -(-len(pt) // 16)
        ctrs = b"".join(((j0 + 1 + i) % (1 << 128)).to_bytes(16, "big") for i in range(n))
        ks = np.frombuffer(ecb(key, ctrs), np.uint8)[:len(pt)]
        ct = (np.frombuffer(pt, np.uint8) ^ ks).tobytes()
        g = _pgcm._GHASH(ecb(key, bytes(16)), _PGHASH_C)
        g.update(padded(assoc) + padded(ct)
                 + (8 * len(assoc)).to_bytes(8, "big") + (8 * len(ct)).to_bytes(8, "big"))
        mask = ecb(key, j0.to_bytes(16, "big"))
        tag = bytes(a ^ b for a, b in zip(g.digest(), mask, strict=True))
        return ct + tag[:authsize]
    return enc


def rfc4106_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    return gcm_encrypt(key[:-4], key[-4:] + iv, assoc[:-8], pt, authsize)


def rfc4543_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    return pt + gcm_encrypt(key[:-4], key[-4:] + iv, assoc + pt, b"", authsize)


def ccm_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    nlen = 15 - (iv[0] + 1)
    c = _PAES.new(key, _PAES.MODE_CCM, nonce=iv[1:1 + nlen], mac_len=authsize,
                  msg_len=len(pt), assoc_len=len(assoc))
    c.update(assoc)
    ct, tag = c.encrypt_and_digest(pt)
    return ct + tag


def rfc4309_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    return ccm_encrypt(key[:-3], bytes([3]) + key[-3:] + iv + bytes(4), assoc[:-8], pt, authsize)


def chachapoly_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
    return ChaCha20Poly1305(key).encrypt(iv, pt, assoc)


def esp_chachapoly_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes,
                           authsize: int) -> bytes:
    return ChaCha20Poly1305(key[:32]).encrypt(key[32:] + iv, pt, assoc[:-8])


def authenc_key_blob(authkey: bytes, enckey: bytes) -> bytes:
    """rtattr(len 8, type CRYPTO_AUTHENC_KEYA_PARAM) ‖ be32 enckeylen ‖
    authkey ‖ enckey (little-endian host)."""
    return (8).to_bytes(2, "little") + (1).to_bytes(2, "little") + \
        len(enckey).to_bytes(4, "big") + authkey + enckey


def _authenc(hash_name: str, child: Callable[[bytes, bytes, bytes], bytes]
             ) -> Callable[[bytes, bytes, bytes, bytes, int], bytes]:
    def enc(key: bytes, iv: bytes, assoc: bytes, pt: bytes, authsize: int) -> bytes:
        enckeylen = int.from_bytes(key[4:8], "big")
        authkey, enckey = key[8:len(key) - enckeylen], key[len(key) - enckeylen:]
        ct = child(enckey, iv, pt)
        return ct + hmac.new(authkey, assoc + ct, hash_name).digest()[:authsize]
    return enc


def _authenc_keys(key: bytes) -> tuple[bytes, bytes]:
    enckeylen = int.from_bytes(key[4:8], "big")
    return key[8:len(key) - enckeylen], key[len(key) - enckeylen:]


def essiv_aead_iv(key: bytes, iv: bytes) -> bytes:
    """essiv(authenc(...)): the IV encrypted with AES-256 keyed by
    SHA-256(enckey ‖ authkey)."""
    authkey, enckey = _authenc_keys(key)
    return _aes(modes.ECB(), hashlib.sha256(enckey + authkey).digest(), iv)


def essiv_authenc_encrypt(key: bytes, iv: bytes, assoc: bytes, pt: bytes,
                          authsize: int) -> bytes:
    """authenc(hmac(sha256),cbc(aes)) with the encrypted IV as the CBC IV
    and as the last 16 bytes of the authenticated AD."""
    authkey, enckey = _authenc_keys(key)
    eiv = essiv_aead_iv(key, iv)
    ct = cbc_encrypt(enckey, eiv, pt)
    return ct + hmac.new(authkey, assoc[:-16] + eiv + ct, "sha256").digest()[:authsize]


@dataclass(frozen=True)
class AlgSpec:
    """One kernel algorithm (cra_name) as the harness checks it."""

    name: str
    type: str                             # "skcipher" or "aead"
    keylens: tuple[int, ...]
    ivsize: int
    encrypt: Callable
    block: int = 1                        # lengths must be multiples of this
    minlen: int = 0
    iv_out: Callable[[bytes, bytes, bytes], bytes] | None = None   # (key, iv, ct/len)
    authsizes: tuple[int, ...] = ()
    esp: bool = False                     # AD ends with an 8-byte copy of the IV
    esp_assoclens: tuple[int, ...] = ()   # allowed assoclens, () = any >= 8
    hash_name: str = ""
    salt: int = 0                         # trailing salt bytes in the key
    sample: str = ""                      # default run: one member of the group
    large: bool = True                    # run the large (1 MiB) request
    # (key, iv) -> the bytes the AD must end with (essiv's encrypted IV);
    # random vectors end their AD with them and mutations leave them alone.
    ad_tail: Callable[[bytes, bytes], bytes] | None = None

    def make_key(self, rng: Prandom, keylen: int) -> bytes:
        if self.hash_name:
            dlen = hashlib.new(self.hash_name).digest_size
            return authenc_key_blob(rng.bytes(dlen), rng.bytes(keylen + self.salt))
        return rng.bytes(keylen + self.salt)

    def make_iv(self, rng: Prandom) -> bytes:
        if self.name.startswith("ccm("):
            lprime = rng.inclusive(1, 7)
            return bytes([lprime]) + rng.bytes(14 - lprime) + bytes(lprime + 1)
        if self.name == "chacha20":
            # Keep the 32-bit block counter from wrapping within a vector:
            # the kernel wraps silently, the reference refuses.
            return rng.below(1 << 30).to_bytes(4, "little") + rng.bytes(12)
        if self.name in ("xchacha20", "xchacha12"):
            return rng.bytes(24) + rng.below(1 << 24).to_bytes(8, "little")
        return rng.bytes(self.ivsize)


def _cbc_iv_out(iv: bytes, ct: bytes) -> bytes:
    return ct[-16:] if len(ct) >= 16 else iv


SPECS: dict[str, AlgSpec] = {s.name: s for s in (
    AlgSpec("ecb(aes)", "skcipher", AES_KEYS, 0, ecb_encrypt, block=16),
    AlgSpec("cbc(aes)", "skcipher", AES_KEYS, 16, cbc_encrypt, block=16,
            iv_out=lambda iv, ct: _cbc_iv_out(iv, ct)),
    AlgSpec("ctr(aes)", "skcipher", AES_KEYS, 16, ctr_encrypt,
            iv_out=lambda iv, ct: ctr_iv_out(iv, len(ct))),
    AlgSpec("rfc3686(ctr(aes))", "skcipher", AES_KEYS, 8, rfc3686_encrypt, salt=4),
    AlgSpec("xts(aes)", "skcipher", (32, 64), 16, xts_encrypt, minlen=16),
    AlgSpec("cts(cbc(aes))", "skcipher", AES_KEYS, 16, cts_encrypt, minlen=16),
    AlgSpec("essiv(cbc(aes),sha256)", "skcipher", AES_KEYS, 16, essiv_encrypt, block=16),
    AlgSpec("chacha20", "skcipher", (32,), 16, chacha20_encrypt),
    AlgSpec("xchacha20", "skcipher", (32,), 32, xchacha20_encrypt),
    AlgSpec("xchacha12", "skcipher", (32,), 32, xchacha12_encrypt),
    AlgSpec("xctr(aes)", "skcipher", AES_KEYS, 16, xctr_encrypt),
    AlgSpec("hctr2(aes)", "skcipher", AES_KEYS, 32, hctr2_encrypt, minlen=16),
    AlgSpec("adiantum(xchacha12,aes)", "skcipher", (32,), 32, _adiantum(12), minlen=16),
    AlgSpec("adiantum(xchacha20,aes)", "skcipher", (32,), 32, _adiantum(20), minlen=16),
    AlgSpec("gcm(aes)", "aead", AES_KEYS, 12, gcm_encrypt, authsizes=(4, 8, 12, 13, 14, 15, 16)),
    AlgSpec("gcm(aria)", "aead", AES_KEYS, 12, gcm_encrypt_over(aria_ecb_encrypt),
            authsizes=(4, 8, 12, 13, 14, 15, 16)),
    AlgSpec("gcm(sm4)", "aead", (16,), 12, sm4_gcm_encrypt, authsizes=(4, 8, 12, 13, 14, 15, 16)),
    AlgSpec("ccm(sm4)", "aead", (16,), 16, ccm_encrypt_for("sm4"),
            authsizes=(4, 6, 8, 10, 12, 14, 16)),
    AlgSpec("rfc4106(gcm(aes))", "aead", AES_KEYS, 8, rfc4106_encrypt, authsizes=(8, 12, 16),
            esp=True, esp_assoclens=(16, 20), salt=4),
    AlgSpec("rfc4543(gcm(aes))", "aead", AES_KEYS, 8, rfc4543_encrypt, authsizes=(16,),
            esp=True, esp_assoclens=(16, 20), salt=4),
    AlgSpec("ccm(aes)", "aead", AES_KEYS, 16, ccm_encrypt, authsizes=(4, 6, 8, 10, 12, 14, 16)),
    AlgSpec("rfc4309(ccm(aes))", "aead", AES_KEYS, 8, rfc4309_encrypt, authsizes=(8, 12, 16),
            esp=True, esp_assoclens=(16, 20), salt=3),
    AlgSpec("rfc7539(chacha20,poly1305)", "aead", (32,), 12, chachapoly_encrypt,
            authsizes=(16,)),
    AlgSpec("rfc7539esp(chacha20,poly1305)", "aead", (32,), 8, esp_chachapoly_encrypt,
            authsizes=(16,), esp=True, salt=4),
    *_cipher_specs(),
    # AEGIS updates its state block after block (~16 us a block in the
    # core, far more in this reference): no 1 MiB request.  Its text walk is
    # the AEAD skcipher walk gcm's large request already crosses.
    AlgSpec("aegis128", "aead", (16,), 16, aegis128_encrypt, authsizes=tuple(range(8, 17)),
            large=False),
    AlgSpec("essiv(authenc(hmac(sha256),cbc(aes)),sha256)", "aead", AES_KEYS, 16,
            essiv_authenc_encrypt, block=16, authsizes=tuple(range(1, 33)), hash_name="sha256",
            ad_tail=essiv_aead_iv),
)}

# authenc(hmac(<hash>),<child>): the instances the project registers (the
# names of ciphers.authenc's table; the references are the child skcipher's
# above and hashlib's HMAC).  The three cbc(aes) instances older kernels
# already tested always run; the others differ from them only in the hash
# or the child, so the default run samples one of them per seed, as it
# samples the block-cipher families (session.sample_ciphers).
_AUTHENC_ALWAYS = {"authenc(hmac(sha1),cbc(aes))", "authenc(hmac(sha256),cbc(aes))",
                   "authenc(hmac(sha512),cbc(aes))"}


def _authenc_spec(h: str, child: AlgSpec) -> AlgSpec:
    name = f"authenc(hmac({h}),{child.name})"
    return AlgSpec(name, "aead", child.keylens, child.ivsize, _authenc(h, child.encrypt),
                   block=child.block,
                   authsizes=tuple(range(1, hashlib.new(h).digest_size + 1)), hash_name=h,
                   salt=child.salt, sample="" if name in _AUTHENC_ALWAYS else "authenc")


SPECS.update((s.name, s) for s in (
    _authenc_spec(h, SPECS[child]) for child, hashes in AUTHENC_INSTANCES.items()
    if child in SPECS for h in hashes))


def generate_random_length(rng: Prandom, max_len: int) -> int:
    """testmgr's ``generate_random_length()``: short lengths favoured."""
    n = rng.below(max_len + 1)
    r = rng.below(4)
    if r == 0:
        n %= 64
    elif r == 1:
        n %= 256
    elif r == 2:
        n %= 1024
    if n and rng.below(4) == 0:
        n = 1 << (n.bit_length() - 1)
    return n


def generate_random_bytes(rng: Prandom, n: int) -> bytes:
    """testmgr's ``generate_random_bytes()``: runs of one byte, arithmetic
    sequences or noise, with bit and byte flips sprinkled in."""
    r = rng.below(8)
    if r < 2:
        b = (0x00, 0xFF, rng.below(256), rng.below(256))[rng.below(4)]
        out = bytearray([b]) * n
    elif r == 2:
        start, inc = rng.below(256), rng.below(256)
        out = bytearray((start + i * inc) & 0xFF for i in range(n)) if n <= 8192 \
            else bytearray(rng.bytes(n))
    else:
        return rng.bytes(n)
    if n and r < 3:
        if rng.below(4) == 0:
            for _ in range(min(1 << rng.below(8), 8 * n)):
                bit = rng.below(8 * n)
                out[bit // 8] ^= 1 << (bit % 8)
        if rng.below(4) == 0:
            for _ in range(min(1 << rng.below(8), n)):
                out[rng.below(n)] ^= 0xFF
    return bytes(out)


MAXDATASIZE = 2 * 4096 - 16


def fit_length(spec: AlgSpec, n: int) -> int:
    """Bend a random length to the algorithm's rules."""
    if spec.block > 1:
        n -= n % spec.block
    return max(n, spec.minlen)
