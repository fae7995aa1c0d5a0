"""The AEAD algorithm descriptions both worlds register (the ``struct
aead_alg`` instances the kernel's templates build in crypto/gcm.c,
crypto/ccm.c, crypto/chacha20poly1305.c, crypto/authenc.c and
crypto/essiv.c, and crypto/aegis128-core.c's algorithm, plus an
"arch" family on ``cryptography``/``pycryptodome``), with everything of
their drivers that does not depend on how a request describes its buffers.

What each template does with a request, reduced to one plan
(:class:`AeadPlan`) that a world's driver executes over its own buffers:

======================  =====================================================
gcm(aes)                AD = src[0:assoclen] into GHASH; data walked through
                        ctr + GHASH; tag after the text.  dst AD untouched.
                        gcm(aria), gcm(sm4) the same over their ctr
                        (generic only).
rfc4106(gcm(aes))       assoclen 16 or 20 (else -EINVAL, nothing touched);
                        nonce = salt ‖ iv; AD = src[0:assoclen-8] (the IV
                        copy is left out).  dst AD untouched.
rfc4543(gcm(aes))       assoclen 16 or 20; GMAC: AD ‖ payload (IV copy
                        included) are GHASH's AD, nothing is encrypted; when
                        src != dst the template first copies AD ‖ payload
                        src -> dst (``crypto_rfc4543_copy_src_to_dst``).
ccm(aes)                iv[0] = L' must be 1..7 (-EINVAL); B0 encodes the
                        lengths (-EOVERFLOW); dst AD untouched.  ccm(sm4)
                        the same over ctr(sm4) and cbcmac(sm4).
rfc4309(ccm(aes))       assoclen 16 or 20; inner IV [3] ‖ salt(3) ‖ iv(8);
                        AD = src[0:assoclen-8].
rfc7539(chacha20,...)   AD = src[0:assoclen]; dst AD untouched.
rfc7539esp(...)         AD = src[0:assoclen-8]; assoclen < 8 is -EINVAL,
                        which the template notices in ``poly_genkey`` --
                        on encryption *after* ChaCha20 has written the
                        ciphertext (``late_err``).
authenc(hmac,<skcipher>) encrypt: when src != dst copy src AD -> dst AD,
                        the child skcipher over the payload, HMAC
                        dst[0:assoclen+cryptlen], tag after; decrypt: HMAC
                        src[0:assoclen+ctlen] and compare first (-EBADMSG
                        leaves dst alone), then decrypt.  req->iv receives
                        the child's IV output (cbc, ctr; rfc3686 has none).
essiv(authenc,sha256)   authenc's plan with the IV encrypted by AES-256
                        (SHA-256(enckey ‖ authkey)) and stored over the
                        AD's last 16 bytes (ciphers.essiv_aead).
aegis128                key 16 bytes, authsize 8..16; AD = src[0:assoclen];
                        dst AD untouched; on -EBADMSG the plaintext is
                        wiped from dst (a second walk writing zeros).
======================  =====================================================

On decryption gcm, ccm and chachapoly decrypt *before* they compare tags,
so on -EBADMSG the kernel leaves the unauthenticated plaintext in dst; the
legacy drivers keep that (the iov_iter twins zero it, DESIGN §7).

A world's driver file subclasses :class:`AeadDriverBase` and supplies the
buffer operations (copy a prefix src -> dst, feed a prefix to the core's
``update_ad``, read/write the tag, walk the data through ``update``); the
order of those operations and every check live here, once for both worlds.

Driver names follow the kernel's template instances over the generic
primitives (``gcm_base(ctr(aes-generic),ghash-generic)`` etc.; priority
(100 + 100) / 2 = 100, the rfc wrappers inherit their child's, authenc is
``10 * cbc + hmac`` = 1100).  The accelerated family (priority 300, authenc
3100) delegates the arithmetic to ``cryptography``/``pycryptodome``
streaming contexts (ciphers.aead_accel, ciphers.accel).
"""

from __future__ import annotations

from collections.abc import Callable

from ciphers.aead_accel import AccelCcm, AccelCcmKey, AccelChaChaPoly, AccelGcm, AccelGcmKey
from ciphers.aead_plan import (
    ACCEL_PRIORITY,
    GENERIC_PRIORITY,
    AeadDriverBase,
    AeadImpl,
    AeadPlan,
    Core,
    KeySched,
    StartFn,
    ptlen,
)
from ciphers.aegis128 import (
    AEGIS128_KEY_SIZE,
    AEGIS128_MAX_AUTH_SIZE,
    AEGIS128_NONCE_SIZE,
    Aegis128,
    crypto_aegis128_setauthsize,
)
from ciphers.aes import AES_BLOCK_SIZE, AesBlockCipher, BlockCipher, aes_check_keylen
from ciphers.aria import ARIA_KEYSIZES, AriaBlockCipher
from ciphers.authenc import AuthencCore, authenc_aead_impls
from ciphers.ccm import (
    CCM_AES_IV_SIZE,
    Ccm,
    crypto_ccm_check_authsize,
    crypto_rfc4309_check_authsize,
    rfc4309_iv,
    rfc4309_split_key,
)
from ciphers.chacha20poly1305 import (
    ChaChaPoly,
    chachapoly_split_key,
    rfc7539esp_check_assoclen,
)
from ciphers.essiv_aead import essiv_aead_impls
from ciphers.gcm import (
    GCM_AES_IV_SIZE,
    GCM_RFC4106_IV_SIZE,
    GCM_RFC4543_IV_SIZE,
    Gcm,
    GcmKey,
    crypto_gcm_check_authsize,
    crypto_ipsec_check_assoclen,
    crypto_rfc4106_check_authsize,
    crypto_rfc4543_check_authsize,
    rfc4106_nonce,
    rfc4106_split_key,
)
from ciphers.sm4 import SM4_KEY_SIZE, Sm4BlockCipher
from kmem import errno as E

__all__ = [
    "ACCEL_PRIORITY",
    "AEAD_TEMPLATES",
    "GENERIC_PRIORITY",
    "AeadDriverBase",
    "AeadImpl",
    "AeadPlan",
    "AuthencCore",
    "aead_impls",
]

AEAD_TEMPLATES = ("gcm", "ccm", "chacha20poly1305", "authenc", "essiv", "aegis128")
RFC_ESP_IV_SIZE = 8

# ------------------------------------------------------------------ key setup

def _gcm_setkey(key: bytes) -> tuple[int, KeySched]:
    if not aes_check_keylen(len(key)):
        return -E.EINVAL, None
    return 0, GcmKey(key)


def _gcm_cipher_setkey(cipher: type[BlockCipher],
                       keysizes: tuple[int, ...]) -> Callable[[bytes], tuple[int, KeySched]]:
    """crypto_gcm_setkey() over ctr(<cipher>): the child's key-length check."""
    def setkey(key: bytes) -> tuple[int, KeySched]:
        if len(key) not in keysizes:
            return -E.EINVAL, None
        return 0, GcmKey(key, cipher)
    return setkey


def _gcm_accel_setkey(key: bytes) -> tuple[int, KeySched]:
    if not aes_check_keylen(len(key)):
        return -E.EINVAL, None
    return 0, AccelGcmKey(key)


def _ccm_setkey(key: bytes) -> tuple[int, KeySched]:
    if not aes_check_keylen(len(key)):
        return -E.EINVAL, None
    return 0, AesBlockCipher(key)


def _ccm_accel_setkey(key: bytes) -> tuple[int, KeySched]:
    if not aes_check_keylen(len(key)):
        return -E.EINVAL, None
    return 0, AccelCcmKey(key)


def _salted(split: Callable[[bytes], tuple[int, bytes, bytes]],
            inner: Callable[[bytes], tuple[int, KeySched]]) -> Callable[[bytes],
                                                                       tuple[int, KeySched]]:
    """rfc4106/rfc4543/rfc4309 setkey: split the salt off the end (too
    short: -EINVAL), then the child's setkey on the rest."""
    def setkey(key: bytes) -> tuple[int, KeySched]:
        err, aes_key, salt = split(key)
        if err:
            return err, None
        err, sched = inner(aes_key)
        return (err, None) if err else (0, (sched, salt))
    return setkey


def _chachapoly_setkey(saltlen: int) -> Callable[[bytes], tuple[int, KeySched]]:
    def setkey(key: bytes) -> tuple[int, KeySched]:
        err, ckey, salt = chachapoly_split_key(key, saltlen)
        return (err, None) if err else (0, (ckey, salt))
    return setkey


# ------------------------------------------------------------------ requests

def _gcm_start(accel: bool) -> StartFn:
    cls = AccelGcm if accel else Gcm

    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        n = ptlen(authsize, cryptlen, decrypt)
        return 0, AeadPlan(cls(k, iv, decrypt=decrypt), assoclen, n, assoclen + n)
    return start


def _rfc4106_start(accel: bool) -> StartFn:
    cls = AccelGcm if accel else Gcm

    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        err = crypto_ipsec_check_assoclen(assoclen)
        if err:
            return err, None
        sched, salt = k
        n = ptlen(authsize, cryptlen, decrypt)
        core = cls(sched, rfc4106_nonce(salt, iv), decrypt=decrypt)
        return 0, AeadPlan(core, assoclen - RFC_ESP_IV_SIZE, n, assoclen + n)
    return start


def _rfc4543_start(accel: bool) -> StartFn:
    cls = AccelGcm if accel else Gcm

    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        err = crypto_ipsec_check_assoclen(assoclen)
        if err:
            return err, None
        sched, salt = k
        n = assoclen + ptlen(authsize, cryptlen, decrypt)
        core = cls(sched, rfc4106_nonce(salt, iv), decrypt=decrypt)
        return 0, AeadPlan(core, n, 0, n, copy_len=n)
    return start


def _ccm_request(accel: bool, k: KeySched, iv: bytes, authsize: int, adlen: int, n: int,
                 decrypt: bool) -> tuple[int, Core]:
    cls = AccelCcm if accel else Ccm
    return cls.new(k, iv, authsize, adlen, n, decrypt=decrypt)


def _ccm_start(accel: bool) -> StartFn:
    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        n = ptlen(authsize, cryptlen, decrypt)
        err, core = _ccm_request(accel, k, iv, authsize, assoclen, n, decrypt)
        if err:
            return err, None
        return 0, AeadPlan(core, assoclen, n, assoclen + n)
    return start


def _rfc4309_start(accel: bool) -> StartFn:
    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        err = crypto_ipsec_check_assoclen(assoclen)
        if err:
            return err, None
        sched, salt = k
        n = ptlen(authsize, cryptlen, decrypt)
        adlen = assoclen - RFC_ESP_IV_SIZE
        err, core = _ccm_request(accel, sched, rfc4309_iv(salt, iv), authsize, adlen, n,
                                 decrypt)
        if err:
            return err, None
        return 0, AeadPlan(core, adlen, n, assoclen + n)
    return start


def _chachapoly_start(accel: bool, esp: bool) -> StartFn:
    cls = AccelChaChaPoly if accel else ChaChaPoly

    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        key, salt = k
        n = ptlen(authsize, cryptlen, decrypt)
        adlen, late = assoclen, 0
        if esp:
            err, adlen = rfc7539esp_check_assoclen(assoclen)
            if err and decrypt:
                return err, None
            late = err
        core = cls(key, salt + iv, decrypt=decrypt)
        return 0, AeadPlan(core, adlen, n, assoclen + n, late_err=late)
    return start


def _aegis_setkey(key: bytes) -> tuple[int, KeySched]:
    """crypto_aegis128_setkey(): exactly 16 bytes."""
    if len(key) != AEGIS128_KEY_SIZE:
        return -E.EINVAL, None
    return 0, key


def _aegis_start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
                 decrypt: bool) -> tuple[int, AeadPlan | None]:
    n = ptlen(authsize, cryptlen, decrypt)
    return 0, AeadPlan(Aegis128(k, iv, decrypt=decrypt), assoclen, n, assoclen + n,
                       wipe_on_badmsg=True)


# ------------------------------------------------------------------ the table

_GCM_GENERIC = "gcm_base(ctr(aes-generic),ghash-generic)"
_CCM_GENERIC = "ccm_base(ctr(aes-generic),cbcmac(aes-generic))"
_GCM_ACCEL = "gcm-aes-openssl"
_CCM_ACCEL = "ccm-aes-openssl"
_CHACHAPOLY_GENERIC = "(chacha20-generic,poly1305-generic)"
_CHACHAPOLY_ACCEL = "(chacha20-openssl,poly1305-openssl)"


def _gcm_family(accel: bool) -> list[AeadImpl]:
    child = _GCM_ACCEL if accel else _GCM_GENERIC
    prio = ACCEL_PRIORITY if accel else GENERIC_PRIORITY
    setkey = _gcm_accel_setkey if accel else _gcm_setkey

    def rfc_authsize(check: Callable[[int], int]) -> Callable[[int], int]:
        # The wrapper's own rule, then the child gcm's.
        return lambda a: check(a) or crypto_gcm_check_authsize(a)

    return [
        AeadImpl("gcm(aes)", child, "gcm", prio, 1, GCM_AES_IV_SIZE, AES_BLOCK_SIZE, 16,
                 setkey, crypto_gcm_check_authsize, _gcm_start(accel), accel),
        AeadImpl("rfc4106(gcm(aes))", f"rfc4106({child})", "gcm", prio, 1,
                 GCM_RFC4106_IV_SIZE, AES_BLOCK_SIZE, 16, _salted(rfc4106_split_key, setkey),
                 rfc_authsize(crypto_rfc4106_check_authsize), _rfc4106_start(accel), accel),
        AeadImpl("rfc4543(gcm(aes))", f"rfc4543({child})", "gcm", prio, 1,
                 GCM_RFC4543_IV_SIZE, AES_BLOCK_SIZE, 16, _salted(rfc4106_split_key, setkey),
                 rfc_authsize(crypto_rfc4543_check_authsize), _rfc4543_start(accel), accel),
    ]


# gcm over the other 16-byte block ciphers testmgr tests it with, instantiated
# as the kernel does over their generic ctr and ghash: no library has GCM
# over them, so there is no accelerated driver.
_GCM_CIPHERS: tuple[tuple[str, type[BlockCipher], tuple[int, ...]], ...] = (
    ("aria", AriaBlockCipher, ARIA_KEYSIZES),
    ("sm4", Sm4BlockCipher, (SM4_KEY_SIZE,)),
)
# ccm likewise: ccm(sm4) over ctr(sm4-generic) and cbcmac(sm4-generic).
_CCM_CIPHERS = (("sm4", Sm4BlockCipher, (SM4_KEY_SIZE,)),)


def _gcm_cipher_family(accel: bool) -> list[AeadImpl]:
    if accel:
        return []
    return [AeadImpl(f"gcm({name})", f"gcm_base(ctr({name}-generic),ghash-generic)", "gcm",
                     GENERIC_PRIORITY, 1, GCM_AES_IV_SIZE, AES_BLOCK_SIZE, 16,
                     _gcm_cipher_setkey(cls, keys), crypto_gcm_check_authsize,
                     _gcm_start(False), False)
            for name, cls, keys in _GCM_CIPHERS]


def _ccm_cipher_setkey(cipher: type[BlockCipher],
                       keysizes: tuple[int, ...]) -> Callable[[bytes], tuple[int, KeySched]]:
    """crypto_ccm_setkey() over ctr(<cipher>) and cbcmac(<cipher>)."""
    def setkey(key: bytes) -> tuple[int, KeySched]:
        if len(key) not in keysizes:
            return -E.EINVAL, None
        return 0, cipher(key)
    return setkey


def _ccm_cipher_family(accel: bool) -> list[AeadImpl]:
    if accel:
        return []
    return [AeadImpl(f"ccm({name})", f"ccm_base(ctr({name}-generic),cbcmac({name}-generic))",
                     "ccm", GENERIC_PRIORITY, 1, CCM_AES_IV_SIZE, AES_BLOCK_SIZE, 16,
                     _ccm_cipher_setkey(cls, keys), crypto_ccm_check_authsize,
                     _ccm_start(False), False)
            for name, cls, keys in _CCM_CIPHERS]


def _ccm_family(accel: bool) -> list[AeadImpl]:
    child = _CCM_ACCEL if accel else _CCM_GENERIC
    prio = ACCEL_PRIORITY if accel else GENERIC_PRIORITY
    setkey = _ccm_accel_setkey if accel else _ccm_setkey
    return [
        AeadImpl("ccm(aes)", child, "ccm", prio, 1, CCM_AES_IV_SIZE, AES_BLOCK_SIZE, 16,
                 setkey, crypto_ccm_check_authsize, _ccm_start(accel), accel),
        AeadImpl("rfc4309(ccm(aes))", f"rfc4309({child})", "ccm", prio, 1, RFC_ESP_IV_SIZE,
                 AES_BLOCK_SIZE, 16, _salted(rfc4309_split_key, setkey),
                 lambda a: crypto_rfc4309_check_authsize(a) or crypto_ccm_check_authsize(a),
                 _rfc4309_start(accel), accel),
    ]


def _poly_authsize(authsize: int) -> int:
    return 0 if authsize == 16 else -E.EINVAL


def _chachapoly_family(accel: bool) -> list[AeadImpl]:
    tail = _CHACHAPOLY_ACCEL if accel else _CHACHAPOLY_GENERIC
    prio = ACCEL_PRIORITY if accel else GENERIC_PRIORITY
    return [
        AeadImpl("rfc7539(chacha20,poly1305)", f"rfc7539{tail}", "chacha20poly1305", prio, 1,
                 12, 64, 16, _chachapoly_setkey(0), _poly_authsize,
                 _chachapoly_start(accel, False), accel),
        AeadImpl("rfc7539esp(chacha20,poly1305)", f"rfc7539esp{tail}", "chacha20poly1305",
                 prio, 1, RFC_ESP_IV_SIZE, 64, 16, _chachapoly_setkey(4), _poly_authsize,
                 _chachapoly_start(accel, True), accel),
    ]


def _aegis_family(accel: bool) -> list[AeadImpl]:
    # crypto/aegis128-core.c: blocksize 1, chunksize 16; no library offers
    # AEGIS-128 (only AEGIS-128L/256), so there is no accelerated driver.
    if accel:
        return []
    return [AeadImpl("aegis128", "aegis128-generic", "aegis128", GENERIC_PRIORITY, 1,
                     AEGIS128_NONCE_SIZE, AES_BLOCK_SIZE, AEGIS128_MAX_AUTH_SIZE, _aegis_setkey,
                     crypto_aegis128_setauthsize, _aegis_start)]


_FAMILIES: dict[str, Callable[[bool], list[AeadImpl]]] = {
    "gcm": lambda accel: _gcm_family(accel) + _gcm_cipher_family(accel),
    "ccm": lambda accel: _ccm_family(accel) + _ccm_cipher_family(accel),
    "chacha20poly1305": _chachapoly_family,
    "authenc": authenc_aead_impls,
    "essiv": essiv_aead_impls,
    "aegis128": _aegis_family,
}
_IMPLS: dict[str, list[AeadImpl]] = {t: f(False) + f(True) for t, f in _FAMILIES.items()}


def aead_impls(template: str | None = None) -> list[AeadImpl]:
    """The implementations of one kernel template file ("gcm", "ccm",
    "chacha20poly1305", "authenc", "essiv", "aegis128"), or of all of them:
    generic first, then accelerated."""
    if template is None:
        return [i for lst in _IMPLS.values() for i in lst]
    if template not in _IMPLS:
        raise ValueError(f"template must be one of {AEAD_TEMPLATES}, got {template!r}")
    return list(_IMPLS[template])

