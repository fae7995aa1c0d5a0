"""Every accelerated driver against its generic twin (testmgr's
``test_skcipher_vs_generic_impl``/``test_aead_vs_generic_impl`` and
``test_aead_inauthentic_inputs``).

The generic twin is the driver testmgr would compare against: the
``-generic`` name of :func:`ciphers.algapi.generic_driver_name` when the
world's registry has it, else (as testmgr's ``generic_driver`` override
does for e.g. ``gcm_base(ctr(aes-generic),ghash-generic)``) the
lowest-priority driver of the same cra_name whose name says "generic".

Each round builds a random vector *with the generic driver* — random key
length (sometimes invalid), random IV, random length (sometimes not a
whole block), random AD and authsize — recording whatever error the
generic driver gave (setkey, setauthsize, crypt); the tested driver must
then agree on encryption and decryption under a random configuration.
For AEADs, further rounds mutate a real encryption (one bit of AD, tag or
ciphertext) and require -EBADMSG on decryption.
"""

from __future__ import annotations

import warnings

import kmem
from ciphers.algapi import CryptoAlg, generic_driver_name
from iovcrypto.tools.conformance import runner as R
from iovcrypto.tools.conformance.configs import (
    DEFAULT_CIPHER_TESTVEC_CONFIGS,
    Prandom,
    generate_random_testvec_config,
)
from iovcrypto.tools.conformance.refs import (
    MAXDATASIZE,
    SPECS,
    AlgSpec,
    generate_random_bytes,
    generate_random_length,
)
from iovcrypto.tools.conformance.vectors import AeadVec, CipherVec, Vector, mutate_aead
from kmem import errno as E


def find_generic(world: str, alg: CryptoAlg) -> CryptoAlg | None:
    """The generic twin of ``alg`` in ``world`` (None if ``alg`` is it or
    there is none)."""
    reg = R.world_registry(world)
    name = generic_driver_name(alg.cra_name)
    if isinstance(name, str):
        found = reg.lookup(name, alg.type)
        if not isinstance(found, int) and found[0].cra_name == alg.cra_name:
            return None if found[0] is alg else found[0]
    cands = [a for a, _ in reg.algorithms(alg.type)
             if a.cra_name == alg.cra_name and "generic" in a.cra_driver_name
             and not a.cra_driver_name.startswith("bridge(")]
    if not cands:
        return None
    best = min(cands, key=lambda a: a.cra_priority)
    return None if best is alg else best


_PLAIN = DEFAULT_CIPHER_TESTVEC_CONFIGS[2]        # "out-of-place", one piece


def _compute(world: str, tfm: object, typ: str, key: bytes, iv: bytes, assoc: bytes,
             data: bytes, authsize: int) -> tuple[int, int, int, bytes]:
    """Encrypt with the generic tfm: (setkey err, setauthsize err, crypt
    err, output after the AD)."""
    api = R.world_module(world)
    pre = "crypto_skcipher" if typ == "skcipher" else "crypto_aead"
    err = getattr(api, f"{pre}_setkey")(tfm, key, len(key))
    if err:
        return err, 0, 0, b""
    if typ == "aead":
        aerr = api.crypto_aead_setauthsize(tfm, authsize)
        if aerr:
            return 0, aerr, 0, b""
    out_len = len(data) + (authsize if typ == "aead" else 0)
    real = None if world == "sg" else ("KVEC", "slab")
    lay = R._Layout(world, _PLAIN, 0, len(assoc) + len(data), len(assoc) + out_len,
                    assoc + data, real, "page")
    ivsize = getattr(api, f"{pre}_ivsize")(tfm)
    ivb = R._IvBuf(iv, ivsize, 0)
    try:
        if typ == "skcipher":
            req = api.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
            set_ = api.skcipher_request_set_crypt if world == "sg" else \
                api.skcipher_request_set_iter
            set_(req, lay.src, lay.dst, len(data), ivb.addr if ivsize else None)
            err = api.crypto_skcipher_encrypt(req)
            api.skcipher_request_free(req)
        else:
            req = api.aead_request_alloc(tfm, kmem.GFP_KERNEL)
            set_ = api.aead_request_set_crypt if world == "sg" else api.aead_request_set_iter
            set_(req, lay.src, lay.dst, len(data), ivb.addr)
            api.aead_request_set_ad(req, len(assoc))
            err = api.crypto_aead_encrypt(req)
            api.aead_request_free(req)
        from iovcrypto.tools.conformance.buffers import read_pieces
        out = b"" if err else read_pieces(lay.dst_pieces, len(assoc), out_len)
        return 0, 0, err, out
    finally:
        lay.free()
        ivb.free()


def _tail(spec: AlgSpec, key: bytes, iv: bytes) -> bytes:
    """The AD tail the algorithm needs (essiv's encrypted IV), or b"" for a
    key the reference cannot take (a truncated one: setkey will fail)."""
    try:
        return spec.ad_tail(key, iv)
    except (ValueError, IndexError):
        return b""


def _random_vector(world: str, gtfm: object, alg: CryptoAlg, rng: Prandom,
                   inauthentic: bool) -> tuple[Vector, str]:
    spec = SPECS.get(alg.cra_name)
    if spec is not None:
        keylen = spec.keylens[rng.below(len(spec.keylens))]
        key = spec.make_key(rng, keylen)
        if rng.below(8) == 0:
            key = key[:rng.below(len(key) + 1)]
        iv = spec.make_iv(rng)[:alg.ivsize].ljust(alg.ivsize, b"\0")
    else:
        maxk = alg.max_keysize or 32
        key = rng.bytes(maxk if rng.below(4) else rng.below(maxk + 1))
        iv = rng.bytes(alg.ivsize)
    if alg.type == "skcipher":
        n = generate_random_length(rng, MAXDATASIZE)
        if spec is not None and spec.block > 1 and rng.below(4):
            n -= n % spec.block
        pt = generate_random_bytes(rng, n)
        kerr, _, cerr, ct = _compute(world, gtfm, "skcipher", key, iv, b"", pt, 0)
        vec = CipherVec(key, iv, pt, ct if not cerr else bytes(n), setkey_error=kerr,
                        crypt_error=cerr, source="generic")
        return vec, f'"random: len={n} klen={len(key)}"'
    maxauth = alg.maxauthsize
    authsize = maxauth
    if rng.below(4) == 0:
        authsize = rng.below(maxauth + 1)
    if inauthentic:
        authsize = max(authsize, min(8, maxauth))
    total = generate_random_length(rng, MAXDATASIZE - authsize)
    if spec is not None and spec.esp and rng.below(4):
        alens = spec.esp_assoclens or (8 + rng.below(24),)
        alen = min(alens[rng.below(len(alens))], max(total, 8))
        assoc = generate_random_bytes(rng, alen - 8) + iv[-8:].rjust(8, b"\0")
    elif spec is not None and spec.ad_tail and _tail(spec, key, iv):
        tail = _tail(spec, key, iv)
        alen = len(tail) + generate_random_length(rng, max(0, total - len(tail)))
        assoc = generate_random_bytes(rng, alen - len(tail)) + tail
    else:
        alen = 0 if rng.below(4) == 0 else generate_random_length(rng, total)
        assoc = generate_random_bytes(rng, alen)
    plen = max(0, total - len(assoc))
    if spec is not None and spec.block > 1 and rng.below(4):
        plen -= plen % spec.block
    pt = generate_random_bytes(rng, plen)
    kerr, aerr, cerr, ct = _compute(world, gtfm, "aead", key, iv, assoc, pt, authsize)
    vec = AeadVec(key, iv, assoc, pt, ct if ct else bytes(plen + authsize), setkey_error=kerr,
                  setauthsize_error=aerr, crypt_error=cerr, source="generic")
    if inauthentic and not (kerr or aerr or cerr) and authsize >= 8:
        mutate_aead(vec, rng, spec or SPECS["gcm(aes)"])
    return vec, (f'"random: alen={len(assoc)} plen={plen} authsize={authsize} '
                 f'klen={len(key)} novrfy={int(vec.novrfy)}"')


def fuzz_target(target: R.Target, iterations: int, seed: int) -> R.TargetResult | None:
    """Compare ``target`` with its generic twin for ``iterations`` rounds
    (plus as many inauthentic rounds for AEADs).  None if there is no twin."""
    import time

    generic = find_generic(target.world, target.alg)
    if generic is None or iterations <= 0:
        return None
    stats = R.Stats()
    failures: list[R.Failure] = []
    ctx = R.Ctx(target, seed, stats, failures)
    t0 = time.perf_counter()
    gtarget = R.Target(generic, target.world)
    mismatch = [k for k in ("min_keysize", "max_keysize", "ivsize", "cra_blocksize",
                            "maxauthsize") if getattr(generic, k) != getattr(target.alg, k)]
    if mismatch:
        ctx.fail(f"properties differ from {generic.cra_driver_name}: {', '.join(mismatch)}",
                 "", "", "compare")
        return R.TargetResult(target, stats, failures, time.perf_counter() - t0)
    rng = Prandom(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kmem.KernelWarning)
        gtfm = R.alloc_tfm(gtarget)
        tfm = R.alloc_tfm(target)
    if isinstance(gtfm, int) or isinstance(tfm, int):
        for t in (gtfm, tfm):
            if not isinstance(t, int):
                R.free_tfm(target, t)
        if isinstance(tfm, int):
            ctx.fail(f"failed to allocate transform for {target.driver}: {tfm}", "", "",
                     "alloc", raw=True)
        return R.TargetResult(target, stats, failures, time.perf_counter() - t0,
                              notes=[f"generic {generic.cra_driver_name} unavailable"])
    mm = kmem.mm_alloc()
    rounds = iterations * (2 if target.type == "aead" else 1)
    try:
        with kmem.use_mm(mm):
            for i in range(rounds):
                if len(failures) >= R.MAX_FAILURES_PER_TARGET:
                    break
                inauth = target.type == "aead" and i >= iterations
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", kmem.KernelWarning)
                    vec, name = _random_vector(target.world, gtfm, generic, rng, inauth)
                cfg = generate_random_testvec_config(rng)
                stats.vectors += 1
                novrfy = isinstance(vec, AeadVec) and vec.novrfy
                if not novrfy:
                    R.run_vec_cfg(ctx, tfm, vec, name, cfg, True, _real(target, rng))
                ok_dec = vec.crypt_error == 0 or novrfy
                if isinstance(vec, CipherVec) and vec.crypt_error == -E.EINVAL:
                    ok_dec = True
                if ok_dec and not vec.setkey_error and not getattr(vec, "setauthsize_error", 0):
                    R.run_vec_cfg(ctx, tfm, vec, name, cfg, False, _real(target, rng))
    finally:
        R.free_tfm(gtarget, gtfm)
        R.free_tfm(target, tfm)
    return R.TargetResult(target, stats, failures, time.perf_counter() - t0,
                          notes=[f"fuzzed against {generic.cra_driver_name}"])


def _real(target: R.Target, rng: Prandom) -> tuple[str, str] | None:
    if target.world == "sg":
        return None
    from iovcrypto.tools.conformance.buffers import ITER_REALISATIONS
    from iovcrypto.tools.conformance.engine import dma_safe_realisations

    reals = dma_safe_realisations(target.alg, list(ITER_REALISATIONS))
    return reals[rng.below(len(reals))]
