"""The one error the wire decoder raises."""


class WireError(ValueError):
    """Bytes that are not a well-formed PDU or item.

    ``offset`` is where in the buffer the decoder gave up (``None`` when unknown); ``message`` is
    the text without it, for wrapping in an outer item's message.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at byte {offset})")
        self.message = message
        self.offset = offset


class Truncated(WireError):
    """The buffer ended before the structure it announced."""
