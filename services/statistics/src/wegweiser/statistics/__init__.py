"""Wegweiser statistics service."""
