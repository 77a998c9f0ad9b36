"""The fake NHS Notify client against the API's published contract (GOV.UK Notify API v2, on
which NHS Notify's messaging is built).

The shapes below are transcribed from the published API reference ("Send a text message",
"Send an email", "Get the status of one message"): request bodies POSTed to
/v2/notifications/sms and /v2/notifications/email, the 201 response bodies, and the status
values. They are strict (extra fields forbidden) so the fake cannot drift from them unnoticed.
"""

from __future__ import annotations

import json
import uuid
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from collab.integrations import notify


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SmsRequest(Strict):
    phone_number: str
    template_id: uuid.UUID
    personalisation: dict[str, str] | None = None
    reference: str | None = Field(default=None, max_length=1000)
    sms_sender_id: uuid.UUID | None = None


class EmailRequest(Strict):
    email_address: str
    template_id: uuid.UUID
    personalisation: dict[str, str] | None = None
    reference: str | None = Field(default=None, max_length=1000)
    email_reply_to_id: uuid.UUID | None = None


class TemplateRef(Strict):
    id: uuid.UUID
    version: int
    uri: str


class SmsContent(Strict):
    body: str
    from_number: str


class EmailContent(Strict):
    body: str
    subject: str
    from_email: str


class SmsResponse(Strict):
    id: uuid.UUID
    reference: str | None
    content: SmsContent
    uri: str
    template: TemplateRef
    scheduled_for: str | None = None


class EmailResponse(Strict):
    id: uuid.UUID
    reference: str | None
    content: EmailContent
    uri: str
    template: TemplateRef
    scheduled_for: str | None = None


SMS_STATUS = Literal["created", "sending", "pending", "sent", "delivered", "permanent-failure", "temporary-failure",
                     "technical-failure"]


class NotificationStatus(BaseModel):
    # The status response carries more fields than we read; the ones we read must be there.
    id: uuid.UUID
    reference: str | None
    type: Literal["sms", "email", "letter"]
    status: SMS_STATUS
    body: str


@pytest.fixture
def client():
    return notify.FakeNotifyClient()


def test_sms_request_and_response_match_the_published_shapes(client):
    response = client.send_sms(phone_number="07700900123", template_id=notify.TEMPLATE_FOR[("acknowledgement", "sms")],
                               personalisation={"reference": "R-ABC", "service": "Remote hub", "contact_by": "today",
                                                "phone": "01432 000100"}, reference="R-ABC-ack")
    SmsRequest.model_validate(client.sent[-1].request)
    parsed = SmsResponse.model_validate(response)
    assert parsed.reference == "R-ABC-ack" and "R-ABC" in parsed.content.body and "((" not in parsed.content.body
    assert parsed.uri.endswith(f"/v2/notifications/{parsed.id}")
    status = NotificationStatus.model_validate(client.get_notification(response["id"]))
    assert status.type == "sms" and status.status in notify.SMS_STATUSES


def test_email_request_and_response_match_the_published_shapes(client):
    response = client.send_email(email_address="pat@example.com", template_id=notify.TEMPLATE_FOR[("booking", "email")],
                                 personalisation={"when": "1 December 2026, 09:00", "channel": "telephone",
                                                  "service": "Remote hub", "phone": "01432 000100"})
    EmailRequest.model_validate(client.sent[-1].request)
    parsed = EmailResponse.model_validate(response)
    assert parsed.reference is None and parsed.content.subject.startswith("Appointment booked")


def test_every_template_fills_from_the_personalisation_services_send():
    for (purpose, channel), template_id in notify.TEMPLATE_FOR.items():
        template = notify.TEMPLATES[template_id]
        assert template.type == channel, purpose
        uuid.UUID(template_id)


def test_errors_are_shaped_as_the_api_answers(client):
    with pytest.raises(notify.NotifyError) as missing:
        client.send_sms(phone_number="07700900123", template_id=notify.TEMPLATE_FOR[("outcome", "sms")], personalisation={})
    assert missing.value.status_code == 400 and missing.value.errors[0]["error"] == "BadRequestError"
    with pytest.raises(notify.NotifyError) as wrong:
        client.send_email(email_address="pat@example.com", template_id=notify.TEMPLATE_FOR[("outcome", "sms")],
                          personalisation={})
    assert wrong.value.status_code == 400
    with pytest.raises(notify.NotifyError) as bad_number:
        client.send_sms(phone_number="not a number", template_id=notify.TEMPLATE_FOR[("outcome", "sms")], personalisation={})
    assert bad_number.value.errors[0]["error"] == "ValidationError"
    with pytest.raises(notify.NotifyError) as unknown:
        client.get_notification(str(uuid.uuid4()))
    assert unknown.value.status_code == 404


def test_the_http_client_sends_the_same_request_shape(monkeypatch):
    """The real client POSTs the same bodies to the published paths with a JWT bearer token."""
    import jwt

    seen = {}

    class Response:
        def __init__(self, payload):
            self.payload = payload

        def read(self):
            return json.dumps(self.payload).encode()

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def fake_urlopen(req, timeout):
        seen["url"], seen["body"], seen["auth"] = req.full_url, json.loads(req.data), req.headers["Authorization"]
        return Response({"id": str(uuid.uuid4()), "reference": None, "uri": "x",
                         "content": {"body": "b", "from_number": "NHS"},
                         "template": {"id": seen["body"]["template_id"], "version": 1, "uri": "y"}})

    monkeypatch.setattr(notify.urllib.request, "urlopen", fake_urlopen)
    service_id, secret = str(uuid.uuid4()), str(uuid.uuid4())
    client = notify.NotifyClient(f"collab_test-{service_id}-{secret}", base_url="https://notify.invalid")
    response = client.send_sms(phone_number="07700900123", template_id=notify.TEMPLATE_FOR[("outcome", "sms")],
                               personalisation={"reference": "R", "outcome": "Remote hub", "advice": "111"})
    assert seen["url"] == "https://notify.invalid/v2/notifications/sms"
    SmsRequest.model_validate(seen["body"])
    SmsResponse.model_validate(response)
    claims = jwt.decode(seen["auth"].removeprefix("Bearer "), secret, algorithms=["HS256"])
    assert claims["iss"] == service_id and isinstance(claims["iat"], int)
