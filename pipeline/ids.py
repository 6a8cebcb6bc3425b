"""Identifiers: a prefix and a ULID, so ids sort by creation time (cursor paging relies on it)."""

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{str(ULID()).lower()}"
