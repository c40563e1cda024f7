"""Bulk import of existing borrowers and loans (issue 8): a migration path from spreadsheets.

- The columns of each template are defined once (`COLUMNS`): the downloadable template, the header matching, the
  row checks and the page that documents the template all read them.
- `import_check` (the dry run) reads the uploaded .xlsx or .csv, checks every row and stores the counts and the row
  errors, in the uploader's language, on the job; it writes nothing else.
- `import_run` imports the rows the dry run found valid, each in its own savepoint inside a transaction per chunk
  (a failing row never half-imports: no borrower without the loan of its row, no loan without installments); the
  chunk's progress is written in the same transaction, so a retried or restarted task resumes after the last
  committed chunk. Natural keys make it idempotent: a borrower is its identity (type and keyed hash of the number),
  a loan its contract number; a row whose key is already in LoanTrack is counted as present and left untouched.
- The domain services write the rows: `applications.services.borrower_import` (the same path as `borrower_create`)
  and `postloan.services.migration.loan_import` (the same rows as a disbursement).
"""

from .checks import RowCheck
from .columns import COLUMNS, NEED_LABELS, Column, column_label, template_file, template_filename
from .files import FILE_FORMATS, MAX_FILE_BYTES, MAX_ROWS, FileProblem, read_rows
from .jobs import CHUNK_ROWS, import_check, import_percent, import_row, import_run, import_start, import_upload

__all__ = [
    "CHUNK_ROWS",
    "COLUMNS",
    "FILE_FORMATS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "NEED_LABELS",
    "Column",
    "FileProblem",
    "RowCheck",
    "column_label",
    "import_check",
    "import_percent",
    "import_row",
    "import_run",
    "import_start",
    "import_upload",
    "read_rows",
    "template_file",
    "template_filename",
]
