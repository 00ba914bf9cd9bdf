"""Background tasks of onboarding (Django's Tasks API, run by the task worker)."""

from django_tasks import task

from . import invitations


@task()
def send_invitation(invitation_id: int, expected_hash: str, base_url: str) -> str:
    """E-mail one invitation; enqueued after the commit that created (or renewed) it."""
    return invitations.deliver_invitation(
        invitation_id=invitation_id, expected_hash=expected_hash, base_url=base_url
    )
