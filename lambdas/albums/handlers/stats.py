"""albums-stats: GET /album/stats -> the whole collection's albums per genre and per decade and its ten artists with
the most albums, from the catalog (the directory item and any bucket that changed: no album is read)."""

from albums.http import Request, Response, api_handler
from albums.repository import default_repository


@api_handler
def handler(_request: Request) -> Response:
    return Response(200, default_repository().refresh_catalog().stats().to_json())
