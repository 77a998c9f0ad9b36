"""The audit trail's INSERT, in a Django-free module (as collab/booking/sql.py) so the 8am-rush
benchmark's database floor sends the very statement the stack sends (bench/rush.py)."""

# One INSERT ... RETURNING, written once: the ORM's create() costs more CPU than the insert itself,
# and every booking and patient view writes a row (docs/adr/0006-booking-hot-path.md).
AUDIT_COLUMNS = ("occurred_at", "user_id", "username", "role", "organisation_ods", "patient_id", "action",
                 "outcome", "reason", "object_type", "object_id", "channel")
AUDIT_INSERT_SQL = (
    "INSERT INTO core_auditevent (occurred_at, user_id, username, role, organisation_ods, patient_id, action, "
    "outcome, reason, object_type, object_id, channel) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "RETURNING sequence"
)
