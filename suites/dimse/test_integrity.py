"""Nothing lost: what the target said it stored comes back the same (PS3.4 B.4.1, C.4.3)."""

from __future__ import annotations

from collections.abc import Callable

from dcmconform.content.diff import compare
from dcmconform.dimse.status import SUCCESS, WARNING
from dcmconform.evidence.verdict import Level, Requirement, Verdict, check
from dcmconform.fixtures.catalogue import Catalogue
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig
from dcmconform.suites.dimse.readback import Wanted, retrieve
from dcmconform.suites.dimse.storing import Stored

# What DIMSE-007 (a MUST: nothing lost) warns about: an object kept, but with attributes changed.
KEPT_AS_SENT = Requirement(
    "PS3.4 B.4.1, B.4.2", Level.PRACTICE,
    "an archive that claims Level 2 (full) storage keeps every attribute it was sent; changing values is "
    "coercion, which the standard allows when the node's conformance statement says so and the C-STORE "
    "response warns of it (0xB000)")


def wanted_for(catalogue: Catalogue, stored: list[Stored]) -> list[Wanted]:
    out = []
    for s in stored:
        ds = catalogue.dataset(s.variant)
        out.append(Wanted(ds.SOPClassUID, ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID,
                          str(ds.PatientID), s.variant.transfer_syntax))
    return out


@check("DIMSE-007", "Nothing lost: every object stored with success or warning comes back, pixel data intact",
       "PS3.4 B.4.1 (levels of storage), B.2.3; read back with C-GET, PS3.4 C.4.3", "MUST", needs="c-get",
       fix="An object answered with 0x0000 (or a B-warning) must be kept: retrievable by its SOP Instance UID, "
           "with its pixel data unchanged for lossless syntaxes. Changing other attributes is coercion: say so "
           "with 0xB000 and an Error Comment, and keep what a Level 2 (full) storage SCP must keep.", stores=True)
def test_nothing_lost(store_objects: Callable[..., list[Stored]], dicom_catalogue: Catalogue, target: Endpoint,
                      dcm_config: RunConfig, verdict: Verdict) -> None:
    results = store_objects()
    kept = [r for r in results if r.sent and r.status is not None and r.status.category in (SUCCESS, WARNING)]
    if not kept:
        verdict.not_applicable("no object was stored with success or warning, so nothing can be read back",
                               "\n".join(r.line() for r in results))
    got = retrieve(target, dcm_config.calling_aet, dcm_config.timeout, wanted_for(dicom_catalogue, kept))
    if not got.offered:
        verdict.not_applicable(f"cannot read objects back: {got.detail}", got.transcript)
    if got.detail and not got.objects:
        verdict.not_applicable(f"the read-back C-GET broke before returning anything ({got.detail}); "
                               "DIMSE-021 judges C-GET itself", got.transcript)
    lost, changed, lines = [], [], []
    for r in kept:
        sent = dicom_catalogue.dataset(r.variant)
        back = got.objects.get(str(sent.SOPInstanceUID))
        if back is None:
            status = got.statuses.get(str(sent.SOPInstanceUID))
            said = "no final status" if status is None else f"C-GET final status 0x{status:04X}"
            lost.append(r.variant.name)
            lines.append(f"{r.variant.name}: LOST (stored with {r.status}; C-GET returned nothing, {said})")
            continue
        diff = compare(sent, r.variant.transfer_syntax, back[0], back[1])
        if diff.pixels_lost:
            lost.append(r.variant.name)
        elif diff.coerced:
            changed.append(r.variant.name)
        announced = f" (store answered {r.status}{', ' + repr(r.comment) if r.comment else ''})" if diff.coerced else ""
        lines.append(f"{r.variant.name}: " + ("; ".join(diff.lines()) or "identical") + announced)
    table = "\n".join(lines)
    tally = f"{len(kept) - len(lost) - len(changed)} identical, {len(changed)} coerced, {len(lost)} lost of {len(kept)}"
    if got.detail:
        verdict.fail(f"{tally}: {got.detail}", [table, got.transcript])
    if lost:
        verdict.fail(f"{tally}: " + ", ".join(lost[:6]), [table])
    if changed:
        verdict.warn(f"{tally}: the target changed attributes of " + ", ".join(changed[:6]), [table],
                     broken=KEPT_AS_SENT)
        return
    verdict.passed(f"{tally}: read back with C-GET and compared element by element", [table],
                   compared=[(f"{r.variant.name}, read back with C-GET", "the attributes and pixels sent", "identical")
                             for r in kept])

