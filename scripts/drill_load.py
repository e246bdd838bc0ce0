"""The load and the checks of scripts/drill: a bounded number of job submissions spread over
several API processes while scripts/drill injects a fault (processes killed, the database
stopped), then the proof, from the database and from the API, that every accepted job ended
exactly once and that nothing failed beyond what the fault explains.

    python3 scripts/drill_load.py --apis http://127.0.0.1:P1,... --token-file F --database-url URL \
        --tenant T --jobs 1500 --rate 25 --events EVENTS --report REPORT.json

Standard library only (http.client, threads), so it runs on a bare Debian python3.

Each submission is one CPU-light job (a sha256, or every tenth the factoring of a semiprime of
two 17-digit primes) with its own Idempotency-Key and input, retried
with the same key until the service gives a definitive answer, as a careful client does:
202 accepts it; 503, 409 IDEMPOTENCY_IN_PROGRESS and 429 are retried after Retry-After (or
a second); a broken connection is retried on the next API, as a load balancer would, and that
API is left alone for a while. Every attempt is recorded: the API, when, how long, and what
came back (status, Retry-After, content type, problem code and `retryable`).

The events file, written by scripts/drill while the load runs, has one line per fault:
`<unix time> kill-api <index>`, `kill-worker <index>`, `database-stop`, `database-start`.
The checks run once the load has ended and the queue has drained:
- every submission was accepted (202), none refused for good;
- no failure beyond the fault: a broken connection only to a killed API, at or after its kill;
  a 409 only for a key whose earlier attempt was cut by that kill or by the outage; a 503 only
  while the database was down or just after, each problem+json, SERVICE_UNAVAILABLE,
  `retryable: true`, with Retry-After once the database's breaker had opened; never a 500;
  no request slower than --hang-seconds;
- the database holds exactly the accepted jobs (none lost, none made twice), each confirmed
  with the right result, one ledger entry each with that result's hash, the tenant's usage
  metered once per job (submitted, succeeded, none failed), an audit record of each acceptance,
  and each Idempotency-Key naming the job its client was given;
- the API shows every accepted job confirmed, with the database's result hash.
It prints a summary, writes it as JSON to --report, and exits 1 on any violation.
"""

import argparse
import hashlib
import http.client
import json
import queue
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor


class Api:
    """One API process: its address, and until when a broken connection keeps us off it."""

    def __init__(self, index, url):
        self.index = index
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.avoid_until = 0.0
        self.lock = threading.Lock()

    def request(self, method, path, token, body=None, headers=None, timeout=30.0):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            all_headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                all_headers["Content-Type"] = "application/json"
            all_headers.update(headers or {})
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()


def is_prime(n):
    """Miller-Rabin with the first twelve primes as bases: exact below 3.3 * 10^24."""
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
    if n < 2:
        return False
    for p in bases:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(digits, rng):
    while True:
        candidate = rng.randrange(10 ** (digits - 1), 10 ** digits) | 1
        if is_prime(candidate):
            return candidate


class Submission:
    """One job: a sha256 of a unique text, or, every --slow-every submissions, the factoring of a
    semiprime of two --slow-digits primes (tens of milliseconds of GMP-ECM), so that a worker
    killed mid-run is likely to hold a running job."""

    def __init__(self, index, tenant, slow_every, slow_digits, rng):
        self.index = index
        self.key = f"drill-{tenant}-{index}-{uuid.uuid4()}"
        if slow_every and index % slow_every == slow_every - 1:
            p, q = sorted((random_prime(slow_digits, rng), random_prime(slow_digits, rng)))
            self.factors = [str(p), str(q)]
            self.data = None
            payload = {"algorithm": "prime_factorization", "input": {"number": str(p * q)}}
        else:
            self.factors = None
            self.data = f"drill {tenant} {index} {uuid.uuid4()}"
            payload = {"algorithm": "sha256", "input": {"data": self.data}}
        self.body = json.dumps({"type": "compute", "payload": payload})
        self.attempts = []
        self.job_id = None
        self.final = None  # "accepted", "refused <status> <code>", "gave up"

    def result_is_right(self, result):
        if self.factors:
            return result.get("factors") == self.factors and result.get("complete") is True
        return result.get("sha256") == hashlib.sha256(self.data.encode()).hexdigest()


def parse_problem(headers, body):
    try:
        document = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    return document.get("code"), document.get("retryable")


def submit(submission, apis, token, deadline, hang_seconds):
    """Sends one submission until a definitive answer, recording every attempt."""
    api_index = submission.index % len(apis)
    give_up_at = time.time() + deadline
    while time.time() < give_up_at:
        # The next API not known to be down, from this submission's turn on.
        now = time.time()
        for step in range(len(apis)):
            candidate = apis[(api_index + step) % len(apis)]
            if candidate.avoid_until <= now:
                api_index = candidate.index
                break
        api = apis[api_index]
        attempt = {"api": api.index, "start": time.time()}
        try:
            status, headers, body = api.request("POST", "/v1/jobs", token, body=submission.body,
                                                headers={"Idempotency-Key": submission.key}, timeout=hang_seconds * 2)
        except (OSError, http.client.HTTPException) as error:
            attempt.update(end=time.time(), outcome="transport", error=f"{type(error).__name__}: {error}")
            submission.attempts.append(attempt)
            with api.lock:
                api.avoid_until = max(api.avoid_until, time.time() + 5)
            api_index = (api_index + 1) % len(apis)
            time.sleep(0.1)
            continue
        code, retryable = parse_problem(headers, body)
        attempt.update(end=time.time(), outcome=status, retry_after=headers.get("retry-after"),
                       content_type=headers.get("content-type"), code=code, retryable=retryable)
        submission.attempts.append(attempt)
        if status == 202:
            submission.job_id = json.loads(body)["id"]
            submission.final = "accepted"
            return
        if status in (503, 409, 429) or status >= 500:
            # Retryable by the service's word, or a failure the checks report: the same key
            # makes a retry safe either way. The next try goes to the next API.
            wait = float(headers.get("retry-after") or 1.0)
            time.sleep(min(wait, 30.0))
            api_index = (api_index + 1) % len(apis)
            continue
        submission.final = f"refused {status} {code}"
        return
    submission.final = "gave up"


def probe(apis, token, stop, probes):
    """Reads the job list from each API in turn, four times a second, for as long as the load
    runs: the answers while clients are waiting out a Retry-After show the service's state."""
    turn = 0
    while not stop.is_set():
        api = apis[turn % len(apis)]
        turn += 1
        attempt = {"api": api.index, "start": time.time()}
        try:
            status, headers, body = api.request("GET", "/v1/jobs?limit=1", token, timeout=30.0)
            code, retryable = parse_problem(headers, body)
            attempt.update(end=time.time(), outcome=status, retry_after=headers.get("retry-after"),
                           content_type=headers.get("content-type"), code=code, retryable=retryable)
        except (OSError, http.client.HTTPException) as error:
            attempt.update(end=time.time(), outcome="transport", error=f"{type(error).__name__}: {error}")
        probes.append(attempt)
        stop.wait(0.25)


def run_load(args, apis, token):
    rng = random.Random(args.seed)
    submissions = [Submission(i, args.tenant, args.slow_every, args.slow_digits, rng) for i in range(args.jobs)]
    work = queue.Queue()
    started = time.time()
    stop, probes = threading.Event(), []
    prober = threading.Thread(target=probe, args=(apis, token, stop, probes))
    prober.start()

    def pace():
        for submission in submissions:
            due = started + submission.index / args.rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            work.put(submission)
        for _ in range(args.concurrency):
            work.put(None)

    def worker():
        while True:
            submission = work.get()
            if submission is None:
                return
            submit(submission, apis, token, args.submission_deadline, args.hang_seconds)

    threads = [threading.Thread(target=pace)] + [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for thread in threads:
        thread.start()
    last_report = started
    while any(thread.is_alive() for thread in threads):
        time.sleep(1)
        if time.time() - last_report >= 10:
            last_report = time.time()
            done = sum(1 for s in submissions if s.final)
            print(f"  load: {done}/{len(submissions)} answered after {time.time() - started:.0f} s", flush=True)
    for thread in threads:
        thread.join()
    stop.set()
    prober.join()
    return submissions, probes, started, time.time()


def psql(url, sql):
    out = subprocess.run(["psql", "-qAtX", "-F", "\t", url, "-c", sql], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def wait_for_drain(url, tenant, timeout):
    """Until every job of the tenant is terminal and confirmed (or failed/cancelled), or timeout."""
    started = time.time()
    while True:
        counts = dict(psql(url, f"SELECT status, count(*) FROM jobs WHERE tenant = '{tenant}' GROUP BY status"))
        pending = sum(int(counts.get(s, 0)) for s in ("queued", "running", "succeeded"))
        if pending == 0:
            return time.time() - started, counts
        if time.time() - started > timeout:
            return None, counts
        time.sleep(1)


def read_events(path):
    events = []
    with open(path) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2:
                events.append((float(parts[0]), parts[1], parts[2] if len(parts) > 2 else None))
    return events


def check(args):
    apis = [Api(i, url) for i, url in enumerate(args.apis.split(","))]
    token = open(args.token_file).read().strip()
    print(f"load: {args.jobs} submissions at {args.rate}/s over {len(apis)} APIs, {args.concurrency} clients", flush=True)
    submissions, probes, load_start, load_end = run_load(args, apis, token)
    events = read_events(args.events)
    violations = []

    def violation(text):
        if len(violations) < 200:
            violations.append(text)
        elif len(violations) == 200:
            violations.append("... more violations left off")

    killed_apis = {int(target): t for t, kind, target in events if kind == "kill-api"}
    worker_kills = [t for t, kind, _ in events if kind == "kill-worker"]
    stops = [t for t, kind, _ in events if kind == "database-stop"]
    starts = [t for t, kind, _ in events if kind == "database-start"]
    outage = (stops[0], starts[0]) if stops and starts else None

    # --- The answers the clients saw: the submissions', then the probes' (GET /v1/jobs).
    attempts = [a for s in submissions for a in s.attempts]
    answers = attempts + probes
    statuses = Counter(str(a["outcome"]) for a in attempts)
    latencies = [a["end"] - a["start"] for a in answers]
    keys_cut = set()  # submissions with an attempt the fault cut short
    unavailable = [a for a in answers if a["outcome"] == 503]
    without_retry_after = [a for a in unavailable if not a.get("retry_after")]

    def judge(label, a, expected):
        """Checks one answer against the fault; True when the fault explains a failure."""
        late = a["end"] - a["start"]
        if late > args.hang_seconds:
            violation(f"{label}: an attempt on API {a['api']} took {late:.1f} s (a hang)")
        if a["outcome"] == "transport":
            kill = killed_apis.get(a["api"])
            if kill is not None and a["end"] >= kill - 0.5:
                return True
            violation(f"{label}: broken connection to API {a['api']} that was not killed: {a['error']}")
        elif a["outcome"] == 503:
            if a.get("code") != "SERVICE_UNAVAILABLE" or a.get("retryable") is not True \
                    or not (a.get("content_type") or "").startswith("application/problem+json"):
                violation(f"{label}: a 503 that is not problem+json SERVICE_UNAVAILABLE retryable: {a}")
            if outage is not None and outage[0] - 1 <= a["end"] <= outage[1] + args.recovery_allowance:
                return True
            violation(f"{label}: 503 from API {a['api']} outside the database outage")
        elif a["outcome"] != expected:
            violation(f"{label}: {a['outcome']} {a.get('code')} from API {a['api']}")
        return False

    for s in submissions:
        for a in s.attempts:
            if a["outcome"] == 409:
                if a.get("code") != "IDEMPOTENCY_IN_PROGRESS" or s.index not in keys_cut:
                    violation(f"submission {s.index}: 409 {a.get('code')} without an earlier attempt cut by the fault")
            elif judge(f"submission {s.index}", a, 202):
                keys_cut.add(s.index)
        if s.final != "accepted":
            violation(f"submission {s.index}: not accepted: {s.final}")
    for a in probes:
        judge("probe GET /v1/jobs", a, 200)
    # Before the breaker opens, a 503 says the database did not answer and no one knows for how
    # long; each process's breaker opens after --breaker-failures such failures in a row, and from
    # then on every 503 says when to come back.
    allowed_without = args.breaker_failures * len(apis)
    if len(without_retry_after) > allowed_without:
        violation(f"{len(without_retry_after)} 503 answers without Retry-After; at most {allowed_without} "
                  f"(the failures that open each API's breaker) may lack it")

    accepted = {s.job_id: s for s in submissions if s.job_id}
    if len(accepted) != sum(1 for s in submissions if s.final == "accepted"):
        violation("two submissions were given the same job id")

    # --- The queue drains.
    drain_seconds, counts = wait_for_drain(args.database_url, args.tenant, args.drain_timeout)
    if drain_seconds is None:
        violation(f"the queue did not drain within {args.drain_timeout} s: {counts}")

    # --- The database.
    rows = psql(args.database_url, f"""
        SELECT j.id, j.status, j.attempts, j.result, j.result_hash, j.finished_at, j.payload,
               (SELECT count(*) FROM ledger l WHERE l.job_id = j.id),
               (SELECT min(l.result_hash) FROM ledger l WHERE l.job_id = j.id)
        FROM jobs j WHERE j.tenant = '{args.tenant}'""")
    in_database = {}
    for job_id, status, tries, result, result_hash, finished_at, payload, ledger_count, ledger_hash in rows:
        in_database[job_id] = dict(status=status, attempts=int(tries), result=result, result_hash=result_hash,
                                   finished_at=int(finished_at) / 1e6 if finished_at else None,
                                   payload=payload, ledger_count=int(ledger_count), ledger_hash=ledger_hash)
    lost = set(accepted) - set(in_database)
    extra = set(in_database) - set(accepted)
    for job_id in sorted(lost):
        violation(f"job {job_id} was accepted but is not in the database (lost)")
    for job_id in sorted(extra):
        violation(f"job {job_id} is in the database but no client was given it (made twice, or an answer lost)")
    rerun = 0
    for job_id, s in accepted.items():
        job = in_database.get(job_id)
        if job is None:
            continue
        if job["attempts"] > 1:
            rerun += 1
        if job["status"] != "confirmed":
            violation(f"job {job_id} ended {job['status']}, not confirmed")
            continue
        if not s.result_is_right(json.loads(job["result"])):
            violation(f"job {job_id}: wrong result {job['result']}")
        if job["ledger_count"] != 1 or job["ledger_hash"] != job["result_hash"]:
            violation(f"job {job_id}: {job['ledger_count']} ledger entries, hash {job['ledger_hash']} vs {job['result_hash']}")
    usage = psql(args.database_url, f"""
        SELECT coalesce(sum(jobs_submitted), 0), coalesce(sum(jobs_succeeded), 0), coalesce(sum(jobs_failed), 0)
        FROM usage WHERE tenant = '{args.tenant}'""")[0]
    submitted, succeeded, failed = (int(x) for x in usage)
    if (submitted, succeeded, failed) != (len(accepted), len(accepted), 0):
        violation(f"usage metered {submitted} submitted, {succeeded} succeeded, {failed} failed for {len(accepted)} jobs")
    audited = {row[0] for row in psql(args.database_url, f"""
        SELECT DISTINCT target FROM audit WHERE tenant = '{args.tenant}' AND action = 'job.submit' AND outcome = '202'""")}
    unaudited = set(accepted) - audited
    if unaudited:
        violation(f"{len(unaudited)} accepted jobs have no audit record of their acceptance, e.g. {sorted(unaudited)[0]}")
    keyed = dict((k, j) for k, j in psql(args.database_url, f"""
        SELECT key, job_id FROM idempotency_keys WHERE tenant = '{args.tenant}' AND state = 'completed'"""))
    for s in submissions:
        if s.job_id and keyed.get(s.key) != s.job_id:
            violation(f"submission {s.index}: its Idempotency-Key names job {keyed.get(s.key)}, the client was given {s.job_id}")

    # --- The API, on every process still running.
    alive = [api for api in apis if api.index not in killed_apis]

    def read_back(item):
        job_id, s = item
        api = alive[s.index % len(alive)]
        for _ in range(5):
            try:
                status, _, body = api.request("GET", f"/v1/jobs/{job_id}", token)
            except (OSError, http.client.HTTPException) as error:
                return f"job {job_id}: GET failed: {error}"
            if status == 200:
                shown = json.loads(body)
                db = in_database.get(job_id) or {}
                if shown.get("status") != "confirmed" or shown.get("resultHash") != db.get("result_hash"):
                    return f"job {job_id}: the API shows {shown.get('status')} {shown.get('resultHash')}"
                return None
            time.sleep(1)
        return f"job {job_id}: GET answered {status}"

    with ThreadPoolExecutor(8) as pool:
        for problem in pool.map(read_back, accepted.items()):
            if problem:
                violation(problem)

    # --- Figures.
    finished = sorted(j["finished_at"] for j in in_database.values() if j["finished_at"])
    summary = {
        "submissions": len(submissions),
        "accepted": len(accepted),
        "confirmed": sum(1 for j in in_database.values() if j["status"] == "confirmed"),
        "jobs_in_database": len(in_database),
        "jobs_run_more_than_once": rerun,
        "attempts_by_outcome": dict(statuses),
        "probes_by_outcome": dict(Counter(str(a["outcome"]) for a in probes)),
        "answers_503": len(unavailable),
        "answers_503_without_retry_after": len(without_retry_after),
        "submissions_cut_by_fault": len(keys_cut),
        "max_latency_seconds": round(max(latencies), 3) if latencies else None,
        "p99_latency_seconds": round(sorted(latencies)[int(len(latencies) * 0.99)], 3) if latencies else None,
        "load_seconds": round(load_end - load_start, 1),
        "drain_seconds_after_load": round(drain_seconds, 1) if drain_seconds is not None else None,
        "violations": len(violations),
    }
    if outage:
        after = [a for a in attempts if a["outcome"] == 202 and a["start"] >= outage[1]]
        summary["outage_seconds"] = round(outage[1] - outage[0], 1)
        summary["first_accepted_after_restart_seconds"] = round(min(a["end"] for a in after) - outage[1], 2) if after else None
        last_503 = max((a["end"] for a in unavailable), default=None)
        summary["last_503_after_restart_seconds"] = round(last_503 - outage[1], 2) if last_503 else None
        done_after = [t for t in finished if t >= outage[1]]
        summary["first_job_finished_after_restart_seconds"] = round(done_after[0] - outage[1], 2) if done_after else None
        during = [a for a in answers if outage[0] <= a["start"] <= outage[1]]
        summary["answers_during_outage"] = dict(Counter(str(a["outcome"]) for a in during))
        summary["max_latency_during_outage_seconds"] = round(max((a["end"] - a["start"] for a in during), default=0), 3)
    if worker_kills:
        rescued = [j["finished_at"] for j in in_database.values() if j["attempts"] > 1 and j["finished_at"]]
        summary["last_rerun_job_finished_after_worker_kill_seconds"] = \
            round(max(rescued) - worker_kills[0], 1) if rescued else None
    if killed_apis:
        summary["broken_connections_to_killed_api"] = sum(1 for a in answers if a["outcome"] == "transport")
    summary["violation_list"] = violations

    with open(args.report, "w") as handle:
        json.dump(summary, handle, indent=2)
    for name, value in summary.items():
        if name != "violation_list":
            print(f"  {name}: {value}")
    for text in violations:
        print(f"VIOLATION: {text}")
    print("drill: PASS" if not violations else f"drill: FAIL ({len(violations)} violations)", flush=True)
    return 0 if not violations else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apis", required=True, help="comma-separated base URLs of the API processes")
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--jobs", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=25.0, help="submissions started per second")
    parser.add_argument("--concurrency", type=int, default=16, help="clients sending at once")
    parser.add_argument("--submission-deadline", type=float, default=240.0, help="seconds a submission is retried")
    parser.add_argument("--hang-seconds", type=float, default=15.0, help="an answer slower than this is a hang")
    parser.add_argument("--recovery-allowance", type=float, default=45.0,
                        help="seconds after the database's restart during which a 503 is still explained by it")
    parser.add_argument("--breaker-failures", type=int, default=5)
    parser.add_argument("--slow-every", type=int, default=10, help="every Nth job factors a semiprime (0: none)")
    parser.add_argument("--slow-digits", type=int, default=17, help="digits of each prime of those semiprimes")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    sys.exit(check(parser.parse_args()))


if __name__ == "__main__":
    main()
