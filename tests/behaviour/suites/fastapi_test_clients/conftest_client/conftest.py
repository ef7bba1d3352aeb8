import pytest
from fastapi.testclient import TestClient

from fastapi_startup_tables import app

client = TestClient(app)


@pytest.fixture
def api():
    return client
