"""Consulto: open-source medical appointment platform."""

__version__ = "0.1.0"
