"""Create the role groups of DESIGN.md section 1. Permissions are granted after migrate (accounts.services)."""

from django.db import migrations

ROLES = ("borrower", "officer", "reviewer", "approver", "risk_officer", "manager", "admin")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
