"""The other block ciphers under the kernel's templates, and the lrw
template (crypto/lrw.c): what both worlds register besides the AES and
ChaCha families of ciphers.skcipher_algs.

Which combinations exist is what the kernel's testmgr tests (the generic
templates instantiate over any cipher, testmgr says which ones are
meant): des, des3_ede, blowfish and cast5 under ecb, cbc and ctr; sm4 under ecb, cbc, ctr, xts
and cts(cbc); camellia under ecb, cbc, ctr, xts and lrw; aria under ecb,
cbc and ctr (its gcm is ciphers.aead_algs'); seed under ecb; lrw over aes.
The generic drivers are the templates over "<cipher>-generic" at its
priority (100), named as the kernel names them (``cbc(des3_ede-generic)``;
xts and lrw spawn ``ecb(cipher)``, hence ``xts(ecb(sm4-generic))`` and
``lrw(ecb(aes-generic))``).  The accelerated drivers (priority 300, like
the project's other "-openssl" family) are the library's modes where
``cryptography`` has them, as the x86 glue registers exactly these:
ecb/cbc of des3_ede (des3_ede-x86_64) and camellia (camellia-x86_64),
ecb/cbc/ctr of sm4 (sm4-aesni-avx), cts over the accelerated cbc(sm4),
and lrw over the accelerated ecb, ecb/cbc of blowfish (blowfish-x86_64)
and of cast5 (cast5-avx-x86_64); x86 has no single-DES or SEED glue, so
des and seed have the generic drivers only.  The library has no CTR for
8-byte blocks or Camellia and no XTS but AES's, so ctr(des3_ede), ctr(camellia)
and the xts of sm4 and camellia have the generic driver only; no library
has ARIA at all, so its drivers are the templates over the model's own
vectorised core (ciphers.aria), like the kernel's aria-generic.

Key checks are the ciphers' setkeys: exact lengths (the API's min/max
check comes first), des's weak and semi-weak keys and des3_ede's
degenerate ones refused with CRYPTO_TFM_REQ_FORBID_WEAK_KEYS (their
setkeys turn the helpers' -ENOKEY into -EINVAL), xts_verify_key() for the xts keys, and for lrw
the child's setkey on all but the last 16 bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import algorithms

from ciphers.accel import AccelCbc, AccelCtr, AccelCts, AccelEcb
from ciphers.aes import AES_KEYSIZES, AesBlockCipher, BlockCipher
from ciphers.algapi import CRYPTO_TFM_REQ_FORBID_WEAK_KEYS
from ciphers.aria import ARIA_KEYSIZES, AriaBlockCipher
from ciphers.blowfish import BF_KEYSIZES, BlowfishBlockCipher, blowfish_algorithm
from ciphers.camellia import CAMELLIA_KEYSIZES, CamelliaBlockCipher, camellia_algorithm
from ciphers.cast5 import CAST5_KEYSIZES, Cast5BlockCipher, cast5_algorithm
from ciphers.cbc import Cbc
from ciphers.ctr import Ctr
from ciphers.cts import Cts, cts_final_len
from ciphers.des import (
    DES3_EDE_KEY_SIZE,
    DES_KEY_SIZE,
    Des3EdeBlockCipher,
    DesBlockCipher,
    des3_ede_algorithm,
    des3_ede_verify_key,
    des_algorithm,
    des_verify_key,
)
from ciphers.ecb import Ecb
from ciphers.lrw import LRW_BLOCK_SIZE, Lrw, LrwTable
from ciphers.seed import SEED_KEY_SIZE, SeedBlockCipher, seed_algorithm
from ciphers.skcipher_impl import (
    ACCEL_PRIORITY,
    GENERIC_PRIORITY,
    LEN_ANY,
    LEN_BLOCKS,
    LEN_MIN_BLOCK,
    Core,
    KeySched,
    SkcipherImpl,
)
from ciphers.sm4 import SM4_KEY_SIZE, Sm4BlockCipher
from ciphers.xts import Xts, xts_final_len, xts_verify_key
from kmem import errno as E

__all__ = ["BLOCK_CIPHERS", "BlockCipherDesc", "cipher_impls"]


@dataclass(frozen=True)
class BlockCipherDesc:
    """One ``struct crypto_alg`` of type cipher: name, block size, key
    sizes, the model's block cipher, the library algorithm for the
    accelerated modes (None: no library mode), the templates testmgr tests
    it under, and the weak-key check of its setkey (``(key, flags)`` ->
    errno, or None)."""

    name: str
    blocksize: int
    keysizes: tuple[int, ...]
    cipher: Callable[[bytes], BlockCipher]
    algorithm: Callable[[bytes], Any] | None
    templates: tuple[str, ...]
    accel: tuple[str, ...]
    verify: Callable[[bytes, int], int] | None = None


def _des3_ede_verify(key: bytes, flags: int) -> int:
    """des3_ede_setkey(): -ENOKEY from the check becomes -EINVAL when the
    caller forbids weak keys (and is ignored otherwise)."""
    err = des3_ede_verify_key(key, True)
    if err == -E.ENOKEY:
        return -E.EINVAL if flags & CRYPTO_TFM_REQ_FORBID_WEAK_KEYS else 0
    return err


def _des_verify(key: bytes, flags: int) -> int:
    """crypto_des_verify_key(): a weak or semi-weak key (-ENOKEY from
    des_expand_key()) is -EINVAL when the caller forbids weak keys, and
    accepted otherwise."""
    if des_verify_key(key) == -E.ENOKEY:
        return -E.EINVAL if flags & CRYPTO_TFM_REQ_FORBID_WEAK_KEYS else 0
    return 0


BLOCK_CIPHERS: tuple[BlockCipherDesc, ...] = (
    BlockCipherDesc("des3_ede", 8, (DES3_EDE_KEY_SIZE,), Des3EdeBlockCipher, des3_ede_algorithm,
                    ("ecb", "cbc", "ctr"), ("ecb", "cbc"), _des3_ede_verify),
    BlockCipherDesc("des", 8, (DES_KEY_SIZE,), DesBlockCipher, des_algorithm,
                    ("ecb", "cbc", "ctr"), (), _des_verify),
    BlockCipherDesc("blowfish", 8, BF_KEYSIZES, BlowfishBlockCipher, blowfish_algorithm,
                    ("ecb", "cbc", "ctr"), ("ecb", "cbc")),
    BlockCipherDesc("cast5", 8, CAST5_KEYSIZES, Cast5BlockCipher, cast5_algorithm,
                    ("ecb", "cbc", "ctr"), ("ecb", "cbc")),
    BlockCipherDesc("sm4", 16, (SM4_KEY_SIZE,), Sm4BlockCipher, algorithms.SM4,
                    ("ecb", "cbc", "ctr", "xts", "cts"), ("ecb", "cbc", "ctr", "cts")),
    BlockCipherDesc("camellia", 16, CAMELLIA_KEYSIZES, CamelliaBlockCipher, camellia_algorithm,
                    ("ecb", "cbc", "ctr", "xts", "lrw"), ("ecb", "cbc", "lrw")),
    BlockCipherDesc("seed", 16, (SEED_KEY_SIZE,), SeedBlockCipher, seed_algorithm, ("ecb",), ()),
    BlockCipherDesc("aria", 16, ARIA_KEYSIZES, AriaBlockCipher, None, ("ecb", "cbc", "ctr"), ()),
    BlockCipherDesc("aes", 16, AES_KEYSIZES, AesBlockCipher, None, ("lrw",), ("lrw",)),
)


# Key setup.

def _setkey(c: BlockCipherDesc) -> Callable[[bytes, int], tuple[int, KeySched]]:
    """The cipher's setkey: (key, block cipher), or -EINVAL."""
    def setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
        if len(key) not in c.keysizes:
            return -E.EINVAL, None
        if c.verify is not None:
            err = c.verify(key, flags)
            if err:
                return err, None
        return 0, (key, c.cipher(key))
    return setkey


def _xts_setkey(c: BlockCipherDesc) -> Callable[[bytes, int], tuple[int, KeySched]]:
    """xts_setkey(): xts_verify_key(), then each half the cipher's key."""
    def setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
        weak = bool(flags & CRYPTO_TFM_REQ_FORBID_WEAK_KEYS)
        err = xts_verify_key(key, weak)
        if err:
            return err, None
        if len(key) // 2 not in c.keysizes:
            return -E.EINVAL, None
        return 0, (key, weak)
    return setkey


def _lrw_setkey(c: BlockCipherDesc) -> Callable[[bytes, int], tuple[int, KeySched]]:
    """lrw_setkey(): the child ecb(cipher) gets ``keylen - 16`` bytes, the
    last 16 are the tweak key K2 (its multiplication table built here)."""
    inner = _setkey(c)

    def setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
        if len(key) < LRW_BLOCK_SIZE:
            return -E.EINVAL, None
        err, sched = inner(key[:-LRW_BLOCK_SIZE], flags)
        if err:
            return err, None
        return 0, (*sched, LrwTable(key[-LRW_BLOCK_SIZE:]))
    return setkey


# Cores per request: generic from our modes over the block cipher,
# accelerated from the library's contexts.

def _cores(c: BlockCipherDesc, template: str) -> tuple[Callable, Callable | None]:
    alg = c.algorithm
    if template == "ecb":
        return (lambda s, iv, enc: Ecb(s[1], enc),
                lambda s, iv, enc: AccelEcb(s[0], enc, algorithm=alg))
    if template == "cbc":
        return (lambda s, iv, enc: Cbc(s[1], iv, enc),
                lambda s, iv, enc: AccelCbc(s[0], iv, enc, algorithm=alg))
    if template == "ctr":
        return (lambda s, iv, enc: Ctr(s[1], iv),
                lambda s, iv, enc: AccelCtr(s[0], iv, algorithm=alg))
    if template == "cts":
        return (lambda s, iv, enc: Cts(s[1], iv, enc),
                lambda s, iv, enc: AccelCts(s[0], iv, enc, cipher=s[1], algorithm=alg))
    if template == "xts":
        return (lambda s, iv, enc: Xts(s[0], iv, enc, forbid_weak_keys=s[1], cipher=c.cipher),
                None)
    if template == "lrw":
        def accel_lrw(s: KeySched, iv: bytes, enc: bool) -> Core:
            return _AccelLrw(s, iv, enc, alg)
        return lambda s, iv, enc: Lrw(s[1], s[2], iv, enc), accel_lrw
    raise ValueError(f"template: {template!r} is not one of the cipher templates")


class _AccelLrw(Lrw):
    """lrw(ecb-<cipher>-openssl): the LRW template over the accelerated ECB,
    the library's ECB context doing the block step."""

    def __init__(self, s: KeySched, iv: bytes, encrypt: bool,
                 algorithm: Callable[[bytes], Any] | None) -> None:
        super().__init__(s[1], s[2], iv, encrypt)
        ecb = AccelEcb(s[0], encrypt, algorithm=algorithm)
        self._fn = ecb._lib_blocks


def _impls(c: BlockCipherDesc, template: str) -> list[SkcipherImpl]:
    bs = c.blocksize
    gen_core, acc_core = _cores(c, template)
    minkey, maxkey = min(c.keysizes), max(c.keysizes)
    setkey = _setkey(c)
    name = f"{template}({c.name})"
    gen = f"{template}({c.name}-generic)"
    acc = f"{template}-{c.name}-openssl"
    rule, iv_out, final_len, blocksize, ivsize = LEN_BLOCKS, True, None, bs, bs
    if template == "ecb":
        iv_out, ivsize = False, 0
    elif template == "ctr":
        rule, blocksize = LEN_ANY, 1
    elif template == "cts":
        name, gen, acc = f"cts(cbc({c.name}))", f"cts(cbc({c.name}-generic))", \
            f"cts(cbc-{c.name}-openssl)"
        rule, final_len = LEN_MIN_BLOCK, cts_final_len
    elif template == "xts":
        gen = f"xts(ecb({c.name}-generic))"
        rule, iv_out, final_len = LEN_MIN_BLOCK, False, xts_final_len
        minkey, maxkey, setkey = 2 * minkey, 2 * maxkey, _xts_setkey(c)
    elif template == "lrw":
        gen, acc = f"lrw(ecb({c.name}-generic))", f"lrw(ecb-{c.name}-openssl)"
        minkey, maxkey = minkey + LRW_BLOCK_SIZE, maxkey + LRW_BLOCK_SIZE
        setkey = _lrw_setkey(c)
    common = dict(cra_name=name, template=template, cra_blocksize=blocksize, ivsize=ivsize,
                  chunksize=bs, walksize=bs, min_keysize=minkey, max_keysize=maxkey,
                  len_rule=rule, iv_out=iv_out, final_len=final_len, setkey=setkey)
    out = [SkcipherImpl(cra_driver_name=gen, cra_priority=GENERIC_PRIORITY, new_core=gen_core,
                        **common)]
    if template in c.accel and acc_core is not None:
        out.append(SkcipherImpl(cra_driver_name=acc, cra_priority=ACCEL_PRIORITY,
                                new_core=acc_core, accelerated=True, **common))
    return out


def cipher_impls() -> dict[str, list[SkcipherImpl]]:
    """The implementations per kernel template file ("ecb", "cbc", "ctr",
    "xts", "cts", "lrw") of every cipher in :data:`BLOCK_CIPHERS`."""
    table: dict[str, list[SkcipherImpl]] = {}
    for c in BLOCK_CIPHERS:
        for template in c.templates:
            table.setdefault(template, []).extend(_impls(c, template))
    return table


