"""Sign-up, tokens, session sign-in and the profile."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

BASE = {"username": "maria", "password": "a-long-enough-Pa55word", "email": "m@example.com",
        "role": "advisor", "display_name": "María", "timezone": "America/Bogota",
        "skills": ["Data Science", "data-science", "SQL"]}


def test_register_returns_profile_and_token(db):
    response = APIClient().post("/api/auth/register/", BASE, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["skills"] == ["data-science", "sql"]  # slugged and deduplicated
    assert body["timezone"] == "America/Bogota"
    assert len(body["token"]) == 40
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.get("/api/me/").json()["username"] == "maria"


@pytest.mark.parametrize(("change", "field"), [
    ({"role": "admin"}, "role"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"password": "short"}, "password"),
    ({"email": "not-an-email"}, "email"),
    ({"username": "has space"}, "username"),
    ({"display_name": ""}, "display_name"),
])
def test_register_rejects_bad_fields(db, change, field):
    response = APIClient().post("/api/auth/register/", BASE | change, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    from accounts.models import User

    assert not User.objects.exists()


def test_duplicate_username_is_refused(db):
    APIClient().post("/api/auth/register/", BASE, format="json")
    again = APIClient().post("/api/auth/register/", BASE | {"username": "MARIA"}, format="json")
    assert again.status_code == 400
    assert again.json()["code"] == "username_taken"


def test_token_needs_the_right_password(db):
    APIClient().post("/api/auth/register/", BASE, format="json")
    wrong = APIClient().post("/api/auth/token/", {"username": "maria", "password": "nope"},
                             format="json")
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "invalid_credentials"
    right = APIClient().post("/api/auth/token/", {"username": "maria",
                                                  "password": BASE["password"]}, format="json")
    assert right.status_code == 200 and len(right.json()["token"]) == 40


def test_anonymous_gets_401_with_the_error_body(db):
    response = APIClient().get("/api/me/")
    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated",
                                "detail": "Authentication credentials were not provided."}


def test_session_sign_in_through_the_login_page(db, client):
    APIClient().post("/api/auth/register/", BASE, format="json")
    response = client.post("/login/", {"username": "maria", "password": BASE["password"]})
    assert response.status_code == 302
    assert client.get("/api/me/").json()["username"] == "maria"


def test_profile_update(db, make_user, api_for):
    advisor = make_user("advisor", skills=("strategy",))
    response = api_for(advisor).patch("/api/me/", {"bio": "Ex-McKinsey", "skills": ["pricing"],
                                                   "timezone": "Europe/Madrid"}, format="json")
    assert response.status_code == 200
    assert response.json()["skills"] == ["pricing"]
    assert response.json()["timezone"] == "Europe/Madrid"
    bad = api_for(advisor).patch("/api/me/", {"timezone": "Nowhere"}, format="json")
    assert bad.status_code == 400


def test_sign_up_and_token_requests_are_throttled(db, settings):
    from django.core.cache import cache

    settings.AUTH_THROTTLE_RATE = "3/min"
    cache.delete_many([f"throttle_auth_{ip}" for ip in ("127.0.0.1", "10.9.8.7")])
    api = APIClient(REMOTE_ADDR="10.9.8.7")
    codes = [api.post("/api/auth/token/", {"username": "x", "password": "y"},
                      format="json").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    limited = api.post("/api/auth/register/", BASE, format="json")
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    assert "Retry-After" in limited.headers
    cache.delete("throttle_auth_10.9.8.7")
