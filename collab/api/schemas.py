"""Request and response shapes for the OpenAPI schema (validated by pydantic).

The booking body is plain pydantic (not ninja's Schema, whose per-object validator reads Django
models and costs several times the validation itself): the lean booking view validates with it
directly (docs/adr/0006-booking-hot-path.md).
"""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field


class Reference(BaseModel):
    reference: str = Field(max_length=64)


class Identifier(BaseModel):
    system: str = Field(max_length=200)
    value: str = Field(max_length=64)


class ParticipantActor(BaseModel):
    reference: str | None = Field(default=None, max_length=64)
    identifier: Identifier | None = None


class Participant(BaseModel):
    actor: ParticipantActor
    status: str | None = Field(default=None, max_length=32)


class AppointmentIn(BaseModel):
    """A FHIR Appointment to book: one slot, the patient as a participant, a short reason."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["Appointment"]
    status: Literal["booked"] = "booked"
    slot: list[Reference] = Field(min_length=1, max_length=1)
    participant: list[Participant] = Field(min_length=1, max_length=10)
    description: str = Field(min_length=1, max_length=200)


class AppointmentCancel(Schema):
    """GP Connect cancel: the same Appointment with status cancelled and a cancellation reason."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["Appointment"]
    status: Literal["cancelled"]
    cancelationReason: str | dict[str, Any] = Field(...)


class Resource(Schema):
    model_config = ConfigDict(extra="allow")
    resourceType: str


class BundleOut(Schema):
    model_config = ConfigDict(extra="allow")
    resourceType: Literal["Bundle"]
    type: Literal["searchset"]
    total: int
    entry: list[dict[str, Any]]


class OperationOutcomeOut(Schema):
    model_config = ConfigDict(extra="allow")
    resourceType: Literal["OperationOutcome"]
    issue: list[dict[str, Any]]


class AppointmentOut(Schema):
    model_config = ConfigDict(extra="allow")
    resourceType: Literal["Appointment"]
    id: str
    status: str
    start: str
    end: str
    slot: list[dict[str, Any]]
    participant: list[dict[str, Any]]
    meta: dict[str, Any] | None = None
    description: str | None = None
    created: str | None = None
    extension: list[dict[str, Any]] | None = None
    cancelationReason: dict[str, Any] | None = None
