"""Test support shared by every service: real broker and database endpoints, fakes."""
