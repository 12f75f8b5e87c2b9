"""API keys → groups. Keys are stored only as sha256 hex digests and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vlsearch.api.errors import UnauthorizedError
from vlsearch.config import KeyGrant

API_KEY_HEADER = "X-API-Key"


ADMIN = "admin"
METRICS = "metrics"


@dataclass(frozen=True)
class Caller:
    """Who is calling. groups None means auth is off: the caller sees everything (loopback only)
    and is the administrator (whoever can reach a keyless server runs it)."""

    groups: tuple[str, ...] | None
    key_id: str = ""  # first 8 hex chars of the key's digest, for logs; never the key itself
    roles: frozenset[str] = frozenset()

    @property
    def unrestricted(self) -> bool:
        return self.groups is None

    @property
    def is_admin(self) -> bool:
        return self.groups is None or ADMIN in self.roles

    @property
    def may_scrape_metrics(self) -> bool:
        return self.is_admin or METRICS in self.roles

    def can_see(self, item_groups: Sequence[str]) -> bool:
        if self.groups is None:
            return True
        return bool(set(self.groups) & set(item_groups))


def hash_key(key: str) -> str:
    """The digest to put in VLSEARCH_API_KEYS for a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyRing:
    """Checks presented keys against the configured digests."""

    def __init__(self, digests: Mapping[str, Sequence[str] | KeyGrant]) -> None:
        entries = []
        for digest, grant in digests.items():
            if not isinstance(grant, KeyGrant):
                grant = KeyGrant(groups=list(grant))
            entries.append(
                (digest.strip().lower().encode("ascii"), tuple(grant.groups), frozenset(grant.roles))
            )
        self._entries: tuple[tuple[bytes, tuple[str, ...], frozenset[str]], ...] = tuple(entries)

    @property
    def enabled(self) -> bool:
        return bool(self._entries)

    def authenticate(self, presented: str | None) -> Caller:
        if not self.enabled:
            return Caller(groups=None)
        if not presented:
            raise UnauthorizedError(
                f"An API key is required: send it as '{API_KEY_HEADER}: <key>' "
                "or 'Authorization: Bearer <key>'."
            )
        digest = hash_key(presented).encode("ascii")
        found: tuple[tuple[str, ...], frozenset[str]] | None = None
        # Compare against every entry so timing does not reveal which (or whether a) digest matched early.
        for entry_digest, groups, roles in self._entries:
            if hmac.compare_digest(entry_digest, digest):
                found = (groups, roles)
        if found is None:
            raise UnauthorizedError("The API key is not recognised; check the key or ask an administrator.")
        return Caller(groups=found[0], key_id=digest[:8].decode("ascii"), roles=found[1])


def key_from_headers(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
