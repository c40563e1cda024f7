"""The health check an operator's monitor polls: 503 only when the database is down, every failure named in the body."""

import pytest
from django.db import OperationalError

HEALTHZ_URL = "/healthz"


def fail_with(exception: Exception):
    def check():
        raise exception

    return check


@pytest.fixture
def broker_up(monkeypatch):
    # Whether a broker runs here depends on the machine (filesystem broker locally, Redis in CI); these tests are
    # about how the page reports it, so the real broker check runs only where a test says so.
    monkeypatch.setattr("core.views._check_broker", lambda: "ok")


@pytest.mark.django_db
@pytest.mark.usefixtures("broker_up")
def test_it_reports_every_check_ok_with_200(client):
    response = client.get(HEALTHZ_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_it_runs_the_real_checks(client):
    response = client.get(HEALTHZ_URL)

    checks = response.json()["checks"]
    assert set(checks) == {"database", "cache", "broker"}
    assert checks["database"] == "ok"
    assert checks["cache"] == "ok"
    assert checks["broker"] == "ok" or checks["broker"].startswith("error: ")
    assert response.status_code == 200


@pytest.mark.django_db
def test_it_is_never_cached(client):
    response = client.get(HEALTHZ_URL)

    assert "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


@pytest.mark.usefixtures("broker_up")
def test_it_answers_503_and_names_the_database_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr("core.views._check_database", fail_with(OperationalError("connection refused")))

    response = client.get(HEALTHZ_URL)

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": "error: OperationalError", "cache": "ok", "broker": "ok"},
    }


@pytest.mark.django_db
def test_it_stays_200_and_names_the_broker_when_only_the_broker_is_down(client, monkeypatch):
    monkeypatch.setattr("core.views._check_broker", fail_with(ConnectionRefusedError(111, "Connection refused")))

    response = client.get(HEALTHZ_URL)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "error: ConnectionRefusedError"},
    }


@pytest.mark.django_db
def test_it_does_not_put_the_error_text_in_the_body(client, monkeypatch):
    # The page is public: an exception message can carry a host name or a password from a connection URL.
    monkeypatch.setattr("core.views._check_broker", fail_with(ConnectionRefusedError("redis://:s3cret@10.0.0.5:6379")))

    response = client.get(HEALTHZ_URL)

    assert "s3cret" not in response.content.decode()
    assert "10.0.0.5" not in response.content.decode()


@pytest.mark.django_db
def test_it_refuses_post(client):
    assert client.post(HEALTHZ_URL).status_code == 405
