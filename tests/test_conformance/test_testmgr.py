"""``iovcrypto conformance --testmgr``: a kernel's testmgr.h/testmgr.c read
at run time.  The fixture under fixtures/kernel/crypto is ours, shaped like
the kernel's files (the project never ships those)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from iovcrypto.tools.conformance.command import conformance
from iovcrypto.tools.conformance.session import Options, run
from iovcrypto.tools.conformance.testmgr import (
    TestmgrError,
    load_testmgr,
    parse_c_string,
    parse_testmgr_h,
    preprocess,
)
from kmem import errno as E

KERNEL = Path(__file__).parent / "fixtures" / "kernel"
FAST = dict(configs="default", fuzz=0, api="sg")


@pytest.fixture(scope="module")
def tm():
    return load_testmgr(str(KERNEL))


def test_c_string_escapes() -> None:
    assert parse_c_string(r"\x00\x1\xff") == b"\x00\x01\xff"
    assert parse_c_string(r"\0\1\12\101\1011") == b"\x00\x01\x0aAA1"
    assert parse_c_string(r"a\"b\\c\n\t\?") == b'a"b\\c\n\t?'
    assert parse_c_string("é") == "é".encode()
    # \x takes every hex digit that follows, as C does: one byte too big.
    with pytest.raises(TestmgrError):
        parse_c_string(r"\x123")
    with pytest.raises(TestmgrError):
        parse_c_string("\\q")


def test_preprocessor_branches() -> None:
    src = "\n".join([
        "#ifdef __LITTLE_ENDIAN", "le", "#else", "be", "#endif",
        "#if 0", "zero", "#elif IS_ENABLED(CONFIG_X) || defined(__LITTLE_ENDIAN)", "elif",
        "#else", "else", "#endif",
        "#ifndef CONFIG_X", "#define N 0x10", "#endif",
        "#if N == 16 && !defined(CONFIG_X)", "n16", "#endif",
        "#if 0", "#if 1", "nested", "#endif", "#endif",
        'x = "/* in a string */" /* a comment */ y',
    ])
    out, defs = preprocess(src)
    lines = [s for s in out.split("\n") if s.strip()]
    assert lines == ["le", "elif", "n16", 'x = "/* in a string */"   y']
    assert defs["N"] == 16
    big, _ = preprocess(src, {"__BIG_ENDIAN": 4321})
    assert next(s for s in big.split("\n") if s.strip()) == "be"
    with pytest.raises(TestmgrError):
        preprocess("#if 1\nx\n")


def test_fixture_fields(tm) -> None:
    assert tm.vectors("cbc(anubis)") is not None and tm.vectors("sha256") is None
    assert sorted(s.alg for s in tm.tested()) == [
        "aegis128", "authenc(hmac(sha256),cbc(aes))", "cbc(aes)", "cbc(anubis)", "ecb(aes)",
        "ecb(des3_ede)", "gcm(aes)", "kw(aes)", "lrw(aes)", "xts(aes)"]
    weak = tm.vectors("ecb(des3_ede)")[1]
    assert weak.wk and weak.setkey_error == -22 and len(weak.key) == 24
    aegis = tm.vectors("aegis128")      # three of the kernel's own vectors
    assert [len(v.ptext) for v in aegis] == [15, 65, 16] and aegis[2].authsize == 8
    # the #else branch of an IS_ENABLED() in testmgr.c
    assert tm.suites["xts(aes)"].test == "alg_test_skcipher"
    assert tm.suites["gcm(aes)"].array == "aes_gcm_tv_template"     # ____VECS in braces
    ecb = tm.vectors("ecb(aes)")
    assert ecb[0].key == bytes(range(16)) and len(ecb[1].key) == 32   # #define, 8 * 4
    assert ecb[1].key == bytes(range(32)) and ecb[1].ptext[0] == 0
    assert ecb[2].setkey_error == -E.EINVAL and len(ecb[2].key) == 15
    cbc = tm.vectors("cbc(aes)")
    assert len(cbc) == 3 and cbc[0].ptext == b"Single block msg"   # #if 0 block dropped
    assert cbc[1].iv_out == cbc[1].ctext[-16:] and cbc[2].crypt_error == -E.EINVAL
    xts = tm.vectors("xts(aes)")
    assert xts[0].wk and not xts[1].wk
    kw = tm.vectors("kw(aes)")[0]
    assert kw.generates_iv and len(kw.iv_out) == 8 and kw.iv is None
    gcm = tm.vectors("gcm(aes)")
    assert [v.authsize for v in gcm] == [16, 12, 16, 3, 16]
    assert gcm[0].ptext == b"" and gcm[0].iv is None and gcm[2].novrfy
    assert gcm[3].setauthsize_error == -E.EINVAL
    assert gcm[4].ptext == bytes(16)     # .ptext = zeroed_string, a static array
    ae, ae_macro = tm.vectors("authenc(hmac(sha256),cbc(aes))")
    assert ae.key[:4] == b"\x08\x00\x01\x00" and len(ae.key) == 56 and len(ae.assoc) == 24
    assert ae_macro.key == ae.key       # AUTHENC_KEY_HEADER(...) expanded


def test_function_like_macros() -> None:
    arrays, bad = parse_testmgr_h(
        "#define TWO(a, b) b a\n#define ONE \"\\x01\"\n#define LEN (1 + 1)\n"
        "static const struct cipher_testvec m_tv[] = {\n"
        "  { .key = TWO(ONE, \"\\x02\"), .klen = LEN, .len = 0 } };\n"
        "static const struct cipher_testvec n_tv[] = { { .key = TWO(ONE), .len = 0 } };")
    assert arrays["m_tv"][0].key == b"\x02\x01"
    assert "takes 2 arguments" in bad["n_tv"]


def test_static_byte_arrays() -> None:
    """A field may name a file-scope array (testmgr.h's ``zeroed_string``):
    static storage, zero where not initialised."""
    arrays, bad = parse_testmgr_h(
        "static const char zeroed_string[48];\n"
        "static const u8 ff[4] = { [0 ... 3] = 0xff };\n"
        "static const u8 mixed[6] = { 1, 2, [4 ... 5] = 7 };\n"
        "static const char word[] = \"ab\";\n"
        "static const struct cipher_testvec z_tv[] = {\n"
        "  { .key = ff, .klen = 4, .ptext = zeroed_string, .ctext = mixed, .len = 6,\n"
        "    .iv = word } };")
    assert not bad
    v = arrays["z_tv"][0]
    assert v.key == b"\xff" * 4 and v.ptext == bytes(6) and v.iv == b"ab\0"
    assert v.ctext == b"\x01\x02\x00\x00\x07\x07"


def test_tables_need_the_selftests_option() -> None:
    """Since v6.16, testmgr.c compiles alg_test_descs[] only under
    CONFIG_CRYPTO_SELFTESTS, which the reader sets."""
    assert load_testmgr(str(KERNEL)).suites
    bare = load_testmgr(str(KERNEL), defines={"__LITTLE_ENDIAN": 1234})
    assert bare.suites == {}


def test_unreadable_array_is_reported_not_fatal() -> None:
    arrays, bad = parse_testmgr_h(
        "static const struct cipher_testvec a_tv[] = { { .key = \"\\x00\", .len = nope } };\n"
        "static const struct cipher_testvec b_tv[] = { { .len = 1, .ptext = \"x\" } };")
    assert list(arrays) == ["b_tv"] and "nope" in bad["a_tv"]
    assert arrays["b_tv"][0].ctext == b"\0"      # an omitted literal reads as zeroes


def test_every_registered_algorithm_runs_and_the_rest_is_skipped(tm) -> None:
    rep = run(Options(testmgr=tm, api="all", configs="default", fuzz=0))
    assert rep.passed, [f.message for f in rep.failures[:5]]
    ran = {(kind, r.target.alg.cra_name) for kind, r in rep.results}
    assert {a for _, a in ran} == {"aegis128", "authenc(hmac(sha256),cbc(aes))", "cbc(aes)",
                                   "ecb(aes)", "gcm(aes)", "xts(aes)", "kw(aes)", "ecb(des3_ede)",
                                   "lrw(aes)"} - _unregistered()
    apis = {r.target.api for _, r in rep.results}
    assert apis == {"sg", "iter", "bridge-sg", "bridge-iter", "lib"}  # lib: gcm(aes) only
    skipped = {row[0]: row[4] for row in rep.skipped}
    assert skipped["cbc(anubis)"] == "not registered by this project"
    # registered, but the tree has nothing to run on it
    assert skipped["authenc(hmac(sha256),ctr(aes))"] == \
        "testmgr.c tests it with alg_test_null, no vectors"
    assert skipped["cbc(sm4)"] == "not in testmgr.c's alg_test_descs[]"
    vecs = {r.target.alg.cra_name: r.stats.vectors for _, r in rep.results}
    assert vecs["gcm(aes)"] == 5 and vecs["cbc(aes)"] == 3 and vecs["aegis128"] == 3
    assert vecs["ecb(des3_ede)"] == 2 and vecs["lrw(aes)"] == 2


def _unregistered() -> set[str]:
    import iovcrypto as iov

    names = {a.cra_name for a, _ in iov.crypto_registry.algorithms()}
    return {"kw(aes)"} - names


def _copy(tmp_path: Path, edit) -> Path:
    dst = tmp_path / "linux"
    shutil.copytree(KERNEL, dst)
    h = dst / "crypto" / "testmgr.h"
    h.write_text(edit(h.read_text()))
    return dst


def test_a_wrong_vector_fails(tmp_path: Path) -> None:
    # One ciphertext byte of the FIPS-197 vector changed.
    tree = _copy(tmp_path, lambda s: s.replace(r'"\x69\xc4\xe0\xd8', r'"\x68\xc4\xe0\xd8', 1))
    rep = run(Options(testmgr=load_testmgr(str(tree)), alg="ecb(aes)", **FAST))
    assert not rep.passed
    assert "encryption test failed (wrong result) on test vector 0" in rep.failures[0].message


def test_weak_key_flag_reaches_the_driver(tmp_path: Path) -> None:
    # Without .wk the equal-halves XTS key is accepted: setkey_error unmet.
    tree = _copy(tmp_path, lambda s: s.replace("\t\t.wk\t= 1,\n", "", 1))
    rep = run(Options(testmgr=load_testmgr(str(tree)), alg="xts(aes)", **FAST))
    assert not rep.passed and "setkey failed on test vector 0" in rep.failures[0].message


def test_bridges_pass_the_weak_key_flag_on(tm, monkeypatch) -> None:
    from shims import bridge

    def setkey(self, ctx, key):       # the bridge as it was: flags not forwarded
        return getattr(self.mod, f"crypto_{self.alg_type}_setkey")(ctx.inner, key, len(key))

    monkeypatch.setattr(bridge._Bridge, "setkey", setkey)
    rep = run(Options(testmgr=tm, alg="xts(aes)", configs="default", fuzz=0, api="bridge"))
    assert not rep.passed and all("setkey failed" in f.message for f in rep.failures)


def test_big_endian_keys_do_not_fit_this_little_endian_model(tmp_path: Path) -> None:
    tm = load_testmgr(str(KERNEL), {"__BIG_ENDIAN": 4321, "CONFIG_CRYPTO_SELFTESTS": 1})
    ae, ae_macro = tm.vectors("authenc(hmac(sha256),cbc(aes))")
    assert ae.key[:4] == ae_macro.key[:4] == b"\x00\x08\x00\x01"
    rep = run(Options(testmgr=tm, alg="authenc(hmac(sha256),cbc(aes))", **FAST))
    assert not rep.passed


def test_the_command(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = CliRunner().invoke(conformance, ["--testmgr", str(KERNEL / "crypto" / "testmgr.h"),
                                           "--api", "sg", "--configs", "default", "--fuzz", "0",
                                           "--no-progress", "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["options"]["testmgr"].endswith("testmgr.h")
    assert any(r["status"] == "skip" and r["algorithm"] == "cbc(anubis)" for r in doc["results"])
    (tmp_path / "empty").mkdir()
    bad = CliRunner().invoke(conformance, ["--testmgr", str(tmp_path / "empty")])
    assert bad.exit_code == 2 and "no crypto/testmgr.h" in bad.output
