"""Wegweiser casework service."""
