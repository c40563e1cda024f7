"""Re-encrypt every EncryptedTextField value with the newest FIELD_ENCRYPTION_KEY."""

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models import Case, ExpressionWrapper, F, Value, When

from core.crypto import DecryptionError, rotate_token
from core.fields import EncryptedTextField

DEFAULT_BATCH_SIZE = 500
RAW_ALIAS = "_raw_token"


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Yield (model, field) for every concrete EncryptedTextField stored in a table Django manages."""
    for model in apps.get_models():
        meta = model._meta
        # Proxies share their concrete model's table; unmanaged models may be views we must not write to.
        if meta.proxy or not meta.managed:
            continue
        # Local fields only, so a multi-table-inheritance parent's table is rotated once, through the parent.
        for field in meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def rotate_field(model: type[models.Model], field: EncryptedTextField, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Re-encrypt one field's non-empty values in batches, one transaction each; return the row count."""
    manager = model._base_manager
    rows = manager.exclude(**{f"{field.attname}__isnull": True}).exclude(**{field.attname: ""}).order_by("pk")
    # The wrapper's plain TextField output skips from_db_value, so we read the stored token, not the plaintext.
    raw = ExpressionWrapper(F(field.attname), output_field=models.TextField())
    done, last_pk = 0, None
    while True:
        with transaction.atomic(using=manager.db):
            page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
            # Locking the batch stops a concurrent save from being overwritten by its older value (no-op on SQLite,
            # where the IMMEDIATE transaction already holds the write lock).
            batch = list(
                page.select_for_update().annotate(**{RAW_ALIAS: raw}).values_list("pk", RAW_ALIAS)[:batch_size]
            )
            if not batch:
                return done
            _write_batch(model, field, [(pk, _rotate(model, pk, token)) for pk, token in batch])
        done += len(batch)
        last_pk = batch[-1][0]


def _rotate(model: type[models.Model], pk: Any, token: str) -> str:
    try:
        return rotate_token(token)
    except DecryptionError as exc:
        raise CommandError(f"{model._meta.label} pk={pk}: {exc}") from exc


def _write_batch(model: type[models.Model], field: EncryptedTextField, tokens: list[tuple[Any, str]]) -> None:
    # Plain-TextField values are written as-is; through the field itself they would be encrypted a second time.
    whens = [When(pk=pk, then=Value(token, output_field=models.TextField())) for pk, token in tokens]
    new_value = Case(*whens, output_field=models.TextField())
    model._base_manager.filter(pk__in=[pk for pk, _ in tokens]).update(**{field.attname: new_value})


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field value with the newest key in FIELD_ENCRYPTION_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Rows per transaction.")

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = 0
        for model, field in encrypted_fields():
            count = rotate_field(model, field, batch_size=batch_size)
            self.stdout.write(f"{model._meta.label}.{field.name}: {count} rows re-encrypted")
            total += count
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted."))
