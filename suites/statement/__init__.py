"""Statement checks (area statement, STMT-NNN): the node against its own conformance statement (``--statement``)."""
