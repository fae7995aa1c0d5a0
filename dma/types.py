"""``struct phys_vec`` (include/linux/types.h): a physical range, the
element a converted driver maps instead of a scatterlist entry."""

from __future__ import annotations

from typing import NamedTuple


class PhysVec(NamedTuple):
    """``struct phys_vec { phys_addr_t paddr; size_t len; }``."""

    paddr: int
    len: int


SIZEOF_PHYS_VEC = 16
