"""One definition of length: characters (Unicode code points), in the API's rules and in the JSON Schema that the
OpenAPI file and the site's config.js carry. The site counts the same way (forms.js `charLength`, e2e-tested with
emoji in tests/e2e/test_first_minutes.py); a browser's maxlength would count UTF-16 units instead."""

from __future__ import annotations

import jsonschema
import pytest

from albums import domain
from albums.domain import InvalidRequest, validate_new_album

from .factory import album_body

GUITAR = "\U0001F3B8"  # one character, two UTF-16 units, four UTF-8 bytes


@pytest.mark.parametrize("field", ["Album", "Artist", "Genre"])
def test_the_api_counts_characters_not_utf16_units(field: str) -> None:
    assert len(GUITAR.encode("utf-16-le")) // 2 == 2
    assert validate_new_album(album_body(**{field: GUITAR * domain.TEXT_MAX_LENGTH}))
    with pytest.raises(InvalidRequest) as refused:
        validate_new_album(album_body(**{field: GUITAR * (domain.TEXT_MAX_LENGTH + 1)}))
    assert field in refused.value.fields


def test_the_schema_counts_the_same_way() -> None:
    schema = domain.album_json_schema()
    jsonschema.validate(album_body(Album=GUITAR * domain.TEXT_MAX_LENGTH), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(album_body(Album=GUITAR * (domain.TEXT_MAX_LENGTH + 1)), schema)
