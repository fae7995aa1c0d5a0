"""The Python reader on a fake sgl/ + iovcrypto/ tree (not the real packages)."""

from __future__ import annotations

import shutil

from iovcrypto.tools.checklist import scan_python_project, scan_python_source
from iovcrypto.tools.checklist.py_reader import module_name

from .helpers import PYTREE, rows


def _by_path(files):
    return {fr.path: fr for fr in files}


def test_driver_statuses():
    files, drivers, api = scan_python_project(PYTREE)
    got = [(d.module, d.twin, d.status, d.legacy_findings, d.twin_findings, d.builds_on,
            d.twin_imports) for d in drivers]
    assert got == [
        ("sgl/cbc.py", "iovcrypto/cbc.py", "converted", 2, 0, (), ()),
        # No call of its own, but it runs gcm's code; its twin still imports it.
        ("sgl/ccm.py", "iovcrypto/ccm.py", "partially converted", 0, 0, ("sgl/gcm.py",),
         ("sgl/gcm.py",)),
        ("sgl/ctr.py", "iovcrypto/ctr.py", "partially converted", 2, 1, (),
         ("sgl/scatterwalk.py",)),
        ("sgl/ecb.py", None, "not converted", 4, 0, (), ()),
        ("sgl/gcm.py", None, "not converted", 2, 0, (), ()),
    ]
    # Modules that define the scatterlist API are the API, not drivers; sgl/util.py
    # (imported by ccm, importing no driver) and the package __init__ are neither.
    assert api == ["sgl/scatterwalk.py", "sgl/skcipher.py"]
    # Converted twins have nothing left and are not listed as files; each twin
    # follows its legacy module.
    assert [fr.path for fr in files] == ["sgl/cbc.py", "sgl/ctr.py", "iovcrypto/ctr.py",
                                         "sgl/ecb.py", "sgl/gcm.py"]


def test_legacy_findings_resolve_every_import_form():
    files = _by_path(scan_python_project(PYTREE)[0])
    assert rows(files["sgl/cbc.py"]) == [  # from .skcipher import ...
        (12, "cbc_encrypt", "skcipher_walk_virt(walk, req, False)", "skcipher_walk"),
        (15, "cbc_encrypt", "skcipher_walk_done(walk, walk.nbytes - done)", "skcipher_walk"),
    ]
    assert rows(files["sgl/ctr.py"]) == [  # import sgl.skcipher as sk; from sgl import mod
        (11, "ctr_crypt", "skcipher_walk_virt(walk, req, False)", "skcipher_walk"),
        (12, "ctr_crypt", "scatterwalk_map_and_copy(core.block, req.src, 0, 16, 0)",
         "scatterwalk_map_and_copy"),
    ]
    assert rows(files["sgl/gcm.py"]) == [  # from sgl import name; a method
        (8, "GcmDriver.decrypt", "skcipher_walk_virt(self.walk, req, True)", "skcipher_walk"),
        (9, "GcmDriver.decrypt",
         "memcpy_from_sglist(tag, req.src, req.assoclen + req.cryptlen - 16, 16)",
         "memcpy_from_sglist"),
    ]
    cbc = files["sgl/cbc.py"].findings[0]
    assert cbc.detail == "from sgl.skcipher.skcipher_walk_virt"
    assert (cbc.column, cbc.end_line) == (11, 12)


def test_local_aliases_and_renamed_imports():
    ecb = _by_path(scan_python_project(PYTREE)[0])["sgl/ecb.py"]
    # copy = a if out else b; copy(...) reports both at the call; after
    # copy is rebound, nothing; `import ... as done` resolves to the real name.
    assert [(f.line, f.name, f.detail) for f in ecb.findings] == [
        (11, "skcipher_walk_virt", "from sgl.skcipher.skcipher_walk_virt"),
        (12, "memcpy_from_sglist", "from sgl.scatterwalk.memcpy_from_sglist, called as copy()"),
        (12, "scatterwalk_map_and_copy",
         "from sgl.scatterwalk.scatterwalk_map_and_copy, called as copy()"),
        (15, "skcipher_walk_done", "from sgl.skcipher.skcipher_walk_done, called as done()"),
    ]
    assert ecb.findings[1].text == "memcpy_from_sglist(buf, req.src, 0, 16)"


def test_aliases_of_iov_iter_names_are_not_findings():
    src = (b"from iovcrypto.skcipher_walk import skcipher_walk_aead_decrypt as d\n"
           b"from iovcrypto.skcipher_walk import skcipher_walk_aead_encrypt as e\n"
           b"def w(walk, req, dec):\n    start = d if dec else e\n    start(walk, req, False)\n"
           b"    other = d if dec else sg_next\n    other(walk)\n")
    report, _ = scan_python_source(src, "iovcrypto/w.py", "iovcrypto.w")
    # A mixed alias is not resolved; sg_next is only referenced, never called by name.
    assert report.findings == []


def test_twin_findings_only_scatterlist_side():
    files = _by_path(scan_python_project(PYTREE)[0])
    # skcipher_walk_virt and copy_from_iter come from the iov_iter world.
    assert rows(files["iovcrypto/ctr.py"]) == [
        (11, "ctr_crypt", "scatterwalk_map_and_copy(core.block, req.dst, 0, 16, 1)",
         "scatterwalk_map_and_copy"),
    ]


def test_shared_names_decided_by_origin():
    src = (b"from iovcrypto.aead import aead_request_set_ad\n"
           b"def a(req):\n    aead_request_set_ad(req, 16)\n    sg_init_table(req.sg, 1)\n"
           b"    aead_request_set_crypt(req, 1, 2, 3, 4)\n")
    report, defines = scan_python_source(src, "iovcrypto/x.py", "iovcrypto.x")
    # Unimported names count unless the catalogue marks them as shared.
    assert [f.name for f in report.findings] == ["sg_init_table", "aead_request_set_crypt"]
    assert defines == set()
    shared = b"def a(req):\n    aead_request_set_ad(req, 16)\n    skcipher_walk_virt(w, r, 0)\n"
    assert scan_python_source(shared, "y.py")[0].findings == []


def test_star_imports_and_local_objects():
    src = (b"from sgl.scatterlist import *\n"
           b"def a(walk, sg):\n    sg_init_table(sg, 2)\n    walk.sg_next(sg)\n"
           b"    aead_request_set_ad(walk, 1)\n")
    report, _ = scan_python_source(src, "z.py")
    found = [(f.name, f.detail) for f in report.findings]
    # Methods of local objects are not resolved; the shared name is, through the star import.
    assert found == [("sg_init_table", "from sgl.scatterlist"),
                     ("aead_request_set_ad", "from sgl.scatterlist")]


def test_relative_imports_climb_packages():
    assert module_name("sgl/sub/__init__.py") == "sgl.sub"
    src = b"from ..scatterwalk import memcpy_to_sglist\ndef f(b):\n    memcpy_to_sglist(b, 0)\n"
    report, _ = scan_python_source(src, "sgl/sub/mod.py", "sgl.sub.mod")
    assert [f.detail for f in report.findings] == ["from sgl.scatterwalk.memcpy_to_sglist"]


def test_unreadable_python(tmp_path):
    report, _ = scan_python_source(b"def broken(:\n    pass\n", "bad.py")
    assert report.status == "unreadable" and "syntax error at line 1" in report.message
    assert report.skipped[0].start_line == 1
    assert scan_python_source(b"", "e.py")[0].status == "empty"
    assert scan_python_source(b"\x00\x01", "b.py")[0].status == "binary"


def test_tree_variations(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(PYTREE, root)
    # A twin that cannot be parsed gives an unknown status, not a guess.
    (root / "iovcrypto" / "cbc.py").write_text("def x(:\n")
    # A legacy module that cannot be parsed is listed, but not as a driver.
    (root / "sgl" / "broken.py").write_text("class (:\n")
    files, drivers, _ = scan_python_project(root)
    status = {d.module: d.status for d in drivers}
    assert status["sgl/cbc.py"] == "unknown"
    assert "sgl/broken.py" not in status
    assert _by_path(files)["sgl/broken.py"].status == "unreadable"


def test_project_without_sgl(tmp_path):
    assert scan_python_project(tmp_path) == ([], [], [])
