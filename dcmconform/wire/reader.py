"""A bounds-checked cursor over a byte buffer: the decoder never trusts a length."""

from __future__ import annotations

import struct

from dcmconform.wire.errors import Truncated, WireError


class Reader:
    """Reads big-endian fields from ``data[start:end]``; every read is checked."""

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end
        if not 0 <= start <= self.end <= len(data):
            raise Truncated("region outside the buffer", start)

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def take(self, n: int, what: str = "field") -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise Truncated(f"{what} needs {n} bytes, {self.remaining} left", self.pos)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self, what: str = "byte") -> int:
        return self.take(1, what)[0]

    def u16(self, what: str = "16-bit field") -> int:
        return int(struct.unpack(">H", self.take(2, what))[0])

    def u32(self, what: str = "32-bit field") -> int:
        return int(struct.unpack(">I", self.take(4, what))[0])

    def sub(self, n: int, what: str) -> Reader:
        """A reader over the next ``n`` bytes, which this reader skips."""
        if n < 0 or self.pos + n > self.end:
            raise WireError(f"{what} length {n} runs past its container ({self.remaining} bytes left)", self.pos)
        child = Reader(self.data, self.pos, self.pos + n)
        self.pos += n
        return child

    def rest(self) -> bytes:
        return self.take(self.remaining, "rest")
