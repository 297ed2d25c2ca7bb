"""The whole system through manage_all.sh: HAProxy, 3 users, 3 products and 2 gateway replicas."""

import pytest
from support.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    stack = Stack("e2e", 30000, tmp_path_factory.mktemp("e2e"), redis_db=12)
    stack.up()
    yield stack
    stack.down()
