"""Lotse — a chat assistant that guides an IT department through its AI introduction roadmap."""

__version__ = "0.1.0"
