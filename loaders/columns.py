"""Column-wise validation and conversion of string cells to typed Arrow arrays.

Each converter takes the trimmed string column (null = empty cell) and returns the typed
column and a boolean mask of the cells that are not valid, with the message for them.
Everything is vectorised: a Python object per row would cost the whole load budget.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import countrynames
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from supplygraph.graph.schema import Property

Converted = tuple[pa.Array, pa.Array, Callable[[str], str]]

DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
FLOAT_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
INT_RE = r"^[+-]?\d+$"
CURRENCY_RE = r"^[A-Z]{3}$"
# Control characters (C0, DEL, C1) and invisible format characters (zero-width spaces and joiners, soft hyphen,
# bidirectional overrides, BOM): in an id they make two ids that print alike ("FA-SH2" and "FA-SH2\x00").
HIDDEN_RE = r"[\p{Cc}\p{Cf}]"


def is_id_column(prop: Property) -> bool:
    """A column holding ids: a file's key, a link's ends, a reference (`*_id`) or a list of them (`*_ids`)."""
    return prop.name in ("id", "from_id", "to_id") or prop.column.endswith(("_id", "_ids"))


def hidden_characters(column: pa.Array) -> Converted:
    """The cells of an id column holding control or invisible formatting characters."""
    bad = pc.fill_null(pc.match_substring_regex(column, HIDDEN_RE), False)
    return (
        column,
        bad,
        lambda v: f"{v!r} holds a control or invisible formatting character; ids may not (it would be a second id "
        "that prints like another)",
    )


def _bad(column: pa.Array, converted: pa.Array) -> pa.Array:
    """Cells that were given but did not convert."""
    return pc.and_(pc.is_valid(column), pc.is_null(converted))


def to_date(column: pa.Array) -> Converted:
    if column.null_count == len(column):  # an optional column left empty (validity dates of most links): nothing to parse
        return pa.nulls(len(column), pa.date32()), pa.array(np.zeros(len(column), bool)), lambda v: ""
    shaped = pc.match_substring_regex(column, DATE_RE)
    parsed = pc.strptime(column, format="%Y-%m-%d", unit="s", error_is_null=True)
    dates = pc.cast(parsed, pa.date32())
    # strptime rolls 2024-02-30 over to March: only dates that print back as given are valid.
    exact = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), column)
    dates = pc.if_else(pc.and_(shaped, pc.fill_null(exact, False)), dates, pa.scalar(None, pa.date32()))
    return dates, _bad(column, dates), lambda v: f"{v!r} is not a date; expected YYYY-MM-DD"


def to_float(column: pa.Array) -> Converted:
    ok = pc.match_substring_regex(column, FLOAT_RE)
    values = pc.cast(pc.if_else(ok, column, pa.scalar(None, pa.string())), pa.float64())
    return values, _bad(column, values), lambda v: f"{v!r} is not a number; expected e.g. 1250.50"


def to_int(column: pa.Array) -> Converted:
    ok = pc.match_substring_regex(column, INT_RE)
    values = pc.cast(pc.if_else(ok, column, pa.scalar(None, pa.string())), pa.int64())
    return values, _bad(column, values), lambda v: f"{v!r} is not a whole number"


# ISO 3166-1 alpha-2 codes (plus XK, Kosovo's user-assigned code in common use).
ISO_ALPHA2 = frozenset(
    (
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI "
        "BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN "
        "CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK "
        "FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM "
        "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
        "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK "
        "ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP "
        "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
        "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF "
        "TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
        "VN VU WF WS YE YT ZA ZM ZW "
        "XK"
    ).split()
)


@cache
def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for a code or an English country name; None if it is neither."""
    if value.upper() in ISO_ALPHA2:
        return value.upper()
    code = countrynames.to_code(value)  # also gives codes that are no country: ZZ ("Global"), EU, DD, ZR
    return code if code in ISO_ALPHA2 else None


def to_country(column: pa.Array) -> Converted:
    unique = pc.unique(column).drop_null().to_pylist()
    codes = pa.array([country_code(v) for v in unique], pa.string())
    index = pc.index_in(column, value_set=pa.array(unique, pa.string()))
    values = pc.take(codes, index) if unique else pa.nulls(len(column), pa.string())
    return (
        values,
        _bad(column, values),
        lambda v: f"{v!r} is not a country; expected an ISO 3166-1 alpha-2 code (CN, TH, CZ) or a country name",
    )


def to_currency(column: pa.Array) -> Converted:
    upper = pc.utf8_upper(column)
    ok = pc.match_substring_regex(upper, CURRENCY_RE)
    values = pc.if_else(ok, upper, pa.scalar(None, pa.string()))
    return values, _bad(column, values), lambda v: f"{v!r} is not a currency; expected an ISO 4217 code like EUR"


def to_enum(column: pa.Array, allowed: tuple[str, ...]) -> Converted:
    lower = pc.utf8_lower(column)
    ok = pc.is_in(lower, value_set=pa.array(allowed))
    values = pc.if_else(ok, lower, pa.scalar(None, pa.string()))
    return values, _bad(column, values), lambda v: f"{v!r} is not one of: {', '.join(allowed)}"


def to_list(column: pa.Array, allowed: tuple[str, ...] = ()) -> Converted:
    """A `|`-separated cell as a list of trimmed, non-empty strings (lower-cased when an enum)."""
    parts = pc.split_pattern(pc.fill_null(column, ""), "|")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    parents = pc.list_parent_indices(parts)
    keep = pc.not_equal(flat, "")
    flat, parents = flat.filter(keep), parents.filter(keep)
    bad = pa.array(np.zeros(len(column), dtype=bool))
    if allowed:
        flat = pc.utf8_lower(flat)
        wrong = pc.invert(pc.is_in(flat, value_set=pa.array(allowed)))
        bad_rows = pc.unique(parents.filter(wrong))
        bad = pc.is_in(pa.array(np.arange(len(column))), value_set=pc.cast(bad_rows, pa.int64()))
    offsets = _offsets(parents, len(column))
    lists = pa.ListArray.from_arrays(offsets, flat)
    lists = pc.if_else(pc.is_valid(column), lists, pa.scalar(None, pa.list_(pa.string())))
    return lists, bad, lambda v: f"{v!r} has a value that is not one of: {', '.join(allowed)}"


def _offsets(parents: pa.Array, length: int) -> pa.Array:
    sizes = np.bincount(np.asarray(parents, dtype=np.int64), minlength=length)
    return pa.array(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32))


def convert(prop: Property, column: pa.Array) -> Converted | None:
    """The typed column for a schema property; None for plain strings."""
    match prop.type:
        case "date":
            return to_date(column)
        case "float":
            return to_float(column)
        case "int":
            return to_int(column)
        case "country":
            return to_country(column)
        case "currency":
            return to_currency(column)
        case "enum":
            return to_enum(column, prop.values)
        case "list" | "enum_list":
            return to_list(column, prop.values)
    return None


def out_of_range(prop: Property, values: pa.Array) -> pa.Array | None:
    if prop.min is None and prop.max is None:
        return None
    mask = pa.array(np.zeros(len(values), dtype=bool))
    if prop.min is not None:
        mask = pc.or_(mask, pc.fill_null(pc.less(values, prop.min), False))
    if prop.max is not None:
        mask = pc.or_(mask, pc.fill_null(pc.greater(values, prop.max), False))
    return mask
