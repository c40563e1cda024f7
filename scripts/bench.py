"""`make bench` and `make bench-smoke`: time the pages people hit most, side by side with a bare baseline (B1), on a
generated book served by gunicorn with the production settings. docs/performance.md explains the method and keeps
the results.

    scripts/bench.py --loans 100000            # generate (if the database is empty), then measure
    scripts/bench.py --smoke                   # ~5,000 loans; fail on an error or a query budget, no timings

Pages are timed with `hey` (Debian's HTTP load generator) at concurrency 1 and 8; the repayment post, a POST with a
CSRF token and a fresh reference each time, is timed by this script's own client. At concurrency 1, B1 and the page
take turns (four rounds of a quarter of their requests each), so a ratio compares the same minutes of the machine.
Queries per request come from the `X-Queries` header that `core.bench.QueryCountMiddleware` adds when
LOANTRACK_BENCH=1.
"""

import argparse
import csv
import io
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
OUT = ROOT / "var" / "bench"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
# Behind the TLS proxy of production: without this header SECURE_SSL_REDIRECT answers every request with a 301.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}

# Queries per request allowed for each page: measured on the 5,000-loan smoke book (2026-12-02; the application page
# again after its people moved to queries of their own; the repayment post on 2026-12-03, 19) plus 3 (B1: plus 1)
# for a cache miss or a message on the page. A page whose count grows with its rows breaks these on any book.
QUERY_BUDGET = {
    "B1 baseline": 5,
    "landing officer": 12,
    "landing reviewer": 9,
    "landing approver": 9,
    "landing risk officer": 12,
    "landing manager": 15,
    "landing borrower": 15,
    "officer today": 12,
    "application queue": 9,
    "application detail": 24,
    "loan list": 12,
    "loan list filtered": 12,
    "loan detail": 18,
    "overdue list": 12,
    "dashboard pipeline": 15,
    "dashboard portfolio": 17,
    "dashboard followups": 17,
    "dashboard service": 15,
    "dashboard workload": 15,
    "portal overview": 15,
    "portal loan": 12,
    "inquiry inbox": 11,
    "repayment post": 22,
}


# Time allowed for one page's concurrency-1 run, and the fewest requests a p95 is taken from.
PAGE_SECONDS, MIN_SAMPLES = 30, 20
# B1 and each page take turns at concurrency 1, a quarter of their requests at a time (side_by_side).
ROUNDS = 4

ROLES = ("officer", "reviewer", "approver", "risk officer", "manager", "borrower")


@dataclass
class PageResult:
    name: str
    path: str
    status: int = 0
    queries: int = 0
    c1: dict = field(default_factory=dict)
    c8: dict = field(default_factory=dict)
    # B1's p95 at concurrency 1 timed just before this page: the machine's speed drifts over a run (B1 was 3.9 ms in
    # one run and 6.6 ms in the next), so each page's ratio is to the baseline of the same minute.
    b1_p95: float = 0.0

    @property
    def ratio(self) -> float | None:
        return self.c1["p95_ms"] / self.b1_p95 if self.c1 and self.b1_p95 else None


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the environment the server and the management commands share ---------------------------------------------------
def bench_env(database_url: str) -> dict:
    """Production settings with keys kept under var/bench, so the generator and the server encrypt alike."""
    OUT.mkdir(parents=True, exist_ok=True)
    keys_file = OUT / "keys.json"
    if not keys_file.exists():
        from cryptography.fernet import Fernet

        keys_file.write_text(
            json.dumps(
                {
                    "SECRET_KEY": secrets.token_urlsafe(60),
                    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                    "FIELD_HASH_KEY": secrets.token_urlsafe(48),
                }
            )
        )
    env = dict(os.environ)
    env.update(json.loads(keys_file.read_text()))
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "loantrack.settings.production",
            "DATABASE_URL": database_url,
            "LOANTRACK_BENCH": "1",
            # Production's cache and broker; the bench's own Redis database.
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "STATIC_ROOT": str(OUT / "static"),
            "MEDIA_ROOT": str(OUT / "media"),
        }
    )
    return env


def ensure_database(database_url: str, *, fresh: bool) -> None:
    """Create the bench database when it is missing; `fresh` drops it first (the smoke starts from nothing)."""
    import psycopg2
    from psycopg2 import sql

    base, _, name = database_url.rpartition("/")
    connection = psycopg2.connect(f"{base}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        if fresh:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )
    return result.stdout if capture else ""


def django_setup(env: dict) -> None:
    """Run this process's own Django (sessions, sample rows) on the same settings and database as the server."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- whom to sign in as and which rows to open ----------------------------------------------------------------------
def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.backends import USER_BACKEND

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = USER_BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def pick_people_and_rows() -> dict:
    """The busiest officer of the biggest branch (the worst realistic case), that branch's staff, the head-office
    manager (the dashboard over every branch), and a borrower with a portal account and an open loan."""
    from django.db.models import Count

    from accounts.models import User
    from accounts.roles import Role
    from applications.models import Application, Borrower
    from postloan.models import Loan, LoanStatus

    busiest = (
        Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.OVERDUE])
        .values("officer_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        raise SystemExit("The database holds no open loan: run generate_load first (or pass --loans).")
    officer = User.objects.select_related("branch").get(pk=busiest["officer_id"])

    def staff(role: str, *, head_office: bool = False):
        people = User.objects.filter(groups__name=role, is_active=True)
        people = people.filter(branch__is_head_office=True) if head_office else people.filter(branch=officer.branch)
        found = people.order_by("pk").first()
        if found is None:
            raise SystemExit(f"No active {role} in {'head office' if head_office else officer.branch}.")
        return found

    # The loan page's loan is never one the repayment post pays: those gain a repayment per request, run after run.
    loan = Loan.objects.filter(officer=officer, status=LoanStatus.ACTIVE).order_by("-pk").first()
    application = Application.objects.filter(officer=officer).order_by("-pk").first()
    borrower = (
        Borrower.objects.filter(user__isnull=False, loans__status=LoanStatus.ACTIVE).select_related("user").first()
    )
    if borrower is None:
        raise SystemExit("No borrower with a portal account and an open loan: generate_load makes some.")
    borrower_loan = borrower.loans.filter(status=LoanStatus.ACTIVE).order_by("pk").first()
    from core.models import DocumentSequence

    return {
        "officer": officer,
        "reviewer": staff(Role.REVIEWER),
        "approver": staff(Role.APPROVER),
        "risk officer": staff(Role.RISK_OFFICER),
        "manager": staff(Role.MANAGER, head_office=True),
        "borrower": borrower.user,
        "loan": loan,
        "application": application,
        "borrower_loan": borrower_loan,
        "sequence": DocumentSequence.objects.order_by("pk").first(),
    }


def page_plan(people: dict) -> list[tuple[str, str, str]]:
    """(name, who, path) of every page the issue lists, in the order the report shows them."""
    from django.urls import reverse

    from accounts.navigation import home_url_for

    plan = [("B1 baseline", "officer", reverse("bench_baseline", args=[people["sequence"].pk]))]
    for role in ROLES:
        plan.append((f"landing {role}", role, home_url_for(people[role])))
    plan += [
        ("officer today", "officer", reverse("followups:today")),
        ("application queue", "reviewer", reverse("applications:review_queue")),
        ("application detail", "officer", reverse("applications:detail", args=[people["application"].pk])),
        # The officer's own loans as the list opens (every status), then narrowed to one aging bucket.
        ("loan list", "officer", reverse("postloan:list")),
        ("loan list filtered", "officer", reverse("postloan:list") + "?status=overdue&bucket=31_60"),
        ("loan detail", "officer", reverse("postloan:detail", args=[people["loan"].pk])),
        ("overdue list", "officer", reverse("postloan:overdue")),
    ]
    for tab in ("pipeline", "portfolio", "followups", "service", "workload"):
        plan.append((f"dashboard {tab}", "manager", reverse("dashboard:tab", args=[tab])))
    plan += [
        ("portal overview", "borrower", reverse("portal:home")),
        ("portal loan", "borrower", reverse("portal:loan", args=[people["borrower_loan"].number])),
        ("inquiry inbox", "officer", reverse("followups:inquiries")),
    ]
    return plan


# --- the server -----------------------------------------------------------------------------------------------------
def start_server(env: dict, workers: int) -> subprocess.Popen:
    """gunicorn on BENCH_PORT; refuses a port already taken, which would time another server (and database)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", PORT)) == 0:
            raise SystemExit(f"Port {PORT} is already in use (an earlier bench's server?); stop it or set BENCH_PORT.")
    log_file = open(OUT / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "loantrack.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    for _ in range(150):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {OUT / 'gunicorn.log'}")
        try:
            urllib.request.urlopen(f"{BASE}/healthz", timeout=10)
            return server
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer; see {OUT / 'gunicorn.log'}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def fetch(path: str, cookie: str, *, data: bytes | None = None, headers: dict | None = None):
    """One request without following redirects: (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    headers = {**PROXY_HEADERS, "Cookie": cookie, **(headers or {})}
    request = urllib.request.Request(BASE + path, data=data, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


# --- measuring ------------------------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summarise(latencies_ms: list[float], wall_s: float, errors: int) -> dict:
    if not latencies_ms:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "rps": 0.0, "errors": errors}
    return {
        "n": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 1),
        "p95_ms": round(percentile(latencies_ms, 0.95), 1),
        "rps": round(len(latencies_ms) / wall_s, 1) if wall_s else 0.0,
        "errors": errors,
    }


def hey_run(path: str, cookie: str, *, requests: int, concurrency: int) -> tuple[list[float], float, int]:
    """Time one page with hey: (milliseconds per request, wall seconds, errors). hey's CSV has one line per request
    (seconds, status, offset from the start)."""
    command = ["hey", "-n", str(requests), "-c", str(concurrency), "-o", "csv", "-H", f"Cookie: {cookie}"]
    command += ["-H", "X-Forwarded-Proto: https", BASE + path]
    output = subprocess.run(command, check=True, text=True, capture_output=True).stdout
    rows = list(csv.DictReader(io.StringIO(output)))
    latencies = [float(row["response-time"]) * 1000 for row in rows]
    wall = max(float(row["offset"]) + float(row["response-time"]) for row in rows)
    return latencies, wall, sum(1 for row in rows if row["status-code"] != "200")


def hey(path: str, cookie: str, *, requests: int, concurrency: int) -> dict:
    return summarise(*hey_run(path, cookie, requests=requests, concurrency=concurrency))


def side_by_side(b1: Callable[[int], tuple], page: Callable[[int], tuple], *, b1_requests: int, requests: int):
    """B1 and a page at concurrency 1 in ROUNDS alternating turns, so that both are timed in the same minutes of a
    machine whose speed drifts; each callable times n requests and returns (latencies, wall, errors). Returns the
    two summaries."""
    found = {"b1": ([], 0.0, 0), "page": ([], 0.0, 0)}
    for _round in range(ROUNDS):
        for name, timed, total in (("b1", b1, b1_requests), ("page", page, requests)):
            latencies, wall, errors = timed(max(1, total // ROUNDS))
            kept = found[name]
            found[name] = (kept[0] + latencies, kept[1] + wall, kept[2] + errors)
    return summarise(*found["b1"]), summarise(*found["page"])


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")


def repayment_form(path: str, cookie: str) -> tuple[str, str] | None:
    """Open the repayment form as a browser would: the cookie jar with the CSRF cookie, and the form's token."""
    status, headers, body = fetch(path, cookie)
    token, csrf_cookie = CSRF_INPUT.search(body), CSRF_COOKIE.search(headers.get("Set-Cookie", "") or "")
    if status != 200 or not token or not csrf_cookie:
        return None
    return f"{cookie}; csrftoken={csrf_cookie.group(1)}", token.group(1)


def post_repayment(path: str, jar: str, token: str) -> tuple[int, int, float]:
    """POST a ¥1.00 repayment with a fresh reference: (status, queries, milliseconds)."""
    from core.dates import local_today

    form = {
        "csrfmiddlewaretoken": token,
        "amount": "1.00",
        "paid_on": local_today().isoformat(),
        "channel": "bank_transfer",
        "reference": f"BENCH-{secrets.token_hex(8)}",
        "overpayment": "credit",
        # A fresh key per post: the form's double-post guard would otherwise take the second post for the first.
        "idempotency_key": secrets.token_hex(16),
        "confirm": "1",
    }
    started = time.perf_counter()
    status, headers, _ = fetch(
        path,
        jar,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": f"https://127.0.0.1{path}"},
    )
    return status, int(headers.get("X-Queries", 0)), (time.perf_counter() - started) * 1000


def post_repayments(
    paths: list[str], cookie: str, *, requests: int, concurrency: int
) -> tuple[list[float], float, int]:
    """`requests` posts from `concurrency` threads, each on its own loan so that concurrent posts do not queue on
    one loan's row lock (eight officers at eight desks): (milliseconds per post, wall seconds, errors). Only the POST
    is timed, not opening the form."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker(path: str, count: int) -> None:
        nonlocal errors
        form = repayment_form(path, cookie)
        for _ in range(count):
            status, _, elapsed = post_repayment(path, *form) if form else (0, 0, 0.0)
            with lock:
                latencies.append(elapsed)
                errors += status != 302

    per_worker = max(1, requests // concurrency)
    threads = [threading.Thread(target=worker, args=(paths[i % len(paths)], per_worker)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors


def measure_pages(people: dict, args) -> list[PageResult]:
    cookies = {who: session_cookie(people[who]) for who in ROLES}
    results = []
    # B1 always: every ratio is to the baseline measured in the same run.
    plan = [
        (name, who, path)
        for name, who, path in page_plan(people)
        if not args.pages or any(part in name for part in args.pages) or name == "B1 baseline"
    ]
    if not args.smoke:
        # Every worker serves every page a few times before anything is timed. A worker's first requests load
        # templates, translations and its database connection; B1, timed first, used to pay for that alone, which
        # raised its p95 (6.9 against 3.9 ms warm at 100,000 loans) and flattered every ratio.
        for _name, who, path in plan:
            hey(path, cookies[who], requests=args.workers * 4, concurrency=args.workers)
    b1_path = plan[0][2]
    for name, who, path in plan:
        result = PageResult(name, path)
        started = time.perf_counter()
        status, headers, _ = fetch(path, cookies[who])
        probe_s = time.perf_counter() - started
        result.status, result.queries = status, int(headers.get("X-Queries", 0))
        if not args.smoke and status == 200:
            # A page far over budget gets fewer requests (never under MIN_SAMPLES) so that one slow page cannot make
            # the run last hours; its p95 is still from enough samples to report.
            requests = max(MIN_SAMPLES, min(args.requests, int(PAGE_SECONDS / max(probe_s, 0.001))))
            hey(path, cookies[who], requests=min(args.warmup, requests), concurrency=2)
            b1, result.c1 = side_by_side(
                lambda n: hey_run(b1_path, cookies["officer"], requests=n, concurrency=1),
                lambda n, path=path, who=who: hey_run(path, cookies[who], requests=n, concurrency=1),
                b1_requests=args.requests,
                requests=requests,
            )
            result.b1_p95 = b1["p95_ms"]
            result.c8 = hey(path, cookies[who], requests=requests * 2, concurrency=8)
        log(f"{name:22} {status} {result.queries:3} queries {result.c1.get('p95_ms', '')}")
        results.append(result)
    if not args.pages or any(part in "repayment post" for part in args.pages):
        results.append(measure_repayment(people, cookies["officer"], args))
    return results


def measure_repayment(people: dict, cookie: str, args) -> PageResult:
    from django.urls import reverse

    from postloan.models import Loan, LoanStatus

    loans = (
        Loan.objects.filter(officer=people["officer"], status=LoanStatus.ACTIVE)
        .exclude(pk=people["loan"].pk)
        .order_by("pk")[:8]
    )
    paths = [reverse("postloan:repayment_post", args=[loan.pk]) for loan in loans]
    result = PageResult("repayment post", paths[0])
    # One post first: its status and query count are checked like every page's.
    form = repayment_form(paths[0], cookie)
    if form:
        result.status, result.queries, _ = post_repayment(paths[0], *form)
    if not args.smoke and result.status == 302:
        b1, result.c1 = side_by_side(
            lambda n: hey_run(page_plan(people)[0][2], cookie, requests=n, concurrency=1),
            lambda n: post_repayments(paths, cookie, requests=n, concurrency=1),
            b1_requests=args.requests,
            requests=args.requests // 2,
        )
        result.b1_p95 = b1["p95_ms"]
        result.c8 = summarise(*post_repayments(paths, cookie, requests=args.requests, concurrency=8))
    log(f"{'repayment post':22} {result.status} {result.queries:3} queries {result.c1.get('p95_ms', '')}")
    return result


# --- batch work: the daily sweep, follow-up planning, the export ----------------------------------------------------
def timed_command(env: dict, *args: str) -> dict:
    """Run a management command in a child process: wall time, peak memory and what it printed."""
    started = time.perf_counter()
    code = (
        "import resource, subprocess, sys, json;"
        f"r = subprocess.run({[PYTHON, 'manage.py', *args]!r}, capture_output=True, text=True);"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(json.dumps({'rc': r.returncode, 'out': r.stdout[-2000:], 'err': r.stderr[-2000:], 'peak_kb': peak}))"
    )
    output = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, check=True, text=True, capture_output=True)
    found = json.loads(output.stdout)
    found["wall_s"] = round(time.perf_counter() - started, 2)
    if found["rc"] != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{found['err']}")
    return found


def measure_batches(env: dict, args) -> dict:
    log("daily sweep over the whole book")
    sweep = timed_command(env, "sweep_daily")
    log(f"daily sweep {sweep['wall_s']} s: {sweep['out'].strip()}")
    # Today's sweep of a book generated today has nothing to do; tomorrow's (rolled back) is a real day's work.
    log("tomorrow's daily sweep over the whole book, rolled back")
    sweep_next_day = timed_command(env, "bench_batch", "sweep-next-day")
    log(f"next day's sweep {sweep_next_day['wall_s']} s: {sweep_next_day['out'].strip()}")
    log("follow-up planning for 10,000 disbursements")
    planning = timed_command(env, "bench_batch", "planning", "--loans", "10000")
    log(f"planning {planning['out'].strip()}")
    found = {"sweep": sweep, "sweep next day": sweep_next_day, "planning": planning}
    log("dashboard figures computed from the book (what the stored figures save each view)")
    found["dashboard figures"] = timed_command(env, "bench_batch", "dashboard")
    log(f"dashboard figures {found['dashboard figures']['out'].strip()}")
    for file_format in ("xlsx", "csv"):
        log(f"export of 100,000 loans to {file_format}")
        export = timed_command(env, "bench_batch", "export", "--loans", "100000", "--format", file_format)
        log(f"export {export['out'].strip()} peak {export['peak_kb'] // 1024} MiB")
        found[f"export {file_format}"] = export
    return found


# --- the report -----------------------------------------------------------------------------------------------------
def report(results: list[PageResult], batches: dict, loans: int) -> str:
    adjacent = sorted(result.b1_p95 for result in results if result.b1_p95)
    lines = [
        f"Book: {loans:,} loans. B1 p95 at c=1, timed in turns with each page: "
        + (f"{adjacent[0]}–{adjacent[-1]} ms, median {statistics.median(adjacent)} ms." if adjacent else "—"),
        "",
        "| page | queries | p50 c1 ms | p95 c1 ms | rps c1 | p50 c8 ms | p95 c8 ms | rps c8 | B1 p95 ms | p95/B1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        c1, c8 = result.c1, result.c8
        ratio = f"{result.ratio:.1f}" if result.ratio else ""
        lines.append(
            f"| {result.name} | {result.queries} | {c1.get('p50_ms', '')} | {c1.get('p95_ms', '')} | "
            f"{c1.get('rps', '')} | {c8.get('p50_ms', '')} | {c8.get('p95_ms', '')} | {c8.get('rps', '')} | "
            f"{result.b1_p95 or ''} | {ratio} |"
        )
    if batches:
        lines += ["", "| batch | wall s | peak MiB | result |", "|---|---:|---:|---|"]
        for name, found in batches.items():
            lines.append(f"| {name} | {found['wall_s']} | {found['peak_kb'] // 1024} | {found['out'].strip()[:200]} |")
    return "\n".join(lines)


def check(results: list[PageResult]) -> list[str]:
    """The smoke's failures: an error page or a query count over its budget (and, from `kept_counts_check`, counts
    per status that differ from the book)."""
    failures = []
    for result in results:
        expected = 302 if result.name == "repayment post" else 200
        if result.status != expected:
            failures.append(f"{result.name}: HTTP {result.status} at {result.path}")
        if result.queries > QUERY_BUDGET[result.name]:
            failures.append(f"{result.name}: {result.queries} queries, budget {QUERY_BUDGET[result.name]}")
    return failures


def kept_counts_check() -> list[str]:
    """The counts per status the lists read (core.status_counts) against the book's own rows: `generate_load` loads
    with the counting triggers off and counts again afterwards, and this is where that is checked on a real load."""
    from django.db.models import Count, Sum

    from applications.models import Application, ApplicationStatusCount
    from postloan.models import Loan, LoanStatusCount

    failures = []
    group = ("branch_id", "officer_id", "status")
    for model, kept in ((Loan, LoanStatusCount), (Application, ApplicationStatusCount)):
        live = {row[:3]: row[3] for row in model.objects.order_by().values_list(*group).annotate(n=Count("*"))}
        totals = kept.objects.order_by().values_list(*group).annotate(n=Sum("n")).filter(n__gt=0)
        if {row[:3]: row[3] for row in totals} != live:
            failures.append(f"{kept.__name__}: the kept counts differ from the {model.__name__} rows")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=100_000, help="book size to generate when the database is empty")
    parser.add_argument("--smoke", action="store_true", help="5,000 loans, status and query budgets only")
    parser.add_argument("--requests", type=int, default=200, help="requests per page at concurrency 1")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (2 × cores + 1)")
    parser.add_argument("--skip-batches", action="store_true", help="pages only")
    parser.add_argument("--skip-pages", action="store_true", help="batch jobs only")
    parser.add_argument("--pages", nargs="*", default=[], help="only the pages whose name contains one of these")
    parser.add_argument("--fresh", action="store_true", help="drop the bench database and generate a new book")
    parser.add_argument("--demo", action="store_true", help="fill an empty database with the demo book instead")
    args = parser.parse_args()
    if shutil.which("hey") is None and not args.smoke:
        raise SystemExit("hey is missing: apt-get install -y hey")
    default = "postgres://postgres@127.0.0.1:5432/loantrack_bench" + ("_smoke" if args.smoke else "")
    database_url = os.environ.get("BENCH_DATABASE_URL") or default
    if not database_url.startswith("postgres"):
        raise SystemExit("BENCH_DATABASE_URL must name a PostgreSQL database: the bench measures production's.")
    loans = 5_000 if args.smoke else args.loans
    ensure_database(database_url, fresh=args.smoke or args.fresh)
    env = bench_env(database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    django_setup(env)
    from django.core.cache import cache

    from postloan.models import Loan

    # The bench's Redis database is shared by the books it measures (smoke, 100k, 1M): stored dashboard figures of
    # another book must not be served as this one's.
    cache.clear()

    if not Loan.objects.exists():
        log(f"generating {loans:,} loans")
        if args.demo:
            manage(env, "seed_demo")
        else:
            manage(env, "generate_load", "--loans", str(loans), "--seed", "42")
    loans = Loan.objects.count()
    counts_failures = kept_counts_check()
    people = pick_people_and_rows()
    results = []
    if not args.skip_pages:
        server = start_server(env, args.workers)
        try:
            results = measure_pages(people, args)
        finally:
            stop_server(server)
    batches = {} if args.smoke or args.skip_batches else measure_batches(env, args)
    text = report(results, batches, loans)
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = ("-batches" if args.skip_pages else "") + ("-some" if args.pages else "")
    stem = "smoke" if args.smoke else f"results-{loans}{suffix}"
    (OUT / f"{stem}.md").write_text(text + "\n")
    found = {"loans": loans, "pages": [asdict(r) for r in results], "batches": batches}
    (OUT / f"{stem}.json").write_text(json.dumps(found))
    print(text)
    failures = counts_failures + check(results)
    if failures:
        print("\nFAILED:\n" + "\n".join(failures))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
