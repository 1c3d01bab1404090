"""Errors the command line turns into one clear line and exit code 2."""


class SetupError(Exception):
    """A usage or set-up problem: printed as one line, exit code 2."""
