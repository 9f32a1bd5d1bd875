"""An upload's import: validated as a whole first, then registered household by household."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict

ImportState = Literal["queued", "running", "completed", "failed"]


class ImportJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    import_id: uuid.UUID
    authority_id: str
    uploaded_by: str
    filename: str | None = None
    media_type: str
    status: ImportState
    rows_total: int
    households_total: int
    rows_done: int = 0
    households_done: int = 0
    created: int = 0
    existing: int = 0
    error: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime

    def advanced(
        self, *, households: int, rows: int, created: int, existing: int, at: dt.datetime
    ) -> ImportJob:
        """Progress after a chunk committed; complete once every household is done."""
        done = self.households_done + households
        return self.model_copy(
            update={
                "households_done": done,
                "rows_done": self.rows_done + rows,
                "created": self.created + created,
                "existing": self.existing + existing,
                "status": "completed" if done >= self.households_total else "running",
                "updated_at": at,
            }
        )
