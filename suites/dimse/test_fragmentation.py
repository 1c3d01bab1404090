"""Fragmentation of DIMSE messages into PDVs and P-DATA-TF PDUs (PS3.8 9.3.5, Annex D.1, Annex E).

These need raw sending: pynetdicom always cuts messages its own way. Each check opens its own
raw association through the probe, so every PDU is in the evidence.
"""

from __future__ import annotations

from dcmconform.base.uids import IMPLICIT_LE, VERIFICATION
from dcmconform.content.diff import compare
from dcmconform.dimse.commands import echo_command, store_command
from dcmconform.dimse.pdv import Message, Split
from dcmconform.evidence.messages import received_pdata_lengths
from dcmconform.evidence.transcript import Transcript
from dcmconform.evidence.verdict import Verdict, check
from dcmconform.exchange.association import RawAssociation
from dcmconform.fixtures.catalogue import Catalogue, Variant
from dcmconform.net.probe import Observation, Probe
from dcmconform.net.target import Endpoint
from dcmconform.run.options import RunConfig
from dcmconform.suites.dimse.readback import Wanted, retrieve
from dcmconform.suites.dimse.storing import data_set_bytes, store
from dcmconform.wire.pdus import PduType, type_of

TINY = 64
SMALL = 4096


def _echo(raw: RawAssociation, cid: int) -> Message | Observation:
    raw.send(cid, echo_command(raw.message_id()), split=Split(pdu_max=raw.peer_max or 16384))
    return raw.receive()


def _store(raw: RawAssociation, cid: int, catalogue: Catalogue, variant: Variant, split: Split) -> Message | Observation:
    ds = catalogue.dataset(variant)
    failed = raw.send(cid, store_command(variant.sop_class_uid, str(ds.SOPInstanceUID), raw.message_id()),
                      data_set_bytes(catalogue.path(variant)), split)
    return failed or raw.receive()


def _outcome(got: Message | Observation) -> str:
    if isinstance(got, Message):
        return f"{got.name} status 0x{got.status:04X}" if got.status is not None else f"{got.name} without a Status"
    return got.describe()


def _ok(got: Message | Observation) -> bool:
    return isinstance(got, Message) and got.status is not None and (got.status == 0 or got.status & 0xF000 == 0xB000)


def _readback(target: Endpoint, cfg: RunConfig, catalogue: Catalogue, variant: Variant) -> str:
    """'' when the object came back identical or read-back is not offered; else what is wrong."""
    return _read_back(target, cfg, catalogue, variant)[0]


def _read_back(target: Endpoint, cfg: RunConfig, catalogue: Catalogue, variant: Variant) -> tuple[str, str]:
    """(what is wrong, '' when nothing; what the read-back saw, for a pass's witness)."""
    ds = catalogue.dataset(variant)
    got = retrieve(target, cfg.calling_aet, cfg.timeout, [Wanted(variant.sop_class_uid, ds.SOPInstanceUID,
                   ds.StudyInstanceUID, ds.SeriesInstanceUID, str(ds.PatientID), variant.transfer_syntax)])
    if not got.offered or got.statuses.get(str(ds.SOPInstanceUID)) is None:
        # no read-back, or a C-GET that broke (DIMSE-021 judges that): judge the status alone
        return "", f"not read back ({got.detail or 'no C-GET'})"
    back = got.objects.get(str(ds.SOPInstanceUID))
    if back is None:
        return "the object is not retrievable after the store (C-GET returned nothing)", "nothing returned"
    diff = compare(ds, variant.transfer_syntax, back[0], back[1])
    if not diff.coerced and not diff.pixels_lost:
        return "", "read back with C-GET: the same attributes and pixels"
    return "read back different: " + "; ".join(diff.lines()[:4]), "different"


@check("DIMSE-011", "Every P-DATA-TF the target sends fits the maximum length we announced (64 and 4096 bytes)",
       "PS3.8 9.3.5, D.1 (Maximum Length Sub-Item)", "MUST",
       fix="Cut every message into PDVs so that no P-DATA-TF is longer than the maximum length the peer "
           "announced in its A-ASSOCIATE-RQ, however small (a C-ECHO-RSP in 64 bytes takes two PDUs). A peer "
           "with a small receive buffer aborts or overflows otherwise.", stores=True)
def test_pdus_fit_our_maximum(probe: Probe, dicom_catalogue: Catalogue, target: Endpoint, dcm_config: RunConfig,
                              transcript: Transcript, verdict: Verdict) -> None:
    sc = dicom_catalogue.variant("sc/explicit-le")
    raw = RawAssociation(probe, [(1, VERIFICATION, [IMPLICIT_LE]), (3, sc.sop_class_uid, [sc.transfer_syntax])],
                         max_length=TINY)
    notes = []
    with raw:
        if raw.answer is None or not raw.accepted:
            notes.append(f"max length {TINY} not tried: the association was not accepted "
                         f"({raw.answer.describe() if raw.answer else 'no answer'})")
        else:
            if 1 in raw.accepted:
                notes.append(f"C-ECHO at max length {TINY}: {_outcome(_echo(raw, 1))}")
            if 3 in raw.accepted and raw.established:
                notes.append(f"C-STORE at max length {TINY}: {_outcome(_store(raw, 3, dicom_catalogue, sc, Split(raw.peer_max or 16384)))}")
    tiny = received_pdata_lengths(transcript)
    # Data from the target: a C-GET of one stored object at 4096, when the target offers C-GET.
    ct = dicom_catalogue.variant("us/explicit-le")
    stored = store(target, dcm_config.calling_aet, dcm_config.timeout, dicom_catalogue.path(ct), ct)
    ds = dicom_catalogue.dataset(ct)
    small = Transcript("C-GET at 4096")
    got = retrieve(target, dcm_config.calling_aet, dcm_config.timeout, [Wanted(ct.sop_class_uid, ds.SOPInstanceUID,
                   ds.StudyInstanceUID, ds.SeriesInstanceUID, str(ds.PatientID), ct.transfer_syntax)],
                   max_pdu=SMALL, transcript=small)
    retrieved = received_pdata_lengths(small) if got.offered and stored.sent else []
    notes.append(f"C-GET at max length {SMALL}: " + (f"{len(retrieved)} P-DATA-TF received" if retrieved else
                                                     f"not tried ({got.detail or stored.not_sent or 'no C-GET'})"))
    if not tiny and not retrieved:
        verdict.not_applicable("; ".join(notes))
    over = [n for n in tiny if n > TINY] + [n for n in retrieved if n > SMALL]
    summary = (f"{len(tiny)} P-DATA-TF at max {TINY} (longest {max(tiny, default=0)}), {len(retrieved)} at max {SMALL} "
               f"(longest {max(retrieved, default=0)})")
    evidence = ["\n".join(notes), small] if retrieved else ["\n".join(notes)]
    verdict.judge(not over, summary, f"{len(over)} P-DATA-TF longer than our maximum (lengths {sorted(set(over))[:8]}); "
                  + summary, evidence,
                  compared=[(f"longest P-DATA-TF received under our maximum length {TINY}", f"at most {TINY}",
                             f"{max(tiny)} ({len(tiny)} received)" if tiny else "none received"),
                            (f"longest P-DATA-TF received under our maximum length {SMALL}", f"at most {SMALL}",
                             f"{max(retrieved)} ({len(retrieved)} received)" if retrieved else "none received")])


@check("DIMSE-012", "A C-STORE cut into P-DATA-TFs of exactly the target's maximum length is accepted",
       "PS3.8 9.3.5, D.1", "MUST",
       fix="Accept P-DATA-TF PDUs whose length equals the maximum length you announced: the limit is "
           "inclusive, and it counts the PDU's variable field (PDVs with their 6-byte headers), not the 6-byte "
           "PDU header.", stores=True)
def test_send_at_target_maximum(probe: Probe, dicom_catalogue: Catalogue, transcript: Transcript,
                                verdict: Verdict) -> None:
    us = dicom_catalogue.variant("us/explicit-le")
    raw = RawAssociation(probe, [(1, us.sop_class_uid, [us.transfer_syntax])])
    with raw:
        if 1 not in raw.accepted:
            verdict.not_applicable("the target did not accept Ultrasound Multi-frame Image Storage in Explicit VR LE")
        limit = raw.peer_max or 1 << 20
        got = _store(raw, 1, dicom_catalogue, us, Split(pdu_max=limit))
    sent = [len(e.data) - 6 for e in transcript.events if e.direction == "->" and type_of(e.data) == PduType.P_DATA_TF]
    at_max = sum(1 for n in sent if n == limit)
    if not at_max:  # nothing was sent at the limit: the check compared nothing
        verdict.not_applicable(f"the object went in {len(sent)} P-DATA-TF shorter than the node's maximum length "
                               f"{raw.peer_max or 'none (0)'}: none of exactly that length could be sent")

    verdict.judge(_ok(got), f"{len(sent)} P-DATA-TF, {at_max} of exactly {limit} bytes: {_outcome(got)}",
                  f"P-DATA-TFs of exactly the target's maximum ({limit}, {at_max} of them) got: {_outcome(got)}",
                  compared=[(f"P-DATA-TFs of exactly the node's maximum length {limit} sent", "at least 1", str(at_max)),
                            ("C-STORE-RSP Status", "success (0x0000) or warning (0xBxxx)", _outcome(got))])


@check("DIMSE-013", "Command and data set are accepted both in separate P-DATA-TFs and together in one",
       "PS3.8 9.3.5 (one or more PDVs per P-DATA-TF), Annex E", "MUST",
       fix="A P-DATA-TF may carry several PDVs, including the last command fragment and the first data set "
           "fragment; read every PDV of a PDU, not only the first.", stores=True)
def test_command_and_data_set_together(probe: Probe, dicom_catalogue: Catalogue, verdict: Verdict) -> None:
    sc = dicom_catalogue.variant("sc/explicit-le")
    ct = dicom_catalogue.variant("ct/explicit-le")
    raw = RawAssociation(probe, [(1, sc.sop_class_uid, [sc.transfer_syntax]), (3, ct.sop_class_uid, [ct.transfer_syntax])])
    results = []
    with raw:
        if 1 not in raw.accepted or 3 not in raw.accepted:
            verdict.not_applicable("the target did not accept Secondary Capture and CT Image Storage in Explicit VR LE")
        limit = raw.peer_max or 1 << 20
        results.append(("separate PDUs", _store(raw, 1, dicom_catalogue, sc, Split(pdu_max=limit))))
        if raw.established:
            results.append(("one PDU", _store(raw, 3, dicom_catalogue, ct, Split(pdu_max=max(limit, 16384), together=True))))
    text = "; ".join(f"{how}: {_outcome(got)}" for how, got in results)
    verdict.judge(len(results) == 2 and all(_ok(g) for _, g in results), text, text,
                  compared=[(f"C-STORE-RSP Status, command and data set in {how}", "success (0x0000) or warning (0xBxxx)",
                             _outcome(g)) for how, g in results])



@check("DIMSE-014", "A message in many tiny PDVs (16-byte command fragments, 256-byte data fragments) is reassembled",
       "PS3.8 Annex E.1, E.2", "MUST",
       fix="Concatenate PDV fragments until the one with the last-fragment bit, for the command and for the "
           "data set, whatever their sizes and however many share a P-DATA-TF.", stores=True)
def test_many_tiny_pdvs(probe: Probe, dicom_catalogue: Catalogue, target: Endpoint, dcm_config: RunConfig,
                        verdict: Verdict) -> None:
    ct = dicom_catalogue.variant("ct/explicit-le")
    raw = RawAssociation(probe, [(1, ct.sop_class_uid, [ct.transfer_syntax])])
    with raw:
        if 1 not in raw.accepted:
            verdict.not_applicable("the target did not accept CT Image Storage in Explicit VR Little Endian")
        split = Split(pdu_max=min(raw.peer_max or 16384, 16384), fragment=256, command_fragment=16)
        got = _store(raw, 1, dicom_catalogue, ct, split)
    if not _ok(got):
        verdict.fail(f"the C-STORE in tiny PDVs got: {_outcome(got)}")
    wrong, seen = _read_back(target, dcm_config, dicom_catalogue, ct)
    verdict.judge(not wrong, f"{_outcome(got)}; the object is intact where it can be read back", wrong,
                  compared=[("C-STORE-RSP Status", "success (0x0000) or warning (0xBxxx)", _outcome(got)),
                            ("the stored object", "identical to the one sent", seen)])


@check("DIMSE-015", "A message whose fragment boundaries cut element headers (6- and 1022-byte PDVs) is reassembled",
       "PS3.8 Annex E.1 (Note 2)", "MUST",
       fix="Treat PDV fragments as a byte stream: a fragment may end in the middle of a tag, a VR, a length or "
           "a value (PS3.8 E.1 Note 2); only its length is even. Parsing each fragment on its own breaks on "
           "such senders.", stores=True)
def test_unaligned_boundaries(probe: Probe, dicom_catalogue: Catalogue, target: Endpoint, dcm_config: RunConfig,
                              verdict: Verdict) -> None:
    # Fragments stay even (PS3.8 E.1: "each fragment of a message shall consist of an even number of
    # bytes"); 6 and 1022 are not multiples of 4, so tags and lengths straddle PDVs.
    mr = dicom_catalogue.variant("mr/explicit-le")
    raw = RawAssociation(probe, [(1, mr.sop_class_uid, [mr.transfer_syntax])])
    with raw:
        if 1 not in raw.accepted:
            verdict.not_applicable("the target did not accept MR Image Storage in Explicit VR Little Endian")
        split = Split(pdu_max=min(raw.peer_max or 16384, 16384), fragment=1022, command_fragment=6, pdvs_per_pdu=1)
        got = _store(raw, 1, dicom_catalogue, mr, split)
    if not _ok(got):
        verdict.fail(f"the C-STORE in 6- and 1022-byte fragments got: {_outcome(got)}")
    wrong, seen = _read_back(target, dcm_config, dicom_catalogue, mr)
    verdict.judge(not wrong, f"{_outcome(got)}; the object is intact where it can be read back", wrong,
                  compared=[("C-STORE-RSP Status", "success (0x0000) or warning (0xBxxx)", _outcome(got)),
                            ("the stored object", "identical to the one sent", seen)])
