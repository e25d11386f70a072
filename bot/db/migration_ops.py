"""Migration operations Tortoise's own do not get right on SQLite, shared by the migration files.

Tortoise's SQLite rollback of AddField, and its AlterField, rebuild the whole table and lose its indexes (an
earlier migration's rollback then cannot find them to drop)."""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops

__all__ = ["AddColumn", "DescribeField"]


class AddColumn(ops.AddField):
    """AddField whose rollback drops just the column (SQLite 3.35+ and PostgreSQL both can)."""

    async def database_backward(self, app_label: Any, old_state: Any, new_state: Any,
                                state_editor: Any = None) -> None:
        if not state_editor:
            return
        model = old_state.apps.get_model(f"{app_label}.{self.model_name}")
        column = model._meta.fields_map[self.name].source_field or self.name
        await state_editor.client.execute_script(f'ALTER TABLE "{model._meta.db_table}" DROP COLUMN "{column}"')


class DescribeField(ops.AlterField):
    """A change of a field's description only (a new enum value in a varchar): the state learns it, the database
    has nothing to change."""

    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None
