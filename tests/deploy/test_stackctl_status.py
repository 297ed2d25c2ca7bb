"""`manage_all.sh status`'s LAST ERROR column: the newest error line of a replica's or HAProxy's log."""

import json

import pytest

from stackctl import status


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STACK_DIR", str(tmp_path))
    (tmp_path / "log").mkdir()
    return tmp_path / "log"


def json_line(level: str, message: str, time: str = "2026-03-01T10:11:12.345Z") -> str:
    return json.dumps({"time": time, "level": level, "logger": "svc_common.request", "message": message})


def test_the_newest_error_json_line_wins_over_later_info_lines(log_dir):
    (log_dir / "users-2.log").write_text(
        "\n".join(
            [
                json_line("ERROR", "Unhandled error on GET /api/users/1/", "2026-03-01T10:00:00.000Z"),
                json_line("CRITICAL", "Database gone", "2026-03-01T10:05:06.000Z"),
                json_line("INFO", "GET /api/users/2/ 200"),
                json_line("WARNING", "GET /api/users/3/ 503"),
                "",
            ]
        )
    )

    assert status.last_error("users-2") == "10:05:06 Database gone"


def test_gunicorn_plain_error_lines_count_too(log_dir):
    (log_dir / "products-1.log").write_text(
        "[2026-03-01 09:00:00 +0000] [41] [INFO] Booting worker with pid: 42\n"
        "[2026-03-01 09:30:15 +0000] [41] [CRITICAL] WORKER TIMEOUT (pid:42)\n"
        + json_line("INFO", "GET /healthz 200")
        + "\n"
    )

    assert status.last_error("products-1") == "09:30:15 WORKER TIMEOUT (pid:42)"


def test_haproxy_alerts_are_its_errors(log_dir):
    (log_dir / "haproxy.log").write_text(
        "[NOTICE]   (7) : New worker (8) forked\n"
        "[ALERT]    (7) : Current worker (8) exited with code 137 (Killed)\n"
        "[WARNING]  (9) : Server be_users/users-2 is DOWN, reason: Layer4 connection problem.\n"
    )

    assert status.last_error("haproxy") == "Current worker (8) exited with code 137 (Killed)"


def test_a_clean_or_missing_log_shows_a_dash(log_dir):
    (log_dir / "gateway-1.log").write_text(json_line("INFO", "GET /api/1/1/ 200") + "\nnot json {\n")

    assert (status.last_error("gateway-1"), status.last_error("gateway-9")) == ("-", "-")


def test_a_long_message_is_cut_to_one_short_line(log_dir):
    (log_dir / "users-1.log").write_text(json_line("ERROR", "x" * 200 + "\nsecond line") + "\n")

    shown = status.last_error("users-1")
    assert len(shown) == 90
    assert shown.endswith("…") and "\n" not in shown
