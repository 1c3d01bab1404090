"""Content checks: what comes back is what went in (attributes, private elements, IOD validity, pixels by transfer syntax)."""
