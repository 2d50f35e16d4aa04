"""albums-create: POST /album {the fields of albums.domain.FIELDS} -> 201 with the stored album (version 1)."""

from albums.domain import validate_new_album
from albums.http import Request, Response, api_handler
from albums.repository import default_repository


@api_handler
def handler(request: Request) -> Response:
    new_album = validate_new_album(request.json_body())
    return Response(201, default_repository().create(new_album, caller=request.caller).to_json())
