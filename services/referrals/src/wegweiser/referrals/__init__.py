"""Wegweiser referrals service."""
