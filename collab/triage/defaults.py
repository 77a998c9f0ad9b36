"""The routing rules, response targets and red flags a new collaborative starts with.

The hub manager edits rules and targets in the app (each edit is a new version); these are only
the first version. Red flags follow the NHS 111 online "call 999 now" screen in plain words.
"""

from __future__ import annotations

import datetime as dt

from collab.organisations.models import Service
from collab.triage.models import RequestKind, Route, Urgency

K = Service.Kind
WINTER = "10 11 12 1 2 3"  # The children's respiratory hub runs October to March.

DEFAULT_RULES: list[dict] = [
    {"position": 10, "route": Route.EMERGENCY, "service_kind": "", "note": "999 or A&E: no collab service takes it"},
    {"position": 20, "route": Route.PRACTICE, "request_kind": RequestKind.ADMIN, "service_kind": K.PRACTICE,
     "note": "Admin work stays with the registered practice"},
    {"position": 30, "route": Route.PRACTICE, "urgencies": "urgent", "weekdays": "01234",
     "from_time": dt.time(18, 30), "until_time": dt.time(8, 0), "service_kind": K.OUT_OF_HOURS,
     "note": "Urgent practice work on weekday evenings and nights goes to out of hours"},
    {"position": 31, "route": Route.PRACTICE, "urgencies": "urgent", "weekdays": "56", "service_kind": K.OUT_OF_HOURS,
     "note": "Urgent practice work at weekends goes to out of hours"},
    {"position": 40, "route": Route.PRACTICE, "request_kind": RequestKind.MEDICAL, "when_practice_full": "yes",
     "service_kind": K.REMOTE_HUB, "note": "Practice full: the pooled hub takes medical work"},
    {"position": 50, "route": Route.PRACTICE, "service_kind": K.PRACTICE, "note": "The registered practice"},
    {"position": 60, "route": Route.HUB, "service_kind": K.REMOTE_HUB, "note": "The remote hub"},
    {"position": 70, "route": Route.PHARMACY, "service_kind": K.COMMUNITY_PHARMACY, "note": "Pharmacy First"},
    {"position": 80, "route": Route.MSK, "min_age": 16, "service_kind": K.MSK_PHYSIO,
     "note": "First-contact physiotherapy sees people aged 16 and over"},
    {"position": 81, "route": Route.MSK, "service_kind": K.PRACTICE, "note": "Children with MSK problems: their practice"},
    {"position": 90, "route": Route.SOCIAL_PRESCRIBING, "service_kind": K.SOCIAL_PRESCRIBING,
     "note": "Social prescribing link workers"},
    {"position": 100, "route": Route.CHILDRENS_RESPIRATORY, "max_age": 15, "months": WINTER,
     "service_kind": K.CHILDRENS_RESPIRATORY, "note": "Under-16s, October to March"},
    {"position": 101, "route": Route.CHILDRENS_RESPIRATORY, "service_kind": K.REMOTE_HUB,
     "note": "Out of season or aged 16 and over: the remote hub"},
    {"position": 110, "route": Route.ENHANCED_ACCESS, "service_kind": K.ENHANCED_ACCESS,
     "note": "Weekday evenings 18:30-20:00 and Saturdays"},
    {"position": 120, "route": Route.OUT_OF_HOURS, "service_kind": K.OUT_OF_HOURS, "note": "Out of hours"},
]

AWAITING_TRIAGE = "awaiting_triage"
DEFAULT_TARGETS: dict[str, dict] = {
    AWAITING_TRIAGE: {"minutes": 630, "working_hours": True},  # triaged and contacted within one working day
    Urgency.EMERGENCY: {"minutes": 15, "working_hours": False},
    Urgency.URGENT: {"minutes": 120, "working_hours": False},
    Urgency.SOON: {"minutes": 2 * 630, "working_hours": True},
    Urgency.ROUTINE: {"minutes": 10 * 630, "working_hours": True},
}

# The services whose slots "book the earliest suitable slot" may use for a route, besides the
# service the rules chose (which always comes first).
ROUTE_ALSO_BOOKS: dict[str, tuple[str, ...]] = {
    Route.HUB: (K.ENHANCED_ACCESS,),
    Route.PRACTICE: (K.REMOTE_HUB, K.ENHANCED_ACCESS),
    Route.ENHANCED_ACCESS: (K.REMOTE_HUB,),
}

RED_FLAGS_999: list[tuple[str, str]] = [
    ("chest_pain", "Chest pain or pressure, or pain spreading to the arm, neck, jaw or back"),
    ("breathing", "Severe difficulty breathing, or lips or face turning blue"),
    ("stroke", "Face drooping, arm weakness or slurred speech (signs of a stroke)"),
    ("bleeding", "Heavy bleeding that will not stop"),
    ("unconscious", "Fainting, a seizure or fit, or being hard to wake"),
    ("allergy", "Swelling of the lips, mouth or throat, or a severe allergic reaction"),
    ("sepsis", "Mottled, blue or very pale skin, or a rash that does not fade when a glass is pressed on it"),
]
RED_FLAGS_111: list[tuple[str, str]] = [
    ("baby_fever", "A baby under 3 months with a temperature of 38C or higher"),
    ("mental_health_crisis", "Thoughts of harming yourself or ending your life"),
    ("severe_pain", "Severe pain that painkillers are not helping"),
]
