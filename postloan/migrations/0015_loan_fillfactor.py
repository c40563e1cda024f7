"""Room on each page of the loan and installment tables for the nightly sweep's new row versions.

Each night the sweep marks most of the open book, the quiet loans, swept (`penalty_accrued_through`, `updated_at`)
and writes the penalty of every past-due installment (`penalty_accrued`). No index holds those columns, so
PostgreSQL can keep a row's new version on its own page and leave the indexes alone (a HOT update), but only if the
page has room: at the default fillfactor of 100 it has none, and each quiet loan got a new entry in every one of the
loan table's nineteen indexes. (A loan whose days past due, status or bucket change still updates its indexes.)
Pages written from now on keep the room; an existing table's full pages move their rows once, on the first night
(or at once with `VACUUM FULL`). PostgreSQL only: SQLite has no such setting.
"""

from django.db import migrations

# Percent of each page filled by inserts; the rest waits for updates. The loan row changes daily, an installment
# only while it is past due.
FILLFACTOR = {"postloan_loan": 80, "postloan_installment": 90}


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, percent in FILLFACTOR.items():
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(percent)})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FILLFACTOR:
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("postloan", "0014_loan_product")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
