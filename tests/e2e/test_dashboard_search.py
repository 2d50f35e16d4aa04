"""The dashboard answers for the whole collection: search, sort, counts and the chart cover every album, not the
loaded page, and the address carries the view (reload, Back/Forward, a pasted link)."""

from __future__ import annotations

import csv
import re
import secrets

import pytest
from playwright.sync_api import Page, Response, expect

from bootstrap.access import ROOT

pytestmark = pytest.mark.e2e

ROWS = 'tr[data-testid="album-row"]'
SEED = list(csv.DictReader((ROOT / "data" / "albums.csv").open(encoding="utf-8")))


def column(page: Page, field: str) -> list[str]:
    return page.locator(f'{ROWS} td[data-field="{field}"]').all_inner_texts()


def chart(page: Page) -> dict[int, int]:
    """The chart as shown: decade -> count."""
    return {int(decade): int(count) for decade, count in page.locator("#decade-chart li").evaluate_all(
        "(items) => items.map((item) => [item.dataset.decade, item.dataset.count])")}


def is_stats(response: Response) -> bool:
    return response.request.method == "GET" and response.url.split("?")[0].endswith("/album/stats")


def expect_chart_of(page: Page, stats: dict) -> None:
    """The chart shows exactly these stats (the body of a GET /album/stats the page received)."""
    expect(page.locator("#chart-caption")).to_have_text(f"Counted over all {stats['total']} albums.")
    assert chart(page) == {entry["decade"]: entry["count"] for entry in stats["decades"]}


def in_decade(stats: dict, decade: int) -> int:
    return next((entry["count"] for entry in stats["decades"] if entry["decade"] == decade), 0)


def test_search_sort_counts_and_chart_cover_every_album_and_the_address_keeps_the_view(
        page: Page, site, new_user, sign_in) -> None:
    # GIVEN a signed-in user on the dashboard (the first 50 of the seeded albums in Rank order)
    with page.expect_response(is_stats) as answered:
        sign_in(page, new_user())
    stats = answered.value.json()
    count = page.locator("#album-count")
    expect(count).to_have_text(re.compile(r"^1\u201350 of \d{3,} albums$"))
    # THEN the chart shows the collection's stats (GET /album/stats), every album, not the 50 on the page
    expect_chart_of(page, stats)
    assert stats["total"] >= len(SEED) and sum(chart(page).values()) == stats["total"]

    # WHEN they type an artist into the search box
    with page.expect_response(is_stats) as answered:
        page.fill("#search", "kanye")
    # THEN every album of that artist is listed (none of them is on the first page in Rank order)
    expect(count).to_have_text("3 albums match “kanye”")
    expect(page.locator(ROWS)).to_have_count(3)
    assert sorted(column(page, "Album")) == sorted(row["Album"] for row in SEED if row["Artist"] == "Kanye West")
    # AND the chart still counts the whole collection, not the search
    expect_chart_of(page, answered.value.json())
    assert sum(chart(page).values()) >= len(SEED)
    expect(page).to_have_url(re.compile(r"dashboard\.html\?q=kanye$"))

    # WHEN they search for Dylan and sort by Year twice (newest first)
    page.fill("#search", "dylan")
    expect(count).to_have_text(re.compile(r"^\d+ albums match “dylan”$"))
    page.click('button[data-sort-key="Year"]')
    expect(page.locator('th:has(button[data-sort-key="Year"])')).to_have_attribute("aria-sort", "ascending")
    page.click('button[data-sort-key="Year"]')
    expect(page.locator('th:has(button[data-sort-key="Year"])')).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"\?q=dylan&sort=Year&order=desc$"))
    # THEN the years descend over every Dylan album
    dylan = sorted((int(row["Year"]) for row in SEED if row["Artist"] == "Bob Dylan"), reverse=True)
    expect(page.locator(f'{ROWS} td[data-field="Year"]').first).to_have_text(str(dylan[0]))
    years = [int(year) for year in column(page, "Year")]
    assert years == sorted(years, reverse=True) and len(years) >= len(dylan)

    # WHEN they reload the page
    page.reload()
    # THEN the same view comes back: the search, the order and the rows
    expect(page.locator("#search")).to_have_value("dylan")
    expect(page.locator('th:has(button[data-sort-key="Year"])')).to_have_attribute("aria-sort", "descending")
    expect(page.locator(f'{ROWS} td[data-field="Year"]').first).to_have_text(str(dylan[0]))

    # WHEN they go Back twice
    page.go_back()
    expect(page.locator('th:has(button[data-sort-key="Year"])')).to_have_attribute("aria-sort", "ascending")
    page.go_back()
    # THEN they are back at Dylan in Rank order, and the box says so
    expect(page).to_have_url(re.compile(r"\?q=dylan$"))
    expect(page.locator("#search")).to_have_value("dylan")
    expect(page.locator('th:has(button[data-sort-key="Rank"])')).to_have_attribute("aria-sort", "ascending")
    ranks = [int(rank) for rank in column(page, "Rank")]
    assert ranks == sorted(ranks)

    # WHEN they clear the search and sort the whole collection by Year, newest first
    page.fill("#search", "")
    expect(count).to_have_text(re.compile(r"^1\u201350 of \d{3,} albums$"))  # other tests may add albums meanwhile
    page.click('button[data-sort-key="Year"]')
    page.click('button[data-sort-key="Year"]')
    # THEN the newest seeded album (2011) leads the seeded ones, although it is Rank 381 of the 500
    seeded = page.locator(f'{ROWS}[data-rank="381"]')
    expect(seeded.locator('td[data-field="Year"]')).to_have_text("2011")
    years = [int(year) for year in column(page, "Year")]
    assert years == sorted(years, reverse=True)
    assert all(int(r) > 500 for r, y in zip(column(page, "Rank"), years, strict=True) if y > 2011)
    expect(count).to_have_text(re.compile(r"^1\u201350 of \d{3,} albums$"))


def test_a_pasted_link_opens_the_view_it_names(page: Page, site, new_user, sign_in) -> None:
    # GIVEN a signed-in user
    sign_in(page, new_user())
    # WHEN they open a link to a search sorted by Album, descending
    page.goto(site.url("dashboard.html?q=chateau&sort=Album&order=desc"))
    # THEN the search box, the order and the result are those of the link
    expect(page.locator("#search")).to_have_value("chateau")
    expect(page.locator("#album-count")).to_have_text("1 album matches “chateau”")
    expect(page.locator(f'{ROWS} td[data-field="Album"]')).to_have_text(["Honky Château"])
    expect(page.locator('th:has(button[data-sort-key="Album"])')).to_have_attribute("aria-sort", "descending")
    # WHEN they search for something no album has
    page.fill("#search", "no such album anywhere")
    # THEN the page says so in words, and the chart still shows the collection
    expect(page.locator("#search-empty")).to_have_text("No album matches “no such album anywhere”.")
    expect(page.locator("#chart-section")).to_be_visible()


def test_delete_can_be_undone_and_says_so_when_the_rank_was_taken_meanwhile(page: Page, new_user, sign_in, albums,
                                                                          console_errors) -> None:
    console_errors.allow(r"status of 409")  # the second undo meets a taken Rank, as it should
    # GIVEN two albums of the user's from the 1910s (a decade the seed does not have), found by a search
    tag = secrets.token_hex(3)
    first = albums.create(Album=f"Undo Me {tag}", Artist="Undo Artist", Year=1913)
    second = albums.create(Album=f"Undo Me Too {tag}", Artist="Undo Artist", Year=1914)
    sign_in(page, new_user())
    with page.expect_response(is_stats) as answered:
        page.fill("#search", f"undo me {tag}")
    expect(page.locator("#album-count")).to_have_text(f"2 albums match “undo me {tag}”")
    before = answered.value.json()
    expect_chart_of(page, before)
    assert in_decade(before, 1910) >= 2
    row = page.locator(f'{ROWS}[data-rank="{first["Rank"]}"]')
    # WHEN they delete the first and choose Undo in the confirmation
    row.locator('[data-testid="delete-album"]').click()
    with page.expect_response(is_stats) as answered:
        page.click("#delete-confirm")
    toast = page.get_by_test_id("toast")
    expect(toast).to_contain_text(f"Deleted album {first['Rank']}")
    expect(row).to_have_count(0)
    expect(page.locator("#album-count")).to_have_text(f"1 album matches “undo me {tag}”")
    # THEN the chart asked the stats again after the delete, and shows one album fewer in the 1910s
    deleted = answered.value.json()
    expect_chart_of(page, deleted)
    assert in_decade(deleted, 1910) < in_decade(before, 1910)  # (others write meanwhile: not an exact difference)
    with page.expect_response(is_stats) as answered:
        page.get_by_test_id("toast-action").click()
    # THEN it is back, with its fields at its Rank, and counted again, in the chart too
    expect(toast).to_contain_text(f"Restored album {first['Rank']}")
    expect(row.locator('td[data-field="Album"]')).to_have_text(first["Album"])
    expect(page.locator("#album-count")).to_have_text(f"2 albums match “undo me {tag}”")
    restored_stats = answered.value.json()
    expect_chart_of(page, restored_stats)
    assert in_decade(restored_stats, 1910) > in_decade(deleted, 1910)
    restored = albums.get(first["Rank"])
    assert (restored["Album"], restored["Artist"], restored["Year"]) == (first["Album"], "Undo Artist", 1913)
    # WHEN they delete the second, and someone else takes its Rank before they choose Undo
    page.locator(f'{ROWS}[data-rank="{second["Rank"]}"] [data-testid="delete-album"]').click()
    page.click("#delete-confirm")
    expect(toast).to_contain_text(f"Deleted album {second['Rank']}")
    assert albums.api.post({**{k: second[k] for k in ("Rank", "Genre", "Year")}, "Album": "Squatter",
                            "Artist": "Someone Else"}).status_code == 201
    page.get_by_test_id("toast-action").click()
    # THEN the page says the Rank was taken, and the other album stays
    expect(toast).to_have_attribute("data-kind", "error")
    expect(toast).to_contain_text(f"Rank {second['Rank']} was taken by another album in the meantime")
    assert albums.get(second["Rank"])["Album"] == "Squatter"


def test_the_edited_row_stays_in_view_with_its_draft_through_a_sort(page: Page, new_user, sign_in, albums) -> None:
    # GIVEN someone editing an album they found by a search
    tag = secrets.token_hex(3)
    album = albums.create(Album=f"Keep Me {tag}", Year=1980)
    sign_in(page, new_user())
    page.fill("#search", f"keep me {tag}")
    page.locator(f'{ROWS}[data-rank="{album["Rank"]}"] [data-testid="edit-album"]').click()
    page.locator('[data-testid="edit-Album"]').fill(f"Kept Draft {tag}")
    widths = page.locator("#albums-table thead th").evaluate_all("(cells) => cells.map((c) => c.offsetWidth)")
    # WHEN they sort the list and then clear the search
    page.click('button[data-sort-key="Year"]')
    expect(page.locator('th:has(button[data-sort-key="Year"])')).to_have_attribute("aria-sort", "ascending")
    page.fill("#search", "")
    expect(page.locator("#album-count")).to_contain_text("of")
    # THEN the row is still being edited, in view, with their draft, and the other rows cannot be edited meanwhile
    editing = page.locator(f'tr[data-editing="true"][data-rank="{album["Rank"]}"]')
    expect(editing).to_be_in_viewport()
    expect(editing.locator('[data-testid="edit-Album"]')).to_have_value(f"Kept Draft {tag}")
    expect(page.locator('[data-testid="edit-album"]').first).to_be_disabled()
    # AND the columns kept their widths through the edit, the sort and the new rows (fixed layout)
    assert page.locator("#albums-table thead th").evaluate_all("(cells) => cells.map((c) => c.offsetWidth)") == widths
    # WHEN they save, THEN the change is stored
    editing.locator('[data-testid="save-album"]').click()
    expect(page.get_by_test_id("toast")).to_contain_text(f"Saved album {album['Rank']}")
    assert albums.get(album["Rank"])["Album"] == f"Kept Draft {tag}"
