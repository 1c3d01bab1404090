"""What the node offers, observed: its conformance statement's networking facts and the services a run needs from it."""
