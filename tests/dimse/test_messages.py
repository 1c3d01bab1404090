"""DIMSE messages reassembled from raw PDUs, and response command sets judged from their bytes."""

from __future__ import annotations

from pydicom.dataset import Dataset

from dcmconform.dimse.commands import encode_command
from dcmconform.evidence.messages import group_length_problem, messages, response_problems
from dcmconform.dimse.pdv import Assembler, Split, message_pdus
from dcmconform.evidence.transcript import Transcript
from dcmconform.wire import pdus as pd


def _store_rsp(responds_to: int, group_length: int | None = None) -> bytes:
    rsp = Dataset()
    rsp.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    rsp.CommandField = 0x8001
    rsp.MessageIDBeingRespondedTo = responds_to
    rsp.CommandDataSetType = 0x0101
    rsp.Status = 0
    rsp.AffectedSOPInstanceUID = "1.2.3.4"
    return encode_command(rsp, group_length)


def _store_rq() -> Dataset:
    rq = Dataset()
    rq.AffectedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    rq.CommandField = 0x0001
    rq.MessageID = 7
    rq.AffectedSOPInstanceUID = "1.2.3.4"
    rq.CommandDataSetType = 0x0001
    return rq


def test_fragmented_message_reassembles_in_order() -> None:
    command = encode_command(_store_rq())
    data = bytes(range(256)) * 8
    pdus = message_pdus(1, command, data, Split(pdu_max=64, command_fragment=6))
    assert all(len(p.encode()) - 6 <= 64 for p in pdus)
    assert all(len(v.data) % 2 == 0 for p in pdus for v in p.pdvs[:-1])
    assembler = Assembler("<-")
    done = [m for p in pdus for m in assembler.feed_pdu(p, len(p.encode()) - 6)]
    assert len(done) == 1 and done[0].command_bytes == command and done[0].dataset == data
    assert done[0].command is not None and done[0].command.MessageID == 7


def test_command_and_data_set_together_in_one_pdu() -> None:
    pdus = message_pdus(3, encode_command(_store_rq()), b"\x08\x00\x16\x00", Split(pdu_max=16384, together=True))
    assert len(pdus) == 1 and [v.is_command for v in pdus[0].pdvs] == [True, False]


def test_wrong_responses_are_named() -> None:
    t = Transcript()
    t.sent(pd.PDataTF([pd.PDV(context_id=1, control=3, data=encode_command(_store_rq()))]).encode())
    t.sent(pd.PDataTF([pd.PDV(context_id=1, control=2, data=b"\x08\x00\x16\x00\x00\x00\x00\x00")]).encode())
    t.received(pd.PDataTF([pd.PDV(context_id=1, control=3, data=_store_rsp(8, group_length=99))]).encode())
    sent, received = messages(t)
    assert sent.dataset is not None
    problems = response_problems(received, _store_rq(), 0x8001)
    assert any("Message ID Being Responded To is 8" in p for p in problems)
    assert any("Command Group Length says 99" in p for p in problems)
    assert response_problems(messages(_transcript_with(_store_rsp(7)))[0], _store_rq(), 0x8001) == []


def _transcript_with(rsp: bytes) -> Transcript:
    t = Transcript()
    t.received(pd.PDataTF([pd.PDV(context_id=1, control=3, data=rsp)]).encode())
    return t


def test_group_length_must_lead() -> None:
    assert group_length_problem(b"\x00" * 4) is not None
    assert group_length_problem(_store_rsp(1)) is None
