"""The defect zoo's switches: each injects exactly one misbehaviour into the zoo SCP.

``catches`` names the checks that must fail or warn when the defect is on; ``dcmconform
selftest`` holds the suite to it. A check without any defect here is a check nobody has proven
can fail; a defect no check catches is a gap (and a reason to write a check).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    catches: tuple[str, ...]


DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in [
        Defect("reject-everything", "rejects every association with 1/1/1 (no reason given)",
               ("ASSOC-001", "DIMSE-001")),
        Defect("drop-context-in-ac", "leaves the last proposed presentation context out of the A-ASSOCIATE-AC",
               ("ASSOC-001",)),
        Defect("release-answered-with-abort", "answers A-RELEASE-RQ with an A-ABORT instead of A-RELEASE-RP",
               ("ASSOC-002",)),
        Defect("echo-status-failure", "answers C-ECHO with status 0x0211 (unrecognized operation)",
               ("DIMSE-001",)),
        Defect("b000-without-comment", "answers C-STORE with 0xB000 (coercion) and no Error Comment", ()),
        Defect("ignore-max-pdu", "sends P-DATA-TF larger than the requestor's maximum length", ()),
        Defect("lose-stored-object", "answers C-STORE with success but stores nothing", ()),
        Defect("wrong-message-id-responded", "answers with MessageIDBeingRespondedTo one higher than the request's",
               ()),
        Defect("delay-40ms", "waits 40 ms before every P-DATA-TF it sends (Nagle + delayed ACK)", ()),
    ]
}


# Outcomes the clean zoo earns other than pass, with the reason (information-only checks, or
# legal behaviour the zoo shows on purpose).
CLEAN_OUTCOMES: dict[str, tuple[str, str]] = {}


def validate(names: list[str]) -> frozenset[str]:
    unknown = [n for n in names if n not in DEFECTS]
    if unknown:
        raise ValueError(f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFECTS))}")
    return frozenset(names)
