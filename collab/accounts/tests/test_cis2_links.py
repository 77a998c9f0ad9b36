"""Linking CIS2 identities to accounts: only people holding the permission, acting at the collaborative,
may see and change links; validation names the field; every change (and every refusal) is audited."""

from __future__ import annotations

import csv
import io
import urllib.parse

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from collab.accounts.models import Cis2Identity, Role, User
from collab.accounts.tests.fake_cis2 import configured
from collab.core.models import AuditEvent
from collab.core.tests.factories import (
    CollaborativeFactory,
    PracticeFactory,
    RoleAssignmentFactory,
    UserFactory,
    act_as,
)

pytestmark = pytest.mark.django_db
SUB = "555042712105"
LIST = "/account/cis2/identities/"


def may_link(user) -> None:
    user.user_permissions.add(Permission.objects.get(codename="link_cis2_identity"))


@pytest.fixture
def admin(client):
    assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.HUB_MANAGER)
    may_link(assignment.user)
    act_as(client, assignment)
    return assignment


@pytest.fixture
def clinician():
    """A GP at a practice, whose smartcard is to be linked."""
    return RoleAssignmentFactory(organisation=PracticeFactory(ods_code="M81026"), role=Role.GP,
                                 user=UserFactory(first_name="Gareth", last_name="Evans"))


def _link(client, user, sub):
    return client.post(f"/account/cis2/identities/{user.pk}/link/", {"sub": sub})


def test_the_list_shows_accounts_their_roles_and_links(client, admin, clinician):
    linked = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
    Cis2Identity.objects.create(user=linked.user, sub="555000000001", linked_at=timezone.now(),
                                linked_by=admin.user)
    r = client.get(LIST)
    body = r.content.decode()
    assert r.status_code == 200 and 'id="cis2-links"' in body
    assert f'id="user-{clinician.user_id}"' in body and "Not linked" in body and "GP, " in body
    assert "555000000001" in body and f"/account/cis2/identities/{linked.user_id}/unlink/" in body
    assert f"/account/cis2/identities/{clinician.user_id}/link/" in body
    assert "Where to find someone" in body  # the help
    assert "Your account: ask another administrator" in body
    assert f"/account/cis2/identities/{admin.user_id}/link/" not in body
    # Found by name or by UUID; and the header leads here.
    assert f'id="user-{clinician.user_id}"' in client.get(LIST + "?q=evans").content.decode()
    by_uuid = client.get(LIST + "?q=5550 0000 0001").content.decode()
    assert f'id="user-{linked.user_id}"' in by_uuid and f'id="user-{clinician.user_id}"' not in by_uuid
    assert b'href="/account/cis2/identities/"' in client.get("/").content


def test_linking_lets_them_sign_in_with_cis2_and_unlinking_stops_it(client, admin, clinician, settings):
    r = _link(client, clinician.user, " 5550 4271 2105 ")
    assert r.status_code == 302 and r["Location"] == LIST
    link = Cis2Identity.objects.get(user=clinician.user)
    assert (link.sub, link.linked_by_id) == (SUB, admin.user_id)
    row = AuditEvent.objects.get(action="cis2_identity.link")
    assert (row.outcome, row.username, row.role, row.object_type, row.object_id) == (
        "allowed", admin.user.username, Role.HUB_MANAGER, "user", str(clinician.user_id))
    assert clinician.user.username in row.reason and SUB in row.reason and row.occurred_at is not None

    gp = httpx.Client()
    with configured(settings) as cis2:
        cis2.sign_in_as(sub=SUB, selected_roleid="1", roles=[
            {"person_roleid": "1", "org_code": "M81026", "role_code": "S8000:G8000:R8000"}])
        other = client.__class__()

        def cis2_sign_in():
            start = other.get("/account/cis2/")
            back = urllib.parse.urlparse(gp.get(start["Location"], follow_redirects=False).headers["Location"])
            return other.get(back.path + "?" + back.query)

        assert cis2_sign_in().status_code == 302 and other.session["_auth_user_id"] == str(clinician.user_id)

        confirm = client.get(f"/account/cis2/identities/{clinician.user_id}/unlink/")
        assert confirm.status_code == 200 and SUB.encode() in confirm.content
        r = client.post(f"/account/cis2/identities/{clinician.user_id}/unlink/")
        assert r.status_code == 302 and not Cis2Identity.objects.filter(user=clinician.user).exists()
        row = AuditEvent.objects.get(action="cis2_identity.unlink")
        assert row.outcome == "allowed" and SUB in row.reason and row.username == admin.user.username

        # The session they opened with it has ended too
        assert other.get("/").status_code == 302 and "_auth_user_id" not in other.session
        assert "1 CIS2 session(s) ended" in row.reason
        assert cis2_sign_in().status_code == 403
    gp.close()


@pytest.mark.parametrize(("sub", "message"), [
    ("12345", "12 digits"),
    ("55504271210x", "12 digits"),
    ("５５５０４２７１２１０５", "12 digits"),  # full-width digits: \d would take them
    ("5550427121056", "12 digits"),
])
def test_a_malformed_uuid_is_refused_naming_the_field(client, admin, clinician, sub, message):
    r = _link(client, clinician.user, sub)
    body = r.content.decode()
    assert r.status_code == 400 and message in body
    assert 'href="#id_sub"' in body and "nhsuk-error-message" in body  # summary links to the field
    assert not Cis2Identity.objects.exists()
    assert AuditEvent.objects.get(action="cis2_identity.link").outcome == "refused"


def test_an_empty_uuid_is_asked_for(client, admin, clinician):
    r = _link(client, clinician.user, "")
    assert r.status_code == 400 and b"Enter the CIS2 UUID" in r.content and b'href="#id_sub"' in r.content


def test_a_uuid_linked_to_someone_else_is_refused_naming_them(client, admin, clinician):
    holder = RoleAssignmentFactory(user=UserFactory(first_name="Sam", last_name="Okafor", username="sam.hubgp"))
    Cis2Identity.objects.create(user=holder.user, sub=SUB, linked_at=timezone.now())
    r = _link(client, clinician.user, SUB)
    body = r.content.decode()
    assert r.status_code == 400 and "already linked to Sam Okafor (sam.hubgp)" in body and 'href="#id_sub"' in body
    assert Cis2Identity.objects.get(sub=SUB).user_id == holder.user_id
    row = AuditEvent.objects.get(action="cis2_identity.link")
    assert row.outcome == "refused" and "sam.hubgp" in row.reason


def test_an_account_already_linked_must_be_unlinked_first(client, admin, clinician):
    Cis2Identity.objects.create(user=clinician.user, sub="555000000009", linked_at=timezone.now())
    r = _link(client, clinician.user, SUB)
    assert r.status_code == 400 and b"already linked to CIS2 UUID 555000000009" in r.content
    assert Cis2Identity.objects.get(user=clinician.user).sub == "555000000009"


def test_nobody_changes_the_link_on_their_own_account(client, admin):
    r = _link(client, admin.user, SUB)
    assert r.status_code == 400 and b"your own account" in r.content and not Cis2Identity.objects.exists()
    Cis2Identity.objects.create(user=admin.user, sub=SUB, linked_at=timezone.now())
    r = client.post(f"/account/cis2/identities/{admin.user_id}/unlink/")
    assert r.status_code == 400 and Cis2Identity.objects.filter(user=admin.user).exists()
    assert [e.outcome for e in AuditEvent.objects.filter(action__startswith="cis2_identity.")] == ["refused"] * 2


def test_unlinking_an_account_with_no_link_says_so(client, admin, clinician):
    assert b'id="not-linked"' in client.get(f"/account/cis2/identities/{clinician.user_id}/unlink/").content
    r = client.post(f"/account/cis2/identities/{clinician.user_id}/unlink/")
    assert r.status_code == 400 and b"has no CIS2 identity linked" in r.content
    assert AuditEvent.objects.get(action="cis2_identity.unlink").outcome == "refused"


def test_the_links_export_as_csv_and_the_export_is_audited(client, admin, clinician):
    clinician.user.first_name = "=HYPERLINK(1)"
    clinician.user.save()
    Cis2Identity.objects.create(user=clinician.user, sub=SUB, linked_at=timezone.now(), linked_by=admin.user)
    r = client.get("/account/cis2/identities.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert len(rows) == 1
    assert (rows[0]["username"], rows[0]["cis2_uuid"], rows[0]["linked_by"]) == (
        clinician.user.username, SUB, admin.user.username)
    assert rows[0]["name"].startswith("'=") and "GP at" in rows[0]["roles"]
    assert AuditEvent.objects.get(action="cis2_identity.export").reason == "1 links"


PAGES = [("get", LIST), ("get", "/account/cis2/identities.csv"), ("get", "/account/cis2/identities/{id}/link/"),
         ("post", "/account/cis2/identities/{id}/link/"), ("post", "/account/cis2/identities/{id}/unlink/")]


@pytest.mark.parametrize("who", ["hub manager", "GP", "privacy officer", "practice manager with the permission"])
def test_everyone_else_is_refused(client, clinician, who):
    Cis2Identity.objects.create(user=clinician.user, sub=SUB, linked_at=timezone.now())
    match who:
        case "hub manager":
            assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.HUB_MANAGER)
        case "GP":
            assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.GP)
        case "privacy officer":
            assignment = RoleAssignmentFactory(organisation=CollaborativeFactory(), role=Role.PRIVACY_OFFICER)
        case _:
            # The permission is used at the collaborative only, not from a practice.
            assignment = RoleAssignmentFactory(organisation=PracticeFactory(), role=Role.PRACTICE_MANAGER)
            may_link(assignment.user)
    act_as(client, assignment)
    for method, page in PAGES:
        r = getattr(client, method)(page.format(id=clinician.user_id), {"sub": "555000000001"})
        assert r.status_code == 403, (method, page)
    assert Cis2Identity.objects.get(user=clinician.user).sub == SUB
    assert b"/account/cis2/identities/" not in client.get("/").content


def test_signed_out_is_sent_to_sign_in(client):
    r = client.get(LIST)
    assert r.status_code == 302 and r["Location"].startswith("/account/sign-in/")


def test_the_permission_is_granted_and_revoked_from_the_command_line_and_audited(clinician):
    out = io.StringIO()
    call_command("cis2_administrators", grant=clinician.user.username, stdout=out)
    assert clinician.user.username in out.getvalue()
    # A fresh instance each time: Django caches permissions on the instance.
    assert User.objects.get(pk=clinician.user_id).has_perm("accounts.link_cis2_identity")
    call_command("cis2_administrators", revoke=clinician.user.username, stdout=io.StringIO())
    assert not User.objects.get(pk=clinician.user_id).has_perm("accounts.link_cis2_identity")
    rows = list(AuditEvent.objects.filter(action="cis2_identity.administrator"))
    assert [(e.channel, e.reason) for e in rows] == [
        ("cli", f"granted to {clinician.user.username}"), ("cli", f"revoked from {clinician.user.username}")]
