"""The activity page's figures (issue 27): with 1,000,000 messages in the log on PostgreSQL,
the API's first page of messages and a search by the patient's address (p50 and p95 over many
requests), and the page's first render in Chromium (navigation to the first row drawn).

Used by bench/run.py (`--activity-only` measures only these)."""

import hashlib
import hmac
import http.client
import json
import os
import pathlib
import random
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
MESSAGES = 1_000_000
PATIENTS = 200_000
AUDIT_KEY = "bench-audit-key-0123456789abcdef-0123"
API_KEY = "bench-api-key-0123456789abcdef"

# A million messages over about 35 days, five per patient, each with its recipient: one in 50
# failed, one in 7 only sent, the rest delivered; emails and texts, four templates.
SEED = f"""
CREATE TEMP TABLE patients (n int PRIMARY KEY, hash text NOT NULL);
\\copy patients FROM '{{patients}}' WITH (FORMAT csv)
INSERT INTO notify_messages (id, channel, template, provider, provider_message_id, status, status_rank,
    error_code, category, caller, request_id, idempotency_key, created_at, updated_at)
SELECT 'msg_' || lpad(g::text, 16, '0'),
    CASE WHEN g % 3 = 0 THEN 'sms' ELSE 'email' END,
    (ARRAY['paymentReceived', 'appointmentReminder', 'invoiceCreated', 'documentAssigned'])[1 + g % 4],
    CASE WHEN g % 3 = 0 THEN 'twilio' ELSE 'aws-ses' END,
    'prov-' || g,
    CASE WHEN g % 50 = 0 THEN 'failed' WHEN g % 7 = 0 THEN 'sent' ELSE 'delivered' END,
    CASE WHEN g % 50 <> 0 AND g % 7 = 0 THEN 1 ELSE 3 END,
    CASE WHEN g % 50 = 0 THEN 'invalid_recipient' END,
    (ARRAY['billing_receipts', 'care_reminders', 'billing_receipts', 'documents'])[1 + g % 4],
    'key:bench', 'req-' || g, 'key-' || g,
    now() - make_interval(secs => g * 3), now() - make_interval(secs => g * 3)
FROM generate_series(1, {MESSAGES}) g;
INSERT INTO notify_recipients (message_id, position, masked, hash, status, status_rank)
SELECT 'msg_' || lpad(g::text, 16, '0'), 0, 'p***@example.com', p.hash, 'delivered', 3
FROM generate_series(1, {MESSAGES}) g JOIN patients p ON p.n = g % {PATIENTS};
ANALYZE;
"""


def address(n):
    return f"patient{n}@example.com"


def seed(database):
    """Fills `database` (migrated, empty) with the messages; the patients' hashes are the
    server's own (HMAC-SHA256 under the audit key), so a search by address finds them."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        for n in range(PATIENTS):
            digest = hmac.new(AUDIT_KEY.encode(), address(n).encode(), hashlib.sha256).hexdigest()
            f.write(f"{n},{digest}\n")
        patients = f.name
    try:
        subprocess.run(["psql", database, "-qv", "ON_ERROR_STOP=1"], input=SEED.format(patients=patients),
                       text=True, check=True, capture_output=True)
    finally:
        os.unlink(patients)


def timed_gets(port, paths):
    """Each path asked once on one kept-alive connection: the answer times in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    try:
        for path in paths:
            begun = time.perf_counter()
            connection.request("GET", path, headers={"authorization": f"Bearer {API_KEY}"})
            response = connection.getresponse()
            body = response.read()
            times.append((time.perf_counter() - begun) * 1000)
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}: {body[:300]}")
            if not json.loads(body)["messages"]:
                raise RuntimeError(f"{path} found nothing")
    finally:
        connection.close()
    return times


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def figures(postgres, fresh, listening, case, requests=300, renders=15):
    """The figures: `fresh` makes a migrated database, `listening` starts a `case(env)`."""
    database = f"{postgres}/bench_activity"
    kept = subprocess.run(["psql", database, "-qtAc", "SELECT count(*) FROM notify_messages"],
                          capture_output=True, text=True)
    begun = time.perf_counter()
    if kept.returncode != 0 or kept.stdout.strip() != str(MESSAGES):
        database = fresh(postgres, "bench_activity")
        seed(database)
    seeded_seconds = time.perf_counter() - begun
    env = {"DATABASE_URL": database, "NOTIFY_AUDIT_KEY": AUDIT_KEY, "NOTIFY_API_KEYS": API_KEY}
    port, process = listening(case(env))
    try:
        timed_gets(port, ["/api/messages"] * 20)  # connects, and warms the caches
        first_page = timed_gets(port, ["/api/messages"] * requests)
        rng = random.Random(27)
        searches = timed_gets(port, [f"/api/messages?recipient={address(rng.randrange(PATIENTS))}"
                                     for _ in range(requests)])
        rendered = subprocess.run(
            ["node", str(ROOT / "bench" / "page.mjs"), f"http://127.0.0.1:{port}", API_KEY, str(renders)],
            capture_output=True, text=True, check=True, cwd=ROOT / "tests" / "browser",
            env={**os.environ, "CHROMIUM": os.environ.get("CHROMIUM", "/usr/bin/chromium")})
        render_ms = json.loads(rendered.stdout)
    finally:
        process.kill()
        process.wait()
    return {
        "messages": MESSAGES,
        "patients": PATIENTS,
        "seed_seconds": seeded_seconds,
        "requests": requests,
        "first_page_ms_p50": statistics.median(first_page),
        "first_page_ms_p95": percentile(first_page, 95),
        "search_ms_p50": statistics.median(searches),
        "search_ms_p95": percentile(searches, 95),
        "render_ms_p50": statistics.median(render_ms),
        "render_ms_max": max(render_ms),
        "renders": len(render_ms),
    }


def section(report):
    a = report.get("activity")
    if not a:
        return ""
    met = lambda value, target: "met" if value < target else "**missed**"
    return f"""
## The activity page (issue 27)

The local server (`notify`, release, warm; the same handlers as the `messages` function) on
PostgreSQL 15 on this host, with **{a['messages']:,} messages** in the log ({a['patients']:,}
patients, five messages each, over about 35 days; seeded in {a['seed_seconds']:.0f} s).
Answer times from the client, one kept-alive connection, {a['requests']} requests each; the
page's first render in Debian's Chromium (Playwright), from navigation to the first row of
messages drawn, {a['renders']} loads in fresh browser contexts. Measured on its own
(`scripts/bench --activity-only`).

| figure | p50 | p95 | target | |
|---|---|---|---|---|
| `GET /api/messages` (the first page, 20 newest) | {a['first_page_ms_p50']:.1f} ms | **{a['first_page_ms_p95']:.1f} ms** | p95 under 100 ms | {met(a['first_page_ms_p95'], 100)} |
| `GET /api/messages?recipient=` (a patient's exact address, hashed by the server) | {a['search_ms_p50']:.1f} ms | **{a['search_ms_p95']:.1f} ms** | p95 under 100 ms | {met(a['search_ms_p95'], 100)} |
| `/activity`'s first render (to the first row) | {a['render_ms_p50']:.0f} ms | max **{a['render_ms_max']:.0f} ms** | under 1,000 ms | {met(a['render_ms_max'], 1000)} |

The benchmark found the search slow first: 223 ms p50, 318 ms p95. The recipient's condition sat
inside the log's one statement as `($4 IS NULL OR EXISTS (...))`, which PostgreSQL cannot turn
into a join, so it walked the whole log newest first and tested each message. A recipient's
search now has a statement of its own (`m.id IN (SELECT ... WHERE hash = $4)`), which starts
from the recipient's few rows on the hash's index. Filters that match a small share of a large
log (an error code, "ever failed") still walk it newest first until a page is full: about 1 ms
here, where one message in 50 failed; a rarer one takes longer.
"""
