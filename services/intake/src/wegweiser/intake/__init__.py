"""Wegweiser intake service."""
