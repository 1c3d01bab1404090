"""``bench.html``: the figures of ``dcmconform bench`` as one self-contained page, plots drawn as inline
SVG (a C-ECHO latency histogram, throughput against the number of associations per size); no scripts,
no external resources."""

from __future__ import annotations

from html import escape
from typing import Any

W, H, PAD = 520, 220, 40


def _frame(title: str, body: str, x_label: str, y_label: str) -> str:
    return (f'<figure><figcaption>{escape(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">'
            f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#333"/>'
            f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{H - PAD}" stroke="#333"/>{body}'
            f'<text x="{W // 2}" y="{H - 8}" text-anchor="middle" font-size="12">{escape(x_label)}</text>'
            f'<text x="12" y="{H // 2}" font-size="12" transform="rotate(-90 12 {H // 2})" text-anchor="middle">'
            f'{escape(y_label)}</text></svg></figure>')


def histogram(latencies: list[float], bins: int = 30) -> str:
    if not latencies:
        return "<p>no C-ECHO latencies</p>"
    low, high = min(latencies), max(latencies)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in latencies:
        counts[min(bins - 1, int((v - low) / width))] += 1
    top = max(counts)
    bar = (W - PAD - 10) / bins
    body = "".join(f'<rect x="{PAD + i * bar:.1f}" y="{H - PAD - c / top * (H - PAD - 10):.1f}" width="{bar - 1:.1f}" '
                   f'height="{c / top * (H - PAD - 10):.1f}" fill="#4a7"><title>{low + i * width:.2f} ms: {c}</title></rect>'
                   for i, c in enumerate(counts))
    body += (f'<text x="{PAD}" y="{H - PAD + 14}" font-size="11">{low:.2f}</text>'
             f'<text x="{W - 10}" y="{H - PAD + 14}" font-size="11" text-anchor="end">{high:.2f}</text>')
    return _frame(f"C-ECHO latency, {len(latencies)} requests", body, "ms", "requests")


def throughput(results: list[dict[str, Any]]) -> str:
    from dcmconform.load.perf import show_size

    sizes = sorted({r["size"] for r in results})
    most = max([r["associations"] for r in results] + [2])
    top = max([r["mb_per_s"] for r in results] + [1e-9])
    colours = ["#36c", "#c63", "#393", "#939", "#999"]
    body = ""
    for n, size in enumerate(sizes):
        rows = sorted((r for r in results if r["size"] == size), key=lambda r: r["associations"])
        points = " ".join(f'{PAD + (r["associations"] - 1) / (most - 1) * (W - PAD - 20):.1f},'
                          f'{H - PAD - r["mb_per_s"] / top * (H - PAD - 20):.1f}' for r in rows)
        colour = colours[n % len(colours)]
        body += f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        body += f'<text x="{W - 90}" y="{20 + 14 * n}" font-size="11" fill="{colour}">{show_size(size)}</text>'
    body += f'<text x="{PAD + 2}" y="20" font-size="11">{top:.0f} MB/s</text>'
    return _frame("C-STORE throughput against parallel associations", body, f"associations (1..{most})", "MB/s")


def plots(doc: dict[str, Any]) -> str:
    """The table and both plots of a ``bench`` document (HTML, inline SVG)."""
    from dcmconform.load.benchplot import table

    rows = escape("\n".join(table(doc)))
    return f"<pre>{rows}</pre>{histogram(doc['echo'].get('latencies_ms', []))}{throughput(doc['results'])}"


def section(doc: dict[str, Any]) -> str:
    """The benchmark as a section of the conformance report (``conformance.html``, ``id="bench"``)."""
    return (f'<section id="bench"><h2>Benchmark: {escape(doc.get("target", ""))}</h2>'
            f'<p>dcmconform bench, in the same report folder (bench.json).</p>{plots(doc)}</section>')


def html(doc: dict[str, Any]) -> str:
    return ("<!doctype html><html lang=en><meta charset=utf-8><title>dcmconform bench</title>"
            "<style>body{font-family:sans-serif;margin:1em}pre{font-size:12px}figure{margin:1em 0}</style>"
            f"<h1>dcmconform bench: {escape(doc.get('target', ''))}</h1>{plots(doc)}</html>\n")
