"""DIMSE exchanged over an association: raw associations through the probe, the messages of a transcript and the fast send path (the codec below is dcmconform.dimse)."""
