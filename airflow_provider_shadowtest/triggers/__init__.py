"""Triggers of the provider: the deferrable waits, run by the triggerer."""
