"""The reference app's browser UI (contract section 9): three small HTML pages.

The pages are plain HTML with one small inline script each; the script talks to the JSON API
(contract sections 2 to 6) on the same origin with the `session` cookie, so the UI holds no
business logic of its own. The server side only decides who may see a page: without a valid
session, `/next-actions` and `/leads/{id}` redirect to `/login`.

Every value from the API is written with `textContent`, never as HTML. Each page carries a
strict Content-Security-Policy with a per-response nonce and loads nothing from elsewhere.
"""

from __future__ import annotations

import html
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from refapp import accounts, leads, next_actions, readings
from refapp.auth import session_user_id, set_session_cookie
from refapp.db import get_database
from refapp.refusals import Refused
from refapp.routes.common import get_settings

router = APIRouter(include_in_schema=False)

LOGIN_PATH = "/login"
NEXT_ACTIONS_PATH = "/next-actions"

#: Action keys and their button labels, in the order the buttons appear (contract section 6).
ACTION_LABELS: tuple[tuple[str, str], ...] = (
    ("mark_done", "Mark done"),
    ("snooze_1d", "Snooze 1 day"),
    ("recompute_score", "Recompute score"),
    ("run_risk_rules", "Run risk rules"),
    ("run_next_actions", "Run next actions"),
    ("retry_failed_deliveries", "Retry failed deliveries"),
)

# The broken builds of section 9 (refapp/faults/ui.py): each replaces one piece of a page's
# script or markup with a plausible wrong version. The text to replace must be there, so an
# edit of the page cannot silently heal a fault (the build then refuses to serve the page).
Patches = tuple[tuple[str, str], ...]

_EXECUTE_CALL = """const r = await api("POST", "/api/next-actions/" + encodeURIComponent(id) + "/execute",
                        { actionKey: key }, { "Idempotency-Key": uuid() });"""

_NEXT_ACTIONS_FAULTS: dict[str, Patches] = {
    # A 5xx is taken for a transient error and sent once more, with a new key.
    "ui_failure_resends": (
        (
            _EXECUTE_CALL,
            _EXECUTE_CALL.replace("const r", "let r")
            + """
    if (r.status >= 500) {
      r = await api("POST", "/api/next-actions/" + encodeURIComponent(id) + "/execute",
                    { actionKey: key }, { "Idempotency-Key": uuid() });
    }""",
        ),
    ),
    # The button is only marked busy, not disabled; a click landing during a run is kept and,
    # when that run failed, sent as a retry (a run that succeeded drops it).
    "ui_click_during_failure_retried": (
        ("const running = new Set();", "const running = new Set();\nconst again = new Set();"),
        ("if (running.has(token) || button.disabled) return;", "if (running.has(token)) { again.add(token); return; }"),
        ("  button.disabled = true;\n  button.setAttribute", "  button.setAttribute"),
        (
            _EXECUTE_CALL,
            _EXECUTE_CALL.replace("const r", "let r")
            + """
    while (r.status >= 500 && again.delete(token)) {
      r = await api("POST", "/api/next-actions/" + encodeURIComponent(id) + "/execute",
                    { actionKey: key }, { "Idempotency-Key": uuid() });
    }""",
        ),
        ("    running.delete(token);\n", "    running.delete(token);\n    again.delete(token);\n"),
    ),
    # "It ran" is taken for "it succeeded": any answer naming an execution counts, and a 500
    # execution_failed names one in its error.
    "ui_failure_as_success": (
        (
            "ok = r.status === 200 && r.data && r.data.ok === true;",
            "ok = Boolean(r.data && (r.data.executionId || (r.data.error && r.data.error.executionId)));",
        ),
    ),
    # Every message goes to the status region, failures included.
    "ui_failure_in_status": (("say(ok, ok ? `${label} succeeded`", "say(true, ok ? `${label} succeeded`"),),
    # Optimistic: "succeeded" shows on the click, before the answer (a failure replaces it later).
    "ui_optimistic_success": (
        (
            '  button.setAttribute("aria-busy", "true");\n',
            '  button.setAttribute("aria-busy", "true");\n  say(true, `${label} succeeded`);\n',
        ),
    ),
    # The failure path returns before the button is enabled again: it cannot be clicked twice.
    "ui_failure_keeps_button_disabled": (
        (
            "    button.disabled = false;\n    button.removeAttribute",
            "    if (ok) button.disabled = false;\n    button.removeAttribute",
        ),
    ),
    # The key is derived from the item and the action "so that clicks are safe": a second
    # click on the same button is a replay and runs nothing.
    "ui_key_per_button": (('{ "Idempotency-Key": uuid() }', '{ "Idempotency-Key": `${id}:${key}` }'),),
    # The queue also lists the done items (to undo them, say).
    "ui_lists_done_items": (
        (
            'const r = await api("GET", "/api/next-actions?status=queued");\n',
            'const r = await api("GET", "/api/next-actions?status=queued");\n'
            '  const d = await api("GET", "/api/next-actions?status=done");\n'
            "  if (r.status === 200 && d.status === 200 && r.data && d.data && Array.isArray(r.data.items)) {\n"
            "    r.data.items = r.data.items.concat(d.data.items || []);\n"
            "  }\n",
        ),
    ),
    # The page is served without a session; its script reports the 401 instead of redirecting.
    "ui_next_actions_no_redirect": (
        (
            'const r = await api("GET", "/api/next-actions?status=queued");\n'
            "  if (r.status === 401) { toLogin(); return; }",
            'const r = await api("GET", "/api/next-actions?status=queued");\n'
            '  if (r.status === 401) { say(false, "Loading next actions failed: sign in first."); return; }',
        ),
    ),
    # The list has a heading above it but no accessible name.
    "ui_list_unnamed": (('<ul id="items" class="items" aria-label="Next actions"', '<ul id="items" class="items"'),),
    # No guard at all: the button stays enabled while running, and every click sends a request.
    "ui_no_click_guard": (
        ("  if (running.has(token) || button.disabled) return;\n", ""),
        ("  button.disabled = true;\n  button.setAttribute", "  button.setAttribute"),
    ),
    # The success message does not say "succeeded".
    "ui_success_not_said": (("say(ok, ok ? `${label} succeeded`", "say(ok, ok ? `${label}: done`"),),
    # The queue renders the items it showed last time (sessionStorage) besides the fetched ones,
    # for an instant first paint, and never drops them: a done or snoozed item stays listed.
    "ui_cached_items_kept": (
        (
            "  const seen = new Set();\n  const current",
            "  const fetched = new Set(r.data.items.map((i) => i.id));\n"
            '  const cached = JSON.parse(sessionStorage.getItem("queue") || "[]");\n'
            "  r.data.items = r.data.items.concat(cached.filter((i) => !fetched.has(i.id)));\n"
            '  sessionStorage.setItem("queue", JSON.stringify(r.data.items));\n'
            "  const seen = new Set();\n  const current",
        ),
    ),
}

_LOGIN_FAULTS: dict[str, Patches] = {
    # A successful sign-in says so and stays on the form.
    "ui_login_no_redirect": (("window.location.assign(%(next)s);", 'say(true, "Signed in.");'),),
    # The wrong-password message goes to the status region, not an alert.
    "ui_login_failure_not_alert": (
        (
            'say(false, "Sign-in failed: wrong email or password.")',
            'say(true, "Sign-in failed: wrong email or password.")',
        ),
    ),
    # The button reads "Log in".
    "ui_login_button_label": (('<button type="submit">Sign in</button>', '<button type="submit">Log in</button>'),),
    # The fields carry placeholders instead of labels.
    "ui_login_placeholders": (
        ('<label for="email">Email</label>\n', ""),
        ('<label for="password">Password</label>\n', ""),
        ('type="email" autocomplete', 'type="email" placeholder="Email" autocomplete'),
        ('type="password" autocomplete', 'type="password" placeholder="Password" autocomplete'),
    ),
}

_LEAD_FAULTS: dict[str, Patches] = {
    # The page is served without a session; its script shows a 401 as "not found".
    "ui_lead_no_redirect": (("if (r.status === 401) { toLogin(); return; }\n", ""),),
    # The level-1 heading says "Lead"; the name is a paragraph beneath it.
    "ui_lead_name_not_heading": (
        (
            'main.append(el("h1", {}, lead.name));',
            'main.append(el("h1", {}, "Lead"));\n  main.append(el("p", { class: "name" }, lead.name));',
        ),
    ),
    # The flags' list has a heading above it but no accessible name.
    "ui_flags_unnamed": (('el("ul", { "aria-label": "Risk flags" })', 'el("ul", {})'),),
    # Flags are shown humanised ("no recent contact"), without their codes.
    "ui_flag_codes_humanised": (
        ("`${flag.code} (${flag.severity})`", '`${flag.code.replace(/_/g, " ")} (${flag.severity})`'),
    ),
}

#: Section 6's labels, broken: "Recompute score" and "Run risk rules" send each other's key.
_SWAPPED_LABELS: tuple[tuple[str, str], ...] = tuple(
    (
        {"recompute_score": "run_risk_rules", "run_risk_rules": "recompute_score"}.get(key, key),
        label,
    )
    for key, label in ACTION_LABELS
)
#: Section 6's labels, broken: "Mark done" is an icon whose accessible name is the icon.
_ICON_LABELS: tuple[tuple[str, str], ...] = tuple(
    (key, "\u2713" if key == "mark_done" else label) for key, label in ACTION_LABELS
)


def _broken(request: Request, faults: dict[str, Patches], *texts: str) -> list[str]:
    """`texts` with the patches of the broken build this app runs, if it is one of `faults`."""
    settings = get_settings(request)
    patched = list(texts)
    for name, patches in faults.items():
        if not settings.is_broken(name):
            continue
        for old, new in patches:
            if not any(old in text for text in patched):
                raise RuntimeError(f"broken build {name!r}: the page no longer holds {old!r}")
            patched = [text.replace(old, new) for text in patched]
    return patched


def _broken_labels(request: Request) -> tuple[tuple[str, str], ...]:
    settings = get_settings(request)
    if settings.is_broken("ui_swapped_actions"):
        return _SWAPPED_LABELS
    if settings.is_broken("ui_mark_done_icon_only"):
        return _ICON_LABELS
    return ACTION_LABELS


_CSS = """
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.45; }
body { max-width: 52rem; margin: 0 auto; padding: 1rem; }
header { display: flex; justify-content: space-between; align-items: center; gap: 1rem; }
form.login { display: grid; gap: .5rem; max-width: 22rem; }
label { font-weight: 600; }
input { font: inherit; padding: .35rem .5rem; }
button { font: inherit; padding: .3rem .6rem; cursor: pointer; }
button[disabled] { cursor: progress; opacity: .6; }
ul.items { list-style: none; padding: 0; }
ul.items > li { border: 1px solid #8886; border-radius: .4rem; padding: .6rem; margin: .5rem 0; }
ul.items .title { display: block; font-weight: 600; margin-bottom: .4rem; }
.actions { display: flex; flex-wrap: wrap; gap: .35rem; }
[role=status]:not(:empty) { padding: .4rem .6rem; border-left: .3rem solid #2a7; }
[role=alert]:not(:empty) { padding: .4rem .6rem; border-left: .3rem solid #c33; }
:focus-visible { outline: .15rem solid #36f; outline-offset: .1rem; }
"""

# Shared by the scripts: JSON fetches with the session cookie, and the two message regions.
_COMMON_JS = """
const say = (ok, text) => {
  const status = document.getElementById("status");
  const alert = document.getElementById("alert");
  status.textContent = "";
  alert.textContent = "";
  (ok ? status : alert).textContent = text;
};
const api = async (method, path, body, headers) => {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  Object.assign(init.headers, headers || {});
  const response = await fetch(path, init);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return { status: response.status, data, headers: response.headers };
};
const toLogin = () => { window.location.assign("/login"); };
// Only a well-formed error code is shown, never the server's message text.
const errorCode = (data) => {
  const code = data && data.error && data.error.code;
  return typeof code === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : "";
};
const uuid = () => {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // randomUUID needs a secure context; getRandomValues does not.
  const b = window.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const el = (tag, attrs, text) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
};
"""

_LOGIN_JS = """
const form = document.getElementById("login-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button.disabled) return;
  button.disabled = true;
  say(true, "");
  try {
    const email = form.elements.email.value;
    const password = form.elements.password.value;
    const r = await api("POST", "/api/auth/login", { email, password });
    if (r.status === 200 && r.data && r.data.ok === true) {
      window.location.assign(%(next)s);
      return;
    }
    if (r.status === 401) say(false, "Sign-in failed: wrong email or password.");
    else if (r.status === 400) say(false, "Sign-in failed: enter an email and a password.");
    else if (r.status === 429) say(false, "Sign-in failed: too many attempts, try again later.");
    else say(false, "Sign-in failed: please try again.");
  } catch (e) {
    say(false, "Sign-in failed: the server could not be reached.");
  }
  button.disabled = false;
  form.elements.password.focus();
});
"""

_NEXT_ACTIONS_JS = """
const LABELS = %(labels)s;
const list = document.getElementById("items");
const empty = document.getElementById("empty");
const running = new Set();

const render = (item) => {
  const li = el("li", { "data-id": item.id });
  const title = el("a", { class: "title", href: "/leads/" + encodeURIComponent(item.leadId) },
                   item.title);
  li.append(title);
  const group = el("div", { class: "actions", role: "group", "aria-label": `Actions: ${item.title}` });
  for (const [key, label] of LABELS) {
    const button = el("button", { type: "button", "data-action": key }, label);
    button.addEventListener("click", () => run(item.id, key, label, button));
    group.append(button);
  }
  li.append(group);
  return li;
};

const refresh = async () => {
  const r = await api("GET", "/api/next-actions?status=queued");
  if (r.status === 401) { toLogin(); return; }
  if (r.status !== 200 || !r.data || !Array.isArray(r.data.items)) {
    say(false, "Loading next actions failed.");
    return;
  }
  const seen = new Set();
  const current = new Map(Array.from(list.children, (li) => [li.dataset.id, li]));
  for (const item of r.data.items) {
    seen.add(item.id);
    if (!current.has(item.id)) list.append(render(item));
  }
  for (const [id, li] of current) {
    if (!seen.has(id) && !li.querySelector("button[disabled]")) li.remove();
  }
  list.setAttribute("aria-busy", "false");
  empty.hidden = list.children.length > 0;
};

const run = async (id, key, label, button) => {
  // A click that lands while this action runs does nothing (a double click runs it once).
  const token = id + " " + key;
  if (running.has(token) || button.disabled) return;
  running.add(token);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  let ok = false;
  let detail = "";
  try {
    const r = await api("POST", "/api/next-actions/" + encodeURIComponent(id) + "/execute",
                        { actionKey: key }, { "Idempotency-Key": uuid() });
    if (r.status === 401) { toLogin(); return; }
    ok = r.status === 200 && r.data && r.data.ok === true;
    if (!ok) {
      const code = errorCode(r.data);
      const wait = r.status === 429 ? r.headers.get("Retry-After") : null;
      detail = code ? ` (${code})` : ` (HTTP ${r.status})`;
      if (wait && /^[0-9]+$/.test(wait)) detail += `; try again in ${wait} s`;
    }
  } catch (e) {
    detail = " (network error)";
  } finally {
    running.delete(token);
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
  say(ok, ok ? `${label} succeeded` : `${label} failed${detail}`);
  if (ok && (key === "mark_done" || key === "snooze_1d")) {
    // The item leaves the queue at once; focus moves to its neighbour (or the heading).
    const li = button.closest("li");
    if (li) {
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      const target = next ? next.querySelector("a, button") : document.querySelector("h1");
      if (target) target.focus();
    }
    empty.hidden = list.children.length > 0;
  }
  try { await refresh(); } catch (e) { /* the message above stands */ }
};

document.getElementById("sign-out").addEventListener("click", async () => {
  try { await api("POST", "/api/auth/logout"); } finally { toLogin(); }
});
refresh().catch(() => say(false, "Loading next actions failed."));
"""

# The other reading (refapp/readings.py): the list arrives rendered by the server; a click runs
# the action, then both lists are fetched and rendered again from scratch; messages clear
# themselves after a few seconds.
_NEXT_ACTIONS_OTHER_JS = """
const LABELS = %(labels)s;
const list = document.getElementById("items");
const doneList = document.getElementById("done");
const empty = document.getElementById("empty");
const running = new Set();
let toastTimer = null;
const tell = (ok, text) => {
  say(ok, text);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => say(true, ""), 4000);
};
const render = (item) => {
  const row = el("div", { role: "listitem", class: "item", "data-id": item.id });
  row.append(el("a", { class: "title", href: "/leads/" + encodeURIComponent(item.leadId) }, item.title));
  const group = el("div", { class: "actions", role: "group", "aria-label": `Actions: ${item.title}` });
  for (const [key, label] of LABELS) {
    group.append(el("button", { type: "button", "data-action": key, "data-label": label }, label));
  }
  row.append(group);
  return row;
};
const reload = async () => {
  const [queued, done] = await Promise.all([
    api("GET", "/api/next-actions"), api("GET", "/api/next-actions?status=done")]);
  if (queued.status === 401) { toLogin(); return; }
  if (queued.status !== 200 || !queued.data || !Array.isArray(queued.data.items)) {
    tell(false, "Loading next actions failed.");
    return;
  }
  list.replaceChildren(...queued.data.items.map(render));
  empty.hidden = queued.data.items.length > 0;
  if (done.status === 200 && done.data && Array.isArray(done.data.items)) {
    doneList.replaceChildren(...done.data.items.slice(0, 10).map((item) => el("li", {}, item.title)));
  }
};
list.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  const row = button && button.closest("[data-id]");
  if (!button || !row) return;
  const id = row.dataset.id, key = button.dataset.action, label = button.dataset.label;
  const token = id + " " + key;
  if (running.has(token) || button.disabled) return;
  running.add(token);
  button.disabled = true;
  let ok = false, detail = "";
  try {
    const r = await api("POST", "/api/next-actions/" + encodeURIComponent(id) + "/execute",
                        { actionKey: key }, { "Idempotency-Key": uuid() });
    if (r.status === 401) { toLogin(); return; }
    ok = r.status === 200 && r.data && r.data.ok === true;
    if (!ok) detail = errorCode(r.data) ? ` (${errorCode(r.data)})` : ` (HTTP ${r.status})`;
  } catch (e) {
    detail = " (network error)";
  } finally {
    running.delete(token);
    button.disabled = false;
  }
  tell(ok, ok ? `Action succeeded: ${label}` : `Action failed: ${label}${detail}`);
  try { await reload(); } catch (e) { /* the message above stands */ }
});
document.getElementById("refresh").addEventListener("click", () => {
  reload().catch(() => tell(false, "Loading next actions failed."));
});
document.getElementById("sign-out").addEventListener("click", async () => {
  try { await api("POST", "/api/auth/logout"); } finally { toLogin(); }
});
"""

_LEAD_JS = """
const leadId = document.body.dataset.leadId;
const main = document.getElementById("lead");
const when = (value) => {
  const time = el("time", { datetime: value }, new Date(value).toLocaleString());
  return time;
};
const show = (lead) => {
  main.replaceChildren();
  main.append(el("h1", {}, lead.name));
  main.append(el("p", { class: "score" }, `Score: ${lead.score}`));
  const scored = el("p", {}, "Score updated: ");
  if (lead.scoreUpdatedAt) scored.append(when(lead.scoreUpdatedAt));
  else scored.append("never");
  main.append(scored);
  main.append(el("h2", { id: "flags-heading" }, "Risk flags"));
  const flags = el("ul", { "aria-label": "Risk flags" });
  for (const flag of lead.riskFlags || []) {
    flags.append(el("li", {}, `${flag.code} (${flag.severity})`));
  }
  main.append(flags);
  if (!(lead.riskFlags || []).length) main.append(el("p", {}, "No risk flags."));
  const evaluated = el("p", {}, "Risk evaluated: ");
  if (lead.riskEvaluatedAt) evaluated.append(when(lead.riskEvaluatedAt));
  else evaluated.append("never");
  main.append(evaluated);
};
(async () => {
  const r = await api("GET", "/api/leads/" + encodeURIComponent(leadId));
  if (r.status === 401) { toLogin(); return; }
  if (r.status === 200 && r.data) { show(r.data); return; }
  main.replaceChildren(el("h1", {}, "Lead not found"));
  say(false, r.status === 404 ? "Loading the lead failed: not found." : "Loading the lead failed.");
})().catch(() => say(false, "Loading the lead failed."));
"""


# The other reading's site navigation: a link named like the queue's list, on every page.
_SITE_NAV = """<nav aria-label="Site"><a href="/next-actions">Next actions</a> <a href="/login">Sign in</a></nav>"""


def _page(
    title: str,
    body: str,
    script: str,
    *,
    body_attrs: str = "",
    private: bool = True,
    alert: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    document = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{html.escape(title)}</title>
<style nonce="{nonce}">{_CSS}</style>
</head>
<body{body_attrs}>
<div id="status" role="status" aria-live="polite"></div>
<div id="alert" role="alert" aria-live="assertive">{html.escape(alert)}</div>
{_SITE_NAV if readings.other("ui_nav_links") else ""}
{body}
<script nonce="{nonce}">
"use strict";
{_COMMON_JS}
{script}
</script>
</body>
</html>
"""
    headers = {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store" if private else "no-cache",
    }
    return HTMLResponse(document, headers=headers, status_code=status_code)


def _to_login(request: Request) -> RedirectResponse:
    if readings.other("ui_login_next"):
        target = f"{LOGIN_PATH}?{urlencode({'next': request.url.path})}"
        return RedirectResponse(target, status_code=307, headers={"Cache-Control": "no-store"})
    return RedirectResponse(LOGIN_PATH, status_code=303, headers={"Cache-Control": "no-store"})


def _safe_next(value: str | None) -> str:
    """A same-site path to go back to after signing in; anything else is the queue."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) and value.isprintable():
        return value
    return NEXT_ACTIONS_PATH


@router.get("/", response_model=None)
def home() -> Response:
    """The home page is the queue (which sends a visitor without a session on to /login)."""
    return RedirectResponse(NEXT_ACTIONS_PATH, status_code=303)


_FORM_LOGIN = """<main>
<h1>Sign in</h1>
<form id="login-form" class="login" method="post" action="/login" novalidate>
<input type="hidden" name="next" value="{next}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" value="{email}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</main>"""


def _form_login_page(next_path: str, *, email: str = "", alert: str = "", status_code: int = 200) -> Response:
    body = _FORM_LOGIN.format(next=html.escape(next_path, quote=True), email=html.escape(email, quote=True))
    return _page("Sign in", body, "", private=False, alert=alert, status_code=status_code)


@router.post(LOGIN_PATH, response_model=None)
async def login_form(request: Request) -> Response:
    """The other reading's sign-in: an HTML form post (the default reading signs in by script)."""
    if not readings.other("ui_form_post_login"):
        raise HTTPException(405)
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    email, password = fields.get("email", [""])[0], fields.get("password", [""])[0]
    next_path = _safe_next(fields.get("next", [""])[0])
    found = await run_in_threadpool(accounts.sign_in, get_database(request), email, password) if email else None
    if found is None:
        alert = "Sign-in failed: wrong email or password." if email else "Sign-in failed: enter an email."
        return _form_login_page(next_path, email=email, alert=alert, status_code=401)
    response = RedirectResponse(next_path, status_code=303, headers={"Cache-Control": "no-store"})
    set_session_cookie(response, found[0], secure=request.url.scheme == "https")
    return response


@router.get(LOGIN_PATH, response_model=None)
def login_page(request: Request) -> Response:
    next_path = _safe_next(request.query_params.get("next"))
    if readings.other("ui_form_post_login"):
        return _form_login_page(next_path)
    body = """<main>
<h1>Sign in</h1>
<form id="login-form" class="login" method="post" action="/login" novalidate>
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</main>"""
    body, script = _broken(request, _LOGIN_FAULTS, body, _LOGIN_JS)
    return _page("Sign in", body, script % {"next": json.dumps(next_path)}, private=False)


@router.get(NEXT_ACTIONS_PATH, response_model=None)
def next_actions_page(request: Request) -> Response:
    user_id = session_user_id(request)
    if user_id is None and not get_settings(request).is_broken("ui_next_actions_no_redirect"):
        return _to_login(request)
    if readings.other("ui_server_rendered") and user_id is not None:
        return _rendered_next_actions(request, user_id)
    # Inside <script>: no "</" may close the element early (the labels have none today).
    labels = json.dumps([list(pair) for pair in _broken_labels(request)]).replace("</", "<\\/")
    body = """<header>
<h1 tabindex="-1">Next actions</h1>
<button type="button" id="sign-out">Sign out</button>
</header>
<main>
<ul id="items" class="items" aria-label="Next actions" aria-busy="true"></ul>
<p id="empty" hidden>Nothing is queued.</p>
</main>"""
    body, script = _broken(request, _NEXT_ACTIONS_FAULTS, body, _NEXT_ACTIONS_JS)
    return _page("Next actions", body, script % {"labels": labels})


def _labels() -> list[tuple[str, str]]:
    labels = list(ACTION_LABELS)
    if readings.other("ui_button_order"):
        labels.reverse()
    return labels


def _item_html(item: dict[str, Any], labels: list[tuple[str, str]]) -> str:
    title = html.escape(item["title"])
    buttons = "".join(
        f'<button type="button" data-action="{key}" data-label="{html.escape(label)}">{html.escape(label)}</button>'
        for key, label in labels
    )
    href = "/leads/" + quote(item["leadId"], safe="")
    return (
        f'<div role="listitem" class="item" data-id="{html.escape(item["id"], quote=True)}">'
        f'<a class="title" href="{html.escape(href, quote=True)}">{title}</a>'
        f'<div class="actions" role="group" aria-label="Actions: {html.escape(item["title"], quote=True)}">'
        f"{buttons}</div></div>"
    )


def _rendered_next_actions(request: Request, user_id: str) -> Response:
    """The other reading's queue: rendered here, with a "Recently done" list and a Refresh button."""
    database = get_database(request)
    queued = next_actions.list_next_action_rows(database, user_id, "queued")
    done = next_actions.list_next_action_rows(database, user_id, "done")[:10]
    labels = _labels()
    items = "".join(_item_html(item, labels) for item in queued)
    done_items = "".join(f"<li>{html.escape(item['title'])}</li>" for item in done)
    body = f"""<header>
<h1 id="queue-heading" tabindex="-1">Next actions</h1>
<button type="button" id="refresh">Refresh</button>
<button type="button" id="sign-out">Sign out</button>
</header>
<main>
<div id="items" class="items" role="list" aria-labelledby="queue-heading">{items}</div>
<p id="empty"{"" if not queued else " hidden"}>Nothing is queued.</p>
<section aria-labelledby="done-heading">
<h2 id="done-heading">Recently done</h2>
<ul id="done" aria-labelledby="done-heading">{done_items}</ul>
</section>
</main>"""
    script = _NEXT_ACTIONS_OTHER_JS % {"labels": json.dumps([list(pair) for pair in labels])}
    return _page("Next actions", body, script)


def _rendered_lead(request: Request, user_id: str, lead_id: str) -> Response:
    """The other reading's lead page: rendered here, flags as a `role=list` named by its heading."""
    try:
        lead = leads.lead_view(get_database(request), user_id, lead_id)
    except Refused:
        body = '<nav><a href="/next-actions">Back to next actions</a></nav><main><h1>Lead not found</h1></main>'
        return _page("Lead", body, "", alert="Loading the lead failed: not found.", status_code=404)
    score = f"Score: {lead['score']}" + (" of 100" if readings.other("ui_score_suffix") else "")
    flags = "".join(
        f'<div role="listitem">{html.escape(flag["code"])} ({html.escape(flag["severity"])})</div>'
        for flag in lead["riskFlags"]
    )
    body = f"""<nav><a href="/next-actions">Back to next actions</a></nav>
<main id="lead">
<h1>{html.escape(lead["name"])}</h1>
<p class="score">{html.escape(score)}</p>
<p>Score updated: {html.escape(lead["scoreUpdatedAt"] or "never")}</p>
<h2 id="flags-heading">Risk flags</h2>
<div role="list" aria-labelledby="flags-heading">{flags}</div>
{"" if lead["riskFlags"] else "<p>No risk flags.</p>"}
<p>Risk evaluated: {html.escape(lead["riskEvaluatedAt"] or "never")}</p>
</main>"""
    return _page("Lead", body, "")


@router.get("/leads/{lead_id}", response_model=None)
def lead_page(request: Request, lead_id: str) -> Response:
    user_id = session_user_id(request)
    if user_id is None and not get_settings(request).is_broken("ui_lead_no_redirect"):
        return _to_login(request)
    if readings.other("ui_server_rendered") and user_id is not None:
        return _rendered_lead(request, user_id, lead_id)
    body = """<nav><a href="/next-actions">Back to next actions</a></nav>
<main id="lead" aria-live="polite"><p>Loading the lead…</p></main>"""
    attrs = f' data-lead-id="{html.escape(lead_id, quote=True)}"'
    (script,) = _broken(request, _LEAD_FAULTS, _LEAD_JS)
    return _page("Lead", body, script, body_attrs=attrs)


@router.get("/favicon.ico", response_model=None)
def favicon() -> Response:
    """No icon: an empty answer instead of a 404 in every page's console."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
