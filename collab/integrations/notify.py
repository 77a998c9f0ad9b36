"""Messages to patients through NHS Notify (built on GOV.UK Notify's API v2).

The adapter is the API's own shape: ``send_sms`` / ``send_email`` take a template id (a UUID),
the recipient and a personalisation dict, and return the API's response (``id``, ``reference``,
``content``, ``uri``, ``template``). Status values are the ones the API publishes.

Two clients share that shape: ``NotifyClient`` (HTTP, JWT-signed with the API key) and
``FakeNotifyClient`` (renders the template locally and records what it sent). The fake is
verified against the published request and response shapes in
collab/integrations/tests/test_notify_contract.py.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings

BASE_URL = "https://api.notifications.service.gov.uk"

# Published status values (GET /v2/notifications/{id}).
SMS_STATUSES = ("created", "sending", "pending", "sent", "delivered", "permanent-failure", "temporary-failure",
                "technical-failure")
EMAIL_STATUSES = ("created", "sending", "delivered", "permanent-failure", "temporary-failure", "technical-failure")
FINAL_FAILURES = ("permanent-failure", "temporary-failure", "technical-failure")


class NotifyError(Exception):
    """The API refused the request (status code and its ``errors`` list)."""

    def __init__(self, status_code: int, errors: list[dict]):
        super().__init__(f"{status_code}: {errors}")
        self.status_code, self.errors = status_code, errors


@dataclass(frozen=True)
class Template:
    id: str
    type: str  # "sms" or "email"
    body: str
    subject: str = ""
    version: int = 1


# collab's templates. In NHS Notify they live in the service's template library; the ids here
# are the ones that library assigns (demo values outside production).
TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in [
        Template("0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0001", "sms",
                 "Your request ((reference)) has reached ((service)). If you have not heard from us by ((contact_by)), "
                 "call ((phone)). If you get worse, call 111, or 999 in an emergency."),
        Template("0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0002", "email",
                 "Your request ((reference)) has reached ((service)).\n\nIf you have not heard from us by ((contact_by)), "
                 "call ((phone)).\n\nIf you get worse, call 111, or 999 in an emergency.",
                 subject="We have your request ((reference))"),
        Template("0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0003", "sms",
                 "Your request ((reference)) has been assessed: ((outcome)). ((advice))"),
        Template("0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0004", "email", "Your request ((reference)) has been assessed: ((outcome)).\n\n((advice))",
                 subject="Your request ((reference)): what happens next"),
        Template("0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0005", "sms",
                 "Appointment booked: ((when)), ((channel)) with ((service)). To cancel, call ((phone))."),
        Template("0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0006", "email",
                 "Your appointment is booked: ((when)), ((channel)) with ((service)).\n\nTo cancel, call ((phone)).",
                 subject="Appointment booked: ((when))"),
    ]
}
TEMPLATE_FOR = {
    ("acknowledgement", "sms"): "0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0001",
    ("acknowledgement", "email"): "0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0002",
    ("outcome", "sms"): "0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0003",
    ("outcome", "email"): "0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0004",
    ("booking", "sms"): "0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0005",
    ("booking", "email"): "0d3f5d0e-8a3b-4d52-9a1c-6f1c1b2a0006",
}

PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")


def render(text: str, personalisation: dict[str, str]) -> str:
    """Fill ((placeholders)); a missing one is an error, as the API answers 400 for it."""
    missing = [m for m in PLACEHOLDER.findall(text) if m not in personalisation]
    if missing:
        raise NotifyError(400, [{"error": "BadRequestError", "message": f"Missing personalisation: {', '.join(missing)}"}])
    return PLACEHOLDER.sub(lambda m: str(personalisation[m.group(1)]), text)


class Notify(Protocol):
    def send_sms(self, *, phone_number: str, template_id: str, personalisation: dict[str, str],
                 reference: str | None = None) -> dict: ...

    def send_email(self, *, email_address: str, template_id: str, personalisation: dict[str, str],
                   reference: str | None = None) -> dict: ...

    def get_notification(self, notification_id: str) -> dict: ...


@dataclass
class SentMessage:
    type: str
    request: dict  # the JSON body the API would receive
    response: dict  # the JSON body the API would answer
    status: str = "delivered"


@dataclass
class FakeNotifyClient:
    """Answers as the API does, sends nothing, and records every request in ``sent``."""

    base_url: str = BASE_URL
    from_number: str = "NHSNotify"
    sent: list[SentMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _template(self, template_id: str, kind: str) -> Template:
        template = TEMPLATES.get(template_id)
        if template is None or template.type != kind:
            raise NotifyError(400, [{"error": "BadRequestError", "message": "Template not found"}])
        return template

    def _record(self, kind: str, body: dict, content: dict, template: Template) -> dict:
        notification_id = str(uuid.uuid4())
        response = {
            "id": notification_id,
            "reference": body.get("reference"),
            "content": content,
            "uri": f"{self.base_url}/v2/notifications/{notification_id}",
            "template": {"id": template.id, "version": template.version,
                         "uri": f"{self.base_url}/services/collab/templates/{template.id}"},
        }
        with self._lock:
            self.sent.append(SentMessage(kind, body, response))
        return response

    def send_sms(self, *, phone_number: str, template_id: str, personalisation: dict[str, str],
                 reference: str | None = None) -> dict:
        if not phone_number or not phone_number.replace(" ", "").lstrip("+").isdigit():
            raise NotifyError(400, [{"error": "ValidationError", "message": "phone_number Not a UK mobile number"}])
        template = self._template(template_id, "sms")
        body = {"phone_number": phone_number, "template_id": template_id, "personalisation": personalisation}
        if reference is not None:
            body["reference"] = reference
        return self._record("sms", body, {"body": render(template.body, personalisation), "from_number": self.from_number},
                            template)

    def send_email(self, *, email_address: str, template_id: str, personalisation: dict[str, str],
                   reference: str | None = None) -> dict:
        if "@" not in (email_address or ""):
            raise NotifyError(400, [{"error": "ValidationError", "message": "email_address Not a valid email address"}])
        template = self._template(template_id, "email")
        body = {"email_address": email_address, "template_id": template_id, "personalisation": personalisation}
        if reference is not None:
            body["reference"] = reference
        return self._record("email", body, {"body": render(template.body, personalisation),
                                            "subject": render(template.subject, personalisation),
                                            "from_email": "noreply@nhs.net"}, template)

    def get_notification(self, notification_id: str) -> dict:
        for m in self.sent:
            if m.response["id"] == notification_id:
                recipient = {"phone_number": m.request["phone_number"]} if m.type == "sms" else {
                    "email_address": m.request["email_address"]}
                return {"id": notification_id, "reference": m.response["reference"], "type": m.type, "status": m.status,
                        "template": m.response["template"], "body": m.response["content"]["body"], **recipient}
        raise NotifyError(404, [{"error": "NoResultFound", "message": "No result found"}])


class NotifyClient:
    """The HTTP client: POST /v2/notifications/{sms,email}, JWT (HS256) signed with the API key."""

    def __init__(self, api_key: str, base_url: str = BASE_URL, timeout: float = 10.0):
        # An API key is "{name}-{service_id (uuid)}-{secret (uuid)}".
        self.service_id, self.secret = api_key[-73:-37], api_key[-36:]
        self.base_url, self.timeout = base_url.rstrip("/"), timeout

    def _headers(self) -> dict[str, str]:
        import jwt

        token = jwt.encode({"iss": self.service_id, "iat": int(time.time())}, self.secret, algorithm="HS256")
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "User-Agent": "collab"}

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=self._headers())  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - fixed https base URL
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            payload = json.loads(e.read() or b"{}")
            raise NotifyError(e.code, payload.get("errors", [])) from e

    def send_sms(self, *, phone_number: str, template_id: str, personalisation: dict[str, str],
                 reference: str | None = None) -> dict:
        body = {"phone_number": phone_number, "template_id": template_id, "personalisation": personalisation}
        if reference is not None:
            body["reference"] = reference
        return self._call("POST", "/v2/notifications/sms", body)

    def send_email(self, *, email_address: str, template_id: str, personalisation: dict[str, str],
                   reference: str | None = None) -> dict:
        body = {"email_address": email_address, "template_id": template_id, "personalisation": personalisation}
        if reference is not None:
            body["reference"] = reference
        return self._call("POST", "/v2/notifications/email", body)

    def get_notification(self, notification_id: str) -> dict:
        return self._call("GET", f"/v2/notifications/{notification_id}")


_fake = FakeNotifyClient()


def client() -> Notify:
    """The configured client: the real API when COLLAB_NOTIFY_API_KEY is set, otherwise the fake."""
    key = getattr(settings, "COLLAB_NOTIFY_API_KEY", "") or ""
    if key:
        return NotifyClient(key)
    return _fake


def fake() -> FakeNotifyClient:
    return _fake
