import time

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from collab.accounts.middleware import LAST_SEEN, SIGNED_IN_AT
from collab.accounts.models import Role
from collab.core.tests.factories import (
    CollaborativeFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff():
    user = UserFactory(username="jo.bloggs")
    user.set_password(PASSWORD)
    user.save()
    RoleAssignmentFactory(user=user, organisation=PracticeFactory(), role=Role.CARE_NAVIGATOR)
    return user


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def sign_in(client, username="jo.bloggs", password=PASSWORD):
    return client.post("/account/sign-in/", {"username": username, "password": password})


def test_password_alone_does_not_open_pages(client, staff):
    r = sign_in(client)
    assert r.status_code == 302 and r["Location"].startswith("/account/verify/")
    r = client.get("/hub/slots/")
    assert r.status_code == 302 and r["Location"] == "/account/verify/"


def test_first_sign_in_enrols_totp_then_every_sign_in_asks_for_it(client, staff, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp delays retries after a failure; not under test here
    sign_in(client)
    page = client.get("/account/verify/")
    assert b"Set up your authenticator app" in page.content
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    r = client.post("/account/verify/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert r.status_code == 400 and b"The code is not right" in r.content
    r = client.post("/account/verify/", {"code": code_for(device)})
    assert r.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/hub/slots/").status_code == 200
    # Next time: no enrolment, but still the code.
    client.logout()
    sign_in(client)
    page = client.get("/account/verify/")
    assert b"Enter your security code" in page.content and b"totp-secret" not in page.content
    assert client.get("/hub/slots/").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(client, staff):
    r = sign_in(client, password="wrong")
    assert r.status_code == 400 and b"The username or password is not right" in r.content
    r = sign_in(client, username="nobody")
    assert r.status_code == 400 and b"The username or password is not right" in r.content


def test_empty_form_names_each_field(client):
    r = client.post("/account/sign-in/", {})
    assert r.status_code == 400
    assert b"Enter your username" in r.content and b"Enter your password" in r.content


def test_sign_in_attempts_are_rate_limited(client, staff, settings):
    settings.LOGIN_RATE_LIMIT = 3
    for _ in range(3):
        assert sign_in(client, password="wrong").status_code == 400
    r = sign_in(client)  # the right password, but too late
    assert r.status_code == 429 and b"Too many failed sign-in attempts" in r.content


def test_session_ends_after_15_minutes_idle(client, staff):
    client.force_login(staff)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 60
    session[LAST_SEEN] = time.time() - 16 * 60
    session.save()
    r = client.get("/")
    assert r.status_code == 302 and r["Location"] == "/account/sign-in/"
    assert "_auth_user_id" not in client.session


def test_session_ends_after_12_hours(client, staff):
    client.force_login(staff)
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 12 * 3600 - 5
    session[LAST_SEEN] = time.time() - 5
    session.save()
    client.get("/")
    assert "_auth_user_id" not in client.session


def test_user_with_several_roles_chooses_one(client):
    user = UserFactory()
    practice_role = RoleAssignmentFactory(user=user, organisation=PracticeFactory(), role=Role.GP)
    hub_role = RoleAssignmentFactory(user=user, organisation=CollaborativeFactory(), role=Role.GP)
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    r = client.post("/account/verify/", {"code": code_for(device)})
    assert r["Location"].startswith("/account/role/")
    page = client.get("/account/role/")
    assert page.status_code == 200
    assert client.post("/account/role/", {"assignment": 999999}).status_code == 400
    client.post("/account/role/", {"assignment": hub_role.pk})
    assert client.get("/hub/day/").status_code == 200
    assert client.get("/hub/slots/").status_code == 403
    client.post("/account/role/", {"assignment": practice_role.pk})
    assert client.get("/hub/slots/").status_code == 200
    assert client.get("/hub/day/").status_code == 403


def test_user_with_no_role_gets_no_access(client):
    user = UserFactory()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    client.post("/account/verify/", {"code": code_for(device)})
    page = client.get("/account/role/")
    assert b"You have no role in collab" in page.content
    assert client.get("/hub/slots/").status_code == 302


def test_demo_personas_cannot_skip_the_second_factor_in_production(client, settings):
    from django.test import RequestFactory

    from collab.accounts.rules import is_second_factor_satisfied

    persona = UserFactory(is_demo_persona=True)
    request = RequestFactory().get("/")
    request.user = persona
    persona.is_verified = lambda: False
    request.session = {"demo_persona": True}
    assert is_second_factor_satisfied(request)
    settings.PRODUCTION = True
    assert not is_second_factor_satisfied(request)
