"""What crossed the wire and what a check makes of it: the transcript, its dump and its DIMSE messages, the objects stored, the credentials kept out of it, and the verdict model."""
