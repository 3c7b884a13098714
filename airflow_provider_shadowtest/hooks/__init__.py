"""Hooks: every AWS call of the provider goes through here."""
