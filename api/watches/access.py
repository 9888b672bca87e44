"""Who may watch what, and whose watch is whose: the same tenancy rules as everywhere else.

A watch belongs to a tenant: an affiliate key's affiliate (every key of that affiliate shares its
watches), another key itself, or `local` for watches made with the CLI without --key. An affiliate
key may watch only its own affiliate's exposure (any other affiliate answers 404, as an unknown id);
who is exposed to a factory, agency or finding is for investigator keys and above. Another tenant's
watch answers 404 exactly as an unknown id; admin keys (and the local CLI) see every watch.
"""

from __future__ import annotations

from supplygraph.api.keys import Keys, Principal, Role
from supplygraph.api.watches.model import Watch
from supplygraph.api.watches.store import WatchStore
from supplygraph.graph.errors import InvalidParameter, NotFound, SupplygraphError
from supplygraph.queries.basis import check_basis
from supplygraph.queries.changes import SEVERITIES, WATCH_KINDS, Question
from supplygraph.queries.exposure import check_depth

LOCAL = "local"


class NotAllowed(SupplygraphError):
    http_status = 403
    exit_code = 2
    title = "Forbidden"


def tenant_of(caller: Principal | None) -> str:
    if caller is None:
        return LOCAL
    return f"affiliate:{caller.affiliate_id}" if caller.role == Role.affiliate else f"key:{caller.key_id}"


def live_tenants(keyring: Keys) -> set[str]:
    """The tenants with a key not revoked, and the local operator: only their watches are answered again,
    delivered and fed (a watch whose every key was revoked pauses; a new key of its affiliate resumes it)."""
    live = {LOCAL}
    for key in keyring.list():
        if key.revoked is None:
            live.add(f"affiliate:{key.affiliate_id}" if key.role == Role.affiliate.value else f"key:{key.id}")
    return live


def sees_all(caller: Principal | None) -> bool:
    return caller is None or caller.role == Role.admin


def visible_watch(watches: WatchStore, caller: Principal | None, watch_id: str) -> Watch:
    """The watch if the caller's tenant owns it (admins, local: any); NotFound otherwise, as for an unknown id."""
    watch = watches.get(watch_id)
    if not sees_all(caller) and watch.tenant != tenant_of(caller):
        raise NotFound(f"no watch with id {watch_id!r}")
    return watch


def check_question(
    caller: Principal | None,
    kind: str,
    target: str,
    depth: int,
    min_basis: str | None,
    min_severity: str | None,
    max_depth: int = 8,
) -> Question:
    """The question if `caller` may watch it; NotFound for another affiliate, NotAllowed for a role below."""
    if kind not in WATCH_KINDS:
        raise InvalidParameter("kind", f"must be one of {', '.join(WATCH_KINDS)}, got {kind!r}")
    check_depth(depth, max_depth)
    if min_basis is not None:
        check_basis(min_basis)
    if min_severity is not None and min_severity not in SEVERITIES:
        raise InvalidParameter("min_severity", f"must be one of {', '.join(SEVERITIES)}, got {min_severity!r}")
    if caller is not None and kind == "affiliate":
        if caller.role == Role.affiliate and target != caller.affiliate_id:
            raise NotFound(f"no affiliate with id {target!r}")  # the text queries/exposure.py uses
    elif caller is not None and not caller.at_least(Role.investigator):
        raise NotAllowed("watching who is exposed to a factory, agency or finding needs an investigator key or above")
    return Question(kind, target, depth, min_basis, min_severity)
