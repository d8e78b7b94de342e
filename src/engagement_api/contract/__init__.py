"""The rules of the public Engagement API contract as pure functions and data (no I/O)."""
