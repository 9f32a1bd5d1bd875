"""Casework's domain: cases and consultations. Pure: no I/O."""
