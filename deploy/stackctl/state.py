"""What `up` started: kept in var/stack.json so later commands (down, scale, status) agree."""

import json
from dataclasses import asdict, dataclass, field

from . import config


@dataclass
class StackState:
    mode: str = "haproxy"  # "haproxy": replicas behind HAProxy; "direct": one replica per service on its port
    database: str = "postgres"
    replicas: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "StackState | None":
        path = config.stack_dir() / "stack.json"
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    def save(self) -> None:
        path = config.stack_dir() / "stack.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @staticmethod
    def clear() -> None:
        (config.stack_dir() / "stack.json").unlink(missing_ok=True)
