import pytest

from collab.integrations import notify
from collab.triage import routing
from collab.triage.tests.factories import network


@pytest.fixture
def form_open(monkeypatch):
    """The online form's opening hours are tested in test_routing; elsewhere keep it open."""
    monkeypatch.setattr(routing, "is_open", lambda at, holidays=(): True)


@pytest.fixture
def net(db):
    return network()


@pytest.fixture(autouse=True)
def _messages_at_once(monkeypatch):
    from collab.triage import services

    monkeypatch.setattr(services, "_defer", lambda fn: fn())


@pytest.fixture(autouse=True)
def _fresh_fake_notify():
    notify.fake().sent.clear()
    yield
    notify.fake().sent.clear()
