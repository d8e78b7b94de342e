"""Post and user IDs: unsigned 64-bit decimal values, read leniently but exactly."""

from __future__ import annotations

U64_MAX = 2**64 - 1


class IdError(ValueError):
    """The value is not a valid ID; ``str(err)`` says why."""


def parse_id(value: object) -> int:
    """Read an ID from a JSON value.

    Accepted: a string of decimal digits (surrounding whitespace trimmed, leading zeros
    dropped) or a JSON integer. Refused: floats, booleans, empty strings, negatives, anything
    over 2**64-1, anything else.
    """
    if isinstance(value, bool):
        raise IdError("must be a string of digits, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise IdError("must not be empty")
        if not text.isascii() or not text.isdigit():
            raise IdError("must be a string of decimal digits")
        if len(text.lstrip("0")) > len(str(U64_MAX)):  # (and int() refuses > 4300 digits)
            raise IdError("exceeds the largest 64-bit unsigned value")
        number = int(text)
    elif isinstance(value, float):
        raise IdError("must be a string of digits or an integer, not a float")
    else:
        raise IdError("must be a string of decimal digits")
    if number < 0:
        raise IdError("must not be negative")
    if number > U64_MAX:
        raise IdError("exceeds the largest 64-bit unsigned value")
    return number


def to_signed(value: int) -> int:
    """Map an unsigned 64-bit ID onto the signed 64-bit range that SQL integers hold."""
    return value - 2**64 if value >= 2**63 else value


def from_signed(value: int) -> int:
    """Inverse of :func:`to_signed`."""
    return value + 2**64 if value < 0 else value
