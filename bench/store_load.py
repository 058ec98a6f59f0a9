"""Issue 28's warm figures, measured fairly (`scripts/bench --store-only`, and in every full run):
each live send function on the memory store and on Postgres, side by side in one run, with

- callers and recipients rotated: 8 API keys in turn and a new patient on every request, so no
  row is hotter than a practice's own traffic would make it;
- the function pinned to CPU 0, and Postgres and the load generator to CPU 1 (where the machine
  has two), so that Postgres does not share the function's core;
- closed-loop load (wrk: each connection sends its next request when the last is answered) at 1
  and 32 connections, and open-loop load at one fixed rate offered to both stores (this module's
  own generator: requests leave on their schedule whether or not earlier ones have been answered,
  and latency counts from the time each was due);
- CPU time and context switches per request of the function's process (all its threads), from
  /proc;
- the store's round trips on a send's critical path, counted by a proxy in front of Postgres:
  the statements the function sends between a request's arrival and its answer, and after it.
"""

import asyncio
import json
import os
import pathlib
import socket
import statistics
import subprocess
import threading
import time

KEYS = [f"bench-rotating-key-{n:02d}-0123456789abcdef" for n in range(8)]
# `{n}` becomes a number that is new on every request.
EMAIL = json.dumps({"to": "patient{n}@example.com", "subject": "Your invoice", "body": "Your invoice is ready."})
SMS = json.dumps({"to": "+1555{n}", "message": "Your invoice is ready."})
FUNCTION_CPU, OTHER_CPU = 0, 1
# Requests a second at 32 connections on PostgreSQL before issue 28 (BENCHMARKS.md at 155d416).
BEFORE_RPS = {"send-email": 1020, "send-sms": 1151}


def cpus():
    """Whether the function and the rest can each have a core of their own."""
    return len(os.sched_getaffinity(0)) >= 2


def pin_postgres(cpu):
    """Every PostgreSQL process on this host (the server the bench started) onto `cpu`: the
    postmaster, so the backends it forks from now on inherit it, and those already running."""
    pinned = 0
    for comm in pathlib.Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in ("postgres", "postmaster"):
                os.sched_setaffinity(int(comm.parent.name), {cpu})
                pinned += 1
        except OSError:
            pass
    return pinned


def unpin_postgres():
    everything = os.sched_getaffinity(0)
    for comm in pathlib.Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in ("postgres", "postmaster"):
                os.sched_setaffinity(int(comm.parent.name), everything)
        except OSError:
            pass


def process_counters(pid):
    """(CPU seconds, context switches) of a process, all its threads: the scheduler's own
    nanosecond count (`schedstat`), as clock ticks (10 ms) are too coarse for a few seconds."""
    cpu, switches = 0, 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            cpu += int((task / "schedstat").read_text().split()[0]) / 1e9
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
        except OSError:
            pass
    return cpu, switches


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, env, port):
    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env,
            "VERCEL_DEV_PORT": str(port), "NOTIFY_API_KEYS": ",".join(KEYS)}
    pin = (lambda: os.sched_setaffinity(0, {FUNCTION_CPU})) if cpus() else None
    return subprocess.Popen([str(binary)], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=pin)


def request(path, body, n):
    payload = body.replace("{n}", f"{n % 10_000_000:07d}").encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEYS[n % len(KEYS)]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def open_loop(port, path, body, rate, seconds, connections=32, first=0):
    """Requests at `rate` a second for `seconds`, each leaving when due over one of
    `connections` kept-alive connections (waiting for one to be free counts in its latency)."""
    loop = asyncio.get_running_loop()
    pool = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies, failed = [], 0

    async def one(n, due):
        nonlocal failed
        reader, writer = await pool.get()
        try:
            writer.write(request(path, body, n))
            if await read_response(reader) != 200:
                failed += 1
            latencies.append(loop.time() - due)
        finally:
            pool.put_nowait((reader, writer))

    total = int(rate * seconds)
    began = loop.time() + 0.05
    tasks = []
    for i in range(total):
        due = began + i / rate
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(first + i, due)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - began
    while not pool.empty():
        pool.get_nowait()[1].close()
    latencies.sort()
    return {"requests": total, "seconds": elapsed, "failed": failed,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


def wrk(root, port, path, body, connections, seconds, offset):
    env = {**os.environ, "WRK_BODY": body, "WRK_KEYS": ",".join(KEYS), "WRK_FIRST": str(offset)}
    pin = (lambda: os.sched_setaffinity(0, {OTHER_CPU})) if cpus() else None
    output = subprocess.run(
        ["wrk", f"-t{1 if connections == 1 else 2}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(root / "scripts" / "lib" / "wrk-report.lua"), f"http://127.0.0.1:{port}{path}"],
        env=env, capture_output=True, text=True, check=True, preexec_fn=pin).stdout
    return json.loads(output.strip().splitlines()[-1])


def listening(port, process):
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the function exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("the function did not listen")


def measured(pid, run):
    cpu, switches = process_counters(pid)
    summary = run()
    cpu_after, switches_after = process_counters(pid)
    requests = summary["requests"]
    return {**summary, "requests_per_second": requests / summary["seconds"],
            "cpu_us_per_request": (cpu_after - cpu) / requests * 1e6,
            "switches_per_request": (switches_after - switches) / requests}


def closed_and_open(root, binary, env, path, body, seconds, rate):
    """One store's figures for one function: closed loop at 1 and 32 connections, and open loop at
    `rate` (None: skipped)."""
    port = free_port()
    process = start(binary, env, port)
    try:
        listening(port, process)
        wrk(root, port, path, body, 4, 1, 50_000_000)  # warm: connections, pool, caches
        figures = {}
        for n, connections in ((1, 1), (2, 32)):
            figures[f"c{connections}"] = measured(
                process.pid, lambda: wrk(root, port, path, body, connections, seconds, n * 10_000_000))
            if figures[f"c{connections}"]["non_2xx"] or figures[f"c{connections}"]["errors"]:
                raise RuntimeError(f"{path} failed requests under load: {figures[f'c{connections}']}")
        if rate:
            figures["open"] = measured(
                process.pid, lambda: asyncio.run(open_loop(port, path, body, rate, seconds, first=30_000_000)))
            figures["open"]["rate"] = rate
            if figures["open"]["failed"]:
                raise RuntimeError(f"{path} failed requests at a fixed rate: {figures['open']}")
        return figures
    finally:
        process.kill()
        process.wait()


class CountingProxy:
    """A TCP proxy in front of Postgres that stamps every statement the function sends (each
    ends with the protocol's Sync message, found by reading the client's messages: a type byte
    and a length each, after the untyped start-up message) and holds each of the server's
    answers (its ReadyForQuery message) for `delay` seconds while `counting`."""

    def __init__(self, upstream_port, delay):
        self.upstream_port, self.delay = upstream_port, delay
        # Off while the first sends connect and check the schema.
        self.counting = False
        self.writes = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(server, client, False), daemon=True).start()

    def pump(self, source, target, from_client):
        pending, started = b"", False
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                target.close()
                return
            if not from_client:
                if self.counting and b"Z\x00\x00\x00\x05" in data:
                    time.sleep(self.delay)
                target.sendall(data)
                continue
            pending += data
            while True:
                if not started:  # the start-up (or SSL request) message has no type byte
                    if len(pending) < 4 or len(pending) < int.from_bytes(pending[:4], "big"):
                        break
                    length = int.from_bytes(pending[:4], "big")
                    started = pending[4:8] != b"\x04\xd2\x16\x2f"  # an SSL request comes first
                    pending = pending[length:]
                    continue
                if len(pending) < 5 or len(pending) < 1 + int.from_bytes(pending[1:5], "big"):
                    break
                if pending[:1] == b"S":
                    self.writes.append(time.perf_counter())
                pending = pending[1 + int.from_bytes(pending[1:5], "big"):]
            target.sendall(data)


def critical_path(binary, env, path, body, postgres_port, sends=30, delay=0.1):
    """Statements per send, and the store waits on its critical path: each of the server's
    answers is held `delay` seconds, so a send whose answer waits for N statements answers N
    delays late (the median latency over `sends` sequential sends, in delays)."""
    proxy = CountingProxy(postgres_port, delay)
    env = {**env, "DATABASE_URL": env["DATABASE_URL"].replace(f":{postgres_port}/", f":{proxy.port}/")}
    port = free_port()
    process = start(binary, env, port)
    try:
        listening(port, process)
        latencies, statements = [], 0
        for n in range(sends + 3):
            proxy.counting = n >= 3
            proxy.writes.clear()
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sent = time.perf_counter()
                sock.sendall(request(path, body, 60_000_000 + n))
                response = b""
                while b"\r\n\r\n" not in response:
                    response += sock.recv(65536)
                answered = time.perf_counter()
                if b" 200 " not in response.split(b"\r\n", 1)[0]:
                    raise RuntimeError(f"{path} answered {response[:80]!r}")
            time.sleep(3 * delay)
            if n >= 3:
                latencies.append(answered - sent)
                statements += len(proxy.writes)
        return {"statements": statements / sends,
                "waits": statistics.median(latencies) / delay}
    finally:
        process.kill()
        process.wait()


def warmed(root, binary, stored):
    """A database as a practice's is after a while: rows in every table a send writes (5 s of
    sends to rotating patients) and the planner's statistics on them (ANALYZE)."""
    port = free_port()
    process = start(binary, stored, port)
    try:
        listening(port, process)
        wrk(root, port, "/api/send-email", EMAIL, 32, 5, 90_000_000)
    finally:
        process.kill()
        process.wait()
    subprocess.run(["psql", stored["DATABASE_URL"], "-qc", "ANALYZE"], check=True)


def figures(root, release, live, postgres, fresh, seconds=5):
    """Both stores side by side for send-email and send-sms; the open-loop rate is 60% of what
    Postgres served closed-loop at 32 connections, offered to both."""
    stored = {**live, "DATABASE_URL": fresh(postgres, "bench_store"), "NOTIFY_AUDIT_KEY": "bench-audit-key-0123456789abcdef-0123"}
    warmed(root, release / "send-email", stored)
    pinned = cpus() and pin_postgres(OTHER_CPU) > 0
    results = {"pinned": pinned, "seconds": seconds, "commit": subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=root).stdout.strip()}
    try:
        for name, path, body in (("send-email", "/api/send-email", EMAIL), ("send-sms", "/api/send-sms", SMS)):
            binary = release / name
            on_postgres = closed_and_open(root, binary, stored, path, body, seconds, None)
            rate = round(on_postgres["c32"]["requests_per_second"] * 0.6, -1)
            memory = closed_and_open(root, binary, live, path, body, seconds, rate)
            on_postgres["open"] = closed_and_open(root, binary, stored, path, body, seconds, rate)["open"]
            postgres_port = int(postgres.rsplit(":", 1)[1].split("/")[0])
            results[name] = {"memory": memory, "postgres": on_postgres,
                             "store_waits": critical_path(binary, stored, path, body, postgres_port)}
    finally:
        unpin_postgres()
    return results


MISSED = """
Where a target is missed, it is missed as measured. What PostgreSQL adds to a send in the
function is nearly a fixed cost: two statements (admission before the answer, the record after
it) to encode, send and decode, and about 1.3 more wake-ups of the process per send (the context
switches above) for their answers. The text path does least of its own (the smallest CPU per
send of the two), so the same cost is the larger share of it; at c32 the records of sends that
end together share one statement, at the fixed rate fewer of them end together.
"""


def section(report):
    s = report.get("store_load")
    if not s:
        return ""
    rows = []
    for name in ("send-email", "send-sms"):
        m, p = s[name]["memory"], s[name]["postgres"]
        add = lambda key, conc: p[conc][key] - m[conc][key]
        rows.append(
            f"| {name} | c1 CPU µs/request | {m['c1']['cpu_us_per_request']:.0f} | {p['c1']['cpu_us_per_request']:.0f} "
            f"| +{add('cpu_us_per_request', 'c1'):.0f} (+{add('cpu_us_per_request', 'c1') / m['c1']['cpu_us_per_request'] * 100:.0f}%) |")
        rows.append(f"| {name} | c1 p50 ms | {m['c1']['p50_ms']:.2f} | {p['c1']['p50_ms']:.2f} | +{add('p50_ms', 'c1'):.2f} |")
        rows.append(f"| {name} | c1 context switches/request | {m['c1']['switches_per_request']:.1f} "
                    f"| {p['c1']['switches_per_request']:.1f} | +{add('switches_per_request', 'c1'):.1f} |")
        rows.append(f"| {name} | c32 closed loop, requests/s | {m['c32']['requests_per_second']:,.0f} "
                    f"| {p['c32']['requests_per_second']:,.0f} | {p['c32']['requests_per_second'] / m['c32']['requests_per_second']:.2f}x |")
        rows.append(f"| {name} | c32 closed loop, CPU µs/request | {m['c32']['cpu_us_per_request']:.0f} "
                    f"| {p['c32']['cpu_us_per_request']:.0f} | +{add('cpu_us_per_request', 'c32'):.0f} |")
        mo, po = m["open"], p["open"]
        rows.append(f"| {name} | open loop at {mo['rate']:,.0f}/s (both): CPU µs/request | {mo['cpu_us_per_request']:.0f} "
                    f"| {po['cpu_us_per_request']:.0f} | +{(po['cpu_us_per_request'] / mo['cpu_us_per_request'] - 1) * 100:.0f}% |")
        rows.append(f"| {name} | open loop: context switches/request | {mo['switches_per_request']:.1f} "
                    f"| {po['switches_per_request']:.1f} | |")
        rows.append(f"| {name} | open loop: p50 / p99 ms | {mo['p50_ms']:.2f} / {mo['p99_ms']:.2f} "
                    f"| {po['p50_ms']:.2f} / {po['p99_ms']:.2f} | |")
        w = s[name]["store_waits"]
        rows.append(f"| {name} | store statements per send / store waits before its answer | 0 / 0 "
                    f"| {w['statements']:.2f} / {w['waits']:.2f} | |")
    targets = []
    met = lambda ok: "met" if ok else "**missed**"
    for name, share in (("send-email", 20), ("send-sms", 45)):
        m, p, w = s[name]["memory"], s[name]["postgres"], s[name]["store_waits"]
        added = p["c1"]["cpu_us_per_request"] - m["c1"]["cpu_us_per_request"]
        percent = added / m["c1"]["cpu_us_per_request"] * 100
        equal = (p["open"]["cpu_us_per_request"] / m["open"]["cpu_us_per_request"] - 1) * 100
        p50 = p["c1"]["p50_ms"] - m["c1"]["p50_ms"]
        rps, before = p["c32"]["requests_per_second"], BEFORE_RPS[name]
        targets += [
            f"| {name} | store waits on the critical path: 1 | {w['waits']:.2f} | {met(round(w['waits']) <= 1)} |",
            f"| {name} | CPU added at c1: at most 90 µs and +{share}% | +{added:.0f} µs (+{percent:.0f}%) "
            f"| {met(added <= 90 and percent <= share)} |",
            f"| {name} | CPU added at equal offered load: at most +40% | {equal:+.0f}% | {met(equal <= 40)} |",
            f"| {name} | p50 added at c1: at most 0.6 ms | +{p50:.2f} ms | {met(p50 <= 0.6)} |",
            f"| {name} | requests/s at c32 on PostgreSQL: at least twice {before:,} | {rps:,.0f} | {met(rps >= 2 * before)} |",
        ]
    pinning = ("the function on CPU 0; PostgreSQL and the load generator on CPU 1" if s["pinned"]
               else "not pinned (the machine has one core, or the affinity could not be set)")
    return f"""
## The store, measured fairly (issue 28)

`scripts/bench --store-only` (and every full run), at {s['commit']}: each live send function on
the memory store and on PostgreSQL, in one run, {s['seconds']} s per figure, on a database
warmed first (5 s of sends, then `ANALYZE`), as a practice's database is after a while. Callers rotate over 8
API keys and every request goes to a new patient (no row is hotter than a practice's own traffic
makes it); {pinning}. *Closed loop* is wrk (a connection sends its next request when the last
is answered); *open loop* offers both stores the same fixed rate (60% of what PostgreSQL served
closed-loop at 32 connections) from `bench/store_load.py`'s own generator, which sends each
request when it is due and counts its latency from then. CPU time and context switches are the
function process's own (all threads, from `/proc`'s scheduler counts). Statements per send
are counted by a proxy in front of PostgreSQL over 30 sequential sends (each statement ends with
the protocol's Sync message); the same proxy holds each of PostgreSQL's answers 100 ms, so a
send answers 100 ms late for every store wait on its critical path (the median latency, in units
of 100 ms).

| function | figure | memory store | PostgreSQL | added |
|---|---|---:|---:|---:|
""" + "\n".join(rows) + """

Issue 28's targets against these figures ("twice" is twice what the full run at 155d416
measured, closed loop with one caller and one patient and no pinning):

| function | target | measured | |
|---|---|---:|---|
""" + "\n".join(targets) + "\n" + (MISSED if any("**missed**" in t for t in targets) else "")
