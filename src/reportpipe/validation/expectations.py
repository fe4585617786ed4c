"""Custom Great Expectations expectations used by the suites in expectations/suites/.

Importing this module registers the expectations with GX: it must happen before a
suite that names them is loaded (GX silently drops unknown expectation types).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from great_expectations.execution_engine import PandasExecutionEngine, SqlAlchemyExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from reportpipe.validation.id_numbers import CHECK_CHARACTERS, WEIGHTS


def valid_id_numbers(values: pd.Series) -> np.ndarray:
    """GB 11643: 17 digits and a check character; vectorised, as a month may hold millions."""
    text = pa.array(values.astype(pd.ArrowDtype(pa.string())))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = pc.utf8_upper(text)
    shaped = np.asarray(pc.fill_null(pc.match_substring_regex(text, r"^[0-9]{17}[0-9X]$"), False))
    valid = np.zeros(len(text), dtype=bool)
    if shaped.any():
        ids = pc.filter(text, pa.array(shaped))
        # All ASCII and 18 bytes each: read the string buffer as an (n, 18) byte matrix.
        offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[ids.offset : ids.offset + len(ids) + 1]
        digits = np.frombuffer(ids.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 18)
        total = (digits[:, :17].astype(np.int64) - ord("0")) @ np.array(WEIGHTS, dtype=np.int64)
        expected = np.frombuffer(CHECK_CHARACTERS.encode(), dtype=np.uint8)[total % 11]
        valid[shaped] = digits[:, 17] == expected
    return valid


class ColumnValuesValidChineseIdNumber(ColumnMapMetricProvider):
    condition_metric_name = "column_values.valid_chinese_id_number"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs) -> pd.Series:
        return pd.Series(valid_id_numbers(column), index=column.index)

    @column_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(cls, column, **kwargs):
        # The same rule in SQL (DuckDB's functions), so it runs where the month is staged.
        text = sa.func.upper(column)
        digits = [sa.func.ascii(sa.func.substr(text, i + 1, 1)) - ord("0") for i in range(17)]
        total = sum((d * w for d, w in zip(digits, WEIGHTS)), sa.literal(0))
        expected = sa.func.substr(sa.literal(CHECK_CHARACTERS), sa.func.mod(total, 11) + 1, 1)
        shaped = sa.func.regexp_full_match(text, sa.literal("[0-9]{17}[0-9X]"))
        return sa.case((shaped, sa.func.substr(text, 18, 1) == expected), else_=sa.false())


class ExpectColumnValuesToBeValidChineseIdNumber(ColumnMapExpectation):
    """Expect 18-character resident ID numbers with a valid GB 11643 check character."""

    map_metric = "column_values.valid_chinese_id_number"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict] = {"tags": ["reportpipe", "pii"], "contributors": ["@reportpipe"]}
