"""Reading and validating the registry files townships deliver (pure: no database, no Flask).

Typical use::

    table = read_table(data, filename)                      # ImportFileError if unreadable
    result = validate_resident_rows(table, known_stations=..., known_townships=..., today=...)
    report = build_error_report_xlsx(result.headers, result.bad_rows)
"""

from bot.importing.errors import FieldError, ImportFileError
from bot.importing.jurisdictions import JurisdictionImport, TownshipEntry, validate_jurisdiction_rows
from bot.importing.reader import Table, read_table
from bot.importing.report import build_error_report_csv, build_error_report_xlsx, build_template_xlsx
from bot.importing.residents import ResidentRow, ValidationResult, validate_resident_rows
from bot.importing.results import BadRow, RowError

__all__ = [
    "BadRow",
    "FieldError",
    "ImportFileError",
    "JurisdictionImport",
    "ResidentRow",
    "RowError",
    "Table",
    "TownshipEntry",
    "ValidationResult",
    "build_error_report_csv",
    "build_error_report_xlsx",
    "build_template_xlsx",
    "read_table",
    "validate_jurisdiction_rows",
    "validate_resident_rows",
]
