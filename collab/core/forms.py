"""Helpers that turn Django form errors into the NHS.UK error summary and field messages."""

from __future__ import annotations

from django import forms


def error_list(form: forms.Form | None, extra: list[str] | None = None) -> list[dict]:
    """Items for the error summary: each links to the field it names."""
    items: list[dict] = []
    if form is not None and form.is_bound:
        for name, errors in form.errors.items():
            href = f"#{form[name].id_for_label}" if name != "__all__" and name in form.fields else "#maincontent"
            for e in errors:
                items.append({"text": e, "href": href})
    for text in extra or []:
        items.append({"text": text, "href": "#maincontent"})
    return items


def field_error(form: forms.Form | None, name: str) -> dict | None:
    """The errorMessage parameter for one NHS.UK field macro, or None."""
    if form is None or not form.is_bound or name not in form.errors:
        return None
    return {"text": " ".join(form.errors[name])}
