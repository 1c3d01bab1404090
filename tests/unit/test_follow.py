"""The association follower (dcmconform.evidence.follow), and its three readers on one transcript where our
C-MOVE destination's association (requested by the node) crosses ours: the DIMSE messages, the dump and
the stored-objects manifest."""

from __future__ import annotations

from pydicom.dataset import Dataset

from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE
from dcmconform.dimse.commands import C_STORE_RQ, C_STORE_RSP, encode_command, response, store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Split, message_pdus
from dcmconform.evidence import stored
from dcmconform.evidence.follow import EITHER, RECEIVED, SENT, Context, Follower
from dcmconform.evidence.messages import messages
from dcmconform.evidence.transcript import Transcript
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


def _rq(*contexts: tuple[int, str]) -> bytes:
    return pd.associate_rq("NODE", "US", [(cid, sop, [EXPLICIT_LE, IMPLICIT_LE]) for cid, sop in contexts]).encode()


def _ac(*answers: tuple[int, int, str]) -> bytes:
    items: list[it.Item] = [it.ApplicationContextItem(pd.APPLICATION_CONTEXT)]
    items += [it.PresentationContextACItem(cid, result, [it.TransferSyntaxSubItem(ts)]) for cid, result, ts in answers]
    items.append(it.UserInformationItem([it.MaximumLengthSubItem(16384)]))
    return pd.AAssociateAC(pd.ae("NODE"), pd.ae("US"), items).encode()


def _store(message_id: int, patient: str) -> list[bytes]:
    """A C-STORE-RQ of a CT object of ``patient`` on context 1, as P-DATA-TFs."""
    ds = Dataset()
    ds.PatientID = patient
    ds.StudyInstanceUID = f"1.2.3.{message_id}.1"
    data = encode_data_set(ds, IMPLICIT_LE)
    return _pdata(1, encode_command(store_command(CT, f"1.2.3.{message_id}", message_id)), data)


def _pdata(context_id: int, command: bytes, dataset: bytes | None = None) -> list[bytes]:
    return [p.encode() for p in message_pdus(context_id, command, dataset, Split())]


def test_our_request_begins_an_association_and_its_answer_names_the_contexts() -> None:
    follower = Follower()
    assert follower.requester == "" and follower.contexts == {}
    assert follower.feed(SENT, _rq((1, CT), (3, MR), (5, CT), (5, MR)))
    assert follower.requester == SENT and follower.request is not None
    assert not follower.feed(RECEIVED, _ac((1, 0, IMPLICIT_LE), (3, 3, EXPLICIT_LE), (5, 0, EXPLICIT_LE)))
    # context 3 was refused; 5 was proposed twice, so the answer cannot say which abstract syntax it is about
    assert follower.contexts == {1: Context(CT, IMPLICIT_LE), 5: Context("", EXPLICIT_LE)}
    half = pd.decode_pdu(_store(7, "P7")[0])
    assert isinstance(half, pd.PDataTF)
    cut = pd.PDV(context_id=1, control=0x01, data=half.pdvs[0].data[:10])  # a command's first fragment, not its last
    assert follower.assemblers[SENT].feed_pdv(cut) is None and follower.assemblers[SENT].partial
    assert follower.feed(SENT, _rq((1, MR)))  # a new association: nothing of the last one's is left half joined
    assert follower.contexts == {} and not follower.assemblers[SENT].partial


def test_the_node_s_request_begins_an_association_only_where_the_reader_says() -> None:
    ours = Follower()
    ours.feed(SENT, _rq((1, CT)))
    ours.feed(RECEIVED, _ac((1, 0, IMPLICIT_LE)))
    assert not ours.feed(RECEIVED, _rq((1, MR)))  # our C-MOVE destination's association
    assert not ours.feed(SENT, _ac((1, 0, EXPLICIT_LE)))  # our answer to it is not the node's answer to us
    assert ours.requester == SENT and ours.contexts == {1: Context(CT, IMPLICIT_LE)}
    assert ours.request is ours.requests[SENT] and ours.requests[RECEIVED].presentation_contexts[0].abstract_syntax == MR
    either = Follower(starts=EITHER)
    either.feed(SENT, _rq((1, CT)))
    assert either.feed(RECEIVED, _rq((1, MR)))
    either.feed(SENT, _ac((1, 0, EXPLICIT_LE)))
    assert either.requester == RECEIVED and either.contexts == {1: Context(MR, EXPLICIT_LE)}


def test_a_request_that_does_not_decode_still_begins_an_association() -> None:
    follower = Follower()
    follower.feed(SENT, _rq((1, CT)))
    assert follower.feed(SENT, b"\x01\x00\x00\x00\x00\x02\xff\xff")  # an A-ASSOCIATE-RQ header and 2 bytes
    assert follower.request is None and follower.requests[SENT].presentation_contexts[0].abstract_syntax == CT
    follower.feed(RECEIVED, _ac((1, 0, IMPLICIT_LE)))
    assert follower.contexts == {1: Context("", IMPLICIT_LE)}


def test_the_three_readers_on_a_transcript_the_node_s_association_crosses() -> None:
    """Our C-STORE on our association; meanwhile the node requests one to our C-MOVE destination and sends
    a C-STORE there: the manifest lists ours only, the messages keep both, the dump shows both."""
    recorder = stored.start()
    try:
        recorder.check = "TEST-001"
        t = Transcript()
        t.sent(_rq((1, CT)))
        t.received(_ac((1, 0, IMPLICIT_LE)))
        for pdu in _store(7, "OURS"):
            t.sent(pdu)
        t.received(_rq((1, CT)))  # the node, to our C-MOVE destination
        t.sent(_ac((1, 0, IMPLICIT_LE)))
        for pdu in _store(9, "THEIRS"):
            t.received(pdu)  # the node's C-STORE-RQ: not ours to list
        for pdu in _pdata(1, encode_command(response(store_command(CT, "1.2.3.7", 7), C_STORE_RSP, 0))):
            t.received(pdu)  # the answer to ours
    finally:
        stored.stop()
    assert [(o.check, o.sop_class, o.sop_instance, o.patient_id, o.study_instance, o.status, o.stored)
            for o in recorder.objects] == [("TEST-001", CT, "1.2.3.7", "OURS", "1.2.3.7.1", "0x0000", True)]
    assert [(m.direction, m.field) for m in messages(t)] == [(SENT, C_STORE_RQ), (RECEIVED, C_STORE_RQ),
                                                             (RECEIVED, C_STORE_RSP)]
    dump = t.dump()
    assert dump.count("A-ASSOCIATE-RQ") == 2 and dump.count("A-ASSOCIATE-AC") == 2
    assert "Abstract Syntax: =CTImageStorage" in dump.split("<- A-ASSOCIATE-AC")[1]  # read against our request


def test_an_answer_whose_message_id_has_two_values_leaves_the_request_unanswered() -> None:
    """A node's C-STORE-RSP with Message ID Being Responded To of two values (US, 4 bytes) answers nothing:
    the row stays without a status, and the node's bytes do not break our side of the association."""
    recorder = stored.start()
    try:
        t = Transcript()
        t.sent(_rq((1, CT)))
        t.received(_ac((1, 0, IMPLICIT_LE)))
        for pdu in _store(7, "OURS"):
            t.sent(pdu)
        rsp = encode_command(response(store_command(CT, "1.2.3.7", 7), C_STORE_RSP, 0))
        two = rsp.replace(b"\x00\x00\x20\x01\x02\x00\x00\x00\x07\x00", b"\x00\x00\x20\x01\x04\x00\x00\x00\x07\x00\x07\x00")
        assert two != rsp
        two = two[:8] + (int.from_bytes(two[8:12], "little") + 2).to_bytes(4, "little") + two[12:]
        for pdu in _pdata(1, two):
            t.received(pdu)
    finally:
        stored.stop()
    assert [(o.sop_instance, o.status, o.stored) for o in recorder.objects] == [("1.2.3.7", "", False)]


# How each connection ended (dcmconform.evidence.follow.endings: the ledger of RUN-BUSY and PERF-003) ----------
def test_endings_tell_a_release_from_every_other_end() -> None:
    from dcmconform.evidence.follow import endings
    from dcmconform.evidence.transcript import FIN

    t = Transcript()
    ends = []
    for last in (pd.AReleaseRQ().encode(), pd.AAbort(0, 0).encode(), None, "rj", "busy"):
        conn = t.opened(("127.0.0.1", 1000), ("127.0.0.1", 104))
        t.sent(_rq((1, CT)), conn)
        if last == "rj":
            t.received(pd.AAssociateRJ(1, 1, 3).encode(), conn)
        elif last == "busy":
            t.received(pd.AAssociateRJ(2, 3, 2).encode(), conn)
        else:
            t.received(_ac((1, 0, IMPLICIT_LE)), conn)
        if last is not None and not isinstance(last, str):
            t.sent(last, conn)
            if pd.type_of(last) == pd.PduType.A_RELEASE_RQ:
                t.received(pd.AReleaseRP().encode(), conn)
        t.ended(FIN, RECEIVED if last is None else SENT, conn)
        ends.append(conn)
    t.opened(("127.0.0.1", 1001), ("127.0.0.1", 104))  # a bare connect, never closed
    found = {e.conn: e for e in endings(t.events)}
    assert [found[c].how for c in ends] == ["released", "aborted-by-us", "closed-by-node", "rejected", "busy"]
    assert [found[c].unreleased for c in ends] == [False, True, True, True, False]
    assert found[ends[-1] + 1].how == "open" and found[ends[-1] + 1].unreleased


def test_endings_without_tcp_events_begin_a_connection_at_each_request() -> None:
    from dcmconform.evidence.follow import endings

    t = Transcript()
    for _ in range(2):
        t.sent(_rq((1, CT)))
        t.received(_ac((1, 0, IMPLICIT_LE)))
        t.sent(pd.AAbort(0, 0).encode())
    assert [e.how for e in endings(t.events)] == ["aborted-by-us", "aborted-by-us"]
