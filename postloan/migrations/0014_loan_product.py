"""Loan.product: the product of the application the contract was drawn from, copied onto the loan so lists,
filters and dashboards read it without joining the contract and the application."""

import django.db.models.deletion
from django.db import migrations, models

# The loans' and their history rows' product, from the contract's application. PostgreSQL joins in one pass; the
# correlated form is the one SQLite (the embedded default) runs.
FILL = {
    "postgresql": """
        UPDATE {table} AS loan SET product_id = application.product_id
          FROM postloan_contract AS contract
          JOIN applications_application AS application ON application.id = contract.application_id
         WHERE contract.id = loan.contract_id
    """,
    "sqlite": """
        UPDATE {table} SET product_id = (
            SELECT application.product_id
              FROM postloan_contract AS contract
              JOIN applications_application AS application ON application.id = contract.application_id
             WHERE contract.id = {table}.contract_id
        )
    """,
}


def fill_products(apps, schema_editor):
    sql = FILL[schema_editor.connection.vendor]
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            # Check the new foreign keys now, not at commit: ALTER TABLE refuses a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in ("postloan_loan", "postloan_historicalloan"):
            cursor.execute(sql.format(table=table))


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0009_status_counts"),
        ("postloan", "0013_status_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalloan",
            name="product",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="applications.product",
                verbose_name="product",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="product",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="applications.product",
                verbose_name="product",
            ),
        ),
        migrations.RunPython(fill_products, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="loan",
            name="product",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="applications.product",
                verbose_name="product",
            ),
        ),
    ]
