"""Audit events: call ``record`` in the same transaction as the read or write it describes."""

from __future__ import annotations

from .models import AuditEvent

Action = AuditEvent.Action


def record(
    *,
    actor,
    action: str,
    target_type: str,
    target_id,
    organisation_id: int | None = None,
    patient_file_id: int | None = None,
    on_behalf_of=None,
    on_behalf_of_id: int | None = None,
    ip: str | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        on_behalf_of_id=on_behalf_of.pk if on_behalf_of is not None else on_behalf_of_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        organisation_id=organisation_id,
        patient_file_id=patient_file_id,
        ip=ip or None,
    )


def client_ip(request) -> str | None:
    """The address the request came from. Behind a proxy, uvicorn's --proxy-headers (with
    --forwarded-allow-ips) puts the client's address here; a header alone is never trusted."""
    return request.META.get("REMOTE_ADDR") or None
