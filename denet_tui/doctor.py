"""`denet-tui doctor`: say, line by line, whether eBPF works here and why not.

The checks live in :mod:`denet_tui.collectors.ebpf.support` (the collector and ``--collector
auto`` use them too); this is the command that prints them. Run it as `denet-tui doctor` or
`python -m denet_tui.doctor`.
"""

from __future__ import annotations

from denet_tui.collectors.ebpf.support import (
    Check,
    error_text,
    first_failure,
    reason_for,
    run_checks,
)


def format_check(check: Check) -> str:
    line = f"{check.label:<6}{check.name:<16}{check.detail}"
    if check.fix and not check.ok:
        line += f" — fix: {check.fix}"
    return line


def main() -> int:
    try:
        checks = run_checks(load_program=True)
    except Exception as exc:
        print(f"FAIL  doctor          {error_text(exc)}")
        return 1
    for check in checks:
        print(format_check(check))
    failure = first_failure(checks)
    if failure is None:
        print("eBPF works here: --collector auto uses ebpf")
        return 0
    print(f"{reason_for(failure)} → --collector auto uses procfs")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
