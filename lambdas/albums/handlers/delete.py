"""albums-delete: DELETE /album?rank=N[&version=V] -> 204; with a version, only if the album is still at it."""

from albums.domain import parse_expected_version, parse_rank
from albums.http import Request, Response, api_handler
from albums.repository import default_repository


@api_handler
def handler(request: Request) -> Response:
    rank = parse_rank(request.query)
    default_repository().delete(rank, expected_version=parse_expected_version(request.query))
    return Response(204)
