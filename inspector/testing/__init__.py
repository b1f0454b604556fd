"""Helpers for testing the inspector: synthetic audit folders with their expected findings."""
