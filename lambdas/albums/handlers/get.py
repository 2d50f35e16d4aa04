"""albums-get: GET /album?rank=N -> one album; GET /album?q=&sort=&order=&limit=&nextToken= -> a page of the albums
matching the search, in the asked order, with the whole result's total and decade counts."""

from albums.domain import parse_page_request, parse_rank
from albums.http import Request, Response, api_handler
from albums.repository import default_repository


@api_handler
def handler(request: Request) -> Response:
    rank = parse_rank(request.query, required=False)
    if rank is not None:
        return Response(200, default_repository().get(rank).to_json())
    page = parse_page_request(request.query)
    return Response(200, default_repository().list_page(page).to_json())
