"""Fixtures of the bulk-operation tests."""
import pytest

from factories import make_files


@pytest.fixture
def files():
    return make_files
