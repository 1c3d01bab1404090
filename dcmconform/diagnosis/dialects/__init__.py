"""The toolkit logs ``explain`` reads, one module per toolkit, and the order the reader asks them in.

Each dialect module gives its :class:`~dcmconform.diagnosis.reader.Dialect` (how to recognise its log, the
lines of its own blocks) and the handlers of its events; :mod:`.common` holds what every toolkit says in
its own words (a refused connection, a port it cannot listen on, a file it cannot read or convert).

The event table below is one table because the toolkits share words: a line can match several markers,
and the first row whose handler takes it wins. Its order is part of the meaning, for example: DCMTK's
``cannot create network: ... TCP Initialization Error`` is a port that cannot be listened on before it is a
sign of DCMTK; PixelMed's ``java.io.IOException: Unable to start TCPListener`` likewise before it is a Java
exception; ``java.lang.RuntimeException: No Reader for format`` (dcm4che) is a file the sender cannot
convert before it is a Java exception; PixelMed's exception about a missing presentation context is named
PixelMed's before it is read as a class not sent; CTN's rejection numbers come after every other
``Association Rejected`` reading. A new dialect adds its module, its entry in :data:`DIALECTS` and its rows
here, where their markers cannot steal another toolkit's lines.
"""

from __future__ import annotations

from dcmconform.diagnosis.dialects import common, ctn, dcm4che, dcmtk, orthanc, pixelmed, pynetdicom
from dcmconform.diagnosis.reader import Dialect, event_table

# Asked in this order which toolkit wrote a log (the first line one of them recognises), and which one
# claims a line of its own blocks.
DIALECTS: tuple[Dialect, ...] = (ctn.CTN, dcm4che.DCM4CHE, dcmtk.DCMTK, pynetdicom.PYNETDICOM, orthanc.ORTHANC,
                                 pixelmed.PIXELMED)

EVENTS = event_table(
    # Request / response blocks.
    (r"end a-associate|end a-abort", dcmtk.end_block),
    (r"^a-associate-(?:rq|ac)\[$", dcm4che.block_start),
    (r"^(?:initiate connection from|accept connection socket)", dcm4che.connection),
    (r"^(?:(?=.*a-associate-rq)(?=.*(?:begin|pdu))|association request param)", dcmtk.request),
    (r"^(?:(?=.*a-associate-ac)(?=.*(?:begin|pdu))|association response param)", dcmtk.accept),
    (r"^(?:(?=.*a-associate-rj)(?=.*pdu)|association rejected)", dcmtk.reject),
    (r"^(?=.*a-abort)(?=.*pdu)", dcmtk.abort_pdu),
    (r"^requesting association", dcmtk.requesting_line),
    (r"^association request result", dcmtk.request_result),
    (r"rejected association", orthanc.rejected),
    # The receiving node's own log (SCP side).
    (r"^association received", dcmtk.received),
    (r"^(?=.*incoming a-associate-rq)(?=.*pdu)", pynetdicom.incoming_request),
    (r"^(?:accepting|rejecting) association", pynetdicom.scp_side),
    (r"^refusing association", dcmtk.refusing),
    (r"^\(but no valid presentation contexts\)", dcmtk.no_valid_contexts),
    (r"^received (?:store|echo) request", dcmtk.received_request),
    (r"^storing dicom file", dcmtk.stored_file),
    (r"^sending (?:store|echo) response", pynetdicom.sending_response),
    (r"^(?:unable to create the output directory|could not write file to specified directory)",
     pynetdicom.node_write_failed),
    (r"^abort initiated|^aborting association", dcmtk.node_aborts),
    (r"^association release", dcmtk.released),
    (r"receiving association failed", dcmtk.receive_failed),
    (r"cannot create network|address already in use|cannot listen|unable to start tcplistener", common.cannot_listen),
    # Other toolkits' ways of saying it (dcm4che's failed decompression is a Java exception).
    (r"unable to convert dataset|no reader for format", common.cannot_convert),
    (r"^(?:com\.pixelmed|java\.)\S*exception", pixelmed.java_exception),
    (r"^result:\s*\d+\s+source", ctn.reject),
    # The sender's own failures.
    (r"cannot open file|no such file or directory|cannot read file|bad dicom file|file not found",
     common.sender_read_error),
    (r"dimse failed to receive message|dimse no data available|dimse read pdv failed.*timeout", dcmtk.dimse_timeout),
    # TCP and association failures.
    (r"tcp initiali", dcmtk.tcp_format),
    (r"connection refused", common.refused),
    (r"^(?=.*(?:timed out|timeout))(?=.*(?:tcp|connect|initiali))(?!.*acse)", common.connect_timeout),
    (r"no route to host|network is unreachable|host is unreachable|name or service not known"
     r"|nodename nor servname", common.unreachable),
    (r"acse timeout|network read timeout", common.silent),
    (r"peer aborted association|^association aborted", dcmtk.aborted),
    # DIMSE.
    (r"^sending file", dcmtk.sending_file),
    (r"^sending echo request", dcmtk.sending_echo),
    (r"^sending store request", dcmtk.sending_store),
    (r"^dimse command to send", dcmtk.command_to_send),
    (r"^(?:received echo response|received store response|dimse command received)", dcmtk.response),
    (r"^association (?:accepted|acknowledged)", dcmtk.accepted),
    (r"^(?:dimse status|status).*:", dcmtk.status),
    (r"^message type", dcmtk.message_type),
    (r"^affected sop class uid", dcmtk.affected_sop_class),
    (r"sop class was not negotiated|no presentation context for", common.not_negotiated),
    (r"no acceptable presentation context|no accepted presentation context", dcmtk.no_context),
)
