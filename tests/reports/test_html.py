"""The HTML report without a browser: self-contained, escaped, and every fact of the JSON in it."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from markupsafe import escape

from dcmconform.reports.html import dump_markup, render_html


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <style> and <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("style", "script") else None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.inline.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("run", ["zoo_run", "outcomes_run"])
def test_the_report_is_one_self_contained_file(run: str, request: pytest.FixtureRequest) -> None:
    done = request.getfixturevalue(run)
    html = done.html_path.read_text()
    page = _parse(html)
    captures = {r["pcap"] for r in done.document()["results"] if r.get("pcap")}  # links to files beside it
    assert all((done.folder / c).is_file() for c in captures)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name) or ""
            link = tag == "a" and name == "href" and value in captures
            assert not value or value.startswith("#") or link, f"<{tag} {name}={value!r}> would load something"
        assert tag not in ("link", "iframe", "img", "object", "embed", "base"), f"<{tag}> in the report"
    code = "\n".join(page.inline)
    assert not re.search(r"url\(|@import|@font-face|https?://|fetch\(|XMLHttpRequest|import\(", code)


def test_every_result_is_shown_with_its_facts(outcomes_run: Any) -> None:
    document = outcomes_run.document()
    blocks = outcomes_run.html_path.read_text().split('<details class="check" ')[1:]
    assert len(blocks) == len(document["results"])
    by_id = {re.search(r'data-check="([^"]+)"', b).group(1): b for b in blocks}  # type: ignore[union-attr]
    for r in document["results"]:
        block = by_id[r["id"]]
        assert block.startswith(f'data-outcome="{r["outcome"]}" data-area="{r["area"]}"')
        for fact in (r["title"], r["clause"], r["level"], r["summary"], r["explanation"]):
            assert str(escape(fact)) in block, (r["id"], fact)
        assert [e["kind"] for e in r["evidence"]] == re.findall(r'data-kind="([^"]+)"', block)
        for c in r.get("compared", []):  # a pass's witness: what it compared, expected and seen
            assert "".join(f"<td>{escape(c[k])}</td>" for k in ("what", "expected", "seen")) in block, (r["id"], c)
    assert any(r.get("compared") for r in document["results"] if r["outcome"] == "pass")


def test_text_from_the_target_is_escaped(outcomes_run: Any) -> None:
    html = outcomes_run.html_path.read_text()
    assert "<b>not bold</b>" not in html and "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "<i>markup</i>" not in html and "&lt;i&gt;markup&lt;/i&gt;" in html  # a pass's witness, escaped too

    document = copy.deepcopy(outcomes_run.document())
    document["results"][0]["evidence"][0]["text"] = ("+   0.001s <- </pre><script>alert(1)</script>\n"
                                                     "+   0.002s -- </li><img src=x onerror=alert(2)>")  # ladder too
    document["target"]["implementation_version_name"] = "<img src=x>"
    document["target"]["ae_title"] = "</span><img src=x>"
    rendered = render_html(document)
    assert "<script>alert(1)" not in rendered and "<img src=x" not in rendered
    assert rendered.count('<ol class="ladder"') >= 1 and "&lt;/li&gt;&lt;img src=x onerror=alert(2)&gt;" in rendered


def test_dump_lines_are_marked_by_direction() -> None:
    text = "+   0.000s -- TCP connected\n+   0.001s -> A-ASSOCIATE-RQ\n    Called: <X>\n+   0.002s <- A-ABORT"
    marked = str(dump_markup(text))
    assert '<span class="ev-note">+   0.000s -- TCP connected</span>' in marked
    assert '<span class="ev-sent">+   0.001s -&gt; A-ASSOCIATE-RQ</span>' in marked
    assert "    Called: &lt;X&gt;" in marked
    assert '<span class="ev-recv">+   0.002s &lt;- A-ABORT</span>' in marked


def test_the_header_shows_the_target_as_the_association_log_does(zoo_run: Any) -> None:
    target = zoo_run.document()["target"]
    html = zoo_run.html_path.read_text()
    for label, value in (("Called AE title", target["ae_title"]),
                         ("Their Implementation Class UID", target["implementation_class_uid"]),
                         ("Their Implementation Version Name", target["implementation_version_name"])):
        assert re.search(rf"<dt>{label}</dt><dd[^>]*>{re.escape(value)}</dd>", html), label
    assert f"{target['host']}:{target['port']}" in html


def test_the_header_names_the_peers_used(embedded_run: Any, zoo_run: Any) -> None:
    document = embedded_run.document()
    target = document["target"]
    assert document["peers"] == [{"name": target["peer"], "role": "target", "version": target.get("peer_version"),
                                  "backend": target.get("peer_backend")}]
    shown = re.search(r'<dd id="peers">([^<]*)</dd>', embedded_run.html_path.read_text())
    assert shown is not None and shown.group(1).startswith(f"{target['peer']} ")
    assert "target" in shown.group(1)
    assert zoo_run.document()["peers"] == []  # --target: an AE the user runs, no peer
    assert '<dd id="peers">none (an AE you run)</dd>' in zoo_run.html_path.read_text()


def test_levels_are_explained_and_hex_blocks_are_told_apart(zoo_run: Any) -> None:
    """The legend says what MUST, SHOULD, PRACTICE and MAY mean; a check with several hex blocks names
    each by its first line (which exchange), and a block repeated word for word is shown once."""
    from dcmconform.reports.html import render_html

    html = zoo_run.html_path.read_text()
    levels = re.search(r'<dl class="legend" id="levels">(.*?)</dl>', html, re.S)
    assert levels is not None
    for level in ("MUST", "SHOULD", "PRACTICE", "MAY"):
        assert f"<dt>{level}</dt>" in levels.group(1)
    document = copy.deepcopy(zoo_run.document())
    result = document["results"][0]
    # times no real exchange of the run has (a real check's block may start "+   0.001s -> 10 bytes")
    result["evidence"] = [{"kind": "hex", "text": "+ 987.001s -> 10 bytes\n000000  01"},
                          {"kind": "hex", "text": "+ 987.002s <- 10 bytes\n000000  02"},
                          {"kind": "hex", "text": "+ 987.002s <- 10 bytes\n000000  02"}]
    rendered = render_html(document)
    assert rendered.count("<summary>Bytes (hex): + 987.001s -&gt; 10 bytes</summary>") == 1
    assert rendered.count("<summary>Bytes (hex): + 987.002s &lt;- 10 bytes</summary>") == 1
