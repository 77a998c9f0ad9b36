"""SNOMED CT identifiers (SCTIDs): the shape of a concept id, including dm+d codes.

An SCTID is 6 to 18 ASCII digits with no leading zero; the last digit is a Verhoeff check digit
and the two before it are the partition identifier: 00 for a concept in the International
release, 10 for a concept in an extension (the UK extension and dm+d use 10). We check the
shape only; whether a concept exists is the terminology server's business.
"""

from __future__ import annotations

_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]
CONCEPT_PARTITIONS = frozenset({"00", "10"})
ASCII_DIGITS = frozenset("0123456789")


def verhoeff_valid(number: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def is_concept_id(value: str) -> bool:
    """True when ``value`` is shaped like a SNOMED CT concept id (or a dm+d code)."""
    if not value or not set(value) <= ASCII_DIGITS or not 6 <= len(value) <= 18 or value[0] == "0":
        return False
    return value[-3:-1] in CONCEPT_PARTITIONS and verhoeff_valid(value)
