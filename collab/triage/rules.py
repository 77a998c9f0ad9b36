"""Who may open which triage page: the acting role decides (see collab.accounts.rules)."""

from __future__ import annotations

from collab.accounts.models import CLINICAL_ROLES, Role
from collab.accounts.rules import HUB_STAFF, PRACTICE_STAFF

TRIAGE_CLINICIANS = frozenset(CLINICAL_ROLES)
# Everyone who works a queue: practice staff, hub staff.
QUEUE_STAFF = PRACTICE_STAFF | HUB_STAFF
# Raise a request for a patient: a care navigator on the phone, or a practice clinician.
REQUEST_TAKERS = frozenset({Role.CARE_NAVIGATOR, *CLINICAL_ROLES})
