"""Robustness: resource exhaustion, bounded (``dcmconform fuzz`` is the unbounded-shape side of the area)."""
