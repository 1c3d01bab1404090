"""The association checks' building blocks: answer rules, big requests, raw DIMSE framing."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.filereader import read_dataset
from pynetdicom.dsutils import encode

from dcmconform.dimse.pdv import PDV_HEADER, fragments
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.net.probe import ABORTED, ACCEPTED, CLOSED, REJECTED, SILENT, Observation
from dcmconform.suites.association.answers import FAIL, PASS, WARN, Rule, outcome_of
from dcmconform.suites.association.requests import large_contexts, long_uid
from dcmconform.suites.association.traffic import echo_rq, padded_dataset
from dcmconform.wire import pdus as pd


def rejected(result: int, source: int, reason: int) -> Observation:
    pdu = pd.AAssociateRJ(result, source, reason)
    return Observation(REJECTED, pdu, pdu.encode())


def test_a_rule_tells_the_exact_rejection_from_another() -> None:
    rule = Rule("1/1/7", rj=(1, 1, 7), other_rj=WARN)
    assert outcome_of(rejected(1, 1, 7), rule)[0] == PASS
    assert outcome_of(rejected(2, 1, 7), rule)[0] == WARN  # transient: the sender retries forever
    assert outcome_of(rejected(1, 1, 1), rule)[0] == WARN
    assert outcome_of(rejected(1, 1, 1), Rule("any", rejected=PASS))[0] == PASS
    assert outcome_of(rejected(1, 1, 1), Rule("an AC", rejected=WARN))[0] == WARN


def test_silence_and_a_dropped_connection_follow_the_rule() -> None:
    rule = Rule("an answer", closed=WARN, silent=FAIL, aborted=PASS, accepted=FAIL)
    assert outcome_of(Observation(SILENT, elapsed=5.0), rule)[0] == FAIL
    assert outcome_of(Observation(CLOSED), rule)[0] == WARN
    abort = pd.AAbort(2, 6)
    assert outcome_of(Observation(ABORTED, abort, abort.encode()), rule)[0] == PASS
    assert outcome_of(Observation(ACCEPTED), rule)[0] == FAIL


@pytest.mark.parametrize("size", [10 * 1024, 32 * 1024, 50 * 1024, 66 * 1024])
def test_large_requests_reach_their_size_within_128_odd_contexts(size: int) -> None:
    contexts = large_contexts(size)
    encoded = pd.associate_rq("ZOO", "DCMCONFORM", contexts).encode()
    assert size <= len(encoded) < size + 2048
    ids = [cid for cid, _, _ in contexts]
    assert len(ids) <= 128 and all(i % 2 == 1 for i in ids) and len(set(ids)) == len(ids)
    assert all(len(uid) == 64 for _, _, syntaxes in contexts for uid in syntaxes[2:])
    assert pd.decode_pdu(encoded).encode() == encoded


def test_long_uids_are_valid_and_distinct() -> None:
    uids = {long_uid(n) for n in range(1, 200)}
    assert len(uids) == 199
    for uid in uids:
        assert len(uid) == 64 and all(part and (part == "0" or not part.startswith("0")) for part in uid.split("."))


def test_a_padded_data_set_has_exactly_the_size_asked_and_still_decodes() -> None:
    image = screen_capture_image(rows=8, columns=8)
    data = padded_dataset(image, 16384 - PDV_HEADER)
    assert len(data) == 16384 - PDV_HEADER
    decoded = read_dataset(BytesIO(data), is_implicit_VR=True, is_little_endian=True)
    assert decoded.SOPInstanceUID == image.SOPInstanceUID
    unpadded = len(encode(image, True, True) or b"")
    assert len(decoded[0xFFFC, 0xFFFC].value) == len(data) - unpadded - 8  # Data Set Trailing Padding
    with pytest.raises(ValueError):
        padded_dataset(image, 10)


def test_fragments_never_exceed_the_maximum_and_mark_the_last() -> None:
    command = echo_rq()
    pdus = fragments(command, 255, True, 64)
    assert len(pdus) > 1
    assert all(len(p.encode()) - pd.PDU_HEADER <= 64 for p in pdus)
    controls = [p.pdvs[0].control for p in pdus]
    assert controls[:-1] == [0x01] * (len(pdus) - 1) and controls[-1] == 0x03
    assert b"".join(p.pdvs[0].data for p in pdus) == command
    assert len(fragments(command, 1, True, 0)) == 1  # 0: no limit
