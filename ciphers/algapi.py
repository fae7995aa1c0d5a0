"""The layout-agnostic crypto API plumbing both worlds share
(crypto/api.c, crypto/algapi.c, include/linux/crypto.h,
include/crypto/algapi.h, crypto/testmgr.c's generic driver names).

What is here knows nothing of scatterlists or iov_iters: the algorithm
description record (:class:`CryptoAlg`), algorithm-name parsing into a
small tree (``cbc(aes)``, ``rfc4106(gcm(aes))``,
``authenc(hmac(sha256),cbc(aes))``), the generic-driver-name rule, and a
:class:`Registry` of implementations keyed by their description with the
kernel's lookup rules (exact driver-name match first, else the highest
priority cra_name match; type/mask filtering; CRYPTO_ALG_INTERNAL hidden
unless asked for; -ENOENT when absent).  Each world creates its own
Registry; the implementation object stored with a description is opaque
here.

The ERR_PTR convention of include/linux/err.h is modelled too: an
allocation returns either an object or a negative errno int
(:func:`IS_ERR`, :func:`PTR_ERR`, :func:`ERR_PTR`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kmem import errno as E

# cra_flags / tfm flags (include/linux/crypto.h).
CRYPTO_ALG_TYPE_MASK = 0x0000000F
CRYPTO_ALG_TYPE_CIPHER = 0x00000001
CRYPTO_ALG_TYPE_AEAD = 0x00000003
CRYPTO_ALG_TYPE_LSKCIPHER = 0x00000004
CRYPTO_ALG_TYPE_SKCIPHER = 0x00000005
CRYPTO_ALG_LARVAL = 0x00000010
CRYPTO_ALG_DEAD = 0x00000020
CRYPTO_ALG_DYING = 0x00000040
CRYPTO_ALG_ASYNC = 0x00000080
CRYPTO_ALG_NEED_FALLBACK = 0x00000100
CRYPTO_ALG_TESTED = 0x00000400
CRYPTO_ALG_INSTANCE = 0x00000800
CRYPTO_ALG_KERN_DRIVER_ONLY = 0x00001000
CRYPTO_ALG_INTERNAL = 0x00002000
CRYPTO_ALG_ALLOCATES_MEMORY = 0x00010000

CRYPTO_TFM_NEED_KEY = 0x00000001
CRYPTO_TFM_REQ_MASK = 0x000FFF00
CRYPTO_TFM_REQ_FORBID_WEAK_KEYS = 0x00000100
CRYPTO_TFM_REQ_MAY_SLEEP = 0x00000200
CRYPTO_TFM_REQ_MAY_BACKLOG = 0x00000400

CRYPTO_MAX_ALG_NAME = 128
CRYPTO_MINALIGN = 8              # ARCH_KMALLOC_MINALIGN on x86-64
MAX_ERRNO = 4095
MAX_ALGAPI_ALIGNMASK = 63
MAX_ALGAPI_BLOCKSIZE = 160
PAGE_SIZE = 4096

ALG_TYPES = ("skcipher", "aead", "lskcipher", "cipher", "shash", "ahash")
_TYPE_BITS = {"skcipher": CRYPTO_ALG_TYPE_SKCIPHER, "aead": CRYPTO_ALG_TYPE_AEAD,
              "lskcipher": CRYPTO_ALG_TYPE_LSKCIPHER, "cipher": CRYPTO_ALG_TYPE_CIPHER,
              "shash": 0xE, "ahash": 0xF}


def IS_ERR(ptr: object) -> bool:
    """True for an ERR_PTR: a negative errno int in -MAX_ERRNO..-1."""
    return isinstance(ptr, int) and not isinstance(ptr, bool) and -MAX_ERRNO <= ptr < 0


def IS_ERR_OR_NULL(ptr: object) -> bool:
    return ptr is None or IS_ERR(ptr)


def PTR_ERR(ptr: object) -> int:
    """The errno of an ERR_PTR (0 for a real object, as a cast would not
    be; the model avoids returning garbage)."""
    return ptr if IS_ERR(ptr) else 0  # type: ignore[return-value]


def ERR_PTR(err: int) -> int:
    if not IS_ERR(err):
        raise ValueError(f"ERR_PTR needs a negative errno, got {err!r}")
    return err


@dataclass
class CryptoAlg:
    """The description of an algorithm implementation: the fields of
    ``struct crypto_alg`` plus the common ``skcipher_alg``/``aead_alg``
    properties.  ``type`` is ``"skcipher"`` or ``"aead"`` (or another
    kernel algorithm type).  Registration fills the kernel's defaults:
    chunksize = cra_blocksize, walksize = chunksize."""

    cra_name: str
    cra_driver_name: str
    type: str = "skcipher"
    cra_priority: int = 0
    cra_blocksize: int = 1
    cra_alignmask: int = 0
    cra_flags: int = 0
    ivsize: int = 0
    chunksize: int = 0
    walksize: int = 0
    statesize: int = 0
    min_keysize: int = 0
    max_keysize: int = 0
    maxauthsize: int = 0
    cra_module: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("cra_name", "cra_driver_name"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__}")
        if self.type not in ALG_TYPES:
            raise ValueError(f"type must be one of {ALG_TYPES}, got {self.type!r}")
        for name in ("cra_priority", "cra_blocksize", "cra_alignmask", "ivsize", "chunksize",
                     "walksize", "statesize", "min_keysize", "max_keysize", "maxauthsize"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 0 and name != "cra_priority":
                raise ValueError(f"{name} must be >= 0, got {value}")

    @property
    def type_flags(self) -> int:
        """cra_flags with the CRYPTO_ALG_TYPE_* bits of ``type``."""
        return (self.cra_flags & ~CRYPTO_ALG_TYPE_MASK) | _TYPE_BITS[self.type]


def crypto_check_alg(alg: CryptoAlg) -> int:
    """The registration checks of crypto_check_alg/skcipher_prepare_alg/
    aead_prepare_alg; fills the defaults.  0 or -EINVAL."""
    if not alg.cra_name or not alg.cra_driver_name:
        return -E.EINVAL
    if len(alg.cra_name) >= CRYPTO_MAX_ALG_NAME or \
            len(alg.cra_driver_name) >= CRYPTO_MAX_ALG_NAME:
        return -E.EINVAL
    if alg.cra_alignmask & (alg.cra_alignmask + 1):
        return -E.EINVAL
    # Generic code keeps blocks and alignment slack in stack buffers.
    if alg.cra_alignmask > MAX_ALGAPI_ALIGNMASK or alg.cra_blocksize > MAX_ALGAPI_BLOCKSIZE:
        return -E.EINVAL
    if alg.cra_priority < 0:
        return -E.EINVAL
    if not alg.chunksize:
        alg.chunksize = alg.cra_blocksize
    if not alg.walksize:
        alg.walksize = alg.chunksize
    if alg.type == "skcipher":
        if max(alg.ivsize, alg.chunksize, alg.walksize) > PAGE_SIZE // 8:
            return -E.EINVAL
        if alg.walksize < alg.chunksize or alg.min_keysize > alg.max_keysize:
            return -E.EINVAL
    elif alg.type == "aead" and max(alg.maxauthsize, alg.ivsize, alg.chunksize) > PAGE_SIZE // 8:
        return -E.EINVAL
    return 0


# Algorithm names.

@dataclass(frozen=True)
class AlgName:
    """A parsed algorithm name: ``cbc(aes)`` is ``AlgName("cbc",
    (AlgName("aes"),))``.  A component with arguments is a template."""

    name: str
    args: tuple[AlgName, ...] = ()

    @property
    def is_template(self) -> bool:
        return bool(self.args)

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({','.join(str(a) for a in self.args)})"


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def parse_alg_name(name: str) -> AlgName | None:
    """Parse ``tmpl(arg[,arg...])`` recursively, as crypto_larval_lookup /
    cryptomgr_schedule_probe split names.  None if malformed."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    pos, node = _parse(name, 0)
    if node is None or pos != len(name):
        return None
    return node


def _parse(s: str, i: int) -> tuple[int, AlgName | None]:
    j = i
    while j < len(s) and s[j] in _NAME_CHARS:
        j += 1
    if j == i:
        return i, None
    base = s[i:j]
    if j == len(s) or s[j] != "(":
        return j, AlgName(base)
    args = []
    j += 1
    while True:
        j, arg = _parse(s, j)
        if arg is None or j >= len(s):
            return j, None
        args.append(arg)
        if s[j] == ",":
            j += 1
            continue
        if s[j] == ")":
            return j + 1, AlgName(base, tuple(args))
        return j, None


def generic_driver_name(name: str) -> str | int:
    """The testmgr rule: append "-generic" to every non-template component
    (``cbc(aes)`` -> ``cbc(aes-generic)``).  -EINVAL for a malformed name,
    -ENAMETOOLONG if the result has CRYPTO_MAX_ALG_NAME chars or more."""
    node = parse_alg_name(name)
    if node is None:
        return -E.EINVAL

    def conv(n: AlgName) -> AlgName:
        if n.args:
            return AlgName(n.name, tuple(conv(a) for a in n.args))
        return AlgName(n.name + "-generic")

    out = str(conv(node))
    if len(out) >= CRYPTO_MAX_ALG_NAME:
        return -E.ENAMETOOLONG
    return out


# The registry.

@dataclass
class _Entry:
    alg: CryptoAlg
    impl: object
    order: int
    refcnt: int = 0


TemplateCreate = Callable[["Registry", AlgName, str], int]


class Registry:
    """``crypto_alg_list`` of one world, with its templates.

    :meth:`register` stores an implementation with its description;
    :meth:`lookup` finds ``(alg, impl)`` by driver name (exact match wins)
    or by cra_name (highest priority; the earlier registration on a tie).
    A template registered with :meth:`register_template` is asked to
    instantiate a name that nothing matches (``create(registry, parsed,
    name)`` registers the instance and returns 0 or an errno), as
    cryptomgr does on a lookup miss."""

    def __init__(self, world: str = "") -> None:
        self.world = world
        self._entries: list[_Entry] = []
        self._templates: dict[str, TemplateCreate] = {}
        self._order = 0

    def register(self, alg: CryptoAlg, impl: object) -> int:
        """``crypto_register_alg()``: 0, -EINVAL (bad description) or
        -EEXIST (same object, or a name clash with a registered driver)."""
        if not isinstance(alg, CryptoAlg):
            raise TypeError(f"alg must be a CryptoAlg, got {type(alg).__name__}")
        err = crypto_check_alg(alg)
        if err:
            return err
        for q in self._entries:
            if q.alg is alg or q.alg.cra_driver_name in (alg.cra_name, alg.cra_driver_name) \
                    or q.alg.cra_name == alg.cra_driver_name:
                return -E.EEXIST
        self._order += 1
        self._entries.append(_Entry(alg, impl, self._order))
        return 0

    def unregister(self, alg: CryptoAlg | str) -> int:
        """``crypto_unregister_alg()`` by description or driver name:
        0 or -ENOENT.  Existing tfms keep working (they hold the impl)."""
        for i, q in enumerate(self._entries):
            if q.alg is alg or (isinstance(alg, str) and q.alg.cra_driver_name == alg):
                del self._entries[i]
                return 0
        return -E.ENOENT

    def register_template(self, name: str, create: TemplateCreate) -> int:
        if name in self._templates:
            return -E.EEXIST
        self._templates[name] = create
        return 0

    def unregister_template(self, name: str) -> int:
        return 0 if self._templates.pop(name, None) is not None else -E.ENOENT

    def _find(self, name: str, alg_type: str | None, type: int,
              mask: int) -> _Entry | None:
        best: _Entry | None = None
        for q in self._entries:
            if alg_type is not None and q.alg.type != alg_type:
                continue
            if (q.alg.type_flags ^ type) & mask:
                continue
            if q.alg.cra_driver_name == name:
                return q
            if q.alg.cra_name == name and (best is None
                                           or q.alg.cra_priority > best.alg.cra_priority):
                best = q
        return best

    def lookup(self, name: str, alg_type: str | None = None, type: int = 0,
               mask: int = 0) -> tuple[CryptoAlg, object] | int:
        """``crypto_alg_mod_lookup()``: ``(alg, impl)`` or -ENOENT.
        ``alg_type`` restricts to one kind ("skcipher", "aead");
        ``type``/``mask`` filter on cra_flags: ``(flags ^ type) & mask``
        must be 0.  Internal algorithms are found only if type or mask
        mentions CRYPTO_ALG_INTERNAL."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {name.__class__.__name__}")
        if not isinstance(type, int) or not isinstance(mask, int):
            raise TypeError("type and mask must be ints")
        if not (type | mask) & CRYPTO_ALG_INTERNAL:
            mask |= CRYPTO_ALG_INTERNAL
        if not name or len(name) >= CRYPTO_MAX_ALG_NAME:
            return -E.ENOENT
        q = self._find(name, alg_type, type, mask)
        if q is None:
            parsed = parse_alg_name(name)
            if parsed is not None and parsed.args and parsed.name in self._templates:
                err = self._templates[parsed.name](self, parsed, name)
                if err == 0:
                    q = self._find(name, alg_type, type, mask)
        if q is None:
            return -E.ENOENT
        return q.alg, q.impl

    def has(self, name: str, alg_type: str | None = None, type: int = 0, mask: int = 0) -> bool:
        return not isinstance(self.lookup(name, alg_type, type, mask), int)

    def algorithms(self, alg_type: str | None = None) -> list[tuple[CryptoAlg, object]]:
        """Every registered ``(alg, impl)`` (of one type), in registration
        order (``/proc/crypto``)."""
        return [(q.alg, q.impl) for q in self._entries
                if alg_type is None or q.alg.type == alg_type]


# The request queue of asynchronous drivers (crypto/algapi.c,
# include/crypto/algapi.h).  Requests are queued by their
# ``struct crypto_async_request`` (anything with ``flags``); the driver
# finds its own request from it, as container_of() does in C.

class CryptoQueue:
    """``struct crypto_queue``: the list, its length, the bound, and the
    backlog mark (the first request queued past ``max_qlen``; None when
    the kernel's pointer is back at the list head)."""

    __slots__ = ("backlog", "list", "max_qlen", "qlen")

    def __init__(self, max_qlen: int = 0) -> None:
        crypto_init_queue(self, max_qlen)


def crypto_init_queue(queue: CryptoQueue, max_qlen: int) -> None:
    if not isinstance(max_qlen, int) or isinstance(max_qlen, bool) or max_qlen < 0:
        raise ValueError(f"max_qlen must be an int >= 0, got {max_qlen!r}")
    queue.list = []
    queue.qlen = 0
    queue.max_qlen = max_qlen
    queue.backlog = None


def crypto_enqueue_request(queue: CryptoQueue, request: object) -> int:
    """-EINPROGRESS when queued within ``max_qlen``; past it, -EBUSY and
    queued into the backlog if the request has CRYPTO_TFM_REQ_MAY_BACKLOG,
    else -ENOSPC and not queued."""
    err = -E.EINPROGRESS
    if queue.qlen >= queue.max_qlen:
        if not request.flags & CRYPTO_TFM_REQ_MAY_BACKLOG:  # type: ignore[attr-defined]
            return -E.ENOSPC
        err = -E.EBUSY
        if queue.backlog is None:
            queue.backlog = len(queue.list)
    queue.qlen += 1
    queue.list.append(request)
    return err


def crypto_enqueue_request_head(queue: CryptoQueue, request: object) -> None:
    """Put a request back at the head (a driver that could not start it);
    the queue bound is not checked, as in the kernel."""
    queue.qlen += 1
    queue.list.insert(0, request)
    if queue.backlog is not None:
        queue.backlog += 1


def crypto_get_backlog(queue: CryptoQueue) -> object | None:
    """The first backlogged request (the one the next dequeue admits into
    the queue proper: its owner is told -EINPROGRESS), or None."""
    return None if queue.backlog is None else queue.list[queue.backlog]


def crypto_dequeue_request(queue: CryptoQueue) -> object | None:
    """The oldest request, or None; the backlog mark moves one on."""
    if not queue.qlen:
        return None
    queue.qlen -= 1
    request = queue.list.pop(0)
    # The mark moves to the next entry, which after the pop sits at the
    # same index; past the tail it returns to the list head.
    if queue.backlog is not None and queue.backlog >= len(queue.list):
        queue.backlog = None
    return request


def crypto_queue_len(queue: CryptoQueue) -> int:
    return queue.qlen
