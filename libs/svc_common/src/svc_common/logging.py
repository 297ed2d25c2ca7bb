"""JSON log lines, each stamped with the id of the request being served."""

import json
import logging
import os
import socket
import time

from .request_id import request_id_var

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
# One encoder for every line: json.dumps(default=...) would build a new one per call.
_ENCODER = json.JSONEncoder(default=str)

# Every request writes a line, and these lines never show the caller's file, thread or process name:
# skip the stack walk and lookups logging makes for each record (the logging HOWTO's "Optimization").
logging._srcfile = None  # noqa: SLF001
logging.logThreads = False
logging.logMultiprocessing = False

# Which replica wrote the line: stackctl sets GUNICORN_PROC_NAME (e.g. "users-2"); containers use their hostname.
REPLICA = os.environ.get("GUNICORN_PROC_NAME") or socket.gethostname()


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:  # a caller outside Django may name it itself
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object; fields passed with extra= become keys."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "replica": REPLICA,
            "pid": record.process,
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return _ENCODER.encode(payload)
