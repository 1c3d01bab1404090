"""The embedded pynetdicom SCP is a small archive: what it stores, C-FIND finds and C-GET brings back
in the transfer syntax it came in. Real sockets against the peer's own process; nothing survives its stop.
The matching rules and the C-CANCEL path of the handlers are also tested directly, without sockets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import RLELossless
from pynetdicom import build_role, evt

from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE, SECONDARY_CAPTURE
from dcmconform.fixtures.screen_capture import screen_capture_image
from dcmconform.net.assoc import associate
from dcmconform.net.target import Endpoint
from dcmconform.peers.pynetdicom_archive import Archive, key_matches
from dcmconform.peers.pynetdicom_scp import PynetdicomPeer

PATIENT_ROOT_FIND, PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND, STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.2.3"


@dataclass
class Stored:
    endpoint: Endpoint
    images: list[Dataset]  # one in Explicit VR Little Endian, one in RLE Lossless, same study

    @property
    def study(self) -> Dataset:
        return self.images[0]


@pytest.fixture(scope="module")
def stored() -> Iterator[Stored]:
    peer = PynetdicomPeer()
    endpoint = peer.start()
    try:
        plain, rle = screen_capture_image(), screen_capture_image()
        rle.StudyInstanceUID = plain.StudyInstanceUID
        for image in (plain, rle):
            image.PatientID = f"ARCHIVE-{plain.StudyInstanceUID[-12:]}"  # ours alone in this archive
            image.PatientName = "DCMCONFORM^ARCHIVE"
            image.StudyDate = "20230615"
        rle.compress(RLELossless)
        for image in (plain, rle):
            syntax = str(image.file_meta.TransferSyntaxUID)
            with associate(endpoint, "DCMCONFORM", 10, [(SECONDARY_CAPTURE, [syntax])]) as assoc:
                assert assoc.send_c_store(image).Status == 0x0000
        yield Stored(endpoint, [plain, rle])
    finally:
        peer.stop()


def find(endpoint: Endpoint, model: str, **keys: str) -> tuple[list[Dataset], int]:
    """The pending identifiers and the final status of one C-FIND."""
    query = Dataset()
    for keyword, value in keys.items():
        setattr(query, keyword, value)
    matches, final = [], -1
    with associate(endpoint, "DCMCONFORM", 10, [(model, [EXPLICIT_LE])]) as assoc:
        for status, identifier in assoc.send_c_find(query, model):
            if status.Status in (0xFF00, 0xFF01):
                matches.append(identifier)
            else:
                final = int(status.Status)
    return matches, final


def get(endpoint: Endpoint, model: str, query: Dataset,
        syntaxes: list[list[str]]) -> tuple[dict[str, Any], Dataset, Dataset | None]:
    """Per SOP Instance UID what came back as C-STORE sub-operations (data set, syntax); the final
    response and its identifier."""
    back: dict[str, Any] = {}

    def on_store(event: Any) -> int:
        back[str(event.request.AffectedSOPInstanceUID)] = (event.dataset, str(event.context.transfer_syntax))
        return 0x0000

    contexts = [(model, [EXPLICIT_LE])] + [(SECONDARY_CAPTURE, s) for s in syntaxes]
    with associate(endpoint, "DCMCONFORM", 10, contexts, ext_neg=[build_role(SECONDARY_CAPTURE, scp_role=True)],
                   evt_handlers=[(evt.EVT_C_STORE, on_store)]) as assoc:
        responses = list(assoc.send_c_get(query, model))
    final, identifier = responses[-1]
    return back, final, identifier


def test_c_find_finds_the_study_by_wildcard_range_and_each_level(stored: Stored) -> None:
    ep, study = stored.endpoint, stored.study
    matches, final = find(ep, STUDY_ROOT_FIND, QueryRetrieveLevel="STUDY", PatientName="DCMCONFORM^ARCH?VE*",
                          PatientID=study.PatientID, StudyDate="20230101-20231231", StudyInstanceUID="")
    assert final == 0x0000
    assert [m.StudyInstanceUID for m in matches] == [study.StudyInstanceUID]
    assert matches[0].QueryRetrieveLevel == "STUDY" and matches[0].PatientName == "DCMCONFORM^ARCHIVE"

    patients, _ = find(ep, PATIENT_ROOT_FIND, QueryRetrieveLevel="PATIENT", PatientID=study.PatientID, PatientName="")
    assert [(p.PatientID, p.PatientName) for p in patients] == [(study.PatientID, "DCMCONFORM^ARCHIVE")]
    series, _ = find(ep, STUDY_ROOT_FIND, QueryRetrieveLevel="SERIES", StudyInstanceUID=study.StudyInstanceUID,
                     SeriesInstanceUID="", Modality="")
    assert sorted(s.SeriesInstanceUID for s in series) == sorted(i.SeriesInstanceUID for i in stored.images)
    images, _ = find(ep, PATIENT_ROOT_FIND, QueryRetrieveLevel="IMAGE", PatientID=study.PatientID,
                     SOPInstanceUID="\\".join(i.SOPInstanceUID for i in stored.images))
    assert len(images) == 2

    after, final = find(ep, STUDY_ROOT_FIND, QueryRetrieveLevel="STUDY", PatientID=study.PatientID,
                        StudyDate="20240101-")
    assert (after, final) == ([], 0x0000)
    _, refused = find(ep, STUDY_ROOT_FIND, QueryRetrieveLevel="PATIENT", PatientID=study.PatientID)
    assert refused == 0xA900  # no PATIENT level in the Study Root model


def test_c_get_returns_each_object_in_the_syntax_it_was_stored_in(stored: Stored) -> None:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.PatientID = stored.study.PatientID
    query.StudyInstanceUID = stored.study.StudyInstanceUID
    back, final, _ = get(stored.endpoint, PATIENT_ROOT_GET, query, [[EXPLICIT_LE], [str(RLELossless)]])
    assert final.Status == 0x0000 and final.NumberOfCompletedSuboperations == 2
    for image in stored.images:
        ds, syntax = back[image.SOPInstanceUID]
        assert syntax == image.file_meta.TransferSyntaxUID
        assert ds.PixelData == image.PixelData


def test_c_get_converts_only_between_uncompressed_syntaxes(stored: Stored) -> None:
    query = Dataset()
    query.QueryRetrieveLevel = "IMAGE"
    query.StudyInstanceUID = stored.study.StudyInstanceUID
    query.SeriesInstanceUID = ""
    query.SOPInstanceUID = [i.SOPInstanceUID for i in stored.images]
    back, final, failed = get(stored.endpoint, STUDY_ROOT_GET, query, [[IMPLICIT_LE]])
    plain, rle = stored.images
    assert back[plain.SOPInstanceUID][1] == IMPLICIT_LE and back[plain.SOPInstanceUID][0].PixelData == plain.PixelData
    assert rle.SOPInstanceUID not in back  # pynetdicom does not decompress: a failed sub-operation
    assert (final.Status, final.NumberOfCompletedSuboperations, final.NumberOfFailedSuboperations) == (0xB000, 1, 1)
    assert failed is not None and failed.FailedSOPInstanceUIDList == rle.SOPInstanceUID


def test_stop_leaves_no_process(processes: Callable[[str], list[tuple[int, str]]]) -> None:
    peer = PynetdicomPeer()
    peer.start()
    folder = str(peer.workdir)
    try:
        assert processes(folder), "the SCP's process should be found by its folder while it runs"
    finally:
        peer.stop()
    assert processes(folder) == []
    assert peer.exit_status() is not None


# The handlers without sockets -----------------------------------------------------------------
def record(**values: str) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


@pytest.mark.parametrize(("vr", "keyword", "query", "value", "hit"), [
    ("PN", "PatientName", "", "ANY^ONE", True),                       # universal
    ("PN", "PatientName", "DOE^J*", "DOE^JOHN", True),
    ("PN", "PatientName", "DOE^J?HN", "DOE^JOHN", True),
    ("PN", "PatientName", "DOE^J?", "DOE^JOHN", False),
    ("LO", "PatientID", "A[1]*", "A[1]B", True),                       # no regular expression syntax leaks in
    ("LO", "PatientID", "A.*", "AB", False),
    ("LO", "PatientID", "ID1", "id1", False),                          # single value: exact
    ("DA", "StudyDate", "20230101-20231231", "20230615", True),
    ("DA", "StudyDate", "-20230615", "20230615", True),
    ("DA", "StudyDate", "20230616-", "20230615", False),
    ("UI", "StudyInstanceUID", "1.2.3\\1.2.4", "1.2.4", True),          # list of UIDs
    ("UI", "StudyInstanceUID", "1.2.3\\1.2.5", "1.2.4", False),
])
def test_key_matching(vr: str, keyword: str, query: str, value: str, hit: bool) -> None:
    key = DataElement(keyword, vr, query)
    assert key_matches(key, record(**{keyword: value})) is hit


def test_a_key_the_instance_lacks_matches_only_universally() -> None:
    assert key_matches(DataElement("AccessionNumber", "SH", ""), record(PatientID="X"))
    assert not key_matches(DataElement("AccessionNumber", "SH", "A*"), record(PatientID="X"))


class FakeEvent:
    def __init__(self, identifier: Dataset, model: str, cancel_after: int) -> None:
        self.identifier = identifier
        self.request = record(AffectedSOPClassUID=model)
        self._checks = 0
        self._cancel_after = cancel_after

    @property
    def is_cancelled(self) -> bool:
        self._checks += 1
        return self._checks > self._cancel_after


def test_find_stops_with_cancel_status_once_cancelled(tmp_path: Any) -> None:
    archive = Archive(tmp_path)
    study = "1.2.3"
    for n in range(3):
        ds = record(PatientID="P", StudyInstanceUID=study, SeriesInstanceUID=f"{study}.{n}", SOPInstanceUID=f"{study}.{n}.1")
        archive._add(tmp_path / f"{n}.dcm", ds)
    query = record(QueryRetrieveLevel="SERIES", StudyInstanceUID=study, SeriesInstanceUID="")
    responses = list(archive.on_find(FakeEvent(query, STUDY_ROOT_FIND, cancel_after=1)))
    assert [status for status, _ in responses] == [0xFF00, 0xFE00]
    assert list(archive.on_find(FakeEvent(query, STUDY_ROOT_FIND, cancel_after=99)))[-1][1].QueryRetrieveLevel == "SERIES"


def test_a_connection_that_ends_before_its_request_leaves_no_slot_held(stored: Stored) -> None:
    """pynetdicom alone holds an acceptor thread 30 s for each (its limit: 10, then A-ASSOCIATE-RJ 2/3/2)."""
    from dcmconform.evidence.transcript import Transcript
    from dcmconform.net.probe import ABORTED, ACCEPTED, CLOSED, Connection
    from dcmconform.wire import pdus as pd

    for _ in range(12):
        with Connection(stored.endpoint, 5.0, Transcript("undecodable request")) as conn:
            assert conn.send(b"\x01\x00\x00\x00\x00\x04abcd") is None
            assert conn.receive(timeout=5.0).kind in (ABORTED, CLOSED)
    rq = pd.associate_rq(stored.endpoint.ae_title, "DCMCONFORM", [(1, "1.2.840.10008.1.1", [IMPLICIT_LE])])
    with Connection(stored.endpoint, 5.0, Transcript("after them")) as conn:
        observed = conn.send(rq) or conn.receive()
        assert observed.kind == ACCEPTED, observed.describe()
        conn.send(pd.AReleaseRQ())
