"""Renderers of the JSON conformance document (installed as ``dcmconform.reports``)."""
