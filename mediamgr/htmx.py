"""Small helpers for answering htmx requests."""
import json

from flask import make_response, render_template, request


def is_htmx():
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def page_or_fragment(page_template, fragment_template, **context):
    """The full page, or only the fragment for an htmx request; the answer varies on HX-Request."""
    response = make_response(render_template(fragment_template if is_htmx() else page_template, **context))
    response.vary.add("HX-Request")
    return response


def trigger(response, *events, **events_with_detail):
    """Add HX-Trigger events (merged with any already set) so other widgets refresh themselves."""
    current = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    current.update({event: True for event in events})
    current.update(events_with_detail)
    response.headers["HX-Trigger"] = json.dumps(current)
    return response


def close_dialog(response):
    """Close the page's dialog once this answer is in place (HX-Trigger-After-Swap). Closed earlier, with
    the HX-Trigger events, the dialog's form would be out of the page when htmx places the answer, and
    its out-of-band rows (an operation's row for the Activity panel) would miss the extension on <body>
    that puts them where they belong."""
    current = json.loads(response.headers.get("HX-Trigger-After-Swap", "{}") or "{}")
    response.headers["HX-Trigger-After-Swap"] = json.dumps({**current, "close-dialog": True})
    return response
