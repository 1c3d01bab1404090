"""The defect zoo: a configurable misbehaving SCP that proves every check can fail.

``python -m dcmconform.peers.zoo --port P [--defect NAME ...]`` runs it as a process;
:class:`ZooPeer` does the same through the peer interface.
"""
