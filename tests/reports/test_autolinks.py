"""The job summary makes no link of the target's text (issue 28): GitHub's Markdown (cmark-gfm, rendered
here by its Python binding) turns a bare URL, www.host or user@host into a link, so a node could plant a
link in a CI page through an Error Comment or its version name."""

from __future__ import annotations

import cmarkgfm
from cmarkgfm.cmark import Options

from dcmconform.reports.markdown import cell, render_markdown

BARE = ("see https://evil.example/login, HTTP://evil.example, ftp://evil.example/x, www.evil.example, "
        "WWW.Evil.Example/path, mailto:admin@evil.example, xmpp:bot@evil.example and admin@evil.example")


def rendered(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def test_bare_links_in_the_targets_text_are_no_links_in_githubs_rendering() -> None:
    assert "<a " in rendered(BARE)  # (what GitHub would do with the text as it came)
    document = {"counts": {"fail": 1}, "target": {"ae_title": "PACS", "host": "127.0.0.1", "port": 104,
                                                  "implementation_version_name": "www.evil.example"},
                "results": [{"id": "X-1", "title": BARE, "area": "a", "clause": "c", "level": "MUST",
                             "outcome": "fail", "summary": BARE, "explanation": BARE, "evidence": []}]}
    html = rendered(render_markdown(document))
    assert "<a " not in html
    assert html.count("see https://evil.example/login") >= 3  # the text itself still reads as sent
    assert "admin@evil.example" in html


def test_ordinary_text_is_left_as_it_was() -> None:
    assert cell("1.2.840.10008.1.1 accepted, status 0000H: success") == "1.2.840.10008.1.1 accepted, status 0000H: success"
