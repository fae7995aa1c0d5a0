"""ciphers.algapi: descriptions, names, the registry (shared by both worlds)."""

import pytest

from ciphers.algapi import (
    CRYPTO_ALG_ASYNC,
    CRYPTO_ALG_INTERNAL,
    ERR_PTR,
    IS_ERR,
    IS_ERR_OR_NULL,
    PTR_ERR,
    AlgName,
    CryptoAlg,
    Registry,
    crypto_check_alg,
    generic_driver_name,
    parse_alg_name,
)
from kmem import errno as E


@pytest.mark.parametrize("name, tree", [
    ("aes", AlgName("aes")),
    ("cbc(aes)", AlgName("cbc", (AlgName("aes"),))),
    ("rfc4106(gcm(aes))", AlgName("rfc4106", (AlgName("gcm", (AlgName("aes"),)),))),
    ("authenc(hmac(sha256),cbc(aes))",
     AlgName("authenc", (AlgName("hmac", (AlgName("sha256"),)),
                         AlgName("cbc", (AlgName("aes"),))))),
    ("essiv(cbc(aes),sha256)", AlgName("essiv", (AlgName("cbc", (AlgName("aes"),)),
                                                 AlgName("sha256")))),
    ("rfc7539(chacha20,poly1305)", AlgName("rfc7539", (AlgName("chacha20"),
                                                       AlgName("poly1305")))),
])
def test_parse_round_trips(name, tree):
    parsed = parse_alg_name(name)
    assert parsed == tree
    assert str(parsed) == name
    assert parsed.is_template == ("(" in name)


@pytest.mark.parametrize("bad", ["", "cbc(", "cbc()", "cbc(aes", "cbc(aes))", "a b", "(aes)",
                                 "cbc(aes,)", "x(y)z"])
def test_parse_rejects_malformed(bad):
    assert parse_alg_name(bad) is None


def test_generic_driver_names():
    assert generic_driver_name("aes") == "aes-generic"
    assert generic_driver_name("cbc(aes)") == "cbc(aes-generic)"
    assert generic_driver_name("cts(cbc(aes))") == "cts(cbc(aes-generic))"
    assert generic_driver_name("rfc7539(chacha20,poly1305)") == \
        "rfc7539(chacha20-generic,poly1305-generic)"
    assert generic_driver_name("authenc(hmac(sha256),cbc(aes))") == \
        "authenc(hmac(sha256-generic),cbc(aes-generic))"
    assert generic_driver_name("x" * 120) == -E.ENAMETOOLONG
    assert generic_driver_name("cbc(") == -E.EINVAL


def test_err_ptr_helpers():
    assert IS_ERR(-E.ENOENT) and PTR_ERR(-E.ENOENT) == -E.ENOENT
    assert not IS_ERR(object()) and not IS_ERR(0) and not IS_ERR(-5000) and not IS_ERR(True)
    assert IS_ERR_OR_NULL(None)
    assert ERR_PTR(-E.EINVAL) == -E.EINVAL
    with pytest.raises(ValueError):
        ERR_PTR(3)


def _alg(name="cbc(aes)", driver="cbc-aes-x", prio=100, **kw):
    return CryptoAlg(name, driver, "skcipher", cra_priority=prio, cra_blocksize=16,
                     ivsize=16, min_keysize=16, max_keysize=32, **kw)


def test_registry_priority_and_driver_name():
    r = Registry("test")
    low, high = _alg(driver="cbc(aes-generic)", prio=100), _alg(driver="cbc-aes-fast", prio=300)
    assert r.register(low, "low") == 0
    assert r.register(high, "high") == 0
    assert r.lookup("cbc(aes)") == (high, "high")
    assert r.lookup("cbc(aes-generic)") == (low, "low")
    assert r.lookup("cbc(aes)", "aead") == -E.ENOENT
    assert r.lookup("ctr(aes)") == -E.ENOENT
    assert r.register(_alg(driver="cbc-aes-fast"), "dup") == -E.EEXIST
    assert r.register(high, "again") == -E.EEXIST
    assert r.unregister(high) == 0
    assert r.lookup("cbc(aes)") == (low, "low")
    assert r.unregister("nope") == -E.ENOENT
    assert [a for a, _ in r.algorithms()] == [low]


def test_registry_tie_goes_to_first_and_defaults_filled():
    r = Registry()
    a, b = _alg(driver="d1", prio=5), _alg(driver="d2", prio=5)
    r.register(a, 1)
    r.register(b, 2)
    assert r.lookup("cbc(aes)")[1] == 1
    assert a.chunksize == 16 and a.walksize == 16


def test_registry_type_mask_and_internal():
    r = Registry()
    sync = _alg(driver="sync", prio=100)
    async_ = _alg(driver="async", prio=400, cra_flags=CRYPTO_ALG_ASYNC)
    internal = _alg(driver="__internal", prio=900, cra_flags=CRYPTO_ALG_INTERNAL)
    for x in (sync, async_, internal):
        assert r.register(x, x.cra_driver_name) == 0
    assert r.lookup("cbc(aes)")[0] is async_
    assert r.lookup("cbc(aes)", type=0, mask=CRYPTO_ALG_ASYNC)[0] is sync
    assert r.lookup("__internal") == -E.ENOENT
    assert r.lookup("cbc(aes)", type=CRYPTO_ALG_INTERNAL,
                    mask=CRYPTO_ALG_INTERNAL)[0] is internal


def test_registration_checks():
    assert crypto_check_alg(_alg(cra_alignmask=5)) == -E.EINVAL
    assert crypto_check_alg(_alg(prio=-1)) == -E.EINVAL
    assert crypto_check_alg(CryptoAlg("", "x")) == -E.EINVAL
    assert crypto_check_alg(CryptoAlg("a", "b", ivsize=1024)) == -E.EINVAL
    assert crypto_check_alg(CryptoAlg("a", "b", "aead", maxauthsize=1024)) == -E.EINVAL
    with pytest.raises(TypeError):
        CryptoAlg("a", "b", ivsize="16")
    with pytest.raises(ValueError):
        CryptoAlg("a", "b", type="hash")


def test_templates_instantiate_on_miss():
    r = Registry()
    made = []

    def create(reg, parsed, name):
        inner = reg.lookup(str(parsed.args[0]))
        if isinstance(inner, int):
            return inner
        base = inner[0]
        alg = CryptoAlg(name, f"cbc({base.cra_driver_name})", cra_priority=base.cra_priority,
                        cra_blocksize=16, ivsize=16)
        made.append(name)
        return reg.register(alg, ("cbc", inner[1]))

    assert r.register_template("cbc", create) == 0
    assert r.register_template("cbc", create) == -E.EEXIST
    assert r.lookup("cbc(aes)") == -E.ENOENT              # no aes yet
    r.register(CryptoAlg("aes", "aes-generic", "cipher", cra_priority=100, cra_blocksize=16), "A")
    alg, impl = r.lookup("cbc(aes)")
    assert alg.cra_driver_name == "cbc(aes-generic)" and impl == ("cbc", "A")
    assert r.lookup("cbc(aes)")[0] is alg and made == ["cbc(aes)"]
    assert r.unregister_template("cbc") == 0 and r.unregister_template("cbc") == -E.ENOENT
