"""``iovcrypto checklist`` through click's CliRunner."""

from __future__ import annotations

import json

import jsonschema
from click.testing import CliRunner

from iovcrypto.tools.checklist import json_schema
from iovcrypto.tools.checklist.command import checklist, project_root
from iovcrypto.tools.cli import cli

from .helpers import C_FIXTURES, GARBAGE, PYTREE, SARIF_SUBSET_SCHEMA


def _run(*args: str):
    return CliRunner().invoke(cli, ["checklist", *args])


def test_registered_in_the_iovcrypto_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "checklist" in result.output


def test_markdown_default():
    result = _run(str(C_FIXTURES / "acme_skcipher.c"))
    assert result.exit_code == 0, result.output
    assert ("- [ ] line 44: `skcipher_walk_virt(&walk, req, false)` → the same "
            "skcipher_walk_*() call, on a request that carries iov_iters (proposed iov_iter "
            "crypto API) (mechanical)") in result.output
    assert "## Summary" in result.output


def test_json_and_sarif_formats():
    result = _run(str(C_FIXTURES), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    jsonschema.validate(doc, json_schema())
    assert len(doc["files"]) == 4
    result = _run(str(C_FIXTURES), "--format", "sarif")
    assert result.exit_code == 0
    log = json.loads(result.output)
    jsonschema.validate(log, json.loads(SARIF_SUBSET_SCHEMA.read_text()))
    assert len(log["runs"][0]["results"]) == doc["summary"]["findings"]


def test_output_file(tmp_path):
    out = tmp_path / "checklist.sarif"
    result = _run(str(C_FIXTURES / "acme_dma.c"), "--format", "sarif", "--output", str(out))
    assert result.exit_code == 0
    assert "checklist written to" in result.output
    log = json.loads(out.read_text())
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"dma_map_sg", "sg_dma"}


def test_output_into_missing_directory_fails_cleanly(tmp_path):
    result = _run(str(C_FIXTURES / "acme_dma.c"), "-o", str(tmp_path / "no" / "such" / "f.md"))
    assert result.exit_code != 0
    assert "Could not open file" in result.output or "Error" in result.output
    assert not isinstance(result.exception, OSError)


def test_missing_path_is_an_error(tmp_path):
    result = _run(str(tmp_path / "does-not-exist.c"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_no_paths_is_a_usage_error():
    result = _run()
    assert result.exit_code == 2
    assert "give at least one PATH" in result.output


def test_unparsable_input_still_exits_zero(tmp_path):
    empty = tmp_path / "empty.c"
    empty.write_bytes(b"")
    blob = tmp_path / "blob.c"
    blob.write_bytes(b"\x00" * 64)
    result = _run(str(GARBAGE), str(empty), str(blob))
    assert result.exit_code == 0
    assert "Not analysed: empty file." in result.output
    assert "Not analysed: binary file" in result.output
    assert "The parser skipped what it could not place" in result.output


def test_python_root_option():
    result = CliRunner().invoke(checklist, ["--python-root", str(PYTREE), "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert [d["status"] for d in doc["drivers"]] == [
        "converted", "partially converted", "partially converted", "not converted",
        "not converted"]


def test_self_runs_on_this_project():
    assert project_root() is not None
    result = _run("--self")
    assert result.exit_code == 0, result.output
    assert "## Legacy drivers of this project" in result.output
    result = _run("--self", "--python-root", str(PYTREE))
    assert result.exit_code == 2
    assert "not both" in result.output


def test_guide_example_is_real_output(monkeypatch):
    """The README's tools reference pastes the checklist of one fixture; keep it true."""
    monkeypatch.chdir(project_root())
    guide = (project_root() / "README.md").read_text()
    pasted = guide.split("```markdown\n", 1)[1].split("\n```\n", 1)[0] + "\n"
    result = _run("tests/test_checklist/fixtures/c/acme_netfs_crypt.c")
    assert result.exit_code == 0
    assert pasted == result.output, "regenerate the example in README.md (Tools reference)"


def test_directories_python_files_and_duplicates(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.h").write_text("static inline void h(void) { sg_mark_end(sg); }\n")
    (tmp_path / "b.c").write_text("void b(void) { sg_next(sg); }\n")
    (tmp_path / "notes.txt").write_text("sg_init_table(sg, 1);\n")
    (tmp_path / "drv.py").write_text("from sgl import sg_init_one\nsg_init_one(1, 2, 3)\n")
    result = _run(str(tmp_path), str(tmp_path / "b.c"), str(tmp_path / "drv.py"),
                  "--format", "json")
    assert result.exit_code == 0
    files = json.loads(result.output)["files"]
    names = [(f["path"].rsplit("/", 1)[-1], f["language"]) for f in files]
    assert names == [("b.c", "c"), ("a.h", "c"), ("drv.py", "python")]
    assert [x["name"] for f in files for x in f["findings"]] == [
        "sg_next", "sg_mark_end", "sg_init_one"]


def test_guide_self_status_is_real_output():
    """The README's tools reference pastes the --self driver table; keep it true."""
    guide = (project_root() / "README.md").read_text()
    section = guide.split("### This project's own drivers", 1)[1]
    pasted = section.split("## Legacy drivers of this project\n", 1)[1].split("\n```\n", 1)[0]
    result = _run("--self")
    assert result.exit_code == 0
    real = result.output.split("## Legacy drivers of this project\n", 1)[1].split("\n## ", 1)[0]
    assert pasted.strip() == real.strip(), "regenerate the table in README.md"
    # This project's own drivers are all converted, the AEAD templates through
    # their shared buffer half.
    assert ("| `sgl/ccm.py` | `iovcrypto/ccm.py` | converted | 0, through "
            "`sgl/aead_template.py` | 0 |") in pasted
    rows = [line for line in pasted.splitlines() if line.startswith("| `sgl/")]
    assert len(rows) == 20 and all("| converted |" in line for line in rows)
    assert "| `sgl/engine_aes.py` | `iovcrypto/engine_aes.py` | converted |" in pasted
    assert "| `sgl/engine_aes_gcm.py` | `iovcrypto/engine_aes_gcm.py` | converted |" in pasted


def test_directory_without_c_files_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("sg_init_table(sg, 1);\n")
    result = CliRunner().invoke(cli, ["checklist", str(tmp_path)])
    assert result.exit_code == 3
    assert f"no C files (*.c, *.h) under {tmp_path}" in result.stderr
    assert "nothing to check" in result.stderr
    assert "# Scatterlist" not in result.stdout
    # One empty directory among real paths is reported and the rest is checked.
    result = CliRunner().invoke(cli, ["checklist", str(tmp_path),
                                      str(C_FIXTURES / "acme_skcipher.c")])
    assert result.exit_code == 0
    assert "no C files" in result.stderr and "skcipher_walk_virt" in result.stdout


def test_python_root_without_sgl_is_an_error(tmp_path):
    result = _run("--python-root", str(tmp_path))
    assert result.exit_code == 2
    assert "has no sgl/ directory" in result.output
    assert "No legacy driver" not in result.output


def test_sarif_points_nowhere_invented_and_never_above_its_base(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "x.c").write_text("void f(struct scatterlist *sg) { sg_mark_end(sg); }\n")
    monkeypatch.chdir(work)
    result = _run("../x.c", "--format", "sarif")
    assert result.exit_code == 0, result.output
    assert ".invalid" not in result.output
    log = json.loads(result.output)
    jsonschema.validate(log, json.loads(SARIF_SUBSET_SCHEMA.read_text()))
    loc = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": (tmp_path / "x.c").resolve().as_uri()}
    assert "informationUri" not in log["runs"][0]["tool"]["driver"]
