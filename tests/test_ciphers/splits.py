"""Helpers shared by the cipher-core tests."""


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at ``cuts`` (clamped, deduplicated): the pieces, in order."""
    points = sorted({min(c, len(data)) for c in cuts})
    out, prev = [], 0
    for p in [*points, len(data)]:
        out.append(data[prev:p])
        prev = p
    return out
