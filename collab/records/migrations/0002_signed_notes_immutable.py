"""The database itself keeps signed notes as they were signed, on SQLite and PostgreSQL.

- A signed consultation cannot be updated or deleted.
- Problems and prescriptions cannot be added to, changed on or removed from a signed consultation.
- Addenda are only added to signed consultations, and are never updated or deleted.
"""

from django.db import migrations

SIGNED = "(SELECT status FROM records_consultation WHERE id = {ref}.consultation_id) = 'signed'"


def _sqlite_child(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER {table}_signed_no_insert BEFORE INSERT ON {table} WHEN {SIGNED.format(ref='NEW')}
            BEGIN SELECT RAISE(ABORT, 'signed consultations are immutable'); END;""",
        f"""CREATE TRIGGER {table}_signed_no_update BEFORE UPDATE ON {table} WHEN {SIGNED.format(ref='OLD')}
            BEGIN SELECT RAISE(ABORT, 'signed consultations are immutable'); END;""",
        f"""CREATE TRIGGER {table}_signed_no_delete BEFORE DELETE ON {table} WHEN {SIGNED.format(ref='OLD')}
            BEGIN SELECT RAISE(ABORT, 'signed consultations are immutable'); END;""",
    ]


SQLITE = [
    """CREATE TRIGGER consultation_signed_no_update BEFORE UPDATE ON records_consultation WHEN OLD.status = 'signed'
       BEGIN SELECT RAISE(ABORT, 'signed consultations are immutable'); END;""",
    """CREATE TRIGGER consultation_signed_no_delete BEFORE DELETE ON records_consultation WHEN OLD.status = 'signed'
       BEGIN SELECT RAISE(ABORT, 'signed consultations are immutable'); END;""",
    *_sqlite_child("records_problem"),
    *_sqlite_child("records_prescription"),
    f"""CREATE TRIGGER records_addendum_only_on_signed BEFORE INSERT ON records_addendum
        WHEN NOT {SIGNED.format(ref='NEW')}
        BEGIN SELECT RAISE(ABORT, 'addenda are added to signed consultations only'); END;""",
    """CREATE TRIGGER records_addendum_no_update BEFORE UPDATE ON records_addendum
       BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END;""",
    """CREATE TRIGGER records_addendum_no_delete BEFORE DELETE ON records_addendum
       BEGIN SELECT RAISE(ABORT, 'addenda are append-only'); END;""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in [
        "consultation_signed_no_update", "consultation_signed_no_delete",
        *(f"{t}_signed_no_{op}" for t in ("records_problem", "records_prescription") for op in ("insert", "update", "delete")),
        "records_addendum_only_on_signed", "records_addendum_no_update", "records_addendum_no_delete",
    ]
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION records_consultation_immutable() RETURNS trigger AS $$
       BEGIN
         IF OLD.status = 'signed' THEN RAISE EXCEPTION 'signed consultations are immutable'; END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER consultation_signed_immutable BEFORE UPDATE OR DELETE ON records_consultation
       FOR EACH ROW EXECUTE FUNCTION records_consultation_immutable();""",
    """CREATE OR REPLACE FUNCTION records_child_of_signed_immutable() RETURNS trigger AS $$
       DECLARE parent_id bigint;
       BEGIN
         IF TG_OP = 'INSERT' THEN parent_id := NEW.consultation_id; ELSE parent_id := OLD.consultation_id; END IF;
         IF (SELECT status FROM records_consultation WHERE id = parent_id) = 'signed' THEN
           RAISE EXCEPTION 'signed consultations are immutable';
         END IF;
         IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER problem_signed_immutable BEFORE INSERT OR UPDATE OR DELETE ON records_problem
       FOR EACH ROW EXECUTE FUNCTION records_child_of_signed_immutable();""",
    """CREATE TRIGGER prescription_signed_immutable BEFORE INSERT OR UPDATE OR DELETE ON records_prescription
       FOR EACH ROW EXECUTE FUNCTION records_child_of_signed_immutable();""",
    """CREATE OR REPLACE FUNCTION records_addendum_rules() RETURNS trigger AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN RAISE EXCEPTION 'addenda are append-only'; END IF;
         IF (SELECT status FROM records_consultation WHERE id = NEW.consultation_id) IS DISTINCT FROM 'signed' THEN
           RAISE EXCEPTION 'addenda are added to signed consultations only';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER addendum_rules BEFORE INSERT OR UPDATE OR DELETE ON records_addendum
       FOR EACH ROW EXECUTE FUNCTION records_addendum_rules();""",
    # TRUNCATE skips row triggers: refuse it on the tables that hold signed notes.
    """CREATE OR REPLACE FUNCTION records_no_truncate() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'signed consultations are immutable'; END; $$ LANGUAGE plpgsql;""",
    *(f"""CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}
          FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate();"""
      for t in ("records_consultation", "records_problem", "records_prescription", "records_addendum")),
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS consultation_signed_immutable ON records_consultation;",
    "DROP TRIGGER IF EXISTS problem_signed_immutable ON records_problem;",
    "DROP TRIGGER IF EXISTS prescription_signed_immutable ON records_prescription;",
    "DROP TRIGGER IF EXISTS addendum_rules ON records_addendum;",
    *(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};"
      for t in ("records_consultation", "records_problem", "records_prescription", "records_addendum")),
    "DROP FUNCTION IF EXISTS records_consultation_immutable();",
    "DROP FUNCTION IF EXISTS records_child_of_signed_immutable();",
    "DROP FUNCTION IF EXISTS records_addendum_rules();",
    "DROP FUNCTION IF EXISTS records_no_truncate();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
