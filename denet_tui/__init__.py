"""denet-tui: watch what a Linux process tree really does."""

__version__ = "0.1.0"
