"""The seed albums: Rolling Stone's 500 Greatest Albums (2012), repaired and cut to the five fields we keep.

`data/albums.csv` is produced from the upstream list once and committed; this module holds the repair rules (so the
file can be rebuilt and reviewed) and the loader the bootstrap seeds from:

    python -m bootstrap.seed_data ../shared/data/albumlist.csv > data/albums.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any, TextIO

from albums.domain import FIELD

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "albums.csv"
FIELDS = ("Rank", "Album", "Artist", "Genre", "Year")  # the columns convert() writes: what the upstream list has
LOST = "\ufffd"  # the replacement character left where the source lost a byte

# The one lost letter; every other U+FFFD in the source is a lost space after a comma in a genre list.
_LOST_LETTERS = {"Honky Ch\ufffdteau": "Honky Château"}


def repair(text: str) -> str:
    for broken, fixed in _LOST_LETTERS.items():
        text = text.replace(broken, fixed)
    text = text.replace("," + LOST, ", ")
    if LOST in text:
        raise ValueError(f"unrepaired U+FFFD in {text!r}: add a rule to bootstrap/seed_data.py")
    return " ".join(text.split())


def convert(source: TextIO, out: TextIO) -> int:
    """Upstream columns (Number, Year, Album, Artist, Genre, Subgenre) -> our five fields, ordered by Rank."""
    rows: list[dict[str, Any]] = [
        {
            "Rank": int(row["Number"]),
            "Album": repair(row["Album"]),
            "Artist": repair(row["Artist"]),
            "Genre": repair(row["Genre"]),
            "Year": int(row["Year"]),
        }
        for row in csv.DictReader(source)
    ]
    rows.sort(key=lambda row: row["Rank"])
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)


def load_albums(path: Path = SEED_FILE) -> list[dict[str, Any]]:
    """The seed file's rows, an integer field of the table (albums.domain.FIELDS) as a number; any other column as
    written (an empty optional one means none; a column the table does not know is refused by the seed's checks)."""
    def typed(name: str, value: str) -> object:
        return int(value) if name in FIELD and FIELD[name].kind == "integer" and value.strip() else value

    with path.open(encoding="utf-8", newline="") as f:
        return [{name: typed(name, value) for name, value in row.items()} for row in csv.DictReader(f)]


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8", newline="") as src:
        count = convert(src, sys.stdout)
    print(f"{count} albums written", file=sys.stderr)
