"""Markdown, JSON (against its schema) and SARIF 2.1.0 (against the subset schema)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from iovcrypto.tools.checklist import (
    build_report,
    json_schema,
    render_json,
    render_markdown,
    render_sarif,
    sarif_dict,
)

from .helpers import C_FIXTURES, GARBAGE, PYTREE, SARIF_SUBSET_SCHEMA


@pytest.fixture(scope="module")
def report():
    return build_report([C_FIXTURES, GARBAGE], PYTREE)


def _sarif_validator():
    schema = json.loads(SARIF_SUBSET_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_markdown_items_and_sections(report):
    md = render_markdown(report)
    lines = md.splitlines()
    assert lines[0] == "# Scatterlist → iov_iter conversion checklist"
    assert ("- [ ] line 44: `skcipher_walk_virt(&walk, req, false)` → the same "
            "skcipher_walk_*() call, on a request that carries iov_iters (proposed iov_iter "
            "crypto API) (mechanical)") in lines
    assert ("- [ ] line 62 in `acme_dma_map()`: `dma_map_sg(dev, sgt->sgl, sgt->orig_nents, "
            "DMA_TO_DEVICE)` → extract_iter_to_sg() into an sg_table just before mapping, or "
            "dma_map_page() on iov_iter_extract_pages() (DMA path)") in lines
    assert any(line.startswith("- [ ] line 67: `sg_set_buf(&rctx->dst[1], expected, authsize)`")
               and line.endswith("— `expected` is on the stack (declared at line 60)")
               for line in lines)
    # A file without groups lists its uses per function; with groups, the
    # uses outside them follow the groups.
    assert "### `acme_cbc_crypt()`" in lines
    assert "### Other uses in `macro ACME_COPY_TAG`" in lines
    assert "### G1: `struct acme_dma_req.src_sgt` → `dma_map_sg()` (line 62)" in lines
    assert ("| `sgl/ctr.py` | `iovcrypto/ctr.py` | partially converted | 2 | "
            "1, imports `sgl/scatterwalk.py` |") in lines
    assert ("| `sgl/ccm.py` | `iovcrypto/ccm.py` | partially converted | "
            "0, through `sgl/gcm.py` | 0, imports `sgl/gcm.py` |") in lines
    assert any(line.startswith("> The parser skipped what it could not place: line 60")
               for line in lines)
    # Each checklist item appears once per finding.
    assert sum(line.startswith("- [ ] ") for line in lines) == len(report.all_findings())


def test_markdown_summary(report):
    s = report.summary()
    md = render_markdown(report)
    # Counted by hand from the fixtures (checklist/1): mechanical 12 + 3 positional copies
    # (AEAD) in C, 6 walk calls + 5 positional copies in the Python tree; restructure 10
    # (AEAD) + 9 (DMA) + 4 (caller) + 1 (garbage); ownership 2 (AEAD) + 7 (DMA) + 5
    # (caller), DMA 4.  The data flow adds a read of req->src outside any catalogued call
    # (DMA line 53, restructure) and a same-file call passing a table (mechanical), and
    # decides that two AEAD entries of a kvec group (lines 65, 66), the declarations of
    # two kvec tables (AEAD lines 21, 75) and an entry copied across tables (DMA line 55)
    # are mechanical: +6 mechanical, -3 restructure, -1 ownership.
    assert s["by_kind"] == {"mechanical": 32, "restructure": 21, "ownership": 13, "dma": 4}
    assert f"| DMA path | {s['by_kind']['dma']} | 8 |" in md
    assert f"| **total** | {s['findings']} | |" in md
    groups = [g for fr in report.files for g in fr.groups]
    assert s["groups"] == len(groups) > 0
    assert s["effort"]["points"] == sum(g.effort_points for g in groups) + \
        s["effort"]["ungrouped_points"]
    assert s["effort"]["hours"] == round(s["effort"]["points"] * 15 / 60, 1)
    dma_fns = {(w["path"].rsplit("/", 1)[-1], w["function"]) for w in s["functions_on_dma_path"]}
    assert dma_fns == {("acme_dma.c", "acme_dma_fill_ring()"), ("acme_dma.c", "acme_dma_map()"),
                       ("acme_dma.c", "acme_dma_unmap()")}
    page_fns = {w["function"] for w in s["functions_touching_pages"]}
    assert {"acme_dma_map()", "acme_crypt_iter()", "acme_crypt_pages()"} <= page_fns
    assert "acme_cbc_crypt()" not in page_fns
    assert "- Functions on a DMA path: `acme_dma_fill_ring()` in" in md
    assert f"- Estimated effort: {s['effort']['points']} points" in md


def test_json_matches_its_schema_and_the_report(report):
    doc = json.loads(render_json(report))
    jsonschema.Draft202012Validator.check_schema(json_schema())
    jsonschema.Draft202012Validator(json_schema()).validate(doc)
    assert doc["schema"] == "iovcrypto-checklist/2"
    by_name = {f["path"].rsplit("/", 1)[-1]: f for f in doc["files"]}
    skc = by_name["acme_skcipher.c"]
    assert [(f["line"], f["name"], f["kind"]) for f in skc["findings"]][:3] == [
        (40, "walk", "mechanical"), (44, "skcipher_walk_virt", "mechanical"),
        (51, "skcipher_walk_done", "mechanical")]
    assert skc["findings"][1]["arguments"] == ["&walk", "req", "false"]
    assert by_name["acme_dma.c"]["skipped"] == [{"start_line": 60, "end_line": 60,
                                                 "text": "total"}]
    assert doc["drivers"][0] == {"module": "sgl/cbc.py", "twin": "iovcrypto/cbc.py",
                                 "status": "converted", "legacy_findings": 2,
                                 "twin_findings": 0, "builds_on": [], "twin_imports": []}
    assert doc["drivers"][1]["builds_on"] == ["sgl/gcm.py"]
    assert doc["summary"]["findings"] == sum(len(f["findings"]) for f in doc["files"])
    used = {q for f in doc["files"] for x in f["findings"] for q in x["questions"]}
    assert used <= set(doc["questions"])


def test_json_schema_rejects_a_broken_document(report):
    doc = json.loads(render_json(report))
    doc["files"][0]["findings"][0]["kind"] = "cosmetic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema())


def test_sarif_is_valid_2_1_0(report):
    log = json.loads(render_sarif(report))
    _sarif_validator().validate(log)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    assert len(run["results"]) == len(report.all_findings())
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1


def test_sarif_locations_and_notifications(report):
    run = sarif_dict(report)["runs"][0]
    first = next(r for r in run["results"] if r["ruleId"] == "skcipher_walk")
    loc = first["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"].endswith("c/acme_skcipher.c")
    assert loc["physicalLocation"]["region"]["snippet"]["text"] == \
        "skcipher_walk_virt(&walk, req, false)"
    assert loc["logicalLocations"] == [{"name": "acme_cbc_crypt", "kind": "function"}]
    assert first["level"] == "note"
    py = next(r for r in run["results"]
              if r["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId")
              == "PYROOT")
    assert py["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("sgl/")
    assert set(run["originalUriBaseIds"]) == {"%SRCROOT%", "PYROOT"}
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("garbage.c" in n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
               for n in notes)


@pytest.mark.parametrize("breakage", ["version", "level", "region"])
def test_sarif_subset_schema_bites(report, breakage):
    log = sarif_dict(report)
    result = log["runs"][0]["results"][0]
    if breakage == "version":
        log["version"] = "2.0.0"
    elif breakage == "level":
        result["level"] = "warn"
    else:
        result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(jsonschema.ValidationError):
        _sarif_validator().validate(log)


def test_unreadable_files_in_all_formats(tmp_path):
    blob = tmp_path / "blob.c"
    blob.write_bytes(b"\x7fELF\x00\x00\x01")
    report = build_report([blob])
    assert "Not analysed: binary file (NUL bytes), not read." in render_markdown(report)
    doc = json.loads(render_json(report))
    jsonschema.validate(doc, json_schema())
    assert doc["summary"]["unreadable_files"] == [blob.as_posix()]
    log = sarif_dict(report)
    _sarif_validator().validate(log)
    note = log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert note["level"] == "warning" and "binary" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(
        "file:///")


@pytest.fixture(scope="module")
def flow_report():
    from .helpers import FLOW

    return build_report([FLOW])


def test_json_2_carries_ids_groups_and_pairs(flow_report):
    doc = json.loads(render_json(flow_report))
    jsonschema.Draft202012Validator(json_schema()).validate(doc)
    tls = next(f for f in doc["files"] if f["path"].endswith("tls_rx.c"))
    ids = {x["id"] for x in tls["findings"]}
    g1 = tls["groups"][0]
    assert (g1["id"], g1["iterator"], g1["road"], g1["consumer"]) == ("G1", "BVEC", "iov_iter",
                                                                      "L65.2")
    assert set(g1["members"]) <= ids and g1["aead_layout"]["holds"] is True
    assert tls["pairs"] == [{"id": "P1", "acquire": "L46.8", "release": "L33.3",
                             "callback": "acme_rx_done", "owner": tls["pairs"][0]["owner"]}]
    get = next(x for x in tls["findings"] if x["id"] == "L46.8")
    assert (get["construct"], get["group"], get["pairs"]) == ("acquire", "G1", ["P1"])
    put = next(x for x in tls["findings"] if x["id"] == "L33.12")
    assert put["advised"] and put["replacement"].startswith("ownership:")
    # The schema bites on a dangling construct or a bad group id.
    get["construct"] = "loop"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema())
    get["construct"] = "acquire"
    g1["id"] = "group-1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema())


def test_sarif_related_locations_and_properties(flow_report):
    log = sarif_dict(flow_report)
    _sarif_validator().validate(log)
    results = log["runs"][0]["results"]

    def at(name, line):
        return next(r for r in results
                    if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .endswith(name) and r["locations"][0]["physicalLocation"]["region"]
                    ["startLine"] == line and r["properties"]["construct"] != "field_read")
    get = at("tls_rx.c", 46)
    assert get["properties"]["group"] == "G1" and get["properties"]["pairs"] == ["P1"]
    msgs = [x["message"]["text"] for x in get["relatedLocations"]]
    assert msgs == ["consumed by aead_request_set_crypt() at line 65 (G1)",
                    "released at line 33 in the completion callback acme_rx_done() (P1)"]
    put = at("tls_rx.c", 33)
    assert "acquired at line 46 by iov_iter_get_pages2() (P1)" in [
        x["message"]["text"] for x in put["relatedLocations"]]
    assert put["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 65
    dbg = at("engine_dma.c", 53)
    assert dbg["level"] == "note" and dbg["properties"]["debug"] is True


def test_markdown_one_section_per_group_in_data_flow_order(flow_report):
    md = render_markdown(flow_report)
    section = md.split("### G1: `sgout in acme_rx_record()` → `aead_request_set_crypt()` "
                       "(line 65)", 1)[1].split("\n### ", 1)[0]
    assert "Across `acme_rx_record()`, `acme_rx_pages()`, `acme_rx_decrypt()`, " \
        "`acme_rx_done()`." in section
    lines = [x for x in section.splitlines() if x.startswith("- [ ] line ")]
    assert [int(x.split()[3 if x.split()[3] != "line" else 4].rstrip(":")) for x in lines] == [
        74, 84, 85, 86, 89, 90, 38, 46, 53, 62, 64, 65, 25, 25, 26, 30, 30, 33, 33]
    assert "- Iterator: **BVEC**" in section and "- AEAD layout (holds)" in section
    assert ("- P1: `iov_iter_get_pages2(from, pages, len, 16, &off)` (line 46) is released by "
            "`put_page(sg_page(sg))` (line 33, in the completion callback `acme_rx_done()`)."
            ) in section
    assert "- lifetime: open: asynchronous;" in section
