"""Pages render for each role, strangers get 404, and no page carries inline script."""

from __future__ import annotations

import re

import pytest

PAGES = ["/dashboard/", "/projects/", "/profile/"]


@pytest.fixture
def browser_for(client, make_user):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.mark.parametrize("path", ["/", "/login/", "/signup/"])
def test_public_pages_render(client, db, path):
    response = client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_pages_render_for_both_roles(browser_for, client_user, advisor_user, engagement):
    for user in (client_user, advisor_user):
        browser = browser_for(user)
        for path in [*PAGES, f"/engagements/{engagement['id']}/",
                     f"/projects/{engagement['project']['id']}/"]:
            assert browser.get(path).status_code == 200, path


def test_a_stranger_gets_404_for_a_room_and_a_request(browser_for, make_user, engagement):
    stranger = browser_for(make_user("client"))
    assert stranger.get(f"/engagements/{engagement['id']}/").status_code == 404
    assert stranger.get(f"/projects/{engagement['project']['id']}/").status_code == 404
    assert stranger.get("/engagements/999999/").status_code == 404


def test_content_security_policy_forbids_inline_script(browser_for, client_user, engagement):
    response = browser_for(client_user).get(f"/engagements/{engagement['id']}/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    # Every <script> either loads a file or is a JSON data block (never executed).
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_signup_page_creates_an_account_through_the_service(client, db):
    response = client.post("/signup/", {
        "role": "advisor", "display_name": "Ana", "username": "ana", "email": "a@example.com",
        "password": "a-long-enough-Pa55word", "timezone": "America/Bogota",
        "skills": "Pricing, strategy"})
    assert response.status_code == 302
    me = client.get("/api/me/").json()
    assert (me["role"], me["skills"]) == ("advisor", ["pricing", "strategy"])
    weak = client.post("/signup/", {
        "role": "client", "display_name": "B", "username": "bee", "email": "b@example.com",
        "password": "12345678", "timezone": "UTC"})
    assert weak.status_code == 200
    assert "password" in weak.content.decode().lower()


def test_spanish_by_accept_language(client, db):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Iniciar sesión" in response.content.decode()
