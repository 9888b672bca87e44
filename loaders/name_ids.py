"""Ids made from names, for records that have no identifier of their own (OCDS parties and brands, OS Hub
facilities and their parent companies)."""

from __future__ import annotations

import re

SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return SLUG.sub("-", text.lower()).strip("-")


def name_slug(name: str) -> str:
    """An id part for a company known only by name: name variants ("Co., Ltd.", "Company Limited") agree."""
    from supplygraph.loaders.resolve import name_key

    return slug(name_key(name)) or slug(name)
