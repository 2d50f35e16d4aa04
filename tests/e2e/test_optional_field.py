"""An optional field of the field table, shown, given, searched, sorted and cleared on the dashboard: the record
label (`Label`, "Record label"), which the seed albums do not have. The page has no code of its own for it: the
column, its sort button and the edit input come from config.js's albumFields."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ROWS = 'tr[data-testid="album-row"]'


def set_label(page: Page, rank: int, label: str) -> None:
    page.locator(f'{ROWS}[data-rank="{rank}"] [data-testid="edit-album"]').click()
    page.get_by_test_id("edit-Label").fill(label)
    page.get_by_test_id("save-album").click()
    expect(page.get_by_test_id("toast")).to_contain_text(f"Saved album {rank}")
    expect(page.locator('tr[data-editing="true"]')).to_have_count(0)


def test_a_record_label_can_be_given_searched_sorted_and_cleared(page: Page, new_user, sign_in, albums) -> None:
    # GIVEN two albums without a record label, found by a search
    tag = secrets.token_hex(3)
    first = albums.create(Album=f"Label Me {tag}", Year=1981)
    second = albums.create(Album=f"Label Me Too {tag}", Year=1982)
    assert albums.get(first["Rank"]).get("Label") in (None, "")
    sign_in(page, new_user())
    count = page.locator("#album-count")
    page.fill("#search", f"label me {tag}")
    expect(count).to_have_text(f"2 albums match “label me {tag}”")
    first_row = page.locator(f'{ROWS}[data-rank="{first["Rank"]}"]')
    # THEN the table has a sortable "Record label" column, empty for them
    expect(page.locator('button[data-sort-key="Label"]')).to_have_text("Record label")
    expect(first_row.locator('td[data-field="Label"]')).to_have_text("")

    # WHEN the user gives each a label by editing in place
    set_label(page, first["Rank"], f"Zebra Records {tag}")
    set_label(page, second["Rank"], f"Apex Records {tag}")
    # THEN the rows show them and the API has them
    expect(first_row.locator('td[data-field="Label"]')).to_have_text(f"Zebra Records {tag}")
    assert albums.get(first["Rank"])["Label"] == f"Zebra Records {tag}"

    # WHEN they search by a label, THEN only that album matches
    page.fill("#search", f"zebra records {tag}")
    expect(count).to_have_text(f"1 album matches “zebra records {tag}”")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(first_row).to_have_count(1)

    # WHEN they list both and sort by the label, THEN the order follows the labels, both ways
    page.fill("#search", f"records {tag}")
    expect(count).to_have_text(f"2 albums match “records {tag}”")
    page.click('button[data-sort-key="Label"]')
    expect(page.locator('th:has(button[data-sort-key="Label"])')).to_have_attribute("aria-sort", "ascending")
    expect(page.locator(f'{ROWS} td[data-field="Label"]')).to_have_text([f"Apex Records {tag}",
                                                                        f"Zebra Records {tag}"])
    page.click('button[data-sort-key="Label"]')
    expect(page.locator('th:has(button[data-sort-key="Label"])')).to_have_attribute("aria-sort", "descending")
    expect(page.locator(f'{ROWS} td[data-field="Label"]')).to_have_text([f"Zebra Records {tag}",
                                                                        f"Apex Records {tag}"])

    # WHEN they clear the first album's label
    set_label(page, first["Rank"], "")
    # THEN it shows empty, the API no longer has one, and a search by it finds nothing
    expect(first_row.locator('td[data-field="Label"]')).to_have_text("")
    assert albums.get(first["Rank"]).get("Label") in (None, "")
    page.fill("#search", f"zebra records {tag}")
    expect(page.locator("#search-empty")).to_have_text(f"No album matches “zebra records {tag}”.")


def test_the_add_form_takes_a_record_label_or_none(page: Page, new_user, sign_in, albums) -> None:
    # GIVEN an editor on the add form
    sign_in(page, new_user())
    page.click("#add-album-link")
    # THEN the record label is there, optional
    label = page.locator("#album-label")
    expect(label).to_have_attribute("name", "Label")
    expect(page.locator('label[for="album-label"]')).to_have_text("Record label")
    assert not label.evaluate("(input) => input.required")
    # WHEN they add an album with a label
    rank = albums.free_rank()
    tag = secrets.token_hex(3)
    for field, value in (("rank", str(rank)), ("title", f"Labelled {tag}"), ("artist", "Label Artist"),
                         ("genre", "Rock"), ("year", "1977"), ("label", f"Stiff Records {tag}")):
        page.fill(f"#album-{field}", value)
    page.click("#album-submit")
    # THEN the dashboard shows it with its label, as the API stored it
    row = page.locator(f'{ROWS}[data-rank="{rank}"]')
    expect(row.locator('td[data-field="Label"]')).to_have_text(f"Stiff Records {tag}")
    assert albums.get(rank)["Label"] == f"Stiff Records {tag}"
