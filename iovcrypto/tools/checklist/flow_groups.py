"""Groups, pairs and advice: the second half of the data-flow pass.

:class:`~.flow.Flow` follows the values and joins keys; this mixin turns
each joined set into a :class:`~.model.Group` (iterator, road, AEAD
layout, questions, effort), ties acquires to releases as
:class:`~.model.Pair` records and writes the advice the data decides."""

from __future__ import annotations

import re
from dataclasses import replace

from iovcrypto.tools.checklist.flow_base import (
    _ACQUIRE,
    _ALIGN_CHECK,
    _COPIES,
    _CPU_PAGE_USES,
    _DMA,
    _DMA_PAGE_USES,
    _RELEASE,
    _RELEASES_OF,
    _REQUEST_SETTERS,
    LIBRARY_ALGS,
    Key,
    _callee,
    _Entry,
    _loop_body,
    _t,
    _terms,
)
from iovcrypto.tools.checklist.model import Finding, Group, Pair, Question


class Grouping:
    """The groups-and-pairs half of :class:`~.flow.Flow` (a mixin: it uses
    the state the pass leaves on ``self``)."""

    def _build(self) -> None:
        report = self.r.report
        findings = {f.id: f for f in [*report.findings, *self.extra]}
        comp: dict[Key, list[str]] = {}
        for fid, keys in self.key_of_finding.items():
            roots = []
            for k in keys:
                r = self.uf.find(k)
                if r not in roots:
                    roots.append(r)
            for r in roots:
                comp.setdefault(r, [])
                if fid not in comp[r]:
                    comp[r].append(fid)
        table_roots = {self.uf.find(k) for k in self.tables} | \
            {self.uf.find(k) for k in self.uf.parent if self._is_table(k)}
        self.comp_keys: dict[Key, list[Key]] = {}
        for k in list(self.uf.parent):
            self.comp_keys.setdefault(self.uf.find(k), []).append(k)
        self.dma_roots = {self.uf.find(k) for fid, keys in self.key_of_finding.items()
                          for k in keys if findings[fid].name in _DMA
                          or findings[fid].entry.kind == "dma"}
        pairs = self._pairs(findings)
        paired: set[str] = {p.acquire for p in pairs} | {p.release for p in pairs}
        # Acquire/release calls are findings only when the data flow ties them
        # to a table or a pair; other page traffic is not this checklist's.
        keep_ids: set[str] = set()
        groups: list[Group] = []
        group_of: dict[str, str] = {}
        roots = sorted((r for r in comp if r in table_roots),
                       key=lambda r: min(self._pos(findings[i]) for i in comp[r]))
        for root in roots:
            ids = comp[root]
            real = [i for i in ids if not findings[i].rule.startswith("page_")
                    or i in paired or self._touches_table(findings[i])]
            if not any(findings[i].construct not in ("declaration",) for i in real):
                continue
            g = self._group(f"G{len(groups) + 1}", root, real, findings, pairs)
            groups.append(g)
            for i in g.members:
                group_of.setdefault(i, g.id)
                keep_ids.add(i)
        drop = {f.id for f in findings.values()
                if f.construct in ("acquire", "release") and f.entry.role
                and f.entry.id.startswith("page_") and f.id not in keep_ids
                and f.id not in paired and not self._touches_table(f)}
        pair_of: dict[str, list[str]] = {}
        for p in pairs:
            pair_of.setdefault(p.acquire, []).append(p.id)
            pair_of.setdefault(p.release, []).append(p.id)
        out = []
        for f in [*report.findings, *self.extra]:
            if f.id in drop:
                continue
            adv = self.advice.get(f.id)
            f = replace(f, group=group_of.get(f.id), pairs=tuple(pair_of.get(f.id, ())),
                        advice=adv[0] if adv else f.advice,
                        kind_as=adv[1] if adv else "")
            out.append(f)
        out.sort(key=Finding.sort_key)
        report.findings = out
        report.groups = groups
        report.pairs = pairs

    def _touches_table(self, f: Finding) -> bool:
        return any(a.startswith("sg_page(") for a in f.arguments)

    def _pos(self, f: Finding) -> tuple[int, int, int]:
        fn = self.fns.get(f.function or "")
        return (0 if f.scope.startswith("struct ") else 1, f.line, f.column) if fn is None \
            else (1, f.line, f.column)

    def _pairs(self, findings: dict[str, Finding]) -> list[Pair]:
        pairs = []
        for acq, fam, ak, _afn in self.acquires:
            if ak is None:
                continue
            for rel, rfam, rk, rfn in self.releases:
                if rk is None or self.uf.find(ak) != self.uf.find(rk):
                    continue
                if rfam != "clear" and rfam not in _RELEASES_OF[fam]:
                    continue
                cb = rfn if self._is_callback(rfn) else None
                pairs.append(Pair(f"P{len(pairs) + 1}", acq.id, rel.id, cb,
                                  self._owner(acq, fam, rel, rfam, cb, ak)))
        return pairs

    def _is_callback(self, fn: str) -> bool:
        return any(cb == fn for f in self.fns.values() for cb, _ in f.callbacks)

    def _owner(self, acq: Finding, fam: str, rel: Finding, rfam: str, cb: str | None,
               key: Key) -> str:
        where = f"in the completion callback {cb}()" if cb else f"in {rel.function}()"
        dma = self.uf.find(key) in self.dma_roots
        if rfam == "clear":
            return ("nobody: a bio_vec array holds no page to clear; the line goes with the "
                    "release it follows")
        if fam == "alloc":
            return (f"unchanged: {acq.function}() allocates and {rel.function}() frees "
                    f"({where}); the bio_vec describing the page takes no reference")
        if dma:
            return (f"the driver: iov_iter_extract_pages() pins user memory only "
                    f"(iov_iter_extract_will_pin()); unpin after dma_unmap, {where}")
        root = self.uf.find(key)
        sources = {e.source for k in self.comp_keys.get(root, [root])
                   for e in self.entries.get(k, [])}
        if "iter" in sources and sources - {"iter"}:
            return (f"{acq.function}(): the user pages share a bio_vec array with other "
                    "entries (the AD in front), so they are still extracted: "
                    "iov_iter_extract_pages() pins user memory only, and the pins are "
                    f"released {where} with unpin_user_page() when "
                    "iov_iter_extract_will_pin()")
        return ("nobody: the caller's iov_iter goes to the request as it is (proposed "
                "iov_iter crypto API), no page is taken, and the release "
                f"{where} goes away")

    def _group(self, gid: str, root: Key, ids: list[str], findings: dict[str, Finding],
               pairs: list[Pair]) -> Group:
        members = [findings[i] for i in ids]
        fnames = self._fn_order({f.function for f in members if f.function})
        rank = {n: i for i, n in enumerate(fnames)}
        members.sort(key=lambda f: (rank.get(f.function or "", -1), f.line, f.column))
        consumer = self._consumer(members)
        keys = self.comp_keys.get(root, [root])
        entries = [e for k in keys for e in self.entries.get(k, [])]
        entries.sort(key=lambda e: (e.index is None, e.index or 0, e.finding.line))
        iterator, why = self._iterator(entries, keys, members)
        sync = self._sync(consumer, members)
        # Advice first (it decides, e.g., that sg_page() feeds dma_map_page()),
        # then the road, then the consumer's advice again for the road taken.
        self._advise(members, iterator, entries, consumer, [], "")
        road, road_why = self._road(consumer, members, sync, iterator,
                                    any(k[0] == "req" for k in keys))
        layout = self._layout(consumer, root, entries, members)
        if layout is not None and layout.get("ad") and layout["ad"] not in ids:
            ad = findings[layout["ad"]]
            members.append(ad)
            ids.append(ad.id)
            members.sort(key=lambda f: (rank.get(f.function or "", -1), f.line, f.column))
        if layout is not None:
            layout.pop("ad", None)
        gpairs = [p for p in pairs if p.acquire in ids or p.release in ids]
        self._advise(members, iterator, entries, consumer, gpairs, road)
        questions = self._questions(members, sync, entries, layout, gpairs, consumer)
        # A context member names the table best, then a variable of the
        # function where the data flow starts, then the request's field.
        first = fnames[0] if fnames else None

        def _pref(k: Key) -> tuple[int, int]:
            if k[0] == "member":
                return 0, 0
            if k[0] == "var" and k[1] == first:
                return 1, 0 if self._is_table(k) else 1
            if k[0] == "req":
                return 2, 0
            return 3, rank.get(k[1], 99)
        named = sorted(keys, key=_pref)
        table = self._label(named[0] if named else root)
        g = Group(id=gid, consumer=consumer.id if consumer else None,
                  members=[f.id for f in members], table=table,
                  functions=[f"{n}()" for n in fnames], iterator=iterator,
                  iterator_reason=why, road=road, road_reason=road_why,
                  questions=questions, aead_layout=layout, synchronous=sync)
        g.effort_points, g.effort_reason = self._effort(members, gpairs, fnames)
        return g

    def _label(self, k: Key) -> str:
        if k[0] == "var":
            return f"{k[2]} in {k[1]}()"
        if k[0] == "member":
            return f"struct {k[1]}.{k[2]}" if k[1] != "?" else f"member {k[2]}"
        if k[0] == "req":
            return f"req->{k[2]} in {k[1]}()"
        return k[-1]

    def _fn_order(self, names: set[str]) -> list[str]:
        """Callers before callees, then by position in the file."""
        out: list[str] = []
        pending = sorted(names, key=lambda n: self.fns[n].order if n in self.fns else 10**6)
        while pending:
            for n in pending:
                callers = self.fns[n].callers & set(pending) if n in self.fns else set()
                if not callers - {n}:
                    out.append(n)
                    pending.remove(n)
                    break
            else:
                out.append(pending.pop(0))
        return out

    def _consumer(self, members: list[Finding]) -> Finding | None:
        for names in (_REQUEST_SETTERS, _DMA, _COPIES):
            for f in members:
                if f.name in names and f.construct in ("call", "same_file_call"):
                    return f
        for f in members:
            if f.construct == "field_read":
                return f
        return None

    def _iterator(self, entries: list[_Entry], keys: list[Key],
                  members: list[Finding]) -> tuple[str, str]:
        sources = {e.source for e in entries}
        if any(k[0] == "req" for k in keys) and not sources:
            return "ITER", "the request's own iov_iter (req->src/req->dst), passed down as it is"
        if not sources:
            return "ITER", ("no entry is built here: the table comes from the caller, "
                            "whose iov_iter is passed down instead")
        if sources == {"copy"}:
            return "ITER", ("the entries are copied from another table: describe that "
                            "table's memory with its iov_iter and keep it to the boundary")
        if sources == {"iter"}:
            return "ITER", ("the entries are extracted from an iov_iter the caller already "
                            "holds: pass that iterator instead of extracting")
        if sources <= {"virt", "stack", "vmalloc"}:
            return "KVEC", "every entry is a kernel virtual buffer: a kvec array needs no page"
        if sources == {"folio"}:
            return "FOLIOQ", "folios (page cache): a folio_queue describes them"
        counts = {s: sum(e.source == s for e in entries) for s in sorted(sources)}
        words = {"virt": "kernel buffer", "stack": "stack buffer", "vmalloc": "vmalloc buffer",
                 "bvec": "bio_vec page", "page": "page", "iter": "extracted iov_iter range",
                 "skb": "skb range", "folio": "folio", "copy": "copied entry"}
        parts = ", ".join(f"{n} {words[s]}{'s' if n > 1 else ''}" for s, n in counts.items())
        why = f"one bio_vec array for mixed entries ({parts})"
        if sources & {"stack", "vmalloc"}:
            why += "; the stack/vmalloc buffers need a kmalloc'd copy (no bio_vec over them)"
        return "BVEC", why

    def _sync(self, consumer: Finding | None, members: list[Finding]) -> str:
        fns = [consumer.function] if consumer and consumer.function else []
        fns += [f.function for f in members if f.function and f.function not in fns]
        for name in fns:
            fn = self.fns.get(name or "")
            if fn is None:
                continue
            after = [w for w in fn.waits if consumer is None or w >= consumer.line
                     or name != consumer.function]
            if after and not any(cb != "crypto_req_done" and cb in self.fns
                                 for cb, _ in fn.callbacks):
                return f"{fn.wait_names[after[0]]} at line {after[0]} in {name}()"
        return ""

    def _road(self, consumer: Finding | None, members: list[Finding], sync: str,
              iterator: str, request: bool) -> tuple[str, str]:
        names = {f.name for f in members}
        if names & _DMA or any(f.kind == "dma" or self.advice.get(f.id, ("", ""))[1] == "dma"
                               for f in members if not f.debug):
            return "scatterlist", ("kept on scatterlists for now: the device boundary "
                                   "(dma_map_sg()/dmaengine_prep_slave_sg()) takes a mapped "
                                   "table; build it from the iov_iter just before mapping")
        if request and (consumer is None or consumer.name not in _REQUEST_SETTERS):
            return "iov_iter", ("a driver: the request will carry iov_iters (proposed "
                                "iov_iter crypto API); walk a copy of req->src/req->dst")
        if consumer is None:
            return "bvec", "no crypto request consumes it: a bio_vec array (bvecq for chains)"
        if consumer.name in ("ahash_request_set_crypt", "akcipher_request_set_crypt",
                             "kpp_request_set_input", "kpp_request_set_output") or \
                consumer.name.startswith("acomp_"):
            return "scatterlist", f"{consumer.name}() has no iov_iter form"
        if consumer.name in _COPIES:
            return "bvec", ("only copied: a bio_vec array and copy_to_iter()/"
                            "copy_from_iter() (bvecq for long chains)")
        alg = self._algorithm()
        if sync and alg in LIBRARY_ALGS:
            return "library", (f"synchronous ({sync}), software-only and lib/crypto offers "
                               f"{alg}: call the library on an iterate_and_advance_kernel() "
                               "walk, no request (the SMB shape)")
        if sync:
            what = f"{alg} is not in lib/crypto" if alg else "the algorithm is chosen at run time"
            return "iov_iter", (f"synchronous ({sync}) but {what}: the iov_iter request API "
                                "(proposed aead_request_set_iter()/skcipher_request_set_iter())")
        return "iov_iter", ("asynchronous or hardware-capable: the iov_iter request API "
                            "(proposed aead_request_set_iter()/skcipher_request_set_iter())")

    def _algorithm(self) -> str:
        """The first algorithm name the file allocates by a string literal."""
        return self._alg

    def _layout(self, consumer: Finding | None, root: Key, entries: list[_Entry],
                members: list[Finding]) -> dict | None:
        if consumer is None or consumer.name != "aead_request_set_crypt":
            return None
        fn = self.fns.get(consumer.function or "")
        if fn is None:
            return None
        req = consumer.arguments[0] if consumer.arguments else ""
        ads = [a for a in fn.ad if a[0] == req] or [a for f in self.fns.values() for a in f.ad
                                                    if a[0] == req]
        slot = "src" if self.uf.find(fn.crypt.get("src", ("none",))) == root else "dst"
        if not ads:
            return {"slot": slot, "assoclen": None, "entries": [], "holds": None,
                    "text": "no aead_request_set_ad() found for this request: the AD length "
                            "is 0 or set elsewhere; check it"}
        ad_text = ads[0][1]
        owner = next((f for f in self.fns.values() if ads[0] in f.ad), fn)
        ad_id = ads[0][2].id if ads[0][2] is not None else None
        want = sorted(owner.consts.get(t, t) for t in _terms(ad_text))
        have: list[str] = []
        used: list[_Entry] = []
        for e in entries:
            if e.index is None:
                break
            have = sorted(have + _terms(e.length))
            used.append(e)
            if have == want:
                idx = ", ".join(str(u.index) for u in used)
                return {"slot": slot, "assoclen": ad_text, "entries": [u.finding.id for u in used],
                        "holds": True, "ad": ad_id,
                        "text": f"AD ({ad_text}) is entr{'y' if len(used) == 1 else 'ies'} "
                                f"{idx} of {slot}, in front: the layout holds; keep those "
                                f"entries first in the {slot} iterator"}
            if len(have) >= len(want):
                break
        if not entries:
            return {"slot": slot, "assoclen": ad_text, "entries": [], "holds": None, "ad": ad_id,
                    "text": f"the {slot} table is not built here: check that its first "
                            f"{ad_text} bytes are the AD"}
        return {"slot": slot, "assoclen": ad_text, "entries": [e.finding.id for e in used],
                "holds": False, "ad": ad_id,
                "text": f"AD length {ad_text} matches no leading entries of {slot} "
                        f"({', '.join(e.length for e in entries if e.index is not None)}): "
                        "the AD must sit in front of the text in src and dst"}

    def _advise(self, members: list[Finding], iterator: str, entries: list[_Entry],
                consumer: Finding | None, pairs: list[Pair], road: str) -> None:
        sources = {e.source for e in entries}
        pair_ids = {f: p.id for p in pairs for f in (p.acquire, p.release)}
        for f in members:
            adv = self._advice_for(f, iterator, sources, consumer, pair_ids, road)
            if adv is not None:
                self.advice[f.id] = adv

    def _advice_for(self, f: Finding, iterator: str, sources: set[str],
                    consumer: Finding | None, pair_ids: dict[str, str],
                    road: str) -> tuple[str, str] | None:
        if f.debug:
            return "drop it with the print: the use is only in a debug message", ""
        if f.construct == "declaration" and f.entry.id == "struct_scatterlist" and \
                iterator in ("BVEC", "KVEC"):
            kind = "bio_vec" if iterator == "BVEC" else "kvec"
            init = "iov_iter_bvec()" if iterator == "BVEC" else "iov_iter_kvec()"
            shown = f.text[len("struct scatterlist "):]
            return (f"struct {kind} {shown}, and a struct iov_iter beside it for {init}",
                    "mechanical")
        if f.name == "sg_page":
            return self._sg_page_use(f, sources, pair_ids)
        if f.name in ("for_each_sg", "sg_next", "for_each_sgtable_sg") and self._align_loop(f):
            return ("iov_iter_is_aligned(iter, addr_mask, len_mask) on the iterator instead of "
                    "the loop (lib/iov_iter.c until v6.17; removed in the v6.18 cycle: on newer "
                    "kernels check each segment where the iterator is built or extracted)",
                    "mechanical")
        if f.name == "sg_set_page" and len(f.arguments) >= 4:
            m = re.fullmatch(r"(.+?)(\.|->)bv_page", f.arguments[1])
            if m:
                bv, op = m.group(1), m.group(2)
                if f.arguments[2] == f"{bv}{op}bv_len" and f.arguments[3] == f"{bv}{op}bv_offset":
                    entry = f.arguments[0][1:] if f.arguments[0].startswith("&") \
                        else f"*{f.arguments[0]}"
                    return (f"reuse the bio_vec: {entry} = {'*' if op == '->' else ''}{bv}; "
                            "the array is described by iov_iter_bvec()", "mechanical")
                return (f"bvec_set_page({f.arguments[0]}, {f.arguments[1]}, {f.arguments[2]}, "
                        f"{f.arguments[3]}): the caller's bio_vec, trimmed", "mechanical")
            if "iter" in {e.source for e in self._entries_of(f)}:
                return (f"bvec_set_page({f.arguments[0]}, {f.arguments[1]}, {f.arguments[2]}, "
                        f"{f.arguments[3]}) on pages from iov_iter_extract_pages() (pins user "
                        "memory only; unpin if iov_iter_extract_will_pin())"
                        + (", behind the AD entry" if consumer is not None
                           and consumer.name == "aead_request_set_crypt" else ""), "")
        if f.name in ("skb_to_sgvec", "skb_to_sgvec_nomark") and iterator == "BVEC":
            return ("bio_vec entries in the same array: the skb's linear part with "
                    "bvec_set_virt() and each frag with bvec_set_page(skb_frag_page(), ...); "
                    "the skb keeps the frag references and must outlive the request", "")
        if f.name == "sg_assign_page" and len(f.arguments) == 2 and f.arguments[1] == "NULL":
            p = pair_ids.get(f.id)
            return ("nothing to clear: a bio_vec array owns no page"
                    + (f" (goes with {p})" if p else ""), "mechanical")
        if f.name in ("sg_set_buf", "sg_init_one") and iterator == "BVEC" and \
                f.rule not in ("sg_buf_on_stack", "sg_buf_vmalloc"):
            buf = f.arguments[1] if len(f.arguments) > 1 else "buf"
            ln = f.arguments[2] if len(f.arguments) > 2 else "len"
            return (f"bvec_set_virt({f.arguments[0]}, {buf}, {ln}) in the bio_vec array (the "
                    "same virt_to_page() rule as sg_set_buf())", "mechanical")
        if f.name in ("sg_set_buf", "sg_init_one") and iterator == "KVEC":
            buf = f.arguments[1] if len(f.arguments) > 1 else "buf"
            ln = f.arguments[2] if len(f.arguments) > 2 else "len"
            # A stack or vmalloc buffer is fine in a kvec, but its lifetime
            # still decides: the kind stays the derived rule's.
            keep = f.rule in ("sg_buf_on_stack", "sg_buf_vmalloc")
            return (f"kvec entry {{ .iov_base = {buf}, .iov_len = {ln} }}",
                    "" if keep else "mechanical")
        if f.name == "sg_init_table" and iterator in ("BVEC", "KVEC"):
            kind = "bio_vec" if iterator == "BVEC" else "kvec"
            return (f"a {kind} array of the same size; no initialisation, no end marker",
                    "mechanical")
        if f.name in ("aead_request_set_crypt", "skcipher_request_set_crypt") and \
                consumer is not None and consumer.name == f.name:
            api = "aead" if f.name.startswith("aead") else "skcipher"
            if road == "library":
                return ("the lib/crypto function for the algorithm, fed by an "
                        "iterate_and_advance_kernel() walk over the iov_iter (no request)",
                        "restructure")
            init = {"BVEC": "iov_iter_bvec()", "KVEC": "iov_iter_kvec()",
                    "FOLIOQ": "iov_iter_folio_queue()",
                    "ITER": "the caller's iov_iter"}[iterator]
            return (f"{api}_request_set_iter(req, &src_iter, &dst_iter, cryptlen, iv) "
                    f"(proposed iov_iter crypto API) over {init}", "restructure")
        return None

    def _entries_of(self, f: Finding) -> list[_Entry]:
        return [e for es in self.entries.values() for e in es if e.finding.id == f.id]

    def _sg_page_use(self, f: Finding, sources: set[str],
                     pair_ids: dict[str, str]) -> tuple[str, str] | None:
        node = self._node_at(f, "call_expression")
        if node is None or _callee(node) != "sg_page":
            return None
        cur = node.parent
        while cur is not None and cur.type in ("parenthesized_expression", "cast_expression",
                                               "binary_expression", "argument_list"):
            cur = cur.parent
        user = _callee(cur) if cur is not None and cur.type == "call_expression" else ""
        if user in _CPU_PAGE_USES:
            if "bvec" in sources:
                return (f"the page is the caller's bio_vec: memcpy_from_bvec()/"
                        f"memcpy_to_bvec() or bvec_kmap_local() on it, not {user}(sg_page())",
                        "restructure")
            return (f"a copy (copy_from_iter()/copy_to_iter()) or a step function of "
                    f"iterate_and_advance(): {user}() only wants the bytes", "restructure")
        if user in _RELEASE or user in _ACQUIRE:
            p = next((pair_ids[i] for i in pair_ids
                      if i.startswith(f"L{f.line}.")), None)
            return (f"ownership: the page reference is {user}()'s business"
                    + (f", see {p}" if p else ""), "ownership")
        if user in _DMA_PAGE_USES:
            return ("the engine conversion: map pages from iov_iter_extract_pages() (or the "
                    "dma_iova_* range API) at the device boundary", "dma")
        if user == "sg_set_page":
            return ("copy the entry: bio_vec to bio_vec (the table is rebuilt from another)",
                    "mechanical")
        return None

    def _align_loop(self, f: Finding) -> bool:
        n = self._node_at(f, "call_expression")
        body = _loop_body(n) if n is not None else None
        if body is None:
            return False
        text = _t(body)
        return bool(_ALIGN_CHECK.search(text)) and ("return" in text or "break" in text)

    def _questions(self, members: list[Finding], sync: str, entries: list[_Entry],
                   layout: dict | None, pairs: list[Pair],
                   consumer: Finding | None) -> list[Question]:
        keys: dict[str, None] = {}
        for f in members:
            if f.debug:
                continue
            for q in f.entry.questions:
                keys.setdefault(q, None)
        if layout is not None:
            keys.setdefault("aead_layout", None)
        out = []
        stack = [e for e in entries if e.source == "stack"]
        for q in keys:
            answer = ""
            if q == "lifetime":
                if sync:
                    answer = (f"answered: synchronous ({sync}); the table and buffers "
                              "outlive the request")
                elif consumer is not None and consumer.name in _REQUEST_SETTERS:
                    fn = self.fns.get(consumer.function or "")
                    cbs = [cb for cb, _ in fn.callbacks] if fn else []
                    where = f" until {cbs[0]}() runs" if cbs else ""
                    answer = ("open: asynchronous; the bio_vec/kvec array, the iterators and "
                              f"the buffers must live in the request context{where}")
                    if stack:
                        answer += (f"; stack buffer at line {stack[0].finding.line} does not "
                                   "survive")
            elif q == "stack_vmalloc" and stack:
                answer = (f"open: line {stack[0].finding.line} describes a stack buffer: a kvec "
                          "can, a bio_vec cannot")
            elif q == "stack_vmalloc" and entries and not any(
                    e.source in ("stack", "vmalloc") for e in entries):
                answer = ("open, narrowed: no entry is provably a stack or vmalloc buffer in "
                          "the functions that build it; check the buffers handed in")
            elif q == "aead_layout" and layout is not None:
                answer = ("answered: " if layout["holds"] else "open: ") + layout["text"]
            elif q == "cleanup" and pairs:
                answer = "see " + ", ".join(f"{p.id} ({p.owner})" for p in pairs)
            elif q == "refs" and entries and {e.source for e in entries} <= {"bvec", "virt"}:
                answer = ("answered: the pages are the caller's (bio_vecs, kernel buffers); no "
                          "reference is taken or needed")
            out.append(Question(q, answer))
        return out

    def _effort(self, members: list[Finding], pairs: list[Pair],
                fnames: list[str]) -> tuple[int, str]:
        """Points for converting one group, with the sum spelled out.

        Calibrated against upstream conversions (see tests/test_checklist/
        test_flow.py::test_effort_calibration): a line costs its kind's
        weight, except that declarations and debug-only uses come with the
        group, a restructure is paid once per group (later restructure lines
        cost like mechanical ones), a DMA path once per group, and each page
        pair and each extra function crossed adds review.
        """
        cat = self.r.cat
        w = cat.weights
        e = cat.effort
        parts: list[str] = [f"{e.get('group', 2)} to review the group"]
        points = e.get("group", 2)
        kinds = {"mechanical": 0, "restructure": 0, "ownership": 0, "dma": 0}
        free = 0
        for f in members:
            k = self.advice.get(f.id, ("", ""))[1] or f.kind
            if f.construct == "declaration" or f.debug:
                free += 1
                continue
            kinds[k] += 1
        lines = sum(kinds.values())
        if kinds["restructure"]:
            points += w["restructure"] + (kinds["restructure"] - 1) * w["mechanical"]
            parts.append(f"{w['restructure']} for the restructure"
                         + (f" + {kinds['restructure'] - 1} more line(s) at "
                            f"{w['mechanical']}" if kinds["restructure"] > 1 else ""))
        if kinds["mechanical"]:
            points += kinds["mechanical"] * w["mechanical"]
            parts.append(f"{kinds['mechanical']} mechanical line(s) at {w['mechanical']}")
        unpaired = kinds["ownership"] - min(kinds["ownership"], 2 * len(pairs))
        if pairs:
            points += len(pairs) * e.get("pair", 3)
            parts.append(f"{len(pairs)} page pair(s) at {e.get('pair', 3)}")
        if unpaired:
            points += unpaired * w["mechanical"] * 2
            parts.append(f"{unpaired} other ownership line(s) at {2 * w['mechanical']}")
        if kinds["dma"]:
            points += w["dma"] + (kinds["dma"] - 1) * w["mechanical"]
            parts.append(f"{w['dma']} for the DMA path"
                         + (f" + {kinds['dma'] - 1} more line(s)" if kinds["dma"] > 1 else ""))
        if len(fnames) > 1:
            points += (len(fnames) - 1) * e.get("extra_function", 2)
            parts.append(f"{len(fnames) - 1} extra function(s) at {e.get('extra_function', 2)}")
        hours = points * cat.minutes_per_point / 60
        reason = (" + ".join(parts) + f" = {points} points ≈ {hours:.1f} h at "
                  f"{cat.minutes_per_point} min/point ({lines} line(s) of work"
                  + (f", {free} carried along" if free else "") + ")")
        return points, reason

