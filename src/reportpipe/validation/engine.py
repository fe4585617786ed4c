"""Great Expectations' SQL engine on DuckDB, where the staged month lives.

GX 1.24 has no DuckDB engine (a native one is proposed upstream, GX pull request
#12084), and its SQLAlchemy engine fails on DuckDB through duckdb-engine (GX issues
#10738, #11579): `SqlAlchemyExecutionEngine.execute_query` returns the result after its
`with self.get_connection()` block has handed the connection back to the pool, and
duckdb-engine's cursor is empty by the time GX fetches the rows. This adapter
- buffers the rows inside that block (`execute_query`);
- runs every query on a cursor of reportpipe's own DuckDB connection, with the scratch
  database (where `readers` staged the file) as the default, so GX reads the month
  where it is, with no copy into pandas;
- gives GX's regular-expression helper PostgreSQL's `~` (search semantics, as DuckDB's);
- registers the fluent datasource type `reportpipe_duckdb` that hands these to GX.

tests/test_gx_duckdb.py runs every expectation type the suites use on both this engine
and GX's pandas engine over the same fixtures and compares the results.
"""

from __future__ import annotations

from typing import Literal

import duckdb
import sqlalchemy as sa
from duckdb_engine import ConnectionWrapper
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from sqlalchemy.dialects import postgresql
from sqlalchemy.pool import StaticPool

TABLE = "typed"  # scratch.typed: the validation relation (reportpipe.warehouse.models.validation_sql)


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only GX's regex and type helpers read this; DuckDB's `~` searches like PostgreSQL's.
        self.dialect_module = postgresql

    def execute_query(self, query):
        with self.get_connection() as connection:
            return self._execute_query_with_recovery(connection, query).freeze()()


class DuckDBDatasource(SQLDatasource):
    """A SQL datasource over reportpipe's open DuckDB connection (set with `use`)."""

    type: Literal["reportpipe_duckdb"] = "reportpipe_duckdb"
    connection_string: str = "duckdb:///:memory:"  # unused: the engine comes from `use`

    def use(self, con: duckdb.DuckDBPyConnection) -> None:
        engine = sa.create_engine(
            "duckdb://", creator=lambda: ConnectionWrapper(con.cursor().execute("USE scratch")), poolclass=StaticPool
        )
        self._engine = engine
        # GX would first copy the whole month into a temporary table; it is a table already.
        self._execution_engine = DuckDBExecutionEngine(engine=engine, create_temp_table=False)

    def test_connection(self, test_assets: bool = True) -> None:
        """Nothing to test before `use`: the connection is reportpipe's own, open already."""

    def get_engine(self) -> sa.Engine:
        return self._engine

    def get_execution_engine(self) -> DuckDBExecutionEngine:
        return self._execution_engine
