"""albums-update: PUT /album?rank=N {any editable field of albums.domain.FIELDS, version} -> 200, version+1."""

from albums.domain import parse_rank, validate_album_changes
from albums.http import Request, Response, api_handler
from albums.repository import default_repository


@api_handler
def handler(request: Request) -> Response:
    rank = parse_rank(request.query)
    changes = validate_album_changes(request.json_body())
    return Response(200, default_repository().update(rank, changes, caller=request.caller).to_json())
