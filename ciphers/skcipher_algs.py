"""The skcipher algorithm descriptions both worlds register (the
``struct skcipher_alg`` definitions of crypto/ecb.c, crypto/cbc.c,
crypto/ctr.c, crypto/xts.c, crypto/cts.c, crypto/chacha.c,
crypto/essiv.c and of an "arch" driver family), with what is
layout-agnostic in their drivers: key setup, the per-request core, the
length rule and the IV-output rule.

A world's driver file (``sgl/cbc.py``, ``iovcrypto/cbc.py``) subclasses
:class:`SkcipherDriverBase` and adds only ``encrypt``/``decrypt``: the
loop over that world's walk, calling ``impl.new_core(...)`` per request.
Each :class:`SkcipherImpl` is one implementation (generic: our cores in
``ciphers``; accelerated: ``cryptography`` streaming contexts via
ciphers.accel); :func:`impls` lists them per kernel template file.

Properties follow the kernel: the generic templates inherit the priority
(100) of aes-generic; block modes have cra_blocksize 16, the stream modes
1 with chunksize 16 (ctr) or 64 (chacha); ctr, cts and essiv pass the
inner algorithm's key sizes through; rfc3686 adds the 4-byte nonce to
them and has an 8-byte IV; xts doubles them.  The accelerated family has
priority 300 and, like aesni's xts, a walksize of two blocks for xts.

Driver names: the generic ones are what testmgr calls the generic driver
of each algorithm.  ``xts(aes)`` is built by the kernel as
``xts(ecb(aes))``, so its generic driver is ``xts(ecb(aes-generic))``
(not what :func:`ciphers.algapi.generic_driver_name` gives);
:data:`GENERIC_DRIVERS` maps every cra_name to its generic driver.

Per-request state never lives in the tfm: ``new_core`` builds a fresh
core from the prepared key schedule and the request IV.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import algorithms, modes

from ciphers.accel import (
    AccelCbc,
    AccelChaCha20,
    AccelCtr,
    AccelCts,
    AccelEcb,
    AccelEssivCbc,
    AccelXChaCha20,
    HChaCha20Lib,
    lib_cipher_ctx,
    unit_scratch,
)
from ciphers.adiantum import ADIANTUM_TWEAK_SIZE, Adiantum, adiantum_setkey
from ciphers.aes import (
    AES_BLOCK_SIZE,
    AesBlockCipher,
    aes_check_keylen,
    lib_update_into,
    u8_view,
)
from ciphers.algapi import CRYPTO_TFM_REQ_FORBID_WEAK_KEYS
from ciphers.cbc import Cbc
from ciphers.chacha import CHACHA_BLOCK_SIZE, CHACHA_KEY_SIZE, ChaCha20, XChaCha20
from ciphers.ctr import Ctr
from ciphers.cts import Cts, cts_final_len
from ciphers.ecb import BlockModeCore, Ecb, check_pair
from ciphers.essiv import Essiv, EssivCbc
from ciphers.hctr2 import HCTR2_TWEAK_SIZE, Hctr2, hctr2_setkey
from ciphers.skcipher_ciphers import cipher_impls
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
from ciphers.xctr import Xctr
from ciphers.xts import Xts, xts_final_len, xts_tweak_advance, xts_verify_key
from kmem import errno as E
from kmem.access import buffer_views, copy_views, gather
from kmem.errno import KernelBug

__all__ = [
    "CTR_RFC3686_IV_SIZE",
    "CTR_RFC3686_NONCE_SIZE",
    "GENERIC_DRIVERS",
    "AccelXtsStream",
    "SkcipherDriverBase",
    "SkcipherImpl",
    "impls",
    "rfc3686_counter_block",
]

BS = AES_BLOCK_SIZE
CTR_RFC3686_NONCE_SIZE = 4
CTR_RFC3686_IV_SIZE = 8


class SkcipherDriverBase:
    """The layout-agnostic half of a driver object as the worlds' skcipher
    APIs expect it (``alg``, ``init``, ``setkey``); a world's driver file
    adds ``encrypt``/``decrypt``.  The tfm context holds ``tfm`` (for the
    request flags setkey needs, as ``crypto_skcipher_get_flags``) and the
    key schedule ``key`` (None until a setkey succeeds)."""

    def __init__(self, impl: SkcipherImpl) -> None:
        if not isinstance(impl, SkcipherImpl):
            raise TypeError(f"impl must be a SkcipherImpl, got {type(impl).__name__}")
        self.impl = impl
        self.alg = impl.make_alg()

    def init(self, tfm: Any) -> int:
        """``init_tfm``: remember the tfm for its flags."""
        tfm.ctx.tfm = tfm
        tfm.ctx.key = None
        return 0

    def new_core(self, ctx: Any, iv: object, encrypt: bool) -> Core:
        """The request's core from the tfm's key schedule and the IV (a
        numpy view, bytes-like, or None for ivsize 0).  A NULL IV on an
        algorithm that has one is the kernel's NULL dereference."""
        if iv is None:
            if self.impl.ivsize:
                raise KernelBug(f"{self.alg.cra_driver_name}: NULL req->iv")
            ivb = b""
        else:
            ivb = u8_view(iv, "iv")[:self.impl.ivsize].tobytes()
        return self.impl.new_core(ctx.key, ivb, encrypt)

    def read_iv(self, iv: object) -> np.ndarray | None:
        """The ``ivsize`` bytes of a request IV buffer (bytearray, numpy
        array or kernel address) as a copy; None for a NULL IV."""
        if iv is None or not self.impl.ivsize:
            return None
        return gather(buffer_views(iv, self.impl.ivsize))

    def iv_bytes(self, iv: object) -> bytes | None:
        """:meth:`read_iv` as bytes.  A bytearray long enough (the usual
        caller's IV buffer) is sliced directly: it is no kernel memory, so
        there is nothing to check or record."""
        n = self.impl.ivsize
        if type(iv) is bytearray and len(iv) >= n:
            return bytes(iv[:n])
        v = self.read_iv(iv)
        return None if v is None else v.tobytes()

    def write_iv(self, iv: object, core: Core) -> None:
        """Store the core's next IV in ``iv`` (a walk's IV view or the
        request's IV buffer) when the algorithm has an IV output."""
        if iv is None or not self.impl.iv_out:
            return
        out = np.frombuffer(core.next_iv(), dtype=np.uint8)
        if isinstance(iv, np.ndarray):
            iv[:out.size] = out
        else:
            copy_views(buffer_views(iv, out.size, write=True), [out])

    def setkey(self, ctx: Any, key: bytes) -> int:
        """The algorithm's setkey: 0 or -EINVAL; on error the old schedule
        is dropped (the API sets NEED_KEY anyway)."""
        flags = getattr(getattr(ctx, "tfm", None), "crt_flags", 0)
        err, sched = self.impl.setkey(key, flags)
        ctx.key = None if err else sched
        return err


# Key setup (the algorithms' setkey functions).

def _aes_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    """aes_expandkey()/crypto_aes_set_key(): 16, 24 or 32 bytes."""
    if not aes_check_keylen(len(key)):
        return -E.EINVAL, None
    return 0, (key, AesBlockCipher(key))


def _rfc3686_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    """crypto_rfc3686_setkey(): the nonce is the last 4 key bytes."""
    if len(key) < CTR_RFC3686_NONCE_SIZE:
        return -E.EINVAL, None
    err, inner = _aes_setkey(key[:-CTR_RFC3686_NONCE_SIZE], flags)
    return err, None if err else (inner, key[-CTR_RFC3686_NONCE_SIZE:])


def _xts_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    """xts_setkey(): xts_verify_key(), then each half an AES key."""
    err = xts_verify_key(key, bool(flags & CRYPTO_TFM_REQ_FORBID_WEAK_KEYS))
    if err:
        return err, None
    half = len(key) // 2
    if not aes_check_keylen(half):
        return -E.EINVAL, None
    return 0, (key, bool(flags & CRYPTO_TFM_REQ_FORBID_WEAK_KEYS))


def _xts_accel_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    err, sched = _xts_setkey(key, flags)
    if err:
        return err, None
    half = len(key) // 2
    # OpenSSL has no AES-192-XTS and refuses equal halves; those keys keep
    # the generic core (as an arch driver falls back for what it lacks).
    # The library's algorithm object is made once per key, as the arch
    # driver expands its round keys once at setkey.
    if half == 24 or key[:half] == key[half:]:
        return 0, (*sched, None, None)
    return 0, (*sched, AesBlockCipher(key[half:]), algorithms.AES(key))


def _chacha_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    if len(key) != CHACHA_KEY_SIZE:
        return -E.EINVAL, None
    return 0, key


def _xchacha_accel_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    """The key with its library HChaCha20 context, made once per key."""
    err, key = _chacha_setkey(key, flags)
    return err, None if err else HChaCha20Lib(key)


def _essiv_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    """essiv_skcipher_setkey(): the inner cbc(aes) gets the key, the ESSIV
    cipher the SHA-256 of it (32 bytes: AES-256)."""
    err, inner = _aes_setkey(key, flags)
    if err:
        return err, None
    return 0, (inner, Essiv(key))


# Cores per request.

def rfc3686_counter_block(nonce: bytes, iv: bytes) -> bytes:
    """crypto_rfc3686_crypt(): nonce(4) ‖ iv(8) ‖ be32 1."""
    return nonce + iv + (1).to_bytes(4, "big")


def _ecb_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Ecb(s[1], enc)


def _ecb_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    return AccelEcb(s[0], enc)


def _cbc_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Cbc(s[1], iv, enc)


def _cbc_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    return AccelCbc(s[0], iv, enc)


def _ctr_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Ctr(s[1], iv)


def _ctr_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    return AccelCtr(s[0], iv)


def _rfc3686_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Ctr(s[0][1], rfc3686_counter_block(s[1], iv))


def _rfc3686_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    return AccelCtr(s[0][0], rfc3686_counter_block(s[1], iv))


def _xts_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Xts(s[0], iv, enc, forbid_weak_keys=s[1])


def _xts_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    if s[2] is None:
        return Xts(s[0], iv, enc, forbid_weak_keys=s[1])
    return AccelXtsStream(s[3], s[2], iv, enc)


def _xts_accel_one_shot(s: KeySched, iv: bytes | None, enc: bool, src: np.ndarray,
                        dst: np.ndarray) -> bool:
    """A whole data unit (>= 16 bytes, src and dst of its length) in one
    library call, stealing included: the library starts from E_k2(IV)
    itself.  False for the keys the library refuses (the generic core
    serves them) and for a NULL IV (the core's NULL dereference)."""
    if s[3] is None or iv is None or len(iv) != BS:
        return False
    ctx = lib_cipher_ctx(s[3], modes.XTS(iv), enc)
    if not np.may_share_memory(src, dst):
        ctx.update_into(src, dst)       # straight into the destination frame
        return True
    out = unit_scratch(src.size)
    if out is None:
        lib_update_into(ctx, src, dst, stream=False)
    else:
        ctx.update_into(src, out)
        dst[:] = out
    return True


def _cts_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Cts(s[1], iv, enc)


def _cts_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    return AccelCts(s[0], iv, enc)


def _chacha_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return ChaCha20(s, iv)


def _chacha_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    return AccelChaCha20(s, iv)


def _xchacha_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return XChaCha20(s, iv)


def _xchacha_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    return AccelXChaCha20(s, iv)


def _xchacha12_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return XChaCha20(s, iv, nrounds=12)


def _xctr_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Xctr(s[1], iv)


def _hctr2_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    return hctr2_setkey(key)


def _hctr2_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Hctr2(s, iv, enc)


def _adiantum12_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    return adiantum_setkey(key, 12)


def _adiantum20_setkey(key: bytes, flags: int) -> tuple[int, KeySched]:
    return adiantum_setkey(key, 20)


def _adiantum_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    return Adiantum(s, iv, enc)


def _essiv_core(s: KeySched, iv: bytes, enc: bool) -> Core:
    (key, cipher), gen = s
    return EssivCbc(key, iv, enc, essiv=gen, cipher=cipher)


def _essiv_accel(s: KeySched, iv: bytes, enc: bool) -> Core:
    (key, _), gen = s
    return AccelEssivCbc(key, iv, enc, essiv=gen)


# The accelerated XTS core.

_M128 = (1 << 128) - 1


class AccelXtsStream(BlockModeCore):
    """Streaming XTS over OpenSSL (xts-aes-openssl).  A ``cryptography``
    XTS context restarts its data unit on each call, so every span gets a
    fresh context whose "IV" is chosen to reproduce the current tweak:
    OpenSSL starts from E_k2(IV), so the IV for tweak T is D_k2(T).  The
    span's whole blocks then go to the library in one call; the last
    block and the partial tail go through :meth:`final` together, where
    the library does the ciphertext stealing.  Same interface as
    :class:`ciphers.xts.Xts`.  ``alg`` is the library's AES object over
    key1 ‖ key2 with AES-128/256 halves that differ (others stay on the
    generic core), ``tweak_cipher`` key2's block cipher."""

    def __init__(self, alg: algorithms.AES, tweak_cipher: AesBlockCipher,
                 iv: bytes | np.ndarray, encrypt: bool = True) -> None:
        ivb = u8_view(iv, "iv")
        if ivb.size != BS:
            raise ValueError(f"iv: XTS IV must be 16 bytes, got {ivb.size}")
        super().__init__()
        self._alg = alg
        self._k2 = tweak_cipher
        self.iv = ivb.tobytes()
        self.encrypt = encrypt
        # The tweak is computed only when a span needs it: a data unit that
        # reaches the library in one call (the usual request) starts from
        # the IV itself, and nothing needs the tweak after the last span.
        self._tweak: int | None = None    # at _tweak_blocks blocks before here
        self._tweak_blocks = 0
        self.finalized = False

    @property
    def tweak(self) -> int:
        """The tweak of the next block (E_k2(IV)·x^processed-blocks)."""
        if self._tweak is None:
            self._tweak = int.from_bytes(self._k2.encrypt_block(self.iv), "little")
        if self._tweak_blocks:
            self._tweak = xts_tweak_advance(self._tweak, self._tweak_blocks)
            self._tweak_blocks = 0
        return self._tweak

    def _ctx(self) -> Any:
        # The library starts a data unit from E_k2(its IV): at the first
        # block that IV is ours, later it is D_k2 of the running tweak.
        iv = self.iv if not self.processed else self._k2.decrypt_block(
            self.tweak.to_bytes(BS, "little"))
        return lib_cipher_ctx(self._alg, modes.XTS(iv), self.encrypt)

    def _blocks(self, src: np.ndarray, dst: np.ndarray) -> None:
        if self.finalized:
            raise ValueError("XTS data unit already finalized")
        # In place, the span goes through the kept unit scratch (the
        # library refuses overlap, and its update() would take fresh pages).
        out = unit_scratch(src.size) if np.may_share_memory(src, dst) else None
        if out is None:
            lib_update_into(self._ctx(), src, dst, stream=False)
        else:
            self._ctx().update_into(src, out)
            dst[:] = out
        self._tweak_blocks += src.size // BS

    def final(self, src: np.ndarray, dst: np.ndarray) -> None:
        """The end of the data unit; the last full block and a partial tail
        must arrive together (as for :meth:`ciphers.xts.Xts.final`)."""
        s, d = check_pair(src, dst)
        if self.finalized:
            raise ValueError("XTS data unit already finalized")
        total = self.processed + self._npend + s.size
        if total < BS:
            raise ValueError(f"XTS data unit of {total} bytes is shorter than 16")
        r = total % BS
        if r and self._npend + s.size < BS + r:
            raise ValueError(f"final: the last full block and the tail must reach final() "
                             f"together ({BS + r} bytes)")
        data, views = self._feed_to_tail(s, d, BS + r if r else 0)
        if data.size:
            out = np.empty(data.size, dtype=np.uint8)
            lib_update_into(self._ctx(), data, out, stream=False)
            self._scatter(out, views)
            self.processed += data.size
            self._tweak_blocks += 2
        self.finalized = True

    def next_iv(self) -> bytes:
        """xts(aes) writes no IV back: the IV as given."""
        return self.iv


# The table.

def _aes_impls(template: str, name: str, gen_drv: str, acc_drv: str, *, bs: int, ivsize: int,
               chunk: int, minkey: int, maxkey: int, len_rule: str, iv_out: bool,
               setkey: Callable, cores: tuple[Callable, Callable],
               final_len: Callable[[int], int] | None = None,
               acc_walk: int = 0, acc_setkey: Callable | None = None,
               acc_one_shot: Callable | None = None) -> list[SkcipherImpl]:
    common = dict(cra_name=name, template=template, cra_blocksize=bs, ivsize=ivsize,
                  chunksize=chunk, min_keysize=minkey, max_keysize=maxkey,
                  len_rule=len_rule, iv_out=iv_out, final_len=final_len)
    return [
        SkcipherImpl(cra_driver_name=gen_drv, cra_priority=GENERIC_PRIORITY, walksize=chunk,
                     setkey=setkey, new_core=cores[0], **common),
        SkcipherImpl(cra_driver_name=acc_drv, cra_priority=ACCEL_PRIORITY,
                     walksize=acc_walk or chunk, setkey=acc_setkey or setkey,
                     new_core=cores[1], accelerated=True, one_shot=acc_one_shot, **common),
    ]


def _generic_only(template: str, name: str, drv: str, *, bs: int, ivsize: int, chunk: int,
                  minkey: int, maxkey: int, len_rule: str, setkey: Callable,
                  core: Callable) -> list[SkcipherImpl]:
    """An algorithm no library offers (xctr, hctr2, xchacha12, adiantum): only the
    generic driver, built from our own mode logic."""
    return [SkcipherImpl(cra_name=name, cra_driver_name=drv, template=template,
                         cra_priority=GENERIC_PRIORITY, cra_blocksize=bs, ivsize=ivsize,
                         chunksize=chunk, walksize=chunk, min_keysize=minkey,
                         max_keysize=maxkey, len_rule=len_rule, iv_out=False,
                         setkey=setkey, new_core=core)]


def _build() -> dict[str, list[SkcipherImpl]]:
    nk = CTR_RFC3686_NONCE_SIZE
    return {
        "ecb": _aes_impls("ecb", "ecb(aes)", "ecb(aes-generic)", "ecb-aes-openssl", bs=BS,
                          ivsize=0, chunk=BS, minkey=16, maxkey=32, len_rule=LEN_BLOCKS,
                          iv_out=False, setkey=_aes_setkey, cores=(_ecb_core, _ecb_accel)),
        "cbc": _aes_impls("cbc", "cbc(aes)", "cbc(aes-generic)", "cbc-aes-openssl", bs=BS,
                          ivsize=BS, chunk=BS, minkey=16, maxkey=32, len_rule=LEN_BLOCKS,
                          iv_out=True, setkey=_aes_setkey, cores=(_cbc_core, _cbc_accel)),
        "ctr": _aes_impls("ctr", "ctr(aes)", "ctr(aes-generic)", "ctr-aes-openssl", bs=1,
                          ivsize=BS, chunk=BS, minkey=16, maxkey=32, len_rule=LEN_ANY,
                          iv_out=True, setkey=_aes_setkey, cores=(_ctr_core, _ctr_accel))
        + _aes_impls("ctr", "rfc3686(ctr(aes))", "rfc3686(ctr(aes-generic))",
                     "rfc3686(ctr-aes-openssl)", bs=1, ivsize=CTR_RFC3686_IV_SIZE, chunk=BS,
                     minkey=16 + nk, maxkey=32 + nk, len_rule=LEN_ANY, iv_out=False,
                     setkey=_rfc3686_setkey, cores=(_rfc3686_core, _rfc3686_accel)),
        "xts": _aes_impls("xts", "xts(aes)", "xts(ecb(aes-generic))", "xts-aes-openssl", bs=BS,
                          ivsize=BS, chunk=BS, minkey=32, maxkey=64, len_rule=LEN_MIN_BLOCK,
                          iv_out=False, setkey=_xts_setkey, cores=(_xts_core, _xts_accel),
                          final_len=xts_final_len, acc_walk=2 * BS,
                          acc_setkey=_xts_accel_setkey, acc_one_shot=_xts_accel_one_shot),
        "cts": _aes_impls("cts", "cts(cbc(aes))", "cts(cbc(aes-generic))",
                          "cts(cbc-aes-openssl)", bs=BS, ivsize=BS, chunk=BS, minkey=16,
                          maxkey=32, len_rule=LEN_MIN_BLOCK, iv_out=True, setkey=_aes_setkey,
                          cores=(_cts_core, _cts_accel), final_len=cts_final_len),
        "chacha": _aes_impls("chacha", "chacha20", "chacha20-generic", "chacha20-openssl",
                             bs=1, ivsize=16, chunk=CHACHA_BLOCK_SIZE, minkey=32, maxkey=32,
                             len_rule=LEN_ANY, iv_out=False, setkey=_chacha_setkey,
                             cores=(_chacha_core, _chacha_accel))
        + _aes_impls("chacha", "xchacha20", "xchacha20-generic", "xchacha20-openssl", bs=1,
                     ivsize=32, chunk=CHACHA_BLOCK_SIZE, minkey=32, maxkey=32,
                     len_rule=LEN_ANY, iv_out=False, setkey=_chacha_setkey,
                     cores=(_xchacha_core, _xchacha_accel), acc_setkey=_xchacha_accel_setkey)
        + _generic_only("chacha", "xchacha12", "xchacha12-generic", bs=1, ivsize=32,
                        chunk=CHACHA_BLOCK_SIZE, minkey=32, maxkey=32, len_rule=LEN_ANY,
                        setkey=_chacha_setkey, core=_xchacha12_core),
        # crypto/xctr.c and crypto/hctr2.c: priorities from aes-generic (hctr2
        # weighs its parts (2 xctr + 4 polyval + 1 cipher) / 7, all 100 here).
        "xctr": _generic_only("xctr", "xctr(aes)", "xctr(aes-generic)", bs=1, ivsize=BS,
                              chunk=BS, minkey=16, maxkey=32, len_rule=LEN_ANY,
                              setkey=_aes_setkey, core=_xctr_core),
        "hctr2": _generic_only("hctr2", "hctr2(aes)",
                               "hctr2_base(xctr(aes-generic),polyval-generic)", bs=BS,
                               ivsize=HCTR2_TWEAK_SIZE, chunk=BS, minkey=16, maxkey=32,
                               len_rule=LEN_MIN_BLOCK, setkey=_hctr2_setkey,
                               core=_hctr2_core),
        # crypto/adiantum.c: priority (4 stream + 2 hash + 1 cipher) / 7.
        "adiantum": [
            impl for n in (12, 20) for impl in _generic_only(
                "adiantum", f"adiantum(xchacha{n},aes)",
                f"adiantum(xchacha{n}-generic,aes-generic,nhpoly1305-generic)", bs=BS,
                ivsize=ADIANTUM_TWEAK_SIZE, chunk=CHACHA_BLOCK_SIZE, minkey=32, maxkey=32,
                len_rule=LEN_MIN_BLOCK,
                setkey=_adiantum12_setkey if n == 12 else _adiantum20_setkey,
                core=_adiantum_core)],
        "essiv": _aes_impls("essiv", "essiv(cbc(aes),sha256)",
                            "essiv(cbc(aes-generic),sha256-generic)",
                            "essiv(cbc-aes-openssl,sha256-generic)", bs=BS, ivsize=BS,
                            chunk=BS, minkey=16, maxkey=32, len_rule=LEN_BLOCKS, iv_out=True,
                            setkey=_essiv_setkey, cores=(_essiv_core, _essiv_accel)),
    }


def _merged() -> dict[str, list[SkcipherImpl]]:
    table = _build()
    for template, lst in cipher_impls().items():
        table.setdefault(template, []).extend(lst)
    return table


_IMPLS = _merged()
TEMPLATES = tuple(_IMPLS)
GENERIC_DRIVERS = {i.cra_name: i.cra_driver_name
                   for lst in _IMPLS.values() for i in lst if not i.accelerated}


def impls(template: str | None = None) -> list[SkcipherImpl]:
    """The implementations of one kernel template file ("ecb", "cbc",
    "ctr", "xts", "cts", "chacha", "essiv", "xctr", "hctr2", "adiantum"), or of all
    of them."""
    if template is None:
        return [i for lst in _IMPLS.values() for i in lst]
    if template not in _IMPLS:
        raise ValueError(f"template must be one of {TEMPLATES}, got {template!r}")
    return list(_IMPLS[template])
