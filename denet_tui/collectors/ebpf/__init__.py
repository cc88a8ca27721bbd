"""The eBPF collector, split by concern:

- ``support``: can eBPF work here (the checks ``doctor`` prints), capabilities, BCC's stderr;
- ``loader``: one compile unit from ``bpf/tree.bpf.h`` and the chosen families, loaded by BCC;
- ``layout``: the C structures shared with the kernel side, declared once;
- ``tracker``: which processes are ours (seeding, ``procs``, live thread states, reaping);
- ``families/<name>``: one reader per probe family (``bpf/<name>.bpf.{h,c}``);
- ``collector``: ``EbpfCollector``, which wires them and adds /proc's per-process figures.
"""

from denet_tui.collectors.ebpf.collector import EbpfCollector

__all__ = ["EbpfCollector"]
