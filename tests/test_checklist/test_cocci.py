"""``--format cocci``: the semantic patch, applied with spatch to the fixtures.

spatch comes from Debian's coccinelle package; CI installs it (.ci/run).
Without it these tests fail under CI (CI=true) and skip elsewhere, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from iovcrypto.tools.checklist import build_report
from iovcrypto.tools.checklist.cocci import render_cocci

from .helpers import COCCI_EXPECTED, FLOW

SPATCH = shutil.which("spatch")


@pytest.fixture(scope="module")
def spatch():
    if SPATCH is None:
        if os.environ.get("CI") == "true":
            pytest.fail("spatch (coccinelle) is missing under CI: .ci/run must install it")
        pytest.skip("spatch (Debian's coccinelle package) is not installed on this machine")
    return SPATCH


def _patch_text() -> str:
    return render_cocci(build_report([FLOW]))


def test_the_patch_holds_only_certain_rewrites():
    text = _patch_text()
    assert "memcpy_from_sglist(E_buf, E_sg, E_start, E_len)" in text
    assert "memcpy_to_sglist(E_sg, E_start, E_buf, E_len)" in text
    # Synchronous local tables used in place: both groups of blkcrypt_sync.c.
    assert "identifier F = {acme_crypt_bvec};" in text
    assert "identifier F = {acme_crypt_split};" in text
    assert "+ sg = bv;" in text
    assert "+ skcipher_request_set_iter(req, &sg_src, &sg_dst, bv.bv_len, iv);" in text
    assert "proposed iov_iter crypto API" in text
    # Not certain, left to the checklist: asynchronous (dm-crypt style, tls
    # style), the library road (smb), DMA and alignment loops, page pairs.
    for fn in ("acme_blk_seal", "acme_rx_record", "acme_rx_decrypt", "acme_smb_seal",
               "acme_aes_dma_start", "acme_aes_aligned", "acme_tx_fill"):
        assert f"{{{fn}}}" not in text, fn
    assert "iov_iter_is_aligned" not in text


def test_nothing_certain_says_so(tmp_path):
    src = tmp_path / "a.c"
    src.write_text("int f(struct scatterlist *sg) { return sg_nents(sg); }\n")
    text = render_cocci(build_report([src]))
    assert "Nothing the tool is certain of" in text and "@@" not in text


def test_spatch_applies_it_and_yields_the_expected_files(spatch, tmp_path):
    work = tmp_path / "src"
    shutil.copytree(FLOW, work)
    cocci = tmp_path / "plan.cocci"
    cocci.write_text(_patch_text())
    for path in sorted(work.glob("*.c")):
        run = subprocess.run([spatch, "--very-quiet", "--sp-file", str(cocci), "--in-place",
                              str(path)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "error" not in run.stderr.lower(), run.stderr
    changed = []
    for path in sorted(work.glob("*.c")):
        expected = COCCI_EXPECTED / path.name
        want = (expected if expected.exists() else FLOW / path.name).read_text()
        assert path.read_text() == want, path.name
        if expected.exists():
            changed.append(path.name)
    assert changed == ["blkcrypt_sync.c", "calib_walk.c"]


def test_command_line_format(tmp_path):
    from click.testing import CliRunner

    from iovcrypto.tools.cli import cli

    out = tmp_path / "plan.cocci"
    result = CliRunner().invoke(cli, ["checklist", str(FLOW / "blkcrypt_sync.c"),
                                      "--format", "cocci", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("// Semantic patch from `iovcrypto checklist`")


def test_an_asynchronous_table_is_left_to_the_checklist(tmp_path):
    """Without a wait the on-stack table may die before the request completes."""
    src = tmp_path / "async.c"
    src.write_text("""static int f(struct skcipher_request *req, struct bio_vec bv, u8 *iv)
{
\tstruct scatterlist sg;

\tsg_init_table(&sg, 1);
\tsg_set_page(&sg, bv.bv_page, bv.bv_len, bv.bv_offset);
\tskcipher_request_set_crypt(req, &sg, &sg, bv.bv_len, iv);
\treturn crypto_skcipher_encrypt(req);
}
""")
    report = build_report([src])
    assert report.files[0].groups[0].iterator == "BVEC"
    assert "{f}" not in render_cocci(report)
    waited = src.read_text().replace(
        "\treturn crypto_skcipher_encrypt(req);",
        "\treturn crypto_wait_req(crypto_skcipher_encrypt(req), &wait);")
    src.write_text(waited)
    assert "identifier F = {f};" in render_cocci(build_report([src]))
