"""The zoo SCU: a small, conformant storage SCU with one switch per SCU defect (the SCU checks' zoo).

``python -m dcmconform.peers.zoo.scu [-aec AET] [--defect NAME ...] HOST PORT FILE...``, usable as a
trigger: ``dcmconform run --role scu --trigger 'python -m dcmconform.peers.zoo.scu -aec {aet} {host} {port} {files}'``.

With no defect it proposes one context per SOP class of its files (odd IDs, Explicit and Implicit VR
Little Endian), sends each file in the transfer syntax accepted for it, within the SCP's maximum
length, with unique Message IDs, waits for each response at most ``--timeout`` seconds, releases
(and gives up on an unanswered release after ``--timeout``), and exits 0 only when every file was
stored (success or warning): 1 when one was not, 2 when the association was rejected or aborted.
It retries a transient rejection (result 2) twice, one second apart, and a permanent one never.
Every wait has a deadline (:class:`~dcmconform.exchange.association.RawAssociation`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom.sop_class import _STORAGE_CLASSES

from dcmconform.exchange.association import RawAssociation
from dcmconform.dimse.commands import store_command
from dcmconform.dimse.datasets import encode_data_set
from dcmconform.dimse.pdv import Message, Split
from dcmconform.dimse.status import FAILURE, classify
from dcmconform.peers.zoo.defects import SCU_DEFECTS, Switches, validate
from dcmconform.net.probe import ACCEPTED, Probe
from dcmconform.net.target import Endpoint
from dcmconform.base.uids import EXPLICIT_LE, IMPLICIT_LE
from dcmconform.wire import pdus as pd

STORED, NOT_STORED, NO_ASSOCIATION = 0, 1, 2
RETRIES_TRANSIENT = 2
RETRIES_STORM = 12  # the defect scu-retry-rejection: bounded, but a storm


def contexts(d: Switches, sop_classes: list[str]) -> list[tuple[int, str, list[str]]]:
    """What we propose. Overrides: scu-even-context-ids, scu-duplicate-context-id, scu-duplicate-contexts,
    scu-propose-everything, scu-no-implicit-le."""
    classes = list(sop_classes)
    if "scu-propose-everything" in d:
        classes += [uid for uid in _STORAGE_CLASSES.values() if uid not in classes][:120]
    syntaxes: list[str] = [EXPLICIT_LE] if "scu-no-implicit-le" in d else [EXPLICIT_LE, IMPLICIT_LE]
    if "scu-duplicate-contexts" in d or "scu-duplicate-context-id" in d:
        classes = [c for c in classes for _ in (0, 1)]
    out = []
    for n, sop_class in enumerate(classes):
        cid = 2 * n + (2 if "scu-even-context-ids" in d else 1)
        if "scu-duplicate-context-id" in d:
            cid = 1
        out.append((cid, sop_class, syntaxes))
    return out


def request(d: Switches, probe: Probe, proposed: list[tuple[int, str, list[str]]]) -> pd.AAssociateRQ:
    """Overrides: scu-no-implementation-uid, scu-wrong-application-context, scu-wrong-called-ae, scu-bad-calling-ae."""
    kwargs: dict[str, object] = {}
    if "scu-no-implementation-uid" in d:
        kwargs["implementation_uid"] = None
    if "scu-wrong-application-context" in d:
        kwargs["application_context"] = "1.2.840.10008.3.1.1.2"
    if "scu-wrong-called-ae" in d:
        kwargs["called"] = "ANY-SCP"
    if "scu-bad-calling-ae" in d:
        kwargs["calling"] = "ZOO\\SCU"
    return probe.request(proposed, **kwargs)


def associate(d: Switches, probe: Probe, proposed: list[tuple[int, str, list[str]]]) -> RawAssociation | None:
    """An accepted association, or ``None`` (after the retries a rejection deserves)."""
    tries = 1 + (RETRIES_STORM if "scu-retry-rejection" in d else RETRIES_TRANSIENT)
    for attempt in range(tries):
        raw = RawAssociation(probe, proposed, request=request(d, probe, proposed))
        answer = raw.open()
        if answer.kind == ACCEPTED:
            return raw
        raw.conn.close()
        print(f"association not accepted: {answer.describe()}", file=sys.stderr)
        rj = answer.pdu
        permanent = not isinstance(rj, pd.AAssociateRJ) or rj.result == 1
        if permanent and "scu-retry-rejection" not in d or attempt == tries - 1:
            return None
        time.sleep(0.05 if "scu-retry-rejection" in d else 1.0)
    return None


def data_set(d: Switches, ds: Dataset, transfer_syntax: str) -> bytes:
    """Overrides: scu-wrong-transfer-syntax, scu-file-meta-in-data-set."""
    ds = Dataset(ds)
    if "scu-file-meta-in-data-set" in d:
        ds.TransferSyntaxUID = transfer_syntax  # (0002,0010) in the data set
    return encode_data_set(ds, EXPLICIT_LE if "scu-wrong-transfer-syntax" in d else transfer_syntax)


def store(d: Switches, raw: RawAssociation, ds: Dataset, message_id: int, timeout: float | None) -> int:
    """Send one object; STORED (success or warning), NOT_STORED, or NO_ASSOCIATION when the association ended."""
    cid = raw.context_for(ds.SOPClassUID)
    if cid is None:
        if "scu-send-on-refused-context" not in d:
            print(f"{ds.SOPInstanceUID}: no accepted context for {ds.SOPClassUID}: not sent", file=sys.stderr)
            return NOT_STORED
        cid = next(c for c, abstract, _ in raw.contexts if abstract == ds.SOPClassUID)
    syntax = raw.accepted.get(cid) or EXPLICIT_LE
    instance = ds.SOPInstanceUID + (".9" if "scu-wrong-instance-uid" in d else "")
    command = store_command(ds.SOPClassUID, instance, message_id)
    if "scu-bad-priority" in d:
        command.Priority = 3
    if raw.peer_max == 0 and "scu-max-length-zero-literal" in d:
        print(f"{ds.SOPInstanceUID}: the SCP's maximum length is 0: no room for a PDV: not sent", file=sys.stderr)
        return NOT_STORED
    split = Split(pdu_max=16384 if "scu-ignore-max-length" in d else raw.peer_max or 16384)
    if raw.send(cid, command, data_set(d, ds, syntax), split) is not None:
        return NO_ASSOCIATION
    got = raw.receive(timeout if timeout is not None else 600.0)
    if not isinstance(got, Message) and isinstance(got.pdu, pd.AReleaseRQ):
        # the SCP releases (PS3.8 7.2): answer it (override: scu-abort-on-release-rq), the rest is not sent
        raw.conn.send(pd.AAbort(0, 0) if "scu-abort-on-release-rq" in d else pd.AReleaseRP())
        raw.conn.close()
        print(f"{ds.SOPInstanceUID}: the SCP released the association: not sent", file=sys.stderr)
        return NO_ASSOCIATION
    if not isinstance(got, Message) or got.status is None:
        print(f"{ds.SOPInstanceUID}: no response: {getattr(got, 'describe', lambda: got)()}", file=sys.stderr)
        return NO_ASSOCIATION
    status = classify(int(got.status))
    print(f"{ds.SOPInstanceUID}: {status}")
    if status.category == FAILURE:
        return NOT_STORED
    if status.category != "success" and "scu-warning-is-failure" in d:
        return NOT_STORED
    return STORED


def send(d: Switches, endpoint: Endpoint, calling: str, files: list[Path], timeout: float) -> int:
    objects = [dcmread(f) for f in files]
    for ds in objects:
        del ds.file_meta
    classes = list(dict.fromkeys(str(ds.SOPClassUID) for ds in objects))
    wait = None if "scu-no-timeout" in d else timeout
    probe = Probe(endpoint, calling, wait if wait is not None else 600.0)
    raw = associate(d, probe, contexts(d, classes))
    if raw is None:
        return STORED if "scu-exit-0-when-not-sent" in d else NO_ASSOCIATION
    worst = STORED
    for n, ds in enumerate(objects, 1):
        outcome = store(d, raw, ds, 1 if "scu-duplicate-message-id" in d else n, wait)
        worst = max(worst, outcome)
        if outcome == NO_ASSOCIATION:
            if raw.established:
                raw.abort("no response: we give up on the association")
            break
    if raw.established:
        if "scu-abort-instead-of-release" in d:
            raw.abort("the defect scu-abort-instead-of-release")
        else:
            raw.release()
    if worst == STORED and "scu-exit-1-after-success" in d:
        return NOT_STORED
    if worst == NO_ASSOCIATION and "scu-success-after-abort" in d:
        return STORED
    if worst == NOT_STORED and ("scu-exit-0-on-failure" in d or "scu-exit-0-when-not-sent" in d):
        return STORED
    return worst


def trigger(defects: list[str], timeout: float = 3.0) -> str:
    """The ``--trigger`` template that runs this SCU with ``defects``."""
    switches = "".join(f" --defect {name}" for name in validate(defects))
    return (f"{shlex.quote(sys.executable)} -m dcmconform.peers.zoo.scu -aec {{aet}} --timeout {timeout:g}{switches} "
            "{host} {port} {files}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dcmconform.peers.zoo.scu", description=__doc__)
    parser.add_argument("-aec", default="ANY-SCP", help="the called AE title")
    parser.add_argument("-aet", default="ZOOSCU", help="our calling AE title")
    parser.add_argument("--defect", action="append", default=[], choices=sorted(SCU_DEFECTS), metavar="NAME")
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    d = validate(args.defect)
    return send(d, Endpoint(args.aec, args.host, args.port), args.aet, args.files, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
