"""DIMSE exchanged over an association: raw associations through the probe, and the fast send path.
The codec below is :mod:`dcmconform.dimse`; the messages a transcript holds are :mod:`dcmconform.evidence.messages`."""
