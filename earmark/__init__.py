"""Earmark: a local-first, AI-powered podcast player."""

__version__ = "0.1.0"
