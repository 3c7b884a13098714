"""Extra links to the SageMaker console."""
