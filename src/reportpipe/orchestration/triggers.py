"""The triggerer's half of `ExportSensor`: poll the inbox until the file or the deadline."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from airflow.triggers.base import BaseTrigger, TriggerEvent


class ExportTrigger(BaseTrigger):
    def __init__(self, inbox_url: str, conn_id: str | None, source_id: str, office_id: str, month: str, deadline: str,
                 poke_interval: float):
        super().__init__()
        self.inbox_url, self.conn_id = inbox_url, conn_id
        self.source_id, self.office_id, self.month = source_id, office_id, month
        self.deadline, self.poke_interval = deadline, poke_interval

    def serialize(self):
        return "reportpipe.orchestration.triggers.ExportTrigger", {
            "inbox_url": self.inbox_url, "conn_id": self.conn_id, "source_id": self.source_id,
            "office_id": self.office_id, "month": self.month, "deadline": self.deadline, "poke_interval": self.poke_interval,
        }

    def _look(self) -> dict:
        from airflow.sdk import ObjectStoragePath

        from reportpipe.contracts import sources
        from reportpipe.intake.inbox import month_files, office_root
        from reportpipe.months import parse_month
        from reportpipe.offices import deployment

        root = office_root(ObjectStoragePath(self.inbox_url, conn_id=self.conn_id), self.office_id, deployment())
        found, misnamed = month_files(root, sources(self.office_id)[self.source_id], parse_month(self.month))
        return {"found": [p.name for p in found], "misnamed": [s.path.name for s in misnamed]}

    async def run(self):
        deadline = datetime.fromisoformat(self.deadline)
        while True:
            # Listing a remote inbox blocks: keep it off the triggerer's event loop.
            looked = await asyncio.to_thread(self._look)
            left = (deadline - datetime.now(timezone.utc)).total_seconds()
            if looked["found"] or looked["misnamed"] or left <= 0:
                yield TriggerEvent(looked)
                return
            await asyncio.sleep(min(self.poke_interval, left))
