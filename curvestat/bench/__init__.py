"""Detector-accuracy benchmark (placeholder; filled below)."""
