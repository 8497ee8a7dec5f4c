"""Public data marketplace sandbox: registration, sharing, opening and authorized operation on synthetic data."""

__version__ = "0.1.0"
