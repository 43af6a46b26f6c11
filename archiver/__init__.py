"""Sangrah: an evidence-grade archive of government departments' social media conversations."""

__version__ = "0.1.0"
SOFTWARE = f"Sangrah/{__version__}"

__all__ = ["__version__", "SOFTWARE"]
