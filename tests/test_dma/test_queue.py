"""The async request queue (crypto/algapi.c): crypto_enqueue_request,
the backlog, crypto_dequeue_request and crypto_get_backlog."""

import pytest

from ciphers.algapi import (
    CRYPTO_TFM_REQ_MAY_BACKLOG,
    CryptoQueue,
    crypto_dequeue_request,
    crypto_enqueue_request,
    crypto_get_backlog,
    crypto_queue_len,
)
from ciphers.crypto_api import CryptoAsyncRequest
from kmem import errno as E


def _req(flags: int = 0) -> CryptoAsyncRequest:
    r = CryptoAsyncRequest(None)
    r.flags = flags
    return r


def test_enqueue_until_full_then_backlog_or_nospc():
    q = CryptoQueue(2)
    a, b, c, d, e = (_req(CRYPTO_TFM_REQ_MAY_BACKLOG) for _ in range(5))
    assert crypto_enqueue_request(q, a) == -E.EINPROGRESS
    assert crypto_enqueue_request(q, b) == -E.EINPROGRESS
    assert crypto_get_backlog(q) is None
    assert crypto_enqueue_request(q, c) == -E.EBUSY
    assert crypto_enqueue_request(q, _req()) == -E.ENOSPC       # not queued
    assert crypto_enqueue_request(q, d) == -E.EBUSY
    assert crypto_queue_len(q) == 4
    # Dequeue: oldest first; the backlog mark moves one on per dequeue, and
    # the request it names is the one to tell -EINPROGRESS.
    assert crypto_get_backlog(q) is c
    assert crypto_dequeue_request(q) is a
    assert crypto_get_backlog(q) is d
    assert crypto_dequeue_request(q) is b
    assert crypto_get_backlog(q) is None
    assert crypto_enqueue_request(q, e) == -E.EBUSY       # qlen 2 >= max 2
    assert crypto_get_backlog(q) is e
    assert [crypto_dequeue_request(q) for _ in range(4)] == [c, d, e, None]
    assert crypto_get_backlog(q) is None and crypto_queue_len(q) == 0


def test_queue_bound_must_be_sane():
    with pytest.raises(ValueError, match="max_qlen"):
        CryptoQueue(-1)
