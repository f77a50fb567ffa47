"""Stopping families' links from the staff's pages and the sessions API alike: a stopped link
(or one replaced by a new letter) closes at once every device it opened, so a leaked link
leaves nobody in the room. The closing is the web layer's (the room's sockets live here).
"""

from __future__ import annotations

from safeclass.app import invitations
from safeclass.bootstrap import Services


async def close_devices(services: Services, pass_ids: list[str]) -> None:
    """Close the room's socket of every device holding one of these (revoked) pupil passes, on
    every worker."""
    for pass_id in pass_ids:
        await services.device_sockets.close_everywhere(pass_id, is_staff=False)


async def stop_family_link(
    services: Services, school_id: str, session_id: str, pupil_id: str
) -> int:
    """Stop one family's link at once and close every device it opened; how many were closed.
    Raises `invitations.NotOnSessionError` when the pupil has no link for this session."""
    passes = await invitations.revoke_invitation(
        services.invitations,
        school_id=school_id,
        session_id=session_id,
        pupil_id=pupil_id,
        now=services.clock.now(),
    )
    await close_devices(services, passes)
    return len(passes)
