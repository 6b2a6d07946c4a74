import pytest
from blog import create_app


@pytest.fixture
def app():
    return create_app()
