"""The user/system split of an exit record follows the kernel's rule (cputime_adjust), so it
adds up to the exact total and agrees with what getrusage and /proc/PID/stat say."""

import pytest

from denet_tui.collectors.taskstats import kernel_split


def test_the_exact_total_is_split_in_the_ticks_ratio() -> None:
    user, system = kernel_split(0.030, 0.008, 0.004)  # 30 ms on the CPU, ticks 2:1
    assert user == pytest.approx(0.020)
    assert system == pytest.approx(0.010)
    assert user + system == pytest.approx(0.030)


def test_a_process_no_tick_hit_is_all_user_time_as_the_kernel_has_it() -> None:
    assert kernel_split(0.003, 0.0, 0.0) == (0.003, 0.0)


def test_only_system_ticks_make_it_all_system_time() -> None:
    assert kernel_split(0.003, 0.0, 0.004) == (0.0, 0.003)


def test_neither_part_goes_below_the_split_the_kernel_last_reported() -> None:
    # Reported at 10 ms as 7 user + 3 system; now 20 ms. Ticks 1:1: 10 + 10, above both.
    assert kernel_split(0.020, 0.010, 0.010, before=(0.007, 0.003)) == pytest.approx((0.010, 0.010))
    # No system ticks (all user, fresh): system stays at the 9 reported.
    assert kernel_split(0.020, 0.020, 0.0, before=(0.007, 0.009)) == pytest.approx((0.011, 0.009))
    # Ticks 1:19 (1 user, fresh): user stays at the 8 reported, system is the rest.
    assert kernel_split(0.020, 0.001, 0.019, before=(0.008, 0.002)) == pytest.approx((0.008, 0.012))
    # No more time than was reported: as reported.
    assert kernel_split(0.010, 0.005, 0.005, before=(0.007, 0.003)) == (0.007, 0.003)
