"""Text that is safe to print: control characters from files never reach a terminal raw.

Names read from data (class labels, column names, file names, metadata) can
hold escape sequences: a CSI sequence recolours or moves the cursor, an OSC
sequence sets the window title or writes the clipboard, and a terminal obeys
them whether or not the output is piped on to it later. numnet escapes them
in two places:

- :func:`printable` escapes every control character of a name or message
  (``"\\x1b[31m"`` -> ``"\\x1b[31m"`` written as the four characters
  ``\\x1b`` then ``[31m``), newlines and carriage returns included, so one
  name stays on one line; a byte of a file name that the file-system encoding
  cannot decode (Python's lone surrogate ``"\\udcff"``) is shown as ``\\xff``;
- :class:`EscapingStream` wraps the command's stdout and stderr, so that any
  text that reaches them, by whatever path, has its control characters other
  than newline, tab and carriage return (which progress bars use) escaped.
"""

from __future__ import annotations

import io
import os
import re
import sys
from typing import Any, TextIO

__all__ = ["printable", "one_line", "EscapingStream", "escape_standard_streams"]

# C0 controls, DEL, C1 controls, and the Unicode format characters that reorder or hide text
# (bidirectional overrides and isolates, zero-width characters, line/paragraph separators).
# Lone surrogates are the bytes of a file name that did not decode (os.fsdecode).
_FORMAT = "\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff"
_ANY_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}]")
# the same, less tab, newline and carriage return, which program output itself uses
_STREAM_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_FORMAT}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:                 # the byte os.fsdecode could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: Any) -> str:
    """``str(text)`` with every control character escaped as ``\\xNN`` or ``\\uNNNN``.

    Use it for anything read from a file or a data set before it is printed.
    Paths (``str``, ``bytes`` or path-like) are decoded as the file system
    names them first. The result encodes to UTF-8 and holds no control character.
    """
    if isinstance(text, (bytes, os.PathLike)):
        text = os.fsdecode(text)
    return _ANY_CONTROL.sub(_escape, str(text))


def one_line(text: Any) -> str:
    """:func:`printable` on one line: runs of white space (newlines too) become one space.

    The form of an error or warning message that may quote a name from a file.
    """
    return printable(" ".join(str(text).split()))


class EscapingStream(io.TextIOBase):
    """A text stream that escapes control characters (but ``\\n``, ``\\t``, ``\\r``) on write."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(_STREAM_CONTROL.sub(_escape, text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8") or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def writable(self) -> bool:
        return True


def escape_standard_streams() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in :class:`EscapingStream` (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, EscapingStream):
            setattr(sys, name, EscapingStream(stream))
