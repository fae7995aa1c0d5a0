"""XTS tweak advance: any distance equals that many doublings."""

from hypothesis import given
from hypothesis import strategies as st

from ciphers.xts import gf128mul_x_ble, xts_tweak_advance


def _doublings(t: int, n: int) -> int:
    for _ in range(n):
        t = gf128mul_x_ble(t)
    return t


@given(t=st.integers(0, 2**128 - 1), n=st.integers(0, 3000))
def test_advance_equals_repeated_doubling(t, n):
    assert xts_tweak_advance(t, n) == _doublings(t, n)


def test_advance_across_a_whole_mebibyte():
    t = 0x0123456789ABCDEF_FEDCBA9876543210_00
    t &= 2**128 - 1
    assert xts_tweak_advance(t, 65535) == _doublings(t, 65535)
    assert xts_tweak_advance(xts_tweak_advance(t, 700), 65535 - 700) == xts_tweak_advance(t, 65535)
