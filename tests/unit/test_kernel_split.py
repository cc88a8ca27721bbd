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
