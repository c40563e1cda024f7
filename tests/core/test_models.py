from django.db import models

from core.models import TimeStampedModel


def test_it_is_abstract():
    assert TimeStampedModel._meta.abstract


def test_it_stamps_creation_and_update_times():
    created = TimeStampedModel._meta.get_field("created_at")
    updated = TimeStampedModel._meta.get_field("updated_at")
    assert isinstance(created, models.DateTimeField)
    assert created.auto_now_add
    assert not created.db_index
    assert isinstance(updated, models.DateTimeField)
    assert updated.auto_now
