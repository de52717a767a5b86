"""Runtime gates that the generated pipelines call: `charter gate data|eval|drift`.

Each gate reads real files (CSV, Parquet, a folder of Parquet parts) through
DuckDB, judges them against the specs of a project that checks clean, and
writes a JSON report, a Markdown summary and, on request, a PNG chart.

Exit codes (`compiler.core.exit_codes`): 0 pass, 1 fail (a bound, a contract rule or a drift threshold is
not met, or no verdict could be reached), 2 unusable input (a missing file or
column, an empty or unreadable file, a project with errors).

The numeric work needs the `gates` extra (`pip install "charter[gates]"`:
DuckDB, NumPy, Matplotlib); nothing here is imported by `charter check`.
"""

from __future__ import annotations
