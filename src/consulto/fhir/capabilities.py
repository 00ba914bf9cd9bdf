"""What the facade serves, declared next to each view and gathered into the CapabilityStatement
(``views/metadata.py``): a view module calls ``declare`` for its resource type at import."""

from __future__ import annotations

_RESOURCES: dict[str, dict] = {}
INSTANTIATES: list[str] = []


def declare(
    resource_type: str,
    *,
    interactions=("read", "search-type"),
    search_params: list[tuple[str, str, str]] = (),  # (name, type, documentation)
    operations: list[tuple[str, str]] = (),  # (name, definition canonical)
    search_include: list[str] = (),
    search_rev_include: list[str] = (),
    profiles: list[str] = (),
    documentation: str = "",
) -> None:
    entry = _RESOURCES.setdefault(resource_type, {"type": resource_type})
    entry["interaction"] = [{"code": code} for code in interactions] or None
    if search_params:
        entry["searchParam"] = [
            {"name": name, "type": kind, "documentation": doc or None}
            for name, kind, doc in search_params
        ]
    if operations:
        entry["operation"] = [
            {"name": name, "definition": canonical} for name, canonical in operations
        ]
    if search_include:
        entry["searchInclude"] = list(search_include)
    if search_rev_include:
        entry["searchRevInclude"] = list(search_rev_include)
    if profiles:
        entry["supportedProfile"] = list(profiles)
    if documentation:
        entry["documentation"] = documentation


def resources() -> list[dict]:
    from . import urls  # noqa: F401  (every view module declared itself on import)

    return [
        {key: value for key, value in entry.items() if value is not None}
        for _name, entry in sorted(_RESOURCES.items())
    ]


def system_operations() -> list[dict]:
    return []


def scopes() -> list[str]:
    from .access import SCOPES

    return list(SCOPES)
