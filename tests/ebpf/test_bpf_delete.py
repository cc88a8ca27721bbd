"""Deleting many keys of a BPF map at once: keys that are not there (an entry never made, or
already taken out) are passed over, and every other key goes, in a real kernel map."""

from __future__ import annotations

import pytest

from denet_tui.collectors import bpf_maps

pytestmark = pytest.mark.ebpf


def test_missing_keys_are_passed_over_and_the_rest_deleted() -> None:
    from bcc import BPF

    b = BPF(text=b"BPF_HASH(h, u32, u64, 8192); int unused(void *ctx) { return 0; }")
    try:
        h = b[b"h"]
        present = [k for k in range(6000) if k % 3]
        for k in present:
            h[h.Key(k)] = h.Leaf(k)
        # every third key is missing, and the list spans two batches (BATCH = 4096)
        doomed = [(k,) for k in range(5000)]
        bpf_maps.delete_many(h, doomed, "I")
        left = sorted(k.value for k in h)
        assert left == [k for k in present if k >= 5000]
    finally:
        b.cleanup()
