"""Solving a DICOM communication problem the way an integration engineer does.

``diagnose`` walks the steps a sender takes (TCP connect, association, C-ECHO, C-STORE,
release) against a live node; ``explain`` reads the log a toolkit wrote while it failed. Both
describe what happened as :class:`~dcmconform.diagnosis.attempt.Attempt` objects and turn them
into plain-language findings with the one :mod:`~dcmconform.diagnosis.advice` module, so the
same failure reads the same whichever way it was found.
"""
