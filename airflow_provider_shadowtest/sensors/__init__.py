"""Sensors of the provider: wait for an inference experiment's status window."""
