"""The demo personas: one per role, so a visitor can try each."""

from __future__ import annotations

from dataclasses import dataclass

from collab.accounts.models import Role

COLLABORATIVE_ODS = "HGP01"
COLLABORATIVE_NAME = "HEREFORDSHIRE GENERAL PRACTICE"
HOME_PRACTICE = "M81026"  # Hereford Medical Group
OTHER_PRACTICE = "M81012"  # Ledbury Health Partnership


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    role: str
    ods: str
    blurb: str


PERSONAS = [
    Persona("rachel.reception", "Rachel", "Price", Role.CARE_NAVIGATOR, HOME_PRACTICE,
            "Receptionist at Hereford Medical Group: books patients into the hub, sees follow-up tasks."),
    Persona("priya.manager", "Priya", "Shah", Role.PRACTICE_MANAGER, HOME_PRACTICE,
            "Practice manager at Hereford Medical Group: buys extra hub capacity."),
    Persona("gareth.gp", "Gareth", "Evans", Role.GP, HOME_PRACTICE, "GP at Hereford Medical Group."),
    Persona("lucy.reception", "Lucy", "Morgan", Role.CARE_NAVIGATOR, OTHER_PRACTICE,
            "Receptionist at Ledbury Health Partnership: cannot see Hereford Medical Group's patients."),
    Persona("helen.hubmanager", "Helen", "Clarke", Role.HUB_MANAGER, COLLABORATIVE_ODS,
            "Hub manager: approves capacity, runs the duty doctor rota, meters use; links staff's CIS2 identities."),
    Persona("sam.hubgp", "Sam", "Okafor", Role.GP, COLLABORATIVE_ODS,
            "Remote hub GP: day list across every practice, consultations."),
    Persona("nina.hubanp", "Nina", "Kowalski", Role.ADVANCED_NURSE_PRACTITIONER, COLLABORATIVE_ODS,
            "Advanced nurse practitioner in the remote hub."),
    Persona("alex.analyst", "Alex", "Turner", Role.ANALYST, COLLABORATIVE_ODS,
            "Analyst: activity dashboards, no patient records."),
    Persona("paula.privacy", "Paula", "Hughes", Role.PRIVACY_OFFICER, COLLABORATIVE_ODS,
            "Privacy officer: who looked at which record, and why."),
    Persona("olivia.ooh", "Olivia", "Bennett", Role.GP, COLLABORATIVE_ODS,
            "Out-of-hours GP: the evening case list from NHS 111 and triage, consultations, reviews booked at practices."),
    Persona("tara.triagegp", "Tara", "Bennett", Role.GP, COLLABORATIVE_ODS,
            "Triage GP at the collaborative's front door: triages requests from every practice, once."),
    Persona("phil.pharmacist", "Phil", "Jenkins", Role.CLINICAL_PHARMACIST, COLLABORATIVE_ODS,
            "Pharmacist: sees the requests triage routes to community pharmacy."),
    Persona("erin.eagp", "Erin", "Lloyd", Role.GP, COLLABORATIVE_ODS,
            "Enhanced access GP, Hereford City: evening and Saturday appointments, the note written from each one."),
]
# Personas who act in one of the collaborative's services rather than the organisation as a whole.
# Enhanced access is a PCN's service: Erin works in the home practice's PCN's.
PERSONA_SERVICES = {"olivia.ooh": "out_of_hours", "erin.eagp": "enhanced_access"}
