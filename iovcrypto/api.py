"""Crypto API core of the iov_iter world (crypto/api.c, crypto/algapi.c,
include/linux/crypto.h): the world's own algorithm registry, plus the
layout-agnostic tfm core shared with the scatterlist world (it lives in
ciphers.crypto_api and is re-exported here under the same names).

The registry (:data:`crypto_registry`) is a separate
``ciphers.algapi.Registry`` instance: a driver registered here serves the
iov_iter API only (bridging the worlds is the shims' job).

Directions: ``src`` must be ITER_SOURCE and ``dst`` ITER_DEST, as
copy_from_iter()/copy_to_iter() demand of what they read and write.  In
place with one iterator object as both src and dst, that iterator is
ITER_DEST: the memory is written, and the direction is what tells page
extraction to pin user pages for writing (FOLL_WRITE); the driver reads
it through views, never with copy_from_iter().  A wrong direction WARNs
and fails with -EINVAL before anything is touched (:func:`check_directions`).

The one rule the iov_iter API adds to the kernel's (DESIGN §7) is enforced
here, once, for skcipher and AEAD alike (:func:`run_on_iters`): on success
``src`` and ``dst`` are advanced by what the operation consumed and
produced; on any error both are left exactly where they were; when an
AEAD decryption fails in the driver (-EBADMSG, or a fault or allocation
failure part way) the plaintext area of ``dst`` is zeroed, as far as it
can be written.  Drivers never see the caller's iterators: while one
runs, the request holds one private copy of each, and the caller's are
moved by the API alone, on success (the walk, iovcrypto.skcipher_walk,
and the positional copy helpers leave even the copies where they are, as
the kernel's skcipher_walk works on its own scatter_walk state).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ciphers.algapi import (  # noqa: F401  (re-exported)
    CRYPTO_ALG_ASYNC,
    ERR_PTR,
    IS_ERR,
    IS_ERR_OR_NULL,
    PTR_ERR,
    Registry,
)
from ciphers.crypto_api import (  # noqa: F401  (re-exported)
    MINALIGN,
    NEED_KEY,
    SIZEOF_CRYPTO_TFM,
    SIZEOF_REQUEST,
    CryptoAsyncRequest,
    CryptoCompletion,
    CryptoTfm,
    CryptoWait,
    _check_crypt_args,
    _check_iv,
    crypto_init_wait,
    crypto_req_done,
    crypto_request_complete,
    crypto_tfm_alg_is_async,
    crypto_tfm_clear_flags,
    crypto_tfm_get_flags,
    crypto_tfm_set_flags,
    crypto_wait_req,
)
from iovcrypto.iov_iter import iov_iter_zero
from iovcrypto.iov_iter_position import iov_iter_advance, iter_advance
from iovcrypto.uio import ITER_DISCARD, iov_iter
from kmem import errno as E
from kmem.sanitizer import WARN

crypto_registry = Registry("iov")

def check_iter_arg(it: object, name: str) -> iov_iter | None:
    """A request's ``src``/``dst``: an iov_iter, or None (only usable with
    nothing to process)."""
    if it is not None and not isinstance(it, iov_iter):
        raise TypeError(f"{name} must be an iov_iter or None, got {type(it).__name__}")
    return it


def set_iter_fields(req: object, src: object, dst: object, cryptlen: object,
                    iv: object) -> None:
    """The body of both ``*_request_set_iter()``: the common argument types
    are told by ``type()`` (the request path's hot spot), anything else
    checked in full and refused by name."""
    if type(cryptlen) is not int or not 0 <= cryptlen <= 0xFFFFFFFF:
        _check_crypt_args(cryptlen)
    if type(iv) is not bytearray:
        _check_iv(iv)
    req.src = src if type(src) is iov_iter else check_iter_arg(src, "src")
    req.dst = dst if type(dst) is iov_iter else check_iter_arg(dst, "dst")
    req.cryptlen = cryptlen
    req.iv = iv


def check_directions(src: iov_iter | None, dst: iov_iter | None) -> int:
    """0, or WARN and -EINVAL for a src that is not ITER_SOURCE (an
    ITER_DISCARD src included: a sink is always ITER_DEST), a dst that is
    not ITER_DEST, or one iterator as both that is not ITER_DEST or is a
    sink (nothing to read).  A DISCARD dst is accepted: its output is
    computed and dropped."""
    if src is not None and src is dst:
        if WARN(src.data_source, "in place with one iov_iter: it must be ITER_DEST"):
            return -E.EINVAL
        if WARN(src.iter_type == ITER_DISCARD, "in place with one ITER_DISCARD iov_iter: "
                "there is nothing to read"):
            return -E.EINVAL
        return 0
    if src is not None and WARN(not src.data_source, "crypto src iov_iter is not ITER_SOURCE"):
        return -E.EINVAL
    if dst is not None and WARN(dst.data_source, "crypto dst iov_iter is not ITER_DEST"):
        return -E.EINVAL
    return 0


def run_on_iters(req: object, need_src: int, need_dst: int, call: Callable[[], int],
                 zero_on_error: tuple[int, int] | None = None) -> int:
    """Run ``call()`` (the driver, on ``req``) under the iov_iter API's
    contract.

    ``need_src``/``need_dst`` are the bytes the operation consumes from
    ``req.src`` and produces into ``req.dst``.  Before the driver runs:
    -EINVAL (with a WARN) for a wrong direction (:func:`check_directions`);
    -EINVAL if either iterator holds fewer bytes (a model choice: the
    kernel has no length to check a scatterlist against and would walk off
    its end).

    The driver is handed private copies: while it runs, ``req.src`` and
    ``req.dst`` are one copy of each caller's iterator (one copy for the
    same object as both), so whatever a driver does to them never reaches
    the caller's, and there is nothing to put back.  The caller's are
    back in the request when the call returns (or raises), and then, on
    success, advanced by ``need_src``/``need_dst`` (the same object as
    src and dst, in place, once, by the larger); on an error from the
    driver the ``(offset, length)`` area of dst named by ``zero_on_error``
    is zeroed (up to the first byte that cannot be written: a fault in dst
    stops it).

    -EINPROGRESS/-EBUSY: the copies stay in the request for the driver to
    finish with, and the contract is applied when the completion is
    delivered, before the caller's completion is called (which so sees
    its iterators in the request, already moved).  Only an asynchronous
    tfm (CRYPTO_ALG_ASYNC) gets that completion wrapper: a synchronous
    driver's return is final, and if it says -EINPROGRESS anyway its
    iterators just stay where they were."""
    src, dst = req.src, req.dst
    if src is dst:
        if src is not None and (src.data_source or src.iter_type == ITER_DISCARD):
            return check_directions(src, dst)
    elif (src is not None and not src.data_source) or (dst is not None and dst.data_source):
        return check_directions(src, dst)
    if need_src and (src is None or src.count < need_src):
        return -E.EINVAL
    if need_dst and (dst is None or dst.count < need_dst):
        return -E.EINVAL
    if src is not None:
        req.src = _private_copy(src)
        req.dst = req.src if dst is src else (_private_copy(dst) if dst is not None else None)
    elif dst is not None:
        req.dst = _private_copy(dst)
    base = req.base
    if not base.tfm.alg.cra_flags & CRYPTO_ALG_ASYNC:
        # A synchronous driver's return is its completion: the contract is
        # applied right here, with no completion wrapper to install (the
        # caller's callback is never called, as in the kernel).
        try:
            err = call()
        finally:
            req.src, req.dst = src, dst
        _settle(src, dst, need_src, need_dst, zero_on_error, err)
        return err
    # Asynchronous: the contract is applied once, by whichever of the
    # driver's return and its completion comes first with the final result.
    # While the driver owns the request its completion is
    # _complete_on_iters, bound to the contract's state (a C partial over a
    # list: no closure cells per request).
    state = [req, src, dst, need_src, need_dst, zero_on_error, base.complete, False]
    base.complete = partial(_complete_on_iters, state)
    try:
        err = call()
    except BaseException:
        _give_back(state)
        raise
    if err in (_EINPROGRESS, _EBUSY):
        # The driver completes later (from its tasklet): until then the
        # request keeps the copies it works on and the API's completion.
        return err
    if not state[7]:
        _give_back(state)
        _settle(src, dst, need_src, need_dst, zero_on_error, err)
    return err


# The copy of an iterator a driver is handed (C struct assignment).  A
# name of its own so that a planted "no private copy" bug can replace it.
_private_copy = iov_iter.copy
_EINPROGRESS, _EBUSY = -E.EINPROGRESS, -E.EBUSY


def _give_back(state: list) -> None:
    """Put the caller's iterators and completion back in the request."""
    req = state[0]
    req.src, req.dst = state[1], state[2]
    req.base.complete = state[6]


def _complete_on_iters(state: list, data: object, err: int) -> None:
    """The completion an asynchronous driver calls while run_on_iters'
    contract is pending: on the final result, give the request back and
    apply the contract, then call the caller's completion."""
    _, src, dst, need_src, need_dst, zero_on_error, complete, _ = state
    if err != _EINPROGRESS:
        state[7] = True
        _give_back(state)
        _settle(src, dst, need_src, need_dst, zero_on_error, err)
    if complete is not None:
        complete(data, err)


def _settle(src: iov_iter | None, dst: iov_iter | None, need_src: int, need_dst: int,
            zero_on_error: tuple[int, int] | None, err: int) -> None:
    """Apply the contract to the caller's iterators (never touched by the
    driver) once its result is known: advance them on success, or zero
    dst's plaintext area on an error."""
    if err == 0:
        if src is dst:
            if src is not None:
                iter_advance(src, need_src if need_src > need_dst else need_dst)
            return
        if src is not None:
            iter_advance(src, need_src)
        if dst is not None:
            iter_advance(dst, need_dst)
    elif err != -E.EINPROGRESS and zero_on_error is not None and dst is not None:
        off, n = zero_on_error
        if n > 0:
            z = dst.copy()
            iov_iter_advance(z, off)
            iov_iter_zero(n, z)
