"""Two people in two browsers play the whole story; each step is seen live by the other."""

from __future__ import annotations

import itertools
import re
import unicodedata
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "a-long-enough-Pa55word"
_n = itertools.count(1)


def sign_up(page: Page, role: str, name: str, skills: str = "") -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    username = f"{ascii_name.lower()}{next(_n)}"
    page.goto("/signup/")
    page.check(f"input[name=role][value={role}]")
    page.fill("input[name=display_name]", name)
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.select_option("select[name=timezone]", "Europe/Madrid" if role == "client"
                       else "America/Bogota")
    if skills:
        page.fill("input[name=skills]", skills)
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    return username


def post_request(page: Page, title: str, skills: str = "") -> str:
    page.goto("/projects/")
    page.fill("#project-form [name=title]", title)
    page.fill("#project-form [name=description]", "Details to follow.")
    page.fill("#project-form [name=skills]", skills)
    page.click("#project-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/projects/\d+/$"))
    return page.url


def propose(page: Page, project_url: str, fee: str = "500") -> str:
    page.goto(project_url)
    page.fill("#proposal-form [name=fee_amount]", fee)
    page.fill("#proposal-form [name=statement]", "My plan.")
    page.click("#proposal-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/engagements/\d+/$"))
    return page.url


def open_room(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#composer-input")).to_be_enabled()


def timeline(page: Page):
    return page.locator("#timeline")


def send(page: Page, text: str) -> None:
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")


def confirm_dialog(page: Page, fields: dict[str, str] | None = None) -> None:
    dialog = page.locator("dialog[open]")
    for name, value in (fields or {}).items():
        dialog.locator(f"[name={name}]").fill(value)
    dialog.locator("#dialog-ok").click()
    expect(page.locator("dialog[open]")).to_have_count(0)


def test_whole_story_in_two_browsers(new_context):
    client = new_context().new_page()
    advisor = new_context().new_page()
    sign_up(client, "client", "Carla")
    sign_up(advisor, "advisor", "Ada", skills="pricing, strategy")

    # The advisor watches the board; the client posts a request; it appears live.
    advisor.goto("/projects/")
    client.goto("/projects/")
    client.fill("#project-form [name=title]", "Pricing for our bakery")
    client.fill("#project-form [name=description]", "Help us price wholesale orders.")
    client.fill("#project-form [name=skills]", "pricing")
    client.click("#project-form button[type=submit]")
    expect(client).to_have_url(re.compile(r"/projects/\d+/$"))
    card = advisor.locator("#projects .card", has_text="Pricing for our bakery")
    expect(card).to_be_visible()
    assert advisor.evaluate("window.__notifications.length") >= 1

    # The advisor proposes; the client sees it on the request page without reloading.
    card.locator("a").click()
    advisor.fill("#proposal-form [name=fee_amount]", "1200")
    advisor.fill("#proposal-form [name=statement]", "Cost-plus and value-based tiers.")
    advisor.click("#proposal-form button[type=submit]")
    expect(advisor).to_have_url(re.compile(r"/engagements/\d+/$"))
    room_url = advisor.url
    expect(client.locator("#proposals .proposal")).to_have_count(1)
    client.locator("#proposals a", has_text="Open the room").click()
    expect(client).to_have_url(room_url)
    expect(client.locator("#composer-input")).to_be_enabled()
    expect(advisor.locator("#composer-input")).to_be_enabled()

    # Chat both ways, live.
    send(client, "Hello Ada! Can you start next week? https://example.com/brief")
    expect(timeline(advisor)).to_contain_text("Can you start next week?")
    expect(timeline(advisor).locator("a[href='https://example.com/brief']")).to_be_visible()
    send(advisor, "Yes, Monday works.\nI'll send a plan.")
    expect(timeline(client)).to_contain_text("Monday works.")
    expect(client.locator("#typing")).to_have_text("")

    # A document, shared by the advisor and downloaded by the client.
    advisor.set_input_files("#file-input", files=[{
        "name": "pricing plan.txt", "mimeType": "text/plain",
        "buffer": "Tier A: 10 €/kg\nTier B: 9 €/kg\n".encode()}])
    file_link = timeline(client).locator(".file-card a.file-name", has_text="pricing plan.txt")
    expect(file_link).to_be_visible()
    with client.expect_download() as download:
        file_link.click()
    assert download.value.suggested_filename == "pricing plan.txt"
    assert Path(download.value.path()).read_bytes() == "Tier A: 10 €/kg\nTier B: 9 €/kg\n".encode()

    # A call: the client proposes a slot in her time zone, the advisor accepts it live.
    client.click("#schedule-call")
    client.locator("dialog[open] [name=start]").fill("2031-03-04T10:00")
    confirm_dialog(client, {"note": "Kick-off"})
    call = timeline(advisor).locator(".call-card")
    expect(call).to_contain_text("Kick-off")
    # 10:00 in Madrid is 04:00 in Bogotá, the advisor's zone.
    expect(call).to_contain_text("4:00")
    call.locator("button", has_text="Accept").click()
    expect(timeline(client).locator(".call-card")).to_contain_text("Confirmed")
    expect(timeline(client).locator(".call-card a", has_text="Add to calendar")).to_be_visible()

    # Hire (the action bar offers exactly the client's actions).
    expect(advisor.locator("#actions button")).to_have_text(["Revise proposal", "Withdraw"])
    client.locator("#actions button", has_text="Hire on version 1").click()
    confirm_dialog(client)
    expect(advisor.locator("#state-badge")).to_have_text("In progress")
    expect(timeline(advisor)).to_contain_text("Hired on version 1")

    # Deliver, request a revision, deliver again, approve: each seen live.
    advisor.locator("#actions button", has_text="Deliver").click()
    confirm_dialog(advisor, {"note": "First draft of the price list."})
    expect(client.locator("#state-badge")).to_have_text("Delivered, under review")
    expect(client.locator("#countdown")).to_contain_text("Automatic approval in")
    client.locator("#actions button", has_text="Request a revision").click()
    confirm_dialog(client, {"note": "Add a volume discount."})
    expect(advisor.locator("#state-badge")).to_have_text("In progress")
    expect(timeline(advisor)).to_contain_text("asked for a revision")
    advisor.locator("#actions button", has_text="Deliver").click()
    advisor.locator("dialog[open] input[type=checkbox]").check()
    confirm_dialog(advisor, {"note": "Second draft with discounts."})
    deliverable = timeline(client).locator(".delivered-files a", has_text="pricing plan.txt")
    expect(deliverable).to_be_visible()
    expect(client.locator("#actions button", has_text="Approve")).to_be_visible()
    expect(client.locator("#actions")).not_to_contain_text("Request a revision")
    client.locator("#actions button", has_text="Approve").click()
    confirm_dialog(client)
    expect(advisor.locator("#state-badge")).to_have_text("Completed")

    # Review after approval.
    client.locator("#actions button", has_text="Leave a review").click()
    confirm_dialog(client, {"comment": "Clear and fast."})
    expect(timeline(advisor)).to_contain_text("left a review")
    expect(client.locator("#actions")).not_to_contain_text("Leave a review")
    screenshot(client, "room-en")
    client.goto("/dashboard/")
    expect(client.locator("#dashboard .engagement-card")).to_have_count(1)
    screenshot(client, "dashboard-en")
    advisor.goto("/projects/")
    expect(advisor.locator("#projects")).to_be_visible()
    screenshot(advisor, "board-en")


def test_offline_context_catches_up_once(new_context):
    client_ctx, advisor_ctx = new_context(), new_context()
    client, advisor = client_ctx.new_page(), advisor_ctx.new_page()
    sign_up(client, "client", "Olga")
    sign_up(advisor, "advisor", "Omar", skills="finance")
    room = propose(advisor, post_request(client, "Cash-flow model"))
    open_room(client, room)
    open_room(advisor, room)

    client_ctx.set_offline(True)
    client.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(client.locator("#conn-banner")).to_be_visible()
    send(advisor, "Sent while you were away 1")
    send(advisor, "Sent while you were away 2")
    send(client, "Written offline")
    expect(timeline(advisor).locator(".msg")).to_have_count(2)
    client_ctx.set_offline(False)
    client.evaluate("window.dispatchEvent(new Event('online'))")
    expect(client.locator("#conn-banner")).to_be_hidden(timeout=20_000)
    expect(timeline(client).locator(".msg", has_text="Sent while you were away")).to_have_count(2)
    expect(timeline(advisor).locator(".msg", has_text="Written offline")).to_have_count(1)
    sent = timeline(client).locator(".msg:not(.pending)", has_text="Written offline")
    expect(sent).to_have_count(1)
    # A reload shows the same log: nothing twice.
    client.reload()
    expect(timeline(client).locator(".msg")).to_have_count(3)


def test_desktop_notification_only_when_hidden(new_context):
    client, advisor = new_context().new_page(), new_context().new_page()
    sign_up(client, "client", "Nina")
    sign_up(advisor, "advisor", "Noah", skills="legal")
    room = propose(advisor, post_request(client, "Contract review"))
    open_room(client, room)
    open_room(advisor, room)
    client.evaluate("window.__notifications = []")

    # Message text is text: markup arrives literally and nothing runs.
    send(advisor, '<img src=x onerror="window.__pwned=1"><b>bold</b>')
    expect(timeline(client)).to_contain_text('<img src=x onerror="window.__pwned=1"><b>bold</b>')
    assert timeline(client).locator(".msg img, .msg b").count() == 0
    assert client.evaluate("window.__pwned") is None

    send(advisor, "Visible tab message")
    expect(timeline(client)).to_contain_text("Visible tab message")
    assert client.evaluate("window.__notifications") == []

    client.evaluate("window.__hidden = true; document.dispatchEvent(new Event('visibilitychange'))")
    send(advisor, "Hidden tab message")
    expect(timeline(client)).to_contain_text("Hidden tab message")
    client.wait_for_function("window.__notifications.length === 1")
    note = client.evaluate("window.__notifications[0]")
    assert note["title"] == "Noah" and note["body"] == "Hidden tab message"


def test_spanish_interface(new_context):
    page = new_context(locale="es-ES").new_page()
    page.goto("/login/")
    expect(page.locator("h1")).to_have_text("Iniciar sesión")
    expect(page.locator("a", has_text="Crear una cuenta")).to_be_visible()

    client = new_context(locale="es-ES").new_page()
    advisor = new_context(locale="es-ES").new_page()
    sign_up(client, "client", "Lucía")
    sign_up(advisor, "advisor", "Sofía", skills="precios")
    room = propose(advisor, post_request(client, "Precios de suscripción", skills="precios"))
    open_room(client, room)
    send(client, "¡Hola! ¿Empezamos el lunes?")
    expect(timeline(client)).to_contain_text("¿Empezamos el lunes?")
    expect(client.locator("#actions button").first).to_have_text("Contratar con la versión 1")
    expect(client.locator("#state-badge")).to_have_text("Propuesta pendiente")
    screenshot(client, "room-es")
    client.goto("/dashboard/")
    expect(client.locator("#dashboard h2").first).to_contain_text("Propuesta pendiente")
    screenshot(client, "dashboard-es")
    advisor.goto("/projects/")
    expect(advisor.locator("h1")).to_have_text("Solicitudes abiertas")
    expect(advisor.locator("#projects .card")).not_to_have_count(0)
    screenshot(advisor, "board-es")
