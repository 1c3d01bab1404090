"""DIMSE service checks: C-ECHO, C-STORE, query/retrieve."""
