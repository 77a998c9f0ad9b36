"""The booking hot path's SQL, in one Django-free module.

The services send these statements (collab/booking/services.py, collab/patients/selectors.py)
and the 8am-rush benchmark's database floor sends the very same ones straight through psycopg
(bench/rush.py), so ``floor_ratio`` compares like with like. Tests hold the table and column
names to the models (collab/booking/tests/test_hot_path.py). See docs/adr/0006-booking-hot-path.md.
"""

# The patient, their registered practice and its ODS code: all the access decision and the FHIR
# answer need. The ORM spends more CPU building this query than the database spends answering it.
PATIENT_FOR_BOOKING_SQL = (
    "SELECT p.id, p.registered_practice_id, o.ods_code FROM patients_patient p "
    "JOIN organisations_organisation o ON o.id = p.registered_practice_id WHERE p.nhs_number = %s"
)

# The FHIR slot search, 70% of the requests at 08:00: free slots starting in a window, pooled ones
# and those reserved for the searching practice (practice_id NULL: every free slot), earliest
# first. The same on SQLite and PostgreSQL; prepared there.
FREE_SLOT_COLUMNS = ("id", "session_id", "starts_at", "ends_at", "channel", "clinician_role", "status")
FREE_SLOTS_SQL = (
    "SELECT id, session_id, starts_at, ends_at, channel, clinician_role, status FROM booking_slot "
    "WHERE status = %(free)s AND starts_at >= %(start)s AND starts_at <= %(end)s "
    "AND (CAST(%(practice_id)s AS BIGINT) IS NULL OR reserved_for_id IS NULL OR reserved_for_id = %(practice_id)s) "
    "ORDER BY starts_at, id LIMIT %(limit)s"
)

# The same on SQLite (3.35+) and PostgreSQL: the conditional UPDATE claims the slot and hands back
# what the appointment needs in the same statement, then the appointment and its usage row are
# inserted, in the caller's transaction.
CLAIM_SQL = (
    "UPDATE booking_slot SET status = %s "
    "WHERE id = %s AND status = %s AND starts_at > %s AND (reserved_for_id IS NULL OR reserved_for_id = %s) "
    "RETURNING starts_at, ends_at, reserved_for_id"
)
APPOINTMENT_SQL = (
    "INSERT INTO booking_appointment (slot_id, patient_id, practice_id, booked_by_id, reason, status, "
    "used_reserved_capacity, outcome, outcome_note, cancellation_reason, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, '', '', '', %s, %s) RETURNING id"
)
USAGE_SQL = (
    "INSERT INTO booking_usageentry (practice_id, appointment_id, occurred_at, slot_starts_at, minutes, "
    "reserved, delta) VALUES (%s, %s, %s, %s, %s, %s, 1)"
)

# PostgreSQL: the same writes plus the audit row, as data-modifying CTEs in one statement, which
# is its own transaction outside an atomic block: one round trip per booking. A refusal's audit
# row is collab.core.sql.AUDIT_INSERT_SQL, sent after this statement.
BOOK_IN_ONE_STATEMENT_SQL = (
    "WITH claimed AS ("
    " UPDATE booking_slot SET status = %(busy)s"
    " WHERE id = %(slot_id)s AND status = %(free)s AND starts_at > %(now)s"
    " AND (reserved_for_id IS NULL OR reserved_for_id = %(practice_id)s)"
    " RETURNING id, starts_at, ends_at, reserved_for_id IS NOT NULL AS reserved),"
    " appointment AS ("
    " INSERT INTO booking_appointment (slot_id, patient_id, practice_id, booked_by_id, reason, status,"
    " used_reserved_capacity, outcome, outcome_note, cancellation_reason, created_at, updated_at)"
    " SELECT id, %(patient_id)s::bigint, %(practice_id)s::bigint, %(booked_by_id)s::bigint, %(reason)s::text,"
    " %(booked)s::text, reserved, '', '', '', %(now)s::timestamptz, %(now)s::timestamptz FROM claimed RETURNING id),"
    " usage AS ("
    " INSERT INTO booking_usageentry (practice_id, appointment_id, occurred_at, slot_starts_at, minutes, reserved, delta)"
    " SELECT %(practice_id)s::bigint, appointment.id, %(now)s::timestamptz, claimed.starts_at,"
    " FLOOR(EXTRACT(EPOCH FROM claimed.ends_at - claimed.starts_at) / 60)::int, claimed.reserved, 1"
    " FROM appointment, claimed),"
    " audit AS ("
    " INSERT INTO core_auditevent (occurred_at, user_id, username, role, organisation_ods, patient_id, action,"
    " outcome, reason, object_type, object_id, channel)"
    " SELECT %(occurred_at)s::timestamptz, %(user_id)s::bigint, %(username)s::text, %(role)s::text,"
    " %(organisation_ods)s::text, %(audit_patient_id)s::bigint, %(action)s::text, %(outcome)s::text,"
    " %(audit_reason)s::text, %(object_type)s::text, appointment.id::text, %(channel)s::text FROM appointment)"
    " SELECT appointment.id, claimed.starts_at, claimed.ends_at, NULL::text, NULL::bigint FROM appointment, claimed"
    # Not claimed: the slot as this statement found it, so the refusal names why without another
    # round trip (no row at all: there is no such slot). A slot another booking took while this one
    # waited for its row lock reads as it was before that booking, which is free: "no longer free".
    " UNION ALL"
    " SELECT NULL, s.starts_at, s.ends_at, s.status, s.reserved_for_id FROM booking_slot s"
    " WHERE s.id = %(slot_id)s AND NOT EXISTS (SELECT FROM claimed)"
)
