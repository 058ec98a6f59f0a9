"""Checks the Build Output that `vercel build` wrote to .vercel/output, and runs every built
function binary once: the deployable artifact is what gets tested, not the source tree."""

import json
import re
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

root = pathlib.Path(sys.argv[1]).resolve()
output = root / ".vercel" / "output"
vercel_json = json.loads((root / "vercel.json").read_text())
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


# One api/<name>.func for every file under api/, and nothing else.
sources = sorted(str(p.relative_to(root / "api").with_suffix("")) for p in (root / "api").rglob("*.rs"))
functions_dir = output / "functions" / "api"
built = sorted(str(p.relative_to(functions_dir))[: -len(".func")] for p in functions_dir.rglob("*.func"))
check(built == sources, f"functions {built} do not match api/ sources {sources}")
others = [p for p in (output / "functions").rglob("*.func") if functions_dir not in p.parents]
check(not others, f"functions outside api/: {others}")

# Each says rust / executable, with the memory and maxDuration of vercel.json.
binaries = {}
for name in built:
    config = json.loads((functions_dir / f"{name}.func" / ".vc-config.json").read_text())
    wanted = vercel_json["functions"].get(f"api/{name}.rs")
    check(wanted is not None, f"vercel.json does not configure api/{name}.rs")
    wanted = wanted or {}
    check(config.get("runtime") == "executable", f"{name}: runtime is {config.get('runtime')}")
    check(config.get("runtimeLanguage") == "rust", f"{name}: language is {config.get('runtimeLanguage')}")
    check(config.get("handler") == "executable", f"{name}: handler is {config.get('handler')}")
    check(config.get("memory") == wanted.get("memory"), f"{name}: memory {config.get('memory')} != {wanted.get('memory')}")
    check(
        config.get("maxDuration") == wanted.get("maxDuration"),
        f"{name}: maxDuration {config.get('maxDuration')} != {wanted.get('maxDuration')}",
    )
    # The CLI records where the executable is (relative to the project) instead of copying it.
    mapped = config.get("filePathMap", {}).get("executable")
    executable = functions_dir / f"{name}.func" / "executable"
    binary = executable if executable.exists() else (root / mapped if mapped else None)
    check(binary is not None and binary.exists(), f"{name}: no executable")
    binaries[name] = binary

# static/ holds exactly what public/ holds: no Cargo.toml, src/, .env or logs.
public = sorted(str(p.relative_to(root / "public")) for p in (root / "public").rglob("*") if p.is_file())
static = sorted(str(p.relative_to(output / "static")) for p in (output / "static").rglob("*") if p.is_file())
check(static == public, f"static/ holds {static}, public/ holds {public}")

# config.json serves the filesystem (functions/api/<name>.func is /api/<name>) before any other
# route, and no route sends /api/<name> anywhere else.
config = json.loads((output / "config.json").read_text())
routes = config.get("routes", [])
check(config.get("version") == 3, "config.json is not Build Output API v3")
# Before it, only rules that add headers and go on (the pages' policy, from vercel.json).
first = routes.index({"handle": "filesystem"}) if {"handle": "filesystem"} in routes else None
check(first is not None, "config.json has no filesystem route")
before = routes[:first or 0]
check(
    all(set(r) == {"src", "headers", "continue"} and r["continue"] is True for r in before),
    f"a route before the filesystem does more than add headers: {before}",
)
# The pages (public/) go out under their Content-Security-Policy; the functions' answers are
# not matched by that rule.
page_rules = [r for r in routes if "Content-Security-Policy" in r.get("headers", {})]
check(
    any(re.match(r["src"], "/preferences.html") and not re.match(r["src"], "/api/preferences") for r in page_rules),
    f"no route gives /preferences.html (and not /api/) the pages' policy: {page_rules}",
)
# The staff's activity page: /activity is public/activity.html, under the same policy.
check(
    any(r.get("dest") == "/activity.html" and re.match(r["src"], "/activity") for r in routes),
    f"no rewrite of /activity to /activity.html: {routes}",
)
check(
    any(re.match(r["src"], "/activity") for r in page_rules),
    f"no route gives /activity the pages' policy: {page_rules}",
)
for route in routes:
    dest = route.get("dest", "")
    check(not any(dest == f"/api/{n}" and route.get("src") != "^/api/(.+)(?:\\.(?:rs))$" for n in built), f"route {route} redirects a function")


# /api/messages/{id} reaches the messages function by a rewrite that comes after the
# filesystem, so /api/messages/stats stays its own function.
rewrite = next((i for i, r in enumerate(routes) if r.get("dest", "").startswith("/api/messages?id=")), None)
check(rewrite is not None and rewrite > 0, f"no rewrite of /api/messages/{{id}} after the filesystem: {routes}")
rewrite = next((i for i, r in enumerate(routes) if r.get("dest", "").startswith("/api/suppressions?id=")), None)
check(rewrite is not None and rewrite > 0, f"no rewrite of /api/suppressions/{{id}} after the filesystem: {routes}")
rewrite = next((i for i, r in enumerate(routes) if r.get("dest", "").startswith("/api/batches?id=")), None)
check(rewrite is not None and rewrite > 0, f"no rewrite of /api/batches/{{id}} after the filesystem: {routes}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Vercel Cron's schedule reaches the output as vercel.json gives it.
check(config.get("crons") == vercel_json.get("crons"), f"crons {config.get('crons')} != {vercel_json.get('crons')}")

# One request to each function, as Vercel would make it.
requests = {
    "health": ("GET", None),
    "templates": ("GET", None),
    "openapi": ("GET", None),
    "preview": ("GET", "?template=invoiceCreated&format=json"),
    "send-email": ("POST", {"to": "test@example.com", "subject": "Test Email", "body": "Built output check"}),
    "send-sms": ("POST", {"to": "+15551234567", "message": "Built output check"}),
    "messages": ("GET", None),
    "messages/stats": ("GET", None),
    "audit": ("GET", None),
    "events": ("GET", None),
    "cron/dispatch": ("GET", None),
    "suppressions": ("GET", None),
    "preferences": ("GET", "?email=john@example.com"),
    "unsubscribe": ("GET", "?token=not-a-signed-token"),
    "send-notification": (
        "POST",
        {"template": "documentAssigned", "data": {"client_name": "John Doe"}, "to": {"email": "john@example.com"}},
    ),
    "batch": ("POST", {"items": [{"type": "sms", "to": "+15551234567", "message": "Built output check"}]}),
    # A batch this instance never kept: its answer proves the function runs.
    "batches": ("GET", "?id=bat_none"),
}
# The webhooks refuse unsigned requests, the dispatcher without CRON_SECRET is never open, and
# an unsubscribe link this deployment did not sign is refused: their answer to one proves the
# function runs.
expected_status = {"webhooks/twilio": 403, "webhooks/ses": 403, "cron/dispatch": 503, "unsubscribe": 403,
                   "batch": 202, "batches": 404}
requests["webhooks/twilio"] = ("POST", {"MessageSid": "SM1"})
requests["webhooks/ses"] = ("POST", {"Type": "Notification"})
check(sorted(requests) == built, f"no request written for {sorted(set(built) - set(requests))}")
for name, binary in binaries.items():
    if binary is None or name not in requests:
        continue
    port = free_port()
    env = {"PATH": os.environ["PATH"], "VERCEL_DEV_PORT": str(port)}
    process = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        method, payload = requests[name]
        url = f"http://127.0.0.1:{port}/api/{name}"
        data = None
        if isinstance(payload, str):
            url += payload
        elif payload is not None:
            data = json.dumps(payload).encode()
        status = None
        for _ in range(100):
            try:
                request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    status = response.status
                break
            except urllib.error.HTTPError as error:
                status = error.code
                break
            except OSError:
                time.sleep(0.05)
        wanted = expected_status.get(name, 200)
        check(status == wanted, f"{name}: {method} {url} answered {status}, not {wanted}")
        print(f"{name}: {method} /api/{name} -> {status}")
    finally:
        process.terminate()
        process.wait(timeout=10)

if failures:
    print("\n".join(f"FAIL {f}" for f in failures), file=sys.stderr)
    sys.exit(1)
print(f"vercel build output: {len(built)} functions, static/ = public/, routes and configs as expected")
