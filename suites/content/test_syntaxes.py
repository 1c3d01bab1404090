"""Transfer syntaxes of what comes back (PS3.5 8, 10; PS3.4 B.4.1; PS3.3 C.7.6.1.1.5): an object stored
compressed is read back offering only the uncompressed syntaxes (else, when the node does not
transcode, in the syntax it was stored in); lossless pixel data must decode to the same values, and
an image that was ever lossily compressed must say so in Lossy Image Compression (0028,2110)."""

from __future__ import annotations

import pytest

from dcmconform.base.uids import describe_uid
from dcmconform.content.pixels import DIFFER, IDENTICAL, LOSSY, MISSING, SAME_VALUES, compare_pixels, lossy_marked
from dcmconform.content.pixels import values as pixel_values
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.fixtures.encode import SYNTAXES
from dcmconform.suites.content.objects import ContentObject, ContentRun

LOSSY_TAG = "(0028,2110) LossyImageCompression"
PIXEL_TAG = "(7FE0,0010) PixelData:"

# A lossless image that comes back lossily compressed (and says so) is legal, and loses what was stored.
KEPT_LOSSLESS = Requirement(
    "PS3.4 B.4.1.3", Level.PRACTICE,
    "an archive gives back a losslessly stored image without lossy compression, unless its conformance statement "
    "says it compresses lossily")


def _object(content: ContentRun, name: str, verdict: Verdict) -> tuple[ContentObject, str]:
    """The object and how it came back (a sentence); n.a. when it was not made, taken or returned."""
    syntax = describe_uid(name_syntax(name))
    if name in content.not_made:
        verdict.not_applicable(f"{name} cannot be made here: {content.not_made[name]}")
    o = content.object(name)
    assert o is not None and o.stored is not None
    if not o.stored.sent:
        verdict.not_applicable(f"the node did not take {syntax} for {describe_uid(o.variant.sop_class_uid)} at "
                               f"association, so nothing was stored in it ({o.stored.not_sent})",
                               [content.table(), o.stored.transcript])
    if not o.kept:
        verdict.not_applicable(f"the node did not keep the object sent in {syntax} ({o.stored.line(0).strip()})",
                               [content.table(), o.stored.transcript])
    why = content.not_read_back()
    if why:
        verdict.not_applicable(why, [content.table(), *content.transcripts])
    if o.back is None:
        verdict.not_applicable(f"the object stored in {syntax} did not come back on C-GET"
                               + (" nor on C-MOVE" if content.moved else "") + " (DIMSE-007 judges lost objects)",
                               [content.table(), *content.transcripts])
    how = (f"came back by {o.via} transcoded to {describe_uid(o.back[1])}" if o.transcoded
           else f"came back by {o.via} in {syntax}, the syntax it was stored in"
                + (" (the node did not send it in an uncompressed syntax when only those were offered)"
                   if o.via == "C-GET" else ""))
    return o, how


def name_syntax(name: str) -> str:
    return SYNTAXES[name.partition("/")[2]].uid


LOSSLESS = [
    ("CONTENT-010", "ct/rle", "RLE Lossless", "PS3.5 8.2.2, Annex G"),
    ("CONTENT-011", "ct/jpeg-ls", "JPEG-LS Lossless", "PS3.5 8.2.3, A.4.3"),
    ("CONTENT-012", "ct/j2k", "JPEG 2000 Lossless", "PS3.5 8.2.4, A.4.4"),
    ("CONTENT-013", "ct/deflated-le", "Deflated Explicit VR Little Endian", "PS3.5 10, A.5"),
]


@pytest.mark.parametrize("name", [
    pytest.param(name, id=ident, marks=check(
        ident, f"An image stored in {title} comes back with the same pixel values (in another accepted syntax)",
        f"{clause}; PS3.4 B.4.1, C.4.3", "MUST", needs="c-get",
        fix=f"An image stored in {title} is lossless: whatever syntax it is sent back in (decompressed for a peer "
            "that accepts only the uncompressed ones), its pixel data must decode to exactly the values stored. "
            "Check the archive's transcoder (bit depth, signedness, planar configuration, byte order).",
        stores=True))
    for ident, name, title, clause in LOSSLESS])
def test_lossless_pixels(name: str, content: ContentRun, verdict: Verdict) -> None:
    o, how = _object(content, name, verdict)
    assert o.back is not None
    sent = o.sent
    pixels = compare_pixels(sent, o.variant.transfer_syntax, o.back[0], o.back[1])
    table = content.table() + f"\n\n{name}: {how}\npixel data: {pixels.detail if pixels else 'none sent'}"
    if pixels is None or pixels.kind in (MISSING, DIFFER):
        verdict.fail(f"{name} {how}: {PIXEL_TAG} {pixels.detail if pixels else 'did not come back'}", [table])
    if pixels.kind == LOSSY:
        if not lossy_marked(o.back[0]):
            verdict.fail(f"{name} {how}, lossily compressed, and {LOSSY_TAG} is "
                         f"{o.back[0].get('LossyImageCompression', '(absent)')!r}, not '01'", [table])
        verdict.warn(f"{name} {how}: lossily compressed (marked '01')", [table], broken=KEPT_LOSSLESS)
        return
    if pixels.kind not in (IDENTICAL, SAME_VALUES):
        try:
            pixel_values(sent, o.variant.transfer_syntax)
        except Exception as exc:  # noqa: BLE001 - we cannot decode our own object: not the node's fault
            verdict.not_applicable(f"our own {name} object does not decode here: {exc}", [table])
        verdict.fail(f"{name} {how}, and its {PIXEL_TAG[:-1]} does not decode: {pixels.detail}", [table])
    count = int(pixel_values(sent, o.variant.transfer_syntax).size)
    verdict.passed(f"{name} {how}: {pixels.detail}", [table],
                   compared=[(f"{name} pixel values", f"{count} values as stored", pixels.detail)])


@check("CONTENT-014", "An image stored in JPEG Baseline (lossy) comes back marked Lossy Image Compression '01'",
       "PS3.3 C.7.6.1.1.5; PS3.4 B.4.1, C.4.3", "MUST", needs="c-get",
       fix="An image that was ever lossily compressed keeps Lossy Image Compression (0028,2110) '01' for good, "
           "also when the archive sends it decompressed: a viewer and a radiologist must know they are not "
           "looking at the original pixels. Do not drop or reset it when transcoding.", stores=True)
def test_lossy_marked(content: ContentRun, verdict: Verdict) -> None:
    name = "sc/jpeg-baseline"
    o, how = _object(content, name, verdict)
    assert o.back is not None
    seen = o.back[0].get("LossyImageCompression", None)
    seen_text = "(absent)" if seen is None else repr(str(seen))
    table = content.table() + f"\n\n{name}: {how}\n{LOSSY_TAG}: sent '01', received {seen_text}"
    if not lossy_marked(o.back[0]):
        verdict.fail(f"{name} {how}; {LOSSY_TAG} sent '01', received {seen_text}", [table])
    verdict.passed(f"{name} {how}, still marked lossy", [table],
                   compared=[(f"{name} {LOSSY_TAG}", "01", str(seen))])
