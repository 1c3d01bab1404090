"""Security checks (area security, SEC-NNN): DICOM over TLS, and what a security review asks of a node."""
