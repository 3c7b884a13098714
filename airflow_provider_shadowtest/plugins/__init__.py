"""The "Shadow tests" page of the Airflow UI: an Airflow 3 plugin served by the api-server under ``/shadowtest/``."""
