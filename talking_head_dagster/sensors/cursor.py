"""The sensor's cursor: per table, the last row id seen in the current sweep."""

import json

from pydantic import BaseModel, Field, ValidationError


class SweepCursor(BaseModel):
    after_id: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str | None) -> "SweepCursor":
        if not raw:
            return cls()
        try:
            return cls.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            return cls()

    def dump(self) -> str:
        return self.model_dump_json()
