"""Static security checks that CI runs on every change: Django's deploy checks and bandit."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def _production_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COLLAB_"))}
    env.update(
        COLLAB_ENV="production",
        COLLAB_SECRET_KEY=secrets.token_urlsafe(50),
        COLLAB_ALLOWED_HOSTS="collab.example.nhs.uk",
        COLLAB_SQLITE_PATH=str(tmp_path / "deploy-check.sqlite3"),
    )
    env.pop("DATABASE_URL", None)
    return env


def test_django_deploy_checks_pass_with_production_settings(tmp_path):
    out = subprocess.run([str(BIN / "collab"), "check", "--deploy", "--fail-level", "WARNING"],
                         env=_production_env(tmp_path), capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = _production_env(tmp_path)
    env.pop("COLLAB_SECRET_KEY")
    out = subprocess.run([str(BIN / "collab"), "check"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert out.returncode != 0
    assert "COLLAB_SECRET_KEY must be set" in out.stderr


def test_bandit_finds_no_high_severity_issue():
    out = subprocess.run([str(BIN / "bandit"), "-r", "collab", "-q", "--severity-level", "high",
                          "--exclude", "*/tests/*", "-f", "txt"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
