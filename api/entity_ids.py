"""Entity ids in URL paths. Ids may hold `/` (an OCDS contract is `<ocid>/<contract id>`), so a route's id is
not one path segment: `{id:entity_id}` takes everything up to the route's fixed tail (`/exposure`,
`/export.json`, `/answers`, ...). Links are built with every reserved character percent-encoded (`/` as %2F,
see `id_in_path`); the server decodes %2F back to `/` before routing, so both forms reach the same page.

An id ending in one of the tails below cannot be told from the route with that tail, and is not reachable.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.convertors import Convertor, register_url_convertor

TAILS = r"/export\.[^/]+|/answers|/exposure|/exposed-affiliates"


class EntityIdConvertor(Convertor[str]):
    # One or more characters, none starting one of the TAILS that ends the path.
    regex = rf"(?:(?!(?:{TAILS})$).)+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return id_in_path(value)


def id_in_path(value: object) -> str:
    """An id as one path segment: every reserved character, `/` too, percent-encoded."""
    return quote(str(value), safe="")


def urlencode_all(value: object) -> str:
    """Jinja's `urlencode` for links: a string with `/` encoded too (Jinja keeps `/`, so an id holding one
    would point at another page); dicts and lists as Jinja does (query strings)."""
    if isinstance(value, str):
        return id_in_path(value)
    from jinja2.filters import do_urlencode

    return do_urlencode(value)  # type: ignore[arg-type]


register_url_convertor("entity_id", EntityIdConvertor())
