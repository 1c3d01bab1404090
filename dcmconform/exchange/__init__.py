"""DIMSE exchanged over an association: raw associations through the probe, and the fast send path (the codec below is dcmconform.dimse)."""
