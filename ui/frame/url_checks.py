"""What a URL value may be: one check per kind of value, each from the bounds of the widget it
seeds (ui/components/linked.py), so a link cannot hand a widget or an algorithm anything the
widget itself would refuse. parse(text) returns the value or raises ValueError with a short
reason for the note; text(value) is its URL form, which parse reads back."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_NUMBER_TEXT = 32  # characters of one number: "1e308" fits, a megabyte of digits does not
NONE = "none"  # an empty multiselect (an absent key means its default)


@dataclass(frozen=True)
class Choice:
    """One of a widget's options, written as str(option)."""

    options: tuple

    def parse(self, raw: str):
        for option in self.options:
            if str(option) == raw:
                return option
        raise ValueError("not one of the choices")

    def text(self, value) -> str:
        return str(value)


@dataclass(frozen=True)
class Number:
    """A finite number in [lo, hi]; an integer when `integer`."""

    lo: float
    hi: float
    integer: bool = False

    def parse(self, raw: str):
        if len(raw) > MAX_NUMBER_TEXT:
            raise ValueError("too long for a number")
        try:
            value = int(raw) if self.integer else float(raw)
        except ValueError:
            raise ValueError("not a whole number" if self.integer else "not a number") from None
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        slack = 0 if self.integer else 1e-5 * max(abs(self.lo), abs(self.hi), 1e-12)  # text() keeps 6 digits
        if not self.lo - slack <= value <= self.hi + slack:
            raise ValueError(f"outside {self.lo:g} to {self.hi:g}")
        return min(max(value, self.lo), self.hi)

    def text(self, value) -> str:
        return str(int(value)) if self.integer else f"{float(value):.6g}"


@dataclass(frozen=True)
class Flag:
    def parse(self, raw: str) -> bool:
        if raw not in ("0", "1"):
            raise ValueError("not 0 or 1")
        return raw == "1"

    def text(self, value) -> str:
        return "1" if value else "0"


@dataclass(frozen=True)
class Subset:
    """Some of a widget's options (a multiselect), comma-separated, in the options' order."""

    options: tuple

    def parse(self, raw: str) -> list:
        if raw == NONE:
            return []
        parts = raw.split(",")
        if len(parts) > len(self.options):
            raise ValueError("more items than there are choices")
        picked = {Choice(self.options).parse(p) for p in parts}
        return [o for o in self.options if o in picked]

    def text(self, value) -> str:
        return ",".join(str(v) for v in value) if len(value) else NONE


@dataclass(frozen=True)
class Vector:
    """d finite numbers of magnitude at most `bound` (a latent code)."""

    d: int
    bound: float

    def parse(self, raw: str) -> list[float]:
        parts = raw.split(",")
        if len(parts) != self.d:
            raise ValueError(f"not {self.d} numbers")
        return [Number(-self.bound, self.bound).parse(p) for p in parts]

    def text(self, value) -> str:
        return ",".join(f"{float(v):.3g}" for v in value)
