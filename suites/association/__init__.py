"""Association negotiation checks."""
