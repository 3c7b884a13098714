"""Operators for SageMaker inference experiments (shadow tests)."""
