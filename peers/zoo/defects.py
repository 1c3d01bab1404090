"""The defect zoo's switches: each injects exactly one misbehaviour into the zoo SCP.

``catches`` names the checks that must fail or warn when the defect is on; ``dcmconform
selftest`` holds the suite to it. A check without any defect here is a check nobody has proven
can fail; a defect no check catches is a gap (and a reason to write a check).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dcmconform.base.busy import BUSY_FINDING


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    catches: tuple[str, ...]
    # A behaviour of the node the session itself meets between checks, caught by a run finding
    # (reports.document.run_findings) rather than a check; proven in tests/engine/test_fragile.py.
    finding: str = ""
    role: str = "scp"  # scu: a switch of the zoo SCU (peers/zoo/scu.py), caught by the SCU checks


def _scu(name: str, description: str, catches: tuple[str, ...]) -> Defect:
    return Defect(name, description, catches, role="scu")


# The zoo SCU's switches (peers/zoo/scu.py): each caught by the SCU checks it names (suites/scu).
SCU = [
    _scu("scu-wrong-called-ae", "calls ANY-SCP whatever AE title it was given", ("SCU-001",)),
    _scu("scu-bad-calling-ae", "calls itself ZOO\\SCU (a backslash: no AE title)", ("SCU-002",)),
    _scu("scu-even-context-ids", "proposes even presentation context IDs", ("SCU-003",)),
    _scu("scu-duplicate-context-id", "proposes every context with ID 1", ("SCU-004",)),
    _scu("scu-duplicate-contexts", "proposes each context twice, identically", ("SCU-005",)),
    _scu("scu-no-implicit-le", "proposes Explicit VR Little Endian only", ("SCU-006",)),
    _scu("scu-propose-everything", "proposes every storage SOP class it knows to send one", ("SCU-007",)),
    _scu("scu-no-implementation-uid", "sends no Implementation Class UID", ("SCU-008",)),
    _scu("scu-wrong-application-context", "proposes an application context name that is not DICOM's", ("SCU-009",)),
    _scu("scu-wrong-instance-uid", "puts a wrong Affected SOP Instance UID in the C-STORE-RQ", ("SCU-010",)),
    _scu("scu-duplicate-message-id", "uses Message ID 1 for every request", ("SCU-011",)),
    _scu("scu-file-meta-in-data-set", "leaves a group 0002 element in the data set it sends", ("SCU-012",)),
    _scu("scu-wrong-transfer-syntax", "encodes every data set in Explicit VR Little Endian whatever was accepted",
         ("SCU-013",)),
    _scu("scu-abort-instead-of-release", "ends a successful association with A-ABORT", ("SCU-014",)),
    _scu("scu-exit-1-after-success", "exits 1 although every object was stored", ("SCU-015",)),
    _scu("scu-warning-is-failure", "exits non-zero after a warning status", ("SCU-024", "SCU-025", "SCU-033")),
    _scu("scu-exit-0-when-not-sent", "exits 0 when it could not associate or send",
         ("SCU-016", "SCU-018", "SCU-019", "SCU-021")),
    _scu("scu-retry-rejection", "retries every rejection 12 times, 50 ms apart", ("SCU-017", "SCU-018", "SCU-019")),
    _scu("scu-send-on-refused-context", "sends on a presentation context the SCP refused", ("SCU-020",)),
    _scu("scu-ignore-max-length", "sends P-DATA-TF of 16 KB whatever the SCP's maximum length",
         ("SCU-022", "SCU-023")),
    _scu("scu-exit-0-on-failure", "exits 0 after a failure status (the object was not stored)",
         ("SCU-026", "SCU-027", "SCU-028")),
    _scu("scu-success-after-abort", "exits 0 when the SCP aborted the association", ("SCU-029",)),
    _scu("scu-no-timeout", "waits for a response and a release answer without a timeout", ("SCU-030", "SCU-031")),
    _scu("scu-abort-on-release-rq", "answers an A-RELEASE-RQ from the SCP with A-ABORT", ("SCU-034",)),
    _scu("scu-bad-priority", "sends Priority 3 in the C-STORE-RQ", ("SCU-032",)),
    _scu("scu-max-length-zero-literal", "takes the SCP's maximum length 0 (no limit) as no room: sends nothing",
         ("SCU-035",)),
]


ASSOCIATION = [
    Defect("accept-wrong-called-ae", "accepts an A-ASSOCIATE-RQ for any called AE title", ("ASSOC-003",)),
    Defect("accept-any-calling-ae", "accepts any calling AE title (no allow list, no check of the AE VR)",
           ("ASSOC-004", "ASSOC-005", "ASSOC-006", "ASSOC-008", "ASSOC-009", "SEC-014", "SEC-015")),
    Defect("silent-on-empty-calling-ae", "says nothing (no PDU, socket open) to a calling AE title of spaces or NULs",
           ("ASSOC-005", "ASSOC-006")),
    Defect("silent-on-malformed-rq", "says nothing to an A-ASSOCIATE-RQ that does not decode",
           ("ASSOC-007", "ASSOC-060")),
    Defect("called-ae-case-insensitive", "compares the called AE title without regard to case", ("ASSOC-010",)),
    Defect("called-ae-leading-spaces-significant", "keeps leading spaces of the called AE title when comparing",
           ("ASSOC-011",)),
    Defect("swap-ae-titles-in-ac", "swaps the called and calling AE titles in the A-ASSOCIATE-AC", ("ASSOC-012",)),
    Defect("ignore-application-context", "accepts any application context name", ("ASSOC-013",)),
    Defect("accept-any-protocol-version", "accepts a protocol version without bit 0", ("ASSOC-014",)),
    Defect("strict-protocol-version", "rejects any protocol version other than 0001H", ("ASSOC-015",)),
    Defect("renumber-contexts-in-ac", "answers each presentation context with its ID + 2", ("ASSOC-016",)),
    Defect("reverse-contexts-in-ac", "answers the presentation contexts in reverse order", ("ASSOC-017",)),
    Defect("context-id-signed-byte", "rejects (result 2) every context with an ID above 127, as a signed byte would",
           ("ASSOC-018", "ASSOC-019")),
    Defect("accept-even-context-id", "accepts even presentation context IDs", ("ASSOC-020",)),
    Defect("answer-duplicate-id-twice", "accepts two contexts with the same ID and answers both", ("ASSOC-021",)),
    Defect("require-ascending-context-ids", "aborts a request whose context IDs are not in ascending order",
           ("ASSOC-022",)),
    Defect("accept-unproposed-ts", "accepts every context with Explicit VR Little Endian, proposed or not",
           ("ASSOC-023",)),
    Defect("wrong-result-unknown-abstract", "rejects an unknown abstract syntax with result 1 instead of 3",
           ("ASSOC-024",)),
    Defect("wrong-result-unsupported-ts", "rejects a context without a supported transfer syntax with 3 instead of 4",
           ("ASSOC-025",)),
    Defect("max-64-transfer-syntaxes", "reads only the first 64 transfer syntaxes of a context", ("ASSOC-026",)),
    Defect("accept-no-context", "accepts a request without any presentation context", ("ASSOC-027",)),
    Defect("check-reserved-fields", "aborts a request whose reserved header fields are not zero", ("ASSOC-028",)),
    Defect("check-item-reserved-bytes", "aborts a request whose item reserved bytes are not zero", ("ASSOC-029",)),
    Defect("hang-up-when-nothing-accepted", "closes the connection without a PDU when it accepts no context",
           ("ASSOC-030",)),
    Defect("no-verification", "does not support the Verification SOP class (result 3)", ("ASSOC-031",)),
    Defect("abort-rq-over-8k", "aborts any A-ASSOCIATE-RQ over 8 KB",
           ("ASSOC-032", "ASSOC-033", "ASSOC-034", "ASSOC-035")),
    # A defect that kills the zoo names one check: the checks after it in the same run would only find it dead.
    Defect("crash-on-large-rq", "dies (closes and stops listening) on an A-ASSOCIATE-RQ over 24 KB", ("ASSOC-033",)),
    Defect("crash-without-user-info", "dies on a request without a User Information item", ("ASSOC-036",)),
    Defect("zero-max-length-aborts", "aborts a request announcing maximum length 0", ("ASSOC-037",)),
    Defect("max-length-overflow", "aborts a request announcing a maximum length of 2^31 or more (read as signed)",
           ("ASSOC-038",)),
    Defect("reject-small-max-length", "rejects a request announcing a maximum length under 1024",
           ("ASSOC-039", "ASSOC-040")),
    Defect("abort-pdata-at-max", "aborts a P-DATA-TF of exactly its own maximum length (off by one)",
           ("ASSOC-041", "DIMSE-012")),
    Defect("tolerate-oversized-pdata", "accepts P-DATA-TF PDUs longer than its own maximum length", ("ASSOC-042",)),
    Defect("hang-up-without-implementation-uid", "closes without a PDU when the request has no implementation UID",
           ("ASSOC-043",)),
    Defect("crash-on-long-version-name", "dies on an implementation version name over 16 characters", ("ASSOC-044",)),
    Defect("async-window-answer-too-large", "answers an asynchronous operations window one higher than offered",
           ("ASSOC-045",)),
    Defect("abort-on-async-window", "aborts a request that offers an asynchronous operations window",
           ("ASSOC-045", "ASSOC-046")),
    Defect("grant-unproposed-role", "grants both SCU and SCP roles whatever was proposed", ("ASSOC-047",)),
    Defect("role-item-without-request", "returns role selection items although none were proposed", ("ASSOC-048",)),
    Defect("abort-on-unknown-sub-item", "aborts a request with an unknown user information sub-item", ("ASSOC-049",)),
    # Fragile nodes (peers/zoo/limit.py): a run must blame the check that hurt them, and only that one.
    Defect("exit-on-bare-connect", "exits when a connection closes before its first byte (a health check)",
           ("ASSOC-064",)),
    # A field behaviour for the session's health gate; no check's verdict may depend on it, so it catches
    # no check: the run finding RUN-BUSY does.
    Defect("association-limit-holds-after-silence", "at most 10 connections (one more: A-ASSOCIATE-RJ 2/3/2), a "
           "connection that did not end with A-RELEASE holds its slot 30 s after it ended", (), BUSY_FINDING),
    Defect("abort-on-unknown-item", "aborts a request with an unknown item type", ("ASSOC-050",)),
    Defect("abort-on-extended-negotiation", "aborts a request with SOP class extended negotiation", ("ASSOC-051",)),
    Defect("no-implementation-uid-in-ac", "sends no Implementation Class UID in the A-ASSOCIATE-AC", ("ASSOC-052",)),
    Defect("never-close-idle", "never closes a connection that sends nothing (no ARTIM)", ("ASSOC-053",)),
    Defect("serve-one-connection-at-a-time", "serves one connection at a time: a stalled one blocks everyone",
           ("ASSOC-054",)),
    Defect("silent-on-unexpected-pdu", "ignores an unexpected PDU (P-DATA-TF before, A-ASSOCIATE-RQ inside)",
           ("ASSOC-055", "ASSOC-058")),
    Defect("ignore-unknown-pdu-type", "ignores PDUs of unknown type instead of aborting", ("ASSOC-056", "ASSOC-057")),
    Defect("ignore-pdu-length", "reads an A-ASSOCIATE-RQ by what arrives, not by its PDU length",
           ("ASSOC-059", "ASSOC-060")),
    Defect("die-on-abort", "dies when the requestor aborts an association", ("ASSOC-061",)),
    Defect("die-on-abort-mid-data-set", "dies when the requestor aborts in the middle of a data set", ("ASSOC-062",)),
    Defect("no-secondary-capture", "does not support Secondary Capture storage (result 3)", ("ASSOC-063",)),
]

DIMSE = [
    Defect("abort-on-duplicate-uid", "aborts the association when an instance it already has arrives again",
           ("DIMSE-008",)),
    Defect("store-mismatched-data-set", "stores a data set whose SOP class/instance is not the command's (0x0000)",
           ("DIMSE-009",)),
    Defect("ignore-context-sop-class", "stores a C-STORE whose SOP class is not the presentation context's",
           ("DIMSE-010",)),
    Defect("one-pdv-per-pdu", "aborts a P-DATA-TF that carries more than one PDV", ("DIMSE-013", "DIMSE-014")),
    Defect("command-fragments-unsupported", "aborts a command set split over several PDVs", ("DIMSE-014",)),
    Defect("find-returns-nothing", "answers every C-FIND with a final 0x0000 and no matches", ("DIMSE-016", "DIMSE-017")),
    Defect("find-exact-match-only", "C-FIND compares every key literally (no wild cards, no ranges)", ("DIMSE-018",)),
    Defect("ignore-c-cancel", "never looks for C-CANCEL-RQ during a C-FIND", ("DIMSE-019",)),
    Defect("move-unknown-destination-success", "answers a C-MOVE to an unknown destination with 0x0000",
           ("DIMSE-020",)),
    Defect("move-success-sends-nothing",
           "answers a C-MOVE to a known destination with 0x0000 and full counts but sends no object",
           ("DIMSE-024",)),
    Defect("move-final-counts-zero", "delivers a C-MOVE's objects but its final response counts 0 completed",
           ("DIMSE-024",)),
    Defect("get-success-without-store", "answers C-GET with 0x0000 and full counts but sends no object",
           ("DIMSE-007", "DIMSE-021")),
    Defect("mwl-missing-sps", "leaves the Scheduled Procedure Step Sequence out of worklist responses",
           ("DIMSE-022",)),
    Defect("commit-everything", "reports every instance in a commitment request as committed, held or not",
           ("DIMSE-023",)),
    Defect("aligned-fragments-only", "aborts a fragment whose length is not a multiple of 4 (a header cut in two)",
           ("DIMSE-015",)),
]

PERFORMANCE = [
    Defect("throughput-cap", "reads at most 256 KB/s on each connection", ("PERF-002",)),
    Defect("hang-at-4-associations", "with 4 associations up, answers a fifth request nothing at all",
           ("PERF-003",)),
    Defect("latency-grows-with-load", "each response waits 5 ms x (other associations up)^2", ("PERF-004",)),
]

SECURITY = [  # a name starting tls-: the zoo serves TLS (--tls-files; peers/zoo/tls.py), and so does the run
    Defect("tls-at-most-tls11", "speaks TLS 1.0 and 1.1 only", ("SEC-001",)),
    Defect("tls-accept-tls10", "accepts TLS 1.0 and 1.1 on its TLS port", ("SEC-002",)),
    Defect("tls-accept-weak-ciphers", "accepts NULL, anonymous and RSA-key-transport suites on its TLS port",
           ("SEC-003",)),
    Defect("tls-expired-certificate", "shows a server certificate that expired yesterday", ("SEC-004",)),
    Defect("tls-ignore-missing-client-cert", "lets a client without a certificate in on its TLS port",
           ("SEC-005",)),
    Defect("tls-accept-plaintext", "serves a plaintext A-ASSOCIATE-RQ on its TLS port", ("SEC-006",)),
    Defect("die-on-tls-handshake", "dies of a TLS ClientHello on its plaintext port", ("SEC-007",)),
    Defect("store-invalid-uids", "stores a C-STORE whose SOP Instance UID is no valid UID (../../x, 65 characters)",
           ("SEC-008",)),
    # User identity (suites/security/test_identity.py). A name starting identity-: the zoo requires user
    # identity (--require-user), and the run presents it (--username/--passcode; peers/zoo/selftest.py).
    Defect("reject-user-identity-item", "rejects (1/1/1) any request carrying a User Identity sub-item",
           ("SEC-010",)),
    Defect("identity-accept-any-passcode", "requires user identity but accepts any passcode", ("SEC-011",)),
    Defect("identity-transient-rejection", "rejects a missing or wrong credential 2/2/1 (transient), not 1/2/1",
           ("SEC-011",)),
    Defect("abort-on-hostile-patient-values", "aborts the association on a C-STORE whose Patient ID or Patient's "
           "Name holds a path separator, a control character or over 64 characters", ("SEC-013",)),
    Defect("identity-unsolicited-server-response", "answers a User Identity server response although none was asked",
           ("SEC-010", "SEC-012")),
]

# Planted bugs for the fuzzer (peers/zoo/planted.py): one input shape each, found by `dcmconform fuzz`
# (tests/fuzz) and by its phase as a check of the run (ROBUST-007..009, opt-in), not by a fixed list.
FUZZ_FINDING = "fuzz"
FUZZ = [
    Defect("crash-on-empty-extended-negotiation", "dies on a SOP class extended negotiation sub-item (56H) with "
           "empty application information (restarted by its supervisor)", ("ROBUST-007",), FUZZ_FINDING),
    Defect("hang-on-pdv-length-overrun", "stops answering anyone after a P-DATA-TF whose last PDV length is 2 "
           "bytes past the PDU's end (restarted by its watchdog)", ("ROBUST-008",), FUZZ_FINDING),
    Defect("leak-on-truncated-pdu", "after 5 connections that closed in the middle of a PDU, closes every new "
           "connection at once (restarted by its watchdog)", ("ROBUST-009",), FUZZ_FINDING),
]

# Robustness (suites/robustness): resource exhaustion.
ROBUSTNESS = [
    Defect("workers-held-before-request", "8 workers, each held by a connection from its first byte until the peer "
           "closes it (no ARTIM): 8 connections stalled mid-header lock everyone out", ("ROBUST-001",)),
    Defect("one-sender-at-a-time", "sends under one lock for all connections, with a 16 KB send buffer: a peer that "
           "stops reading blocks every answer to everyone", ("ROBUST-002",)),
    # Kills the zoo: names one check (the checks after it would only find it dead).
    Defect("die-on-association-burst", "dies (as at its thread limit) when more than 16 connections are up at once",
           ("ROBUST-003",)),
    # Known vulnerabilities (peers/zoo/vulnerable.py), each as its CVE: they kill the zoo, so each names one check.
    Defect("crash-on-short-command-element", "dies on a US command element that is not 2 bytes long "
           "(as CVE-2024-34508/34509)", ("ROBUST-004",)),
    Defect("crash-on-element-past-end", "dies on a command element whose length runs past the end of its PDV "
           "(as CVE-2026-5437)", ("ROBUST-005",)),
    Defect("allocate-by-pdu-length", "dies (out of memory) on a PDU announcing more than 256 MB, allocating it "
           "before reading (as CVE-2026-3650)", ("ROBUST-006",)),
]

DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in [
        Defect("reject-everything", "rejects every association with 1/1/1 (no reason given)",
               ("ASSOC-001", "DIMSE-001")),
        Defect("drop-context-in-ac", "leaves the last proposed presentation context out of the A-ASSOCIATE-AC",
               ("ASSOC-001", "ASSOC-016")),
        Defect("release-answered-with-abort", "answers A-RELEASE-RQ with an A-ABORT instead of A-RELEASE-RP",
               ("ASSOC-002",)),
        Defect("echo-status-failure", "answers C-ECHO with status 0x0211 (unrecognized operation)",
               ("DIMSE-001",)),
        Defect("b000-without-comment", "answers C-STORE with 0xB000 (coercion) and no Error Comment", ("DIMSE-006",)),
        Defect("ignore-max-pdu", "sends P-DATA-TF larger than the requestor's maximum length",
               ("ASSOC-040", "DIMSE-011")),
        Defect("lose-stored-object", "answers C-STORE with success but stores nothing", ("DIMSE-007",)),
        Defect("wrong-message-id-responded", "answers with MessageIDBeingRespondedTo one higher than the request's",
               ("DIMSE-002", "DIMSE-003", "DIMSE-005")),
        Defect("delay-40ms", "waits 40 ms before every P-DATA-TF it sends (Nagle + delayed ACK)",
               ("DIMSE-004", "PERF-001")),
        # Performance (suites/performance; the zoo's side in load.py).
        *PERFORMANCE,
        # Association negotiation (suites/association).
        *ASSOCIATION,
        # DIMSE services (suites/dimse; the zoo serves them in services.py and the modules it names).
        *DIMSE,
        # Security (suites/security).
        *SECURITY,
        # The zoo SCU (peers/zoo/scu.py; suites/scu).
        *SCU,
        # Planted bugs for the fuzzer.
        *FUZZ,
        # Robustness (suites/robustness).
        *ROBUSTNESS,
    ]
}
SCU_DEFECTS = {d.name: d for d in SCU}

# The conformance statement (suites/statement): selftest runs these with --statement, the zoo's own
# statement (peers/zoo/statement.py); the zoo then refuses a class it claims, or accepts one it does not.
STATEMENT = [
    Defect("no-ct-storage", "does not support CT Image Storage (result 3), which its statement claims",
           ("STMT-001",)),
    Defect("unclaimed-parametric-map", "also accepts Parametric Map Storage, which its statement does not claim",
           ("STMT-002",)),
]
DEFECTS |= {d.name: d for d in STATEMENT}


# Outcomes the clean zoo earns other than pass, with the reason (information-only checks, or
# legal behaviour the zoo shows on purpose).
CLEAN_OUTCOMES: dict[str, tuple[str, str]] = {
    "ASSOC-052": ("info", "records the node's implementation class UID and version name (fails only when missing)"),
}


class Switches(frozenset[str]):
    """The defect switches that are on. Asking about a name that is no switch raises :class:`KeyError`:
    a misspelt ``"ignore-c-cancle" in switches`` must not read as off (the zoo would be clean
    where the selftest believes it defective)."""

    def __contains__(self, name: object) -> bool:
        if name not in DEFECTS:
            raise KeyError(f"{name!r} is no defect switch (peers/zoo/defects.py)")
        return super().__contains__(name)


def validate(names: Iterable[str]) -> Switches:
    names = list(names)
    unknown = [n for n in names if n not in DEFECTS]
    if unknown:
        raise ValueError(f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFECTS))}")
    return Switches(names)
