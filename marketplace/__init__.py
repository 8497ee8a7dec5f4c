"""Public data marketplace sandbox: sharing, opening and authorized operation on synthetic data."""

__version__ = "0.1.0"
