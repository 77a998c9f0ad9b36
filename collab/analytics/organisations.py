"""Join the analytics store to collab's organisations (the Django side of the store)."""

from __future__ import annotations

from pathlib import Path

from collab.organisations.models import Organisation

from .store import sync_practices


def collab_practices() -> list[dict[str, str]]:
    """collab's practices with their PCN, sub-ICB and collaborative, as the store wants them."""
    rows = []
    practices = Organisation.objects.filter(kind=Organisation.Kind.PRACTICE).select_related(
        "parent__parent"
    )
    for practice in practices.order_by("ods_code"):
        pcn = practice.parent
        if pcn is None:
            continue  # a practice outside any PCN cannot be placed; it still counts under its own code
        top = practice.collaborative()
        rows.append(
            {
                "practice_ods": practice.ods_code,
                "practice_name": practice.name,
                "pcn_ods": pcn.ods_code,
                "pcn_name": pcn.name,
                "sub_icb_code": practice.sub_icb_code or pcn.sub_icb_code or "unknown",
                "collaborative": top.name if top.pk != pcn.pk else "unknown",
            }
        )
    return rows


def sync_organisations(*, store: str | Path | None = None) -> int:
    """Copy collab's practice -> PCN -> collaborative tree into the store; returns practices."""
    return sync_practices(collab_practices(), store=store)
