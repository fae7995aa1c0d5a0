"""A kernel's testmgr vectors without the kernel: every ``cipher_testvec``
and ``aead_testvec`` that a real ``crypto/testmgr.h`` holds for the
skcipher and AEAD algorithms this project registers, transcribed into
``testmgr_transcribed.json`` (bytes as hex, one object per algorithm).

``iovcrypto conformance --testmgr builtin`` runs them exactly as
``--testmgr <kernel tree>`` runs a tree's own arrays, so the claim "every
registered algorithm passes every testmgr vector" is checked where no
tree is at hand (CI, a laptop).  The default run takes a few of them
(``sample``), chosen where no other built-in vector covers the algorithm.

The file is data, written by this module from a kernel tree::

    python -m iovcrypto.tools.conformance.testmgr_transcribed /path/to/linux

(our own reader does the C; the version line names the tree).  A newer
kernel with more vectors, or a newly registered algorithm, is one rerun.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cache

from iovcrypto.tools.conformance.testmgr import TestmgrSuite, TestmgrVectors, load_testmgr
from iovcrypto.tools.conformance.vectors import AeadVec, CipherVec, Vector

__all__ = ["load_transcribed", "registered", "sample", "transcribe"]

PATH = os.path.join(os.path.dirname(__file__), "testmgr_transcribed.json")

# Byte fields (hex) and flags of each kind, in the dataclasses' names.
_BYTES = {"skcipher": ("key", "iv", "iv_out", "ptext", "ctext"),
          "aead": ("key", "iv", "assoc", "ptext", "ctext")}
_FLAGS = {"skcipher": ("setkey_error", "crypt_error", "wk", "generates_iv"),
          "aead": ("setkey_error", "setauthsize_error", "crypt_error", "novrfy", "wk")}

# Vectors the default run takes from the file, per algorithm (indices):
# the ones whose bytes no published, corpus or random vector reproduces,
# where the reference and the core would otherwise share one reading of
# the kernel's template.  essiv(authenc): the IV encrypted into the AD
# (crypto/essiv.c); authenc over rfc3686: the nonce carried in the
# enckey, and the tag over AD ‖ ciphertext.  Two each keeps the default
# run's cost inside its budget; --testmgr builtin runs all of them.
SAMPLE = {
    "essiv(authenc(hmac(sha256),cbc(aes)),sha256)": (0, 6),
    "authenc(hmac(sha1),rfc3686(ctr(aes)))": (2, 6),
    "authenc(hmac(sha224),rfc3686(ctr(aes)))": (2, 6),
    "authenc(hmac(sha256),rfc3686(ctr(aes)))": (2, 6),
    "authenc(hmac(sha384),rfc3686(ctr(aes)))": (2, 6),
    "authenc(hmac(sha512),rfc3686(ctr(aes)))": (2, 6),
}


def transcribe(tree: str, names: set[str]) -> dict:
    """The document for ``names`` (cra_names) from a kernel tree."""
    tm = load_testmgr(tree)
    if tm.unreadable:
        raise SystemExit(f"unreadable arrays in {tm.path}: {tm.unreadable}")
    algs: dict[str, dict] = {}
    for suite in sorted(tm.tested(), key=lambda s: s.alg):
        if suite.alg not in names:
            continue
        kind = "skcipher" if suite.kind == "cipher" else "aead"
        rows = []
        for v in tm.arrays[suite.array or ""]:
            row: dict[str, object] = {}
            for f in _BYTES[kind]:
                b = getattr(v, f)
                if b is not None:
                    row[f] = b.hex()
            for f in _FLAGS[kind]:
                if getattr(v, f):
                    row[f] = getattr(v, f)
            rows.append(row)
        algs[suite.alg] = {"array": suite.array, "kind": kind, "vectors": rows}
    return {"kernel": _version(tree), "algorithms": algs}


def _dumps(doc: dict) -> str:
    """JSON with one vector per line (diffs of a rerun stay readable)."""
    out = ['{"kernel": ' + json.dumps(doc["kernel"]) + ',\n "algorithms": {']
    algs = list(doc["algorithms"].items())
    for i, (alg, ent) in enumerate(algs):
        out.append(f" {json.dumps(alg)}: {{\"array\": {json.dumps(ent['array'])}, "
                   f"\"kind\": {json.dumps(ent['kind'])}, \"vectors\": [")
        rows = ent["vectors"]
        out += [f"  {json.dumps(r)}{',' if j < len(rows) - 1 else ''}"
                for j, r in enumerate(rows)]
        out.append(" ]}" + ("," if i < len(algs) - 1 else ""))
    out.append("}}")
    return "\n".join(out) + "\n"


def _version(tree: str) -> str:
    mk = os.path.join(tree, "Makefile")
    if not os.path.isfile(mk):
        return os.path.basename(os.path.abspath(tree))
    head: dict[str, str] = {}
    with open(mk, encoding="utf-8") as f:
        for line in f.read(2000).splitlines():
            k, eq, v = line.partition("=")
            if eq:
                head[k.strip()] = v.strip()
    return ".".join(head.get(k, "?") for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL"))


def _vector(kind: str, row: dict, where: str) -> Vector:
    args: dict[str, object] = {f: bytes.fromhex(row[f]) if f in row else None
                               for f in _BYTES[kind]}
    for f in ("ptext", "ctext", "assoc"):
        if f in args and args[f] is None:
            args[f] = b""
    for f in _FLAGS[kind]:
        if f in row:
            args[f] = row[f]
    cls = CipherVec if kind == "skcipher" else AeadVec
    return cls(source=where, **args)  # type: ignore[arg-type]


@cache
def load_transcribed(path: str = PATH) -> TestmgrVectors:
    """The file as the ``TestmgrVectors`` a kernel tree would give."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    suites: dict[str, TestmgrSuite] = {}
    arrays: dict[str, list[Vector]] = {}
    where = f"testmgr.h v{doc['kernel']} (transcribed)"
    for alg, ent in doc["algorithms"].items():
        kind, array = ent["kind"], ent["array"]
        suites[alg] = TestmgrSuite(alg, f"alg_test_{kind}",
                                   "cipher" if kind == "skcipher" else "aead", array)
        arrays[array] = [_vector(kind, row, f"{where} {array}[{i}]")
                         for i, row in enumerate(ent["vectors"])]
    return TestmgrVectors(f"builtin: {where}", suites, arrays)


def sample(name: str) -> list[Vector]:
    """The default run's share of the file for one algorithm."""
    idx = SAMPLE.get(name)
    if not idx:
        return []
    vecs = load_transcribed().vectors(name) or []
    return [vecs[i] for i in idx if i < len(vecs)]


def registered(world: str) -> dict[str, list]:
    """{cra_name: [its skcipher/AEAD algs]} of one world's registry."""
    from iovcrypto.tools.conformance import runner as R

    out: dict[str, list] = {}
    for alg, _ in R.world_registry(world).algorithms():
        if alg.type in ("skcipher", "aead"):
            out.setdefault(alg.cra_name, []).append(alg)
    return out


if __name__ == "__main__":      # pragma: no cover - a maintainer's command
    doc = transcribe(sys.argv[1], set(registered("sg")) | set(registered("iter")))
    with open(PATH, "w", encoding="utf-8") as out:
        out.write(_dumps(doc))
    n = sum(len(a["vectors"]) for a in doc["algorithms"].values())
    print(f"{PATH}: {len(doc['algorithms'])} algorithms, {n} vectors from v{doc['kernel']}")
