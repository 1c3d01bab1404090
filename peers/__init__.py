"""Reference peers: one module per peer (installed as ``dcmconform.peers``)."""
