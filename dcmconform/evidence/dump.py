"""The one place that turns bytes and PDUs into readable text.

The association dump follows the layout of the toolkit logs users know (shared/seeds/: "Context
ID: 1 (Accepted)", "Abstract Syntax: =VerificationSOPClass"), with known UIDs shown by name.
"""

from __future__ import annotations

from dcmconform.dimse.commands import decode_command
from dcmconform.dimse.pdv import Assembler
from dcmconform.base.text import printable
from dcmconform.base.uids import show_uid
from dcmconform.wire import items as it
from dcmconform.wire import pdus as pd

HEX_LIMIT = 1024

AC_RESULT_WORDS = {
    0: "Accepted",
    1: "User Rejection",
    2: "No Reason (provider rejection)",
    3: "Abstract Syntax Not Supported",
    4: "Transfer Syntax Not Supported",
}
ROLE_WORDS = {(0, 0): "Default (no role item)", (1, 0): "SCU", (0, 1): "SCP", (1, 1): "SCP/SCU"}
IDENTITY_TYPES = {1: "username", 2: "username and passcode", 3: "Kerberos", 4: "SAML", 5: "JWT"}


def hexdump(data: bytes, limit: int = HEX_LIMIT) -> str:
    """Offset, 16 bytes of hex and their ASCII, like ``xxd``; long buffers are cut at ``limit``."""
    lines = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off : off + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:06x}  {hexpart:<47}  {text}")
    if len(data) > limit:
        lines.append(f"... {len(data) - limit} more bytes ({len(data)} in all)")
    return "\n".join(lines)


def _ae(value: str) -> str:
    return f"{printable(value.rstrip(' '), ascii_only=True)!s:<16}" + ("" if len(value) == 16 else f"  [field is {len(value)} bytes]")


def _user_info_lines(ui: it.UserInformationItem | None, proposing: bool) -> list[str]:
    if ui is None:
        return ["User Information:           (none: the item is missing)"]
    lines = []
    for sub in ui.items:
        if isinstance(sub, it.MaximumLengthSubItem):
            lines.append(f"Max PDU Receive Size:       {sub.maximum_length}" + ("  (no limit)" if sub.maximum_length == 0 else ""))
        elif isinstance(sub, it.ImplementationClassUIDSubItem):
            lines.append(f"Implementation Class UID:   {printable(sub.uid, ascii_only=True)}")
        elif isinstance(sub, it.ImplementationVersionNameSubItem):
            lines.append(f"Implementation Version Name: {printable(sub.uid, ascii_only=True)}")
        elif isinstance(sub, it.AsyncOperationsWindowSubItem):
            lines.append(f"Asynchronous Operations Window: invoked {sub.invoked}, performed {sub.performed}")
        elif isinstance(sub, it.RoleSelectionSubItem):
            lines.append(f"SCP/SCU Role Selection:     {show_uid(sub.sop_class_uid)} SCU={sub.scu_role} SCP={sub.scp_role}")
        elif isinstance(sub, it.SOPClassExtendedNegotiationSubItem):
            lines.append(f"Extended Negotiation:       {show_uid(sub.sop_class_uid)} info={sub.app_info.hex()}")
        elif isinstance(sub, it.SOPClassCommonExtendedNegotiationSubItem):
            lines.append(f"Common Extended Negotiation: {show_uid(sub.sop_class_uid)} service={show_uid(sub.service_class_uid)}")
        elif isinstance(sub, it.UserIdentityRQSubItem):
            kind = IDENTITY_TYPES.get(sub.identity_type, f"type {sub.identity_type}")
            if sub.identity_type in (1, 2):  # the username is no secret; a passcode or token is never shown
                kind += f" {printable(sub.primary.decode('utf-8', 'replace'))!r}"
            lines.append(f"User Identity:              {kind}, positive response requested={sub.positive_response_requested}")
        elif isinstance(sub, it.UserIdentityACSubItem):
            lines.append(f"User Identity Response:     {len(sub.server_response)} bytes")
        else:
            lines.append(f"Unknown user sub-item {sub.type_code():02X}H:  {len(sub.encode()) - 4} bytes")
    if not any(isinstance(s, it.MaximumLengthSubItem) for s in ui.items):
        lines.append("Max PDU Receive Size:       (missing)")
    if not any(isinstance(s, it.ImplementationClassUIDSubItem) for s in ui.items):
        lines.append("Implementation Class UID:   (missing)")
    return lines


def _associate_lines(pdu: pd.AAssociateRQ | pd.AAssociateAC, request: pd.AAssociateRQ | None) -> list[str]:
    is_rq = isinstance(pdu, pd.AAssociateRQ)
    lines = [
        f"Protocol Version:           {pdu.protocol_version}",
        f"Application Context Name:   {printable(pdu.application_context or '(missing)', ascii_only=True)}",
        f"Calling Application Name:   {_ae(pdu.calling_ae)}",
        f"Called Application Name:    {_ae(pdu.called_ae)}",
    ]
    if not is_rq:
        lines[-1] = f"Responding Application Name: {_ae(pdu.called_ae)}"
    lines += _user_info_lines(pdu.user_information, is_rq)
    proposed = {pc.context_id: pc for pc in (request.presentation_contexts if request else [])}
    roles = {r.sop_class_uid: (r.scu_role, r.scp_role) for r in pdu.role_selections}
    lines.append("Presentation Contexts:" if pdu.presentation_contexts else "Presentation Contexts:      (none)")
    for pc in pdu.presentation_contexts:
        if isinstance(pc, it.PresentationContextRQItem):
            lines.append(f"  Context ID:        {pc.context_id} (Proposed)")
            lines.append(f"    Abstract Syntax: {show_uid(pc.abstract_syntax or '(missing)')}")
            lines.append(f"    Proposed SCP/SCU Role: {ROLE_WORDS.get(roles.get(pc.abstract_syntax or '', (0, 0)), 'other')}")
            lines.append("    Proposed Transfer Syntax(es):")
            shown = pc.transfer_syntaxes[:12]
            lines += [f"      {show_uid(ts)}" for ts in shown]
            if len(pc.transfer_syntaxes) > len(shown):
                lines.append(f"      ... {len(pc.transfer_syntaxes) - len(shown)} more")
            if pc.reserved != (0, 0, 0):
                lines.append(f"    Reserved bytes:  {pc.reserved}")
        else:
            word = AC_RESULT_WORDS.get(pc.result, f"result {pc.result} (not a defined value)")
            lines.append(f"  Context ID:        {pc.context_id} ({word})")
            asked = proposed.get(pc.context_id)
            if asked is not None:
                lines.append(f"    Abstract Syntax: {show_uid(asked.abstract_syntax or '(missing)')}")
                role = roles.get(asked.abstract_syntax or "", (0, 0))
                lines.append(f"    Accepted SCP/SCU Role: {ROLE_WORDS.get(role, 'other')}")
            if pc.transfer_syntax is not None and pc.result == 0:
                lines.append(f"    Accepted Transfer Syntax: {show_uid(pc.transfer_syntax)}")
    return lines


def dimse_lines(data: bytes) -> list[str]:
    """A DIMSE command set (implicit VR little endian) in the DCMTK dump style."""
    try:
        ds = decode_command(data)
        lines = []
        for elem in ds:
            value = elem.value
            if elem.VR == "UI":
                value = show_uid(str(value))
            shown = printable(str(value)[:64])  # an Error Comment is the target's text: one line, no controls
            lines.append(f"({elem.tag.group:04X},{elem.tag.element:04X}) {elem.VR} {shown:<40} # {elem.keyword}")
        return lines
    except Exception as exc:  # noqa: BLE001 - evidence must render whatever the bytes are
        return [f"(command set does not decode: {exc})"]


def pdu_lines(pdu: pd.PDU, request: pd.AAssociateRQ | None = None,
              commands: Assembler | None = None) -> list[str]:
    """Readable lines for one decoded PDU (no header line)."""
    if isinstance(pdu, pd.AAssociateRQ | pd.AAssociateAC):
        return _associate_lines(pdu, request)
    if isinstance(pdu, pd.AAssociateRJ):
        return [
            f"Result: {pdu.result} ({pd.RJ_RESULTS.get(pdu.result, 'not a defined value')})",
            f"Source: {pdu.source} ({pd.RJ_SOURCES.get(pdu.source, 'not a defined value')})",
            f"Reason: {pdu.reason} ({pd.rj_reason_name(pdu.source, pdu.reason)})",
        ]
    if isinstance(pdu, pd.AAbort):
        return [
            f"Source: {pdu.source} ({pd.ABORT_SOURCES.get(pdu.source, 'not a defined value')})",
            f"Reason: {pdu.reason} ({pd.ABORT_REASONS.get(pdu.reason, 'not a defined value')})",
        ]
    if isinstance(pdu, pd.PDataTF):
        lines = []
        for pdv in pdu.pdvs:
            kind = "command" if pdv.is_command else "data set"
            last = "last fragment" if pdv.is_last else "more fragments follow"
            lines.append(f"PDV: context {pdv.context_id}, {kind}, {last}, {len(pdv.data)} bytes")
            command = None
            if pdv.is_command and commands is not None:  # command sets only: data sets are not joined here
                joined = commands.feed_pdv(pdv)
                command = joined.command_bytes if joined is not None else None
            elif pdv.is_command and pdv.is_last:
                command = pdv.data
            if command is not None and len(command) < 65536:
                lines += ["  " + line for line in dimse_lines(command)]
        return lines
    return []


def describe_bytes(data: bytes, request: pd.AAssociateRQ | None = None,
                   commands: Assembler | None = None) -> tuple[str, list[str]]:
    """``(title, lines)`` for raw PDU bytes, decoding tolerantly where the strict decoder refuses.

    Every line is :func:`~dcmconform.base.text.printable` (no newline, no control character), so the
    target's text can never make a line that looks like one of ours (an event line of a dump)."""
    title, lines = _describe(data, request, commands)
    return printable(title), [printable(line) for line in lines]


def _describe(data: bytes, request: pd.AAssociateRQ | None,
              commands: Assembler | None) -> tuple[str, list[str]]:
    from dcmconform.wire import WireError, decode_pdu

    if len(data) < pd.PDU_HEADER:
        return f"{len(data)} bytes (not a whole PDU header)", []
    code, length = pd.header(data)
    name = pd.PDU_NAMES.get(code, f"unknown PDU type {code:02X}H")
    title = f"{name} ({len(data)} bytes, length field {length})"
    try:
        return title, pdu_lines(decode_pdu(data), request, commands)
    except WireError as strict:
        try:
            return title, [f"(malformed: {strict})", *pdu_lines(decode_pdu(data, tolerant=True), request)]
        except WireError:
            return title, [f"(malformed: {strict})"]
