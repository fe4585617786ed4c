"""The operator's page in the Airflow UI: where every source-month of a year stands.

`plugin.py` registers it with Airflow (entry point `airflow.plugins` in pyproject.toml),
`app.py` serves it under the api-server, `grid.py` reads the grid as plain data.
"""
