"""Journey 1: a new person signs up, verifies with the code from the mailbox, works with the albums, signs out and
comes back — the whole app as one user sees it, against the real (emulated) Cognito, API, Lambdas and DynamoDB."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.clients import make_password, read_code

pytestmark = pytest.mark.e2e

FIRST_SEEDED = ["Sgt. Pepper's Lonely Hearts Club Band", "Pet Sounds", "Revolver"]
ROWS = 'tr[data-testid="album-row"]'


def rank_cells(page: Page) -> list[int]:
    return [int(text) for text in page.locator(f'{ROWS} td[data-field="Rank"]').all_inner_texts()]


def test_full_journey(page: Page, site, stack, albums, api_calls) -> None:
    tag = secrets.token_hex(4)
    email, password, name = f"journey-{tag}@example.com", make_password(), f"journey{tag}"

    # GIVEN a visitor on the sign-up page
    page.goto(site.url("signup.html"))
    # WHEN they sign up
    page.fill("#signup-username", name)
    page.fill("#signup-email", email)
    page.fill("#signup-password", password)
    expect(page.locator('#password-rules li[data-met="false"]')).to_have_count(0)
    page.click("#signup-submit")
    # THEN the page asks for the code sent to their e-mail, and points at the local mailbox
    expect(page.locator("#verify-section")).to_be_visible()
    expect(page.locator("#signup-section")).to_be_hidden()
    expect(page.locator("#verify-email")).to_have_value(email)
    expect(page.locator("#mailbox-link")).to_have_attribute("href", stack["MailboxUrl"])

    # WHEN they read the code in the mailbox and enter it
    page.fill("#verify-code", read_code(email))
    page.click("#verify-submit")
    # THEN they are signed in on the dashboard, which shows the seeded albums in Rank order from Rank 1
    page.wait_for_url("**/dashboard.html")
    expect(page.locator("body")).to_have_attribute("data-auth", "ok")
    expect(page.locator("#user-email")).to_have_text(email)
    expect(page.locator("#user-name")).to_have_text(name)
    first_rows = page.locator(ROWS)
    expect(first_rows.first).to_be_visible()
    expect(first_rows.locator('td[data-field="Rank"]').nth(4)).to_have_text("5")
    assert rank_cells(page)[:5] == [1, 2, 3, 4, 5]
    assert rank_cells(page) == sorted(rank_cells(page))
    expect(first_rows.locator('td[data-field="Album"]').nth(0)).to_have_text(FIRST_SEEDED[0])
    expect(first_rows.locator('td[data-field="Album"]').nth(1)).to_have_text(FIRST_SEEDED[1])
    expect(first_rows.locator('td[data-field="Album"]').nth(2)).to_have_text(FIRST_SEEDED[2])
    expect(page.locator("#load-more")).to_be_visible()  # ~500 albums: a page at a time

    # WHEN they add an album at a free Rank
    rank = albums.free_rank()
    title = f"Journey Album {tag}"
    page.click("#add-album-link")
    page.wait_for_url("**/add-album.html")
    page.fill("#album-rank", str(rank))
    page.fill("#album-title", title)
    page.fill("#album-artist", "The Testers")
    page.fill("#album-genre", "Rock")
    page.fill("#album-year", "2001")
    page.click("#album-submit")
    # THEN the dashboard shows it where they look: highlighted at the top (its Rank is far past the first page), with
    # a confirmation, and the first page in Rank order below it
    row = page.locator(f'{ROWS}[data-rank="{rank}"]')
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bis-new\b"))
    expect(row.locator('td[data-field="Album"]')).to_have_text(title)
    expect(row.locator('td[data-field="Artist"]')).to_have_text("The Testers")
    expect(row.locator('td[data-field="Year"]')).to_have_text("2001")
    expect(page.get_by_test_id("toast")).to_contain_text(f"Added album {rank}")
    ranks = rank_cells(page)
    assert ranks[0] == rank and ranks[1:4] == [1, 2, 3] and ranks[1:] == sorted(ranks[1:])

    # WHEN they edit its title in place and save
    row.locator('[data-testid="edit-album"]').click()
    editing = page.locator(f'{ROWS}[data-rank="{rank}"][data-editing="true"]')
    expect(editing.locator('[data-testid="edit-Album"]')).to_have_value(title)
    edited = f"{title} (Remastered)"
    editing.locator('[data-testid="edit-Album"]').fill(edited)
    editing.locator('[data-testid="save-album"]').click()
    # THEN the row shows the new title
    expect(page.get_by_test_id("toast")).to_contain_text(f"Saved album {rank}: “{edited}”.")
    expect(row.locator('td[data-field="Album"]')).to_have_text(edited)
    expect(row).to_have_attribute("data-version", "2")

    # WHEN they reload the page and search for it
    page.reload()
    expect(page.locator(ROWS).first).to_be_visible()
    expect(row).to_have_count(0)  # first page only: Rank 1..50
    page.fill("#search", edited)
    # THEN the edit is still there, and it is the one album found
    expect(page.locator("#album-count")).to_have_text(f"1 album matches “{edited}”")
    expect(row.locator('td[data-field="Album"]')).to_have_text(edited)

    # WHEN they delete it and confirm
    row.locator('[data-testid="delete-album"]').click()
    expect(page.locator("#delete-dialog")).to_be_visible()
    expect(page.locator("#delete-dialog-text")).to_contain_text(edited)
    page.click("#delete-confirm")
    # THEN it is gone from the table, from the API and from the table in DynamoDB
    expect(page.locator("#delete-dialog")).to_be_hidden()
    expect(page.get_by_test_id("toast")).to_contain_text(f"Deleted album {rank}: “{edited}”.")
    expect(row).to_have_count(0)
    assert albums.get(rank) is None
    assert albums.stored(rank) is None

    # WHEN they sign out
    page.click("#sign-out")
    # THEN they are on the sign-in page, told so
    page.wait_for_url("**/signin.html")
    expect(page.locator("#signin-message")).to_have_text("You are signed out.")

    # WHEN they open the dashboard's address directly
    page.goto(site.url("dashboard.html"))
    # THEN they are sent to sign in, and no album is shown
    page.wait_for_url("**/signin.html")
    expect(page.locator("#signin-form")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(0)

    # WHEN they sign in again (the e-mail is remembered in this tab)
    expect(page.locator("#signin-email")).to_have_value(email)
    page.fill("#signin-password", password)
    page.click("#signin-submit")
    # THEN they are back on the dashboard with their albums
    page.wait_for_url("**/dashboard.html")
    expect(page.locator("#user-email")).to_have_text(email)
    expect(page.locator(f'{ROWS} td[data-field="Album"]').first).to_have_text(FIRST_SEEDED[0])

    # AND every call the page made to the API in this journey carried the user's ID token (checked for every test
    # by the autouse `api_calls` fixture; here we also make sure the journey really used all four methods)
    assert {"GET", "POST", "PUT", "DELETE"} <= api_calls.methods()
    assert api_calls.without_token == []
