"""The ground floor: what every floor uses and that imports nothing of the engine (errors, target text made safe, the standard's UIDs, the bounds, the busy node and the waits)."""
