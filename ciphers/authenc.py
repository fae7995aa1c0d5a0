"""The authenc template (``crypto/authenc.c``) apart from its buffer walks:
the key blob (``crypto_authenc_extractkeys`` with the types of
``include/crypto/authenc.h``), an incremental HMAC (``crypto/hmac.c`` over
SHA-1/224/256/384/512; the arithmetic is hashlib's), the request core that
pairs the HMAC with the child skcipher's core, and the instances the
project registers (:data:`AUTHENC_INSTANCES`).

The template spawns any skcipher, so an instance here is an HMAC plus one
:class:`ciphers.skcipher_algs.SkcipherImpl` (the same generic or
accelerated implementation the skcipher registry offers): the child's
setkey checks the enc key (with the tfm's flags, for a weak-key rule), the
child's core does the data, and the instance's properties are derived as
``crypto_authenc_create()`` derives them: blocksize, ivsize and chunksize
of the child, priority ``10 * child + hash``, maxauthsize the digest size.

Key blob, as the kernel reads it::

    struct rtattr { u16 rta_len; u16 rta_type; }   host endian (little here)
    rta_type == CRYPTO_AUTHENC_KEYA_PARAM (1), payload == be32 enckeylen
    key = rtattr(rta_len = 8) ‖ be32 enckeylen ‖ authkey ‖ enckey

-EINVAL when: keylen < 4 or rta_len < 4 or rta_len > keylen (``RTA_OK``);
rta_type != 1; payload length rta_len - 4 != 4; fewer than enckeylen bytes
after the rtattr.  The enc key is the *last* enckeylen bytes, the auth key
what lies between.  The model reads host-endian fields as little-endian
(x86); the kernel on a big-endian machine reads them big-endian.

HMAC call order (:class:`Hmac`, from :meth:`HmacKey.new`): ``update(data)``
any number of times with any lengths, then ``final()`` for the full digest
or ``verify(tag)`` to compare a truncated tag in constant time.  authenc
MACs AD ‖ ciphertext: on encrypt the ciphertext the CBC core wrote, on
decrypt the source ciphertext before it is decrypted.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from ciphers.aead_plan import AeadImpl, AeadPlan, KeySched, StartFn, ptlen
from ciphers.aes import aes_check_keylen, as_key_bytes, u8_view
from ciphers.skcipher_algs import SkcipherImpl, impls
from kmem import errno

__all__ = [
    "AUTHENC_HASHES",
    "AUTHENC_INSTANCES",
    "CRYPTO_AUTHENC_KEYA_PARAM",
    "CRYPTO_AUTHENC_KEYA_UNSPEC",
    "AuthencCore",
    "AuthencInstance",
    "CryptoAuthencKeys",
    "Hmac",
    "HmacKey",
    "authenc_aead_impls",
    "authenc_check_authsize",
    "authenc_instances",
    "authenc_key_blob",
    "authenc_setkey",
    "crypto_authenc_extractkeys",
    "crypto_authenc_setkey",
]

CRYPTO_AUTHENC_KEYA_UNSPEC = 0
CRYPTO_AUTHENC_KEYA_PARAM = 1
_RTA_HDRLEN = 4            # sizeof(struct rtattr)
_PARAM_LEN = 4             # sizeof(struct crypto_authenc_key_param)

#: hash name -> (digest size, block size); the authenc maxauthsize is the digest size.
AUTHENC_HASHES: dict[str, tuple[int, int]] = {
    "sha1": (20, 64),
    "sha224": (28, 64),
    "sha256": (32, 64),
    "sha384": (48, 128),
    "sha512": (64, 128),
}

#: The instances Linux v7.3's crypto/testmgr.c lists (alg_test_descs), child
#: skcipher -> hashes.  The cbc(aes) sha224/sha384 and all rfc3686 entries
#: gained vectors in 2026 (Aleksander Jan Bajkowski's series); the ctr(aes)
#: ones are alg_test_null (no vectors, only the fuzz against the generic
#: driver).  md5 is left out (no library reference is wanted for it here).
AUTHENC_INSTANCES: dict[str, tuple[str, ...]] = {
    "ctr(aes)": ("sha1", "sha256", "sha384", "sha512"),
    "rfc3686(ctr(aes))": ("sha1", "sha224", "sha256", "sha384", "sha512"),
    "cbc(aes)": ("sha1", "sha224", "sha256", "sha384", "sha512"),
    "cbc(des3_ede)": ("sha1", "sha224", "sha256", "sha384", "sha512"),
    "cbc(des)": ("sha1", "sha224", "sha256", "sha384", "sha512"),
}


@dataclass(frozen=True)
class CryptoAuthencKeys:
    """``struct crypto_authenc_keys``: the two keys found in a blob."""

    authkey: bytes
    enckey: bytes

    @property
    def authkeylen(self) -> int:
        return len(self.authkey)

    @property
    def enckeylen(self) -> int:
        return len(self.enckey)


def crypto_authenc_extractkeys(key: Any,
                               keylen: int | None = None) -> tuple[int, CryptoAuthencKeys | None]:
    """Parse an authenc key blob: (0, keys) or (-EINVAL, None).

    Models ``crypto_authenc_extractkeys(keys, key, keylen)``; ``keys`` is
    the out-parameter, returned second.  ``keylen`` defaults to the length
    of ``key`` and may not exceed it.
    """
    kb = as_key_bytes(key)
    if keylen is None:
        keylen = len(kb)
    if not isinstance(keylen, int) or keylen < 0 or keylen > len(kb):
        raise ValueError(f"keylen: {keylen!r} outside the key buffer of {len(kb)} bytes")
    if keylen < _RTA_HDRLEN:
        return -errno.EINVAL, None
    rta_len = int.from_bytes(kb[0:2], "little")
    rta_type = int.from_bytes(kb[2:4], "little")
    if rta_len < _RTA_HDRLEN or rta_len > keylen:
        return -errno.EINVAL, None
    if rta_type != CRYPTO_AUTHENC_KEYA_PARAM:
        return -errno.EINVAL, None
    if rta_len - _RTA_HDRLEN != _PARAM_LEN:
        return -errno.EINVAL, None
    enckeylen = int.from_bytes(kb[_RTA_HDRLEN:_RTA_HDRLEN + _PARAM_LEN], "big")
    rest = kb[rta_len:keylen]
    if len(rest) < enckeylen:
        return -errno.EINVAL, None
    authkeylen = len(rest) - enckeylen
    return 0, CryptoAuthencKeys(authkey=rest[:authkeylen], enckey=rest[authkeylen:])


def authenc_key_blob(authkey: bytes, enckey: bytes) -> bytes:
    """Build the blob callers pass to setkey (what IPsec and testmgr build)."""
    header = (_RTA_HDRLEN + _PARAM_LEN).to_bytes(2, "little") \
        + CRYPTO_AUTHENC_KEYA_PARAM.to_bytes(2, "little")
    return header + len(enckey).to_bytes(4, "big") + bytes(authkey) + bytes(enckey)


def authenc_check_authsize(hash_name: str, authsize: int) -> int:
    """0 for 1 <= authsize <= digest size, else -EINVAL (the generic
    ``crypto_aead_setauthsize`` check; authenc has no hook of its own)."""
    digestsize = _hash_sizes(hash_name)[0]
    return 0 if 1 <= authsize <= digestsize else -errno.EINVAL


def _hash_sizes(hash_name: str) -> tuple[int, int]:
    try:
        return AUTHENC_HASHES[hash_name]
    except KeyError:
        raise ValueError(f"hash_name: unsupported hash {hash_name!r}") from None


class HmacKey:
    """hmac(shaN) with its key set (models ``hmac_setkey``: the padded
    inner and outer states are prepared once and copied per request).
    Any key length is valid, as in the kernel."""

    __slots__ = ("_base", "blocksize", "digestsize", "hash_name")

    def __init__(self, hash_name: str, key: Any) -> None:
        self.digestsize, self.blocksize = _hash_sizes(hash_name)
        self.hash_name = hash_name
        self._base = hmac.new(as_key_bytes(key), digestmod=getattr(hashlib, hash_name))

    def new(self) -> Hmac:
        """A fresh HMAC computation under this key."""
        return Hmac(self._base.copy(), self.digestsize)


class Hmac:
    """One HMAC computation (see the module docstring for the call order)."""

    __slots__ = ("_ctx", "_digest", "digestsize")

    def __init__(self, ctx: Any, digestsize: int) -> None:
        self._ctx = ctx
        self.digestsize = digestsize
        self._digest: bytes | None = None

    def update(self, data: Any) -> None:
        """Absorb bytes; any length, any split."""
        if self._digest is not None:
            raise ValueError("update: HMAC already finalized")
        self._ctx.update(u8_view(data, "data"))

    def final(self) -> bytes:
        """The full digest (idempotent)."""
        if self._digest is None:
            self._digest = self._ctx.digest()
        return self._digest

    def verify(self, tag: Any) -> bool:
        """Compare a tag of 1..digestsize bytes with the digest's prefix in
        constant time (``crypto_memneq``)."""
        tb = u8_view(tag, "tag").tobytes()
        if not 1 <= len(tb) <= self.digestsize:
            raise ValueError(f"tag: length must be 1..{self.digestsize}, got {len(tb)}")
        return hmac.compare_digest(self.final()[:len(tb)], tb)


def crypto_authenc_setkey(hash_name: str, key: Any,
                          keylen: int | None = None) -> tuple[int, HmacKey | None, bytes]:
    """Model of ``crypto_authenc_setkey`` for cbc(aes): parse the blob, key
    the HMAC, and check the AES key length.  Returns (0, hmac key, AES key)
    or (-EINVAL, None, b"")."""
    ret, keys = crypto_authenc_extractkeys(key, keylen)
    if ret or keys is None:
        return ret, None, b""
    if not aes_check_keylen(keys.enckeylen):
        return -errno.EINVAL, None, b""
    return 0, HmacKey(hash_name, keys.authkey), keys.enckey


def authenc_setkey(hash_name: str, child: SkcipherImpl, key: Any,
                   flags: int = 0) -> tuple[int, tuple[HmacKey, Any] | None]:
    """``crypto_authenc_setkey`` over any child skcipher: parse the blob,
    key the HMAC, then the child's setkey on the enc key (with the tfm's
    request flags, as the kernel passes them down).  Returns (0, (hmac
    key, child key schedule)) or (-EINVAL, None)."""
    ret, keys = crypto_authenc_extractkeys(key)
    if ret or keys is None:
        return ret, None
    mac = HmacKey(hash_name, keys.authkey)
    err, sched = child.setkey(keys.enckey, flags)
    return (err, None) if err else (0, (mac, sched))


class AuthencCore:
    """One authenc request with the AEAD core interface: ``update_ad``
    feeds the HMAC only; ``update(src, dst)`` runs the child skcipher's
    core and, when encrypting, MACs the ciphertext it wrote (the template
    hashes dst after the skcipher finished: same bytes).  When decrypting
    the template MACs and verifies the source *before* decrypting, so the
    driver feeds AD ‖ ciphertext through ``update_ad`` and ``update`` only
    decrypts.  ``update`` gets what the walk gives the child (whole blocks
    for a block mode, any piece for a stream mode); ``next_iv`` is the
    child's IV output."""

    __slots__ = ("_decrypt", "_enc", "_mac")

    def __init__(self, mac: Hmac, enc: Any, *, decrypt: bool = False) -> None:
        self._mac = mac
        self._enc = enc
        self._decrypt = decrypt

    def update_ad(self, data: Any) -> None:
        self._mac.update(data)

    def update(self, src: Any, dst: Any) -> None:
        self._enc.update(u8_view(src, "src"), dst)
        if not self._decrypt:
            self._mac.update(dst)

    def finalize(self) -> bytes:
        """The full HMAC digest (the driver truncates to authsize)."""
        return self._mac.final()

    def verify(self, tag: Any) -> bool:
        return self._mac.verify(tag)

    def next_iv(self) -> bytes:
        return self._enc.next_iv()


@dataclass(frozen=True)
class AuthencInstance:
    """``authenc(hmac(<hash_name>),<child>)``: names and properties as
    ``crypto_authenc_create()`` builds them (the hash's generic driver is
    ``<hash>-generic``, its priority 100)."""

    hash_name: str
    child: SkcipherImpl

    @property
    def cra_name(self) -> str:
        return f"authenc(hmac({self.hash_name}),{self.child.cra_name})"

    @property
    def cra_driver_name(self) -> str:
        return f"authenc(hmac({self.hash_name}-generic),{self.child.cra_driver_name})"

    @property
    def cra_priority(self) -> int:
        return self.child.cra_priority * 10 + _HASH_PRIORITY

    @property
    def maxauthsize(self) -> int:
        return _hash_sizes(self.hash_name)[0]

    def setkey(self, key: bytes, flags: int = 0) -> tuple[int, Any]:
        return authenc_setkey(self.hash_name, self.child, key, flags)

    def new_core(self, sched: Any, iv: bytes, decrypt: bool) -> AuthencCore:
        """A request core from a schedule :meth:`setkey` returned."""
        mac, enc = sched
        return AuthencCore(mac.new(), self.child.new_core(enc, iv, not decrypt),
                           decrypt=decrypt)


_HASH_PRIORITY = 100


def authenc_instances(accelerated: bool) -> list[AuthencInstance]:
    """The registered instances over the generic (or the accelerated)
    child implementations, in :data:`AUTHENC_INSTANCES` order; a child the
    skcipher registry does not have is left out."""
    children = {i.cra_name: i for i in impls() if i.accelerated == accelerated}
    return [AuthencInstance(h, children[name])
            for name, hashes in AUTHENC_INSTANCES.items() if name in children
            for h in hashes]


# The AEAD the template registers: its request plan (ciphers.aead_plan).
#   encrypt: when src != dst copy src AD -> dst AD, the child skcipher over
#   the text, HMAC dst[0:assoclen+cryptlen], the tag after the text;
#   decrypt: HMAC src[0:assoclen+ctlen] and compare first (-EBADMSG leaves
#   dst alone), then decrypt.  req->iv receives the child's IV output.

def authenc_start(inst: AuthencInstance) -> StartFn:
    """The plan of one request of ``inst`` (also essiv's inner request)."""
    iv_out = inst.child.iv_out

    def start(k: KeySched, iv: bytes, authsize: int, assoclen: int, cryptlen: int,
              decrypt: bool) -> tuple[int, AeadPlan | None]:
        n = ptlen(authsize, cryptlen, decrypt)
        core = inst.new_core(k, iv, decrypt)
        if decrypt:
            return 0, AeadPlan(core, assoclen + n, n, assoclen + n, verify_first=True,
                               iv_out=iv_out)
        return 0, AeadPlan(core, assoclen, n, assoclen + n, copy_len=assoclen,
                           auth_from_dst=True, iv_out=iv_out)
    return start


def authenc_aead_impl(inst: AuthencInstance) -> AeadImpl:
    return AeadImpl(inst.cra_name, inst.cra_driver_name, "authenc", inst.cra_priority,
                    inst.child.cra_blocksize, inst.child.ivsize, inst.child.chunksize,
                    inst.maxauthsize, inst.setkey, None, authenc_start(inst),
                    inst.child.accelerated, key_flags=True)


def authenc_aead_impls(accelerated: bool) -> list[AeadImpl]:
    """The registered instances as AEAD implementations."""
    return [authenc_aead_impl(i) for i in authenc_instances(accelerated)]
