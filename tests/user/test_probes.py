"""svc_common.probes: the one database probe behind /readyz, the /metrics gauges and the container entry point."""

import pytest

from django.db import connection

from svc_common.probes import database_ok, database_problem, probe

pytestmark = pytest.mark.django_db


def test_a_database_that_answers_has_no_problem():
    assert database_problem() is None
    assert database_ok() is True


def test_an_unreachable_database_is_reported_with_the_first_line_of_the_reason(unreachable_database):
    problem = database_problem()

    assert problem is not None
    assert "\n" not in problem
    assert "port 1 failed: Connection refused" in problem
    assert database_ok() is False
    assert probe("database")[0] is False


def test_a_failed_probe_closes_the_connection_so_the_next_one_reconnects(unreachable_database):
    assert database_problem() is not None
    assert connection.connection is None

    unreachable_database.settings_dict["PORT"] = "5432"

    assert database_problem() is None
