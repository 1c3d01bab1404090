"""Reaching the node: its address, TLS, the raw probe and pynetdicom associations."""
