"""migration_guide.md stays honest about what is kernel API and what is not.

The guide tags every API name in its tables: ``[6.15]`` (in mainline since
that release), ``[<5.0]`` (long-standing), ``[U]`` (upstream in progress),
``[P]`` (this project's proposal) or ``[M]`` (a model helper).  The lists
below are what the tags are checked against; a name added to the guide
must be added here, with the version it arrived in, checked against the
kernel's history.  C blocks may call only names these lists know or that
the guide's own C defines; project names the guide cites must exist.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "migration_guide.md"
BASELINE = (7, 3)
OLD = "<5.0"

# Kernel API by the release it arrived in (mainline).
KERNEL_API: dict[str, str] = {
    # scatterlist, scatterwalk, skb
    **dict.fromkeys((
        "sg_init_table", "sg_init_one", "sg_set_buf", "sg_set_page", "sg_mark_end",
        "sg_init_marker", "sg_chain", "scatterwalk_crypto_chain", "sg_nents",
        "sg_nents_for_len", "sg_alloc_table", "sgl_alloc", "sg_free_table", "sgl_free",
        "sg_split", "for_each_sg", "sg_next", "sg_miter_start", "sg_miter_next",
        "sg_miter_stop", "sg_miter_skip", "sg_copy_to_buffer", "sg_copy_from_buffer",
        "sg_pcopy_to_buffer", "sg_pcopy_from_buffer", "sg_zero_buffer",
        "scatterwalk_start", "scatterwalk_map_and_copy", "scatterwalk_ffwd",
        "skb_to_sgvec", "sg_dma_address", "sg_dma_len", "dma_map_sg", "dma_unmap_sg",
        "dma_mapping_error", "flush_dcache_page", "kernel_fpu_begin", "kmalloc_array",
        "kfree", "memzero_explicit", "DIV_ROUND_UP", "WARN_ON_ONCE", "PAGE_ALIGNED",
        "dmaengine_prep_slave_sg",
        "xdr_process_buf",
        "virt_to_page",
        # iov_iter
        "iov_iter_kvec", "iov_iter_bvec", "iov_iter_count", "iov_iter_npages",
        "iov_iter_advance", "iov_iter_truncate", "iov_iter_revert", "copy_from_iter",
        "copy_to_iter", "iov_iter_zero",
        # crypto API
        "skcipher_request_set_crypt", "aead_request_set_crypt", "aead_request_set_ad",
        "ahash_request_set_crypt", "crypto_skcipher_encrypt", "crypto_aead_encrypt",
        "crypto_aead_decrypt", "crypto_wait_req", "crypto_req_done",
        "DECLARE_CRYPTO_WAIT", "aead_request_alloc", "aead_request_free",
        "aead_request_set_callback", "skcipher_walk_virt", "skcipher_walk_done",
        "skcipher_walk_aead_encrypt", "crypto_register_alg",
    ), OLD),
    "dma_map_sgtable": "5.8",
    "kmap_local_page": "5.11",
    "kunmap_local": "5.11",
    "unpin_user_pages": "5.6",
    "unpin_user_pages_dirty_lock": "5.6",
    "iov_iter_save_state": "5.15",
    "iov_iter_restore": "5.15",
    "iov_iter_ubuf": "6.0",
    "iov_iter_get_pages2": "6.0",
    "bvec_set_page": "6.3",
    "bvec_set_virt": "6.3",
    "bvec_set_folio": "6.3",
    "iov_iter_extract_pages": "6.3",
    "iov_iter_extract_will_pin": "6.3",
    "ITER_ALLOW_P2PDMA": "6.3",
    "skcipher_request_complete": "6.3",
    "extract_iter_to_sg": "6.5",
    "extract_xarray_to_sg": "6.5",
    "netfs_extract_iter_to_sg": "6.3",
    "iterate_and_advance_kernel": "6.12",
    "iterate_and_advance2": "6.7",
    "crypto_lskcipher_encrypt": "6.7",
    "scatterwalk_start_at_pos": "6.15",
    "scatterwalk_skip": "6.15",
    "scatterwalk_next": "6.15",
    "scatterwalk_done_src": "6.15",
    "scatterwalk_done_dst": "6.15",
    "scatterwalk_get_sglist": "6.15",
    "memcpy_from_sglist": "6.15",
    "memcpy_to_sglist": "6.15",
    "memcpy_sglist": "6.15",
    "ahash_request_set_virt": "6.15",
    "acomp_request_set_src_dma": "6.15",
    "acomp_request_set_src_nondma": "6.15",
    "CRYPTO_ALG_REQ_VIRT": "6.16",
    "dma_iova_free": "6.16",
    "dma_iova_try_alloc": "6.16",
    "dma_iova_link": "6.16",
    "dma_iova_sync": "6.16",
    "dma_iova_destroy": "6.16",
    "blk_rq_dma_map_iter_start": "6.17",
    "dma_map_phys": "6.18",
    "dma_unmap_phys": "6.18",
    # The AES-mode library (20260707053503.209874-1-ebiggers@kernel.org),
    # in torvalds/linux at v7.3-rc1 (include/crypto/aes-gcm.h).
    **dict.fromkeys((
        "aes_gcm_preparekey", "aes_gcm_init", "aes_gcm_auth_update",
        "aes_gcm_encrypt_update", "aes_gcm_decrypt_update", "aes_gcm_encrypt_final",
        "aes_gcm_decrypt_final", "aes_gcm_encrypt", "aes_gcm_decrypt",
    ), "7.3"),
}

# Upstream in progress: name -> the series that carries it.
IN_PROGRESS: dict[str, str] = {
    "iov_iter_bvec_queue": "20260304140328.112636-1-dhowells@redhat.com (bvecq; next-20261007)",
}

# Removed from the kernel before the baseline: name -> the release that
# removed it.  The guide may mention them, never tag them as current API
# nor call them in its C.
REMOVED: dict[str, str] = {
    "iov_iter_is_aligned": "6.18",
}

# This project's proposal: name -> where the model implements it (None: a
# C-only name, such as a flag, that the model has no use for).
PROPOSED: dict[str, str | None] = {
    "skcipher_request_set_iter": "iovcrypto",
    "aead_request_set_iter": "iovcrypto",
    "CRYPTO_AEAD_REQ_ITER": None,
    "CRYPTO_ALG_REQ_ITER": None,
}

# Model helpers with no kernel counterpart: name -> module.
MODEL_ONLY: dict[str, str] = {
    "iter_pcopy_from": "iovcrypto.skcipher_walk",
    "iter_pcopy_to": "iovcrypto.skcipher_walk",
    "iter_pcopy": "iovcrypto.skcipher_walk",
}

C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "defined"}
PROJECT_PACKAGES = ("kmem", "ciphers", "sgl", "iovcrypto", "shims", "dma")

TAGGED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)(\(\))?`\s+`\[([^\]`]+)\]`")
CALL_SPAN = re.compile(r"`([^`\s]*)\(\)`")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def check_tag(name: str, tag: str) -> str | None:
    """Why ``name`` tagged ``tag`` disagrees with the lists, or None."""
    if name in REMOVED:
        return f"{name} [{tag}] was removed in {REMOVED[name]}, before the baseline"
    if tag == "U":
        return None if name in IN_PROGRESS else f"{name} [U] is not a known series' name"
    if tag == "P":
        return None if name in PROPOSED else f"{name} [P] is not a name of the proposal"
    if tag == "M":
        return None if name in MODEL_ONLY else f"{name} [M] is not a known model helper"
    if name not in KERNEL_API:
        return f"{name} [{tag}] is not in the list of known kernel API"
    if KERNEL_API[name] != tag:
        return f"{name} is tagged [{tag}] but arrived in {KERNEL_API[name]}"
    return None


def table_rows(text: str) -> list[str]:
    return [ln for ln in text.splitlines()
            if ln.startswith("|") and not re.fullmatch(r"\|[-| :]+\|", ln)]


def table_problems(text: str) -> list[str]:
    """Every call-like name in a table cell must carry a tag that agrees."""
    problems = []
    for row in table_rows(text):
        cells = row.strip("|").split("|")
        for cell in cells:
            tagged = {m.group(1) for m in TAGGED.finditer(cell)}
            for m in CALL_SPAN.finditer(cell):
                name = m.group(1)
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    problems.append(f"`{name}()` in a table is not a function name")
                elif name not in tagged:
                    problems.append(f"`{name}()` in a table has no tag: {row[:60]}…")
    return problems


def tag_problems(text: str) -> list[str]:
    """Tags anywhere in the guide agree with the lists and the baseline."""
    problems = []
    for m in TAGGED.finditer(text):
        name, tag = m.group(1), m.group(3)
        if tag not in ("U", "P", "M", OLD):
            if not re.fullmatch(r"\d+\.\d+", tag):
                problems.append(f"{name}: unknown tag [{tag}]")
                continue
            if _version(tag) > BASELINE:
                problems.append(f"{name} [{tag}] is newer than the baseline: tag it [U]")
        why = check_tag(name, tag)
        if why:
            problems.append(why)
    return problems


def c_blocks(text: str) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(text) if m.group(1) == "c"]


def c_defined(blocks: list[str]) -> set[str]:
    names = set()
    for block in blocks:
        names |= set(re.findall(r"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\(", block, re.M))
    return names


def c_problems(text: str) -> list[str]:
    """Every function a C block calls is known kernel API, in progress,
    proposed, or defined by the guide's own C."""
    blocks = c_blocks(text)
    known = set(KERNEL_API) | set(IN_PROGRESS) | set(PROPOSED) | c_defined(blocks)
    problems = []
    for block in blocks:
        code = re.sub(r"/\*.*?\*/", "", block, flags=re.S)
        for name in sorted(set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", code))):
            if name in REMOVED:
                problems.append(f"C block calls {name}(), removed in {REMOVED[name]}")
            elif name not in known and name not in C_KEYWORDS:
                problems.append(f"C block calls {name}(), which no list knows")
    return problems


def _resolve(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def project_problems(text: str) -> list[str]:
    """Project names and files the guide cites exist."""
    problems = []
    pkgs = "|".join(PROJECT_PACKAGES)
    for m in re.finditer(rf"`((?:{pkgs})(?:\.[A-Za-z_]\w*)+)`", text):
        if not _resolve(m.group(1)):
            problems.append(f"`{m.group(1)}` does not exist")
    for m in re.finditer(rf"`((?:{pkgs}|tests|benchmarks)/[\w/.-]+\.(?:py|toml|json|c))`", text):
        if not (ROOT / m.group(1)).exists():
            problems.append(f"`{m.group(1)}` is not a file of the project")
    for block in (b.group(2) for b in FENCE.finditer(text) if b.group(1) == "python"):
        for m in re.finditer(r"^\s*from\s+([\w.]+)\s+import\s+\(?([\w,\s]+)\)?", block, re.M):
            for name in filter(None, (n.strip() for n in m.group(2).split(","))):
                dotted = f"{m.group(1)}.{name}"
                if not _resolve(dotted):
                    problems.append(f"python block imports {dotted}, which does not exist")
    return problems


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def test_baseline_is_stated_up_front(guide: str) -> None:
    head = guide[:2000]
    assert f"Baseline: Linux v{BASELINE[0]}.{BASELINE[1]}" in head


def test_every_table_name_is_tagged(guide: str) -> None:
    assert table_problems(guide) == []


def test_every_tag_agrees_with_the_lists(guide: str) -> None:
    assert tag_problems(guide) == []


def test_c_blocks_call_only_known_names(guide: str) -> None:
    assert c_blocks(guide), "the guide's worked conversions are in C"
    assert c_problems(guide) == []


def test_cited_project_names_exist(guide: str) -> None:
    assert project_problems(guide) == []


def test_lists_are_consistent() -> None:
    # A name is in exactly one list; proposed names the model implements exist.
    lists = [set(KERNEL_API), set(IN_PROGRESS), set(PROPOSED), set(MODEL_ONLY), set(REMOVED)]
    for i, a in enumerate(lists):
        for b in lists[i + 1:]:
            assert not a & b
    for name, module in {**PROPOSED, **MODEL_ONLY}.items():
        if module:
            assert hasattr(importlib.import_module(module), name), name
    for version in set(KERNEL_API.values()) - {OLD}:
        assert _version(version) <= BASELINE


# The checks themselves: each catches the mistake it exists for.

def test_checks_catch_planted_mistakes() -> None:
    row = "| `sg_nents()` `[<5.0]` | `iov_iter_npages()` `[<5.0]` | x |"
    assert table_problems(row) == [] and tag_problems(row) == []
    assert table_problems("| `sg_nents()` | `iov_iter_count()` `[<5.0]` | x |")
    assert tag_problems("`scatterwalk_next()` `[6.14]`")          # wrong version
    assert tag_problems("`sg_foo()` `[6.1]`")                       # unknown name
    assert tag_problems("`aead_request_set_iter()` `[6.15]`")      # proposal as kernel API
    assert tag_problems("`dma_map_phys()` `[7.3]`")                 # past the baseline
    assert table_problems("| `aes_gcm_*_update()` `[U]` |")         # a pattern, not a name
    assert c_problems("```c\nstatic int f(void)\n{\n\treturn sg_frobnicate(x);\n}\n```\n")
    assert not c_problems("```c\nstatic int f(void)\n{\n\treturn sg_nents(x) + f();\n}\n```\n")
    assert project_problems("`iovcrypto.no_such_function`")
    assert project_problems("`sgl/no_such_file.py`")
    assert not project_problems("`iovcrypto.aead_request_set_iter` `sgl/gcm.py`")
    assert project_problems("```python\nfrom iovcrypto import no_such_name\n```\n")
    assert tag_problems("`iov_iter_is_aligned()` `[6.0]`")          # gone before the baseline
    assert c_problems("```c\nint f(void)\n{\n\treturn iov_iter_is_aligned(i, 3, 3);\n}\n```\n")
