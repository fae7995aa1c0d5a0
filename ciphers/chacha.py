"""ChaCha20, XChaCha20 and HChaCha20 (the kernel's lib/crypto/chacha.c,
lib/crypto/chacha-block-generic.c, include/crypto/chacha.h, and the
"chacha20"/"xchacha20" skciphers of crypto/chacha.c).

Kernel layouts modelled here:

* ``chacha20``: 32-byte key, 16-byte IV. ``chacha_init()`` loads the IV as
  four little-endian words into state words 12..15, so the IV is
  ``LE32(block counter) ‖ 96-bit nonce``. Only word 12 is incremented, by
  one per 64-byte block, and it wraps modulo 2^32 without carrying into
  word 13 (``state->x[12]++``). ``cryptography`` refuses to wrap and
  Wycheproof marks wrapping inputs invalid; the kernel wraps silently, and
  so does this model.
* ``xchacha20``: 32-byte IV. HChaCha20 of the key and IV[0:16] gives the
  subkey; the ChaCha20 IV is then ``IV[24:32] ‖ IV[16:24]`` (stream
  position, then the last 64 nonce bits). So the stream position is the
  64-bit little-endian value at IV[24:32], but the kernel increments only
  its low 32 bits (state word 12): at 2^32 it wraps without carrying into
  word 13, unlike libsodium's 64-bit counter.
* Neither skcipher writes an IV back into ``req->iv``; :attr:`ChaCha20.iv`
  is offered as an explicit position only (what the IV would be to continue
  the stream at the next block boundary).

The block function is our own numpy code, evaluated for many blocks at once
(state as a (4, 4, N) uint32 array: the four quarter-rounds of a column or
diagonal round run as one vector operation). One evaluation costs about
the same for 1 or 256 blocks (a few hundred numpy calls), so keystream is
generated ahead and carried between calls: the read-ahead starts at one
block and doubles with every refill of the same stream (up to 4096 blocks),
so a short message stays cheap and a long stream cut into small pieces
still runs in large batches. Up to four blocks, and HChaCha20, are computed
with Python ints, which is faster there than the vector path. ``nrounds=12``
gives ChaCha12 (the kernel's xchacha12).
"""

from __future__ import annotations

import numpy as np

from ciphers.aes import as_key_bytes, u8_view

__all__ = [
    "CHACHA_BLOCK_SIZE",
    "CHACHA_IV_SIZE",
    "CHACHA_KEY_SIZE",
    "XCHACHA_IV_SIZE",
    "ChaCha20",
    "XChaCha20",
    "chacha_blocks",
    "hchacha20",
    "xchacha_real_iv",
]

CHACHA_KEY_SIZE = 32
CHACHA_IV_SIZE = 16
XCHACHA_IV_SIZE = 32
CHACHA_BLOCK_SIZE = 64

_SIGMA = np.frombuffer(b"expand 32-byte k", dtype="<u4").astype(np.uint32)
_MIN_BATCH = 1     # first read-ahead of a stream, in blocks
_MAX_BATCH = 4096  # blocks generated at most per evaluation (256 KiB)
_DIAG = ([1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2])
_UNDIAG = ([3, 0, 1, 2], [2, 3, 0, 1], [1, 2, 3, 0])


def _rotl(v: np.ndarray, n: int, tmp: np.ndarray) -> None:
    np.right_shift(v, 32 - n, out=tmp)
    np.left_shift(v, n, out=v)
    np.bitwise_or(v, tmp, out=v)


def _quarter(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray,
             tmp: np.ndarray) -> None:
    a += b
    d ^= a
    _rotl(d, 16, tmp)
    c += d
    b ^= c
    _rotl(b, 12, tmp)
    a += b
    d ^= a
    _rotl(d, 8, tmp)
    c += d
    b ^= c
    _rotl(b, 7, tmp)


class _Workspace:
    """Preallocated arrays for evaluating ``cap`` blocks: fresh large
    temporaries per call would cost a page fault per 4 KiB."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.init = np.empty((16, cap), dtype=np.uint32)
        self.x = np.empty((16, cap), dtype=np.uint32)
        self.tmp = np.empty((4, cap), dtype=np.uint32)
        self.diag = np.empty((3, 4, cap), dtype=np.uint32)
        self.arange = np.arange(cap, dtype=np.uint32)


_WORKSPACES: dict[int, _Workspace] = {}


def _workspace(nblocks: int) -> _Workspace:
    # Exact-size arrays: slices of a bigger one would be strided, and numpy
    # iterates strided 2-D operands far more slowly than contiguous ones.
    ws = _WORKSPACES.get(nblocks)
    if ws is None:
        if len(_WORKSPACES) >= 8:
            _WORKSPACES.pop(next(iter(_WORKSPACES)))
        ws = _WORKSPACES[nblocks] = _Workspace(nblocks)
    return ws


def _permute(x: np.ndarray, nrounds: int, tmp: np.ndarray, diag: np.ndarray) -> None:
    """Apply ``nrounds`` ChaCha rounds in place to x of shape (4, 4, N):
    x[r, i] is state word 4*r + i of every block (``chacha_permute()``)."""
    a, b, c, d = x[0], x[1], x[2], x[3]
    tb, tc, td = diag[0], diag[1], diag[2]
    for _ in range(nrounds // 2):
        _quarter(a, b, c, d, tmp)
        # Diagonal round: line up word (i+k)%4 of row k with column i.
        np.take(b, _DIAG[0], axis=0, out=tb)
        np.take(c, _DIAG[1], axis=0, out=tc)
        np.take(d, _DIAG[2], axis=0, out=td)
        _quarter(a, tb, tc, td, tmp)
        np.take(tb, _UNDIAG[0], axis=0, out=b)
        np.take(tc, _UNDIAG[1], axis=0, out=c)
        np.take(td, _UNDIAG[2], axis=0, out=d)


_M32 = 0xFFFFFFFF
_QR_INDEX = ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
             (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14))
_PY_MAX_BLOCKS = 4  # below this, Python ints beat hundreds of numpy calls


def _permute_py(x: list[int], nrounds: int) -> None:
    """``chacha_permute()`` on one state held as 16 Python ints."""
    for _ in range(nrounds // 2):
        for a, b, c, d in _QR_INDEX:
            xa = (x[a] + x[b]) & _M32
            v = x[d] ^ xa
            xd = ((v << 16) | (v >> 16)) & _M32
            xc = (x[c] + xd) & _M32
            v = x[b] ^ xc
            xb = ((v << 12) | (v >> 20)) & _M32
            xa = (xa + xb) & _M32
            v = xd ^ xa
            xd = ((v << 8) | (v >> 24)) & _M32
            xc = (xc + xd) & _M32
            v = xb ^ xc
            x[a], x[b], x[c], x[d] = xa, ((v << 7) | (v >> 25)) & _M32, xc, xd


def _blocks_py(base: np.ndarray, nblocks: int, out: np.ndarray, nrounds: int) -> None:
    words = [int(w) for w in base]
    res = []
    for k in range(nblocks):
        st = list(words)
        st[12] = (st[12] + k) & _M32
        x = list(st)
        _permute_py(x, nrounds)
        res.extend((xi + si) & _M32 for xi, si in zip(x, st))
    out[:nblocks * CHACHA_BLOCK_SIZE] = np.array(res, dtype="<u4").view(np.uint8)


def _key_words(key: bytes) -> np.ndarray:
    return np.frombuffer(key, dtype="<u4").astype(np.uint32)


def chacha_blocks(key: bytes, iv16: bytes, nblocks: int, out: np.ndarray | None = None,
                  *, nrounds: int = 20) -> np.ndarray:
    """Return ``nblocks`` 64-byte ChaCha keystream blocks (flat uint8).

    ``iv16`` is the kernel's 16-byte state tail (LE32 counter ‖ nonce); the
    counter of block k is ``(counter + k) mod 2^32``, as repeated
    ``chacha_block_generic()`` calls give. ``out``, if given, receives the
    bytes (at least ``64 * nblocks`` long) and its prefix is returned.
    """
    if len(key) != CHACHA_KEY_SIZE or len(iv16) != CHACHA_IV_SIZE:
        raise ValueError("key/iv16: ChaCha needs a 32-byte key and a 16-byte IV")
    if nblocks < 0:
        raise ValueError("nblocks: must be non-negative")
    nbytes = nblocks * CHACHA_BLOCK_SIZE
    if out is None:
        out = np.empty(nbytes, dtype=np.uint8)
    if nblocks == 0:
        return out[:0]
    ivw = np.frombuffer(iv16, dtype="<u4").astype(np.uint32)
    base = np.concatenate([_SIGMA, _key_words(key), ivw])
    if nblocks <= _PY_MAX_BLOCKS:
        _blocks_py(base, nblocks, out, nrounds)
        return out[:nbytes]
    ws = _workspace(nblocks)
    init = ws.init[:, :nblocks]
    init[:] = base[:, None]
    # uint32 arithmetic on arrays wraps, which is the kernel's x[12]++.
    init[12] += ws.arange[:nblocks]
    x2 = ws.x[:, :nblocks]
    x2[:] = init
    _permute(x2.reshape(4, 4, nblocks), nrounds, ws.tmp[:, :nblocks],
             ws.diag[:, :, :nblocks])
    x2 += init
    out[:nbytes].view("<u4").reshape(nblocks, 16)[:] = x2.T
    return out[:nbytes]


def hchacha20(key: bytes | np.ndarray, nonce16: bytes | np.ndarray, *,
              nrounds: int = 20) -> bytes:
    """HChaCha20 (``hchacha_block_generic()`` after ``chacha_init()``):
    the permuted state's words 0..3 and 12..15, little-endian, as 32 bytes."""
    kb = as_key_bytes(key)
    nb = as_key_bytes(nonce16, "nonce16")
    if len(kb) != CHACHA_KEY_SIZE:
        raise ValueError(f"key: must be 32 bytes, got {len(kb)}")
    if len(nb) != 16:
        raise ValueError(f"nonce16: must be 16 bytes, got {len(nb)}")
    state = np.concatenate([_SIGMA, _key_words(kb),
                            np.frombuffer(nb, dtype="<u4").astype(np.uint32)])
    x = [int(w) for w in state]
    _permute_py(x, nrounds)
    return np.array(x[0:4] + x[12:16], dtype="<u4").tobytes()


class ChaCha20:
    """Incremental ChaCha20 keystream XOR (the kernel's "chacha20").

    ``update(src, dst)`` any number of times with any lengths gives the same
    output as one call on the concatenation; encryption and decryption are
    the same operation. ``iv`` is the kernel's 16-byte IV.
    """

    __slots__ = ("_batch", "_counter0", "_gen", "_key", "_ks", "_ks_len", "_ks_pos",
                 "_nonce", "_nrounds", "consumed")

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray, *,
                 nrounds: int = 20) -> None:
        kb = as_key_bytes(key)
        ivb = as_key_bytes(iv, "iv")
        if len(kb) != CHACHA_KEY_SIZE:
            raise ValueError(f"key: ChaCha20 key must be 32 bytes, got {len(kb)}")
        if len(ivb) != CHACHA_IV_SIZE:
            raise ValueError(f"iv: ChaCha20 IV must be 16 bytes, got {len(ivb)}")
        if nrounds not in (20, 12):
            raise ValueError("nrounds: must be 20 or 12")
        self._key = kb
        self._nrounds = nrounds
        self._counter0 = int.from_bytes(ivb[:4], "little")
        self._nonce = ivb[4:]
        self._gen = self._counter0  # counter of the next block to generate
        self._ks = np.empty(0, dtype=np.uint8)
        self._batch = _MIN_BATCH
        self._ks_pos = 0
        self._ks_len = 0
        self.consumed = 0  # bytes processed so far

    @property
    def counter(self) -> int:
        """Block counter (state word 12) of the next unused block: every
        block of which at least one byte was used counts as consumed."""
        return (self._counter0 + -(-self.consumed // CHACHA_BLOCK_SIZE)) & 0xFFFFFFFF

    @property
    def iv(self) -> bytes:
        """16-byte IV that would continue the stream at the next block."""
        return self.counter.to_bytes(4, "little") + self._nonce

    def next_iv(self) -> bytes:
        """Same as :attr:`iv`. The kernel's chacha20 does not write it back."""
        return self.iv

    def _refill(self, want_blocks: int) -> None:
        # Powers of two keep the set of workspace sizes small.
        nblocks = min(1 << (max(want_blocks, self._batch) - 1).bit_length(), _MAX_BATCH)
        self._batch = min(2 * nblocks, _MAX_BATCH)
        if self._ks.size < nblocks * CHACHA_BLOCK_SIZE:
            self._ks = np.empty(nblocks * CHACHA_BLOCK_SIZE, dtype=np.uint8)
        iv16 = self._gen.to_bytes(4, "little") + self._nonce
        chacha_blocks(self._key, iv16, nblocks, self._ks, nrounds=self._nrounds)
        self._gen = (self._gen + nblocks) & 0xFFFFFFFF
        self._ks_pos = 0
        self._ks_len = nblocks * CHACHA_BLOCK_SIZE

    def update(self, src: np.ndarray, dst: np.ndarray) -> None:
        """XOR ``src`` with the keystream into ``dst`` (same length; dst may
        be src)."""
        s = u8_view(src, "src")
        d = u8_view(dst, "dst", writable=True)
        n = s.size
        if d.size != n:
            raise ValueError(f"dst: length {d.size} differs from src length {n}")
        pos = 0
        while pos < n:
            if self._ks_pos == self._ks_len:
                self._refill(-(-(n - pos) // CHACHA_BLOCK_SIZE))
            take = min(n - pos, self._ks_len - self._ks_pos)
            np.bitwise_xor(s[pos:pos + take], self._ks[self._ks_pos:self._ks_pos + take],
                           out=d[pos:pos + take])
            self._ks_pos += take
            pos += take
        self.consumed += n


def xchacha_real_iv(iv: bytes) -> bytes:
    """The ChaCha20 IV that ``crypto_xchacha_crypt()`` builds from a 32-byte
    XChaCha IV: stream position IV[24:32], then nonce bits IV[16:24]."""
    return iv[24:32] + iv[16:24]


class XChaCha20(ChaCha20):
    """Incremental XChaCha20 (the kernel's "xchacha20"): 32-byte key,
    32-byte IV = 24-byte nonce ‖ LE64 stream position (of which only the low
    32 bits count, wrapping, as in the kernel)."""

    __slots__ = ("xiv",)

    def __init__(self, key: bytes | np.ndarray, iv: bytes | np.ndarray, *,
                 nrounds: int = 20) -> None:
        kb = as_key_bytes(key)
        ivb = as_key_bytes(iv, "iv")
        if len(kb) != CHACHA_KEY_SIZE:
            raise ValueError(f"key: XChaCha20 key must be 32 bytes, got {len(kb)}")
        if len(ivb) != XCHACHA_IV_SIZE:
            raise ValueError(f"iv: XChaCha20 IV must be 32 bytes, got {len(ivb)}")
        subkey = hchacha20(kb, ivb[:16], nrounds=nrounds)
        super().__init__(subkey, xchacha_real_iv(ivb), nrounds=nrounds)
        self.xiv = ivb

    @property
    def iv(self) -> bytes:
        """32-byte XChaCha IV continuing the stream at the next block (the
        high half of the position is left as given, as the kernel does)."""
        return self.xiv[:24] + self.counter.to_bytes(4, "little") + self.xiv[28:32]
