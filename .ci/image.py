#!/usr/bin/env python3
"""Checks the service's image (built by `cargo xtask image`) with podman, as
.ci/run does: what it holds, how it runs (non-root, read-only root, SIGTERM
with a batch in flight), its SQLite history across a restart, PostgreSQL by
host name, the admin rule, and three replicas on one PostgreSQL with one
killed mid-load.

Usage: .ci/image.py [--replicas-only]. Needs podman, runc and psql; the
machine's PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth).
"""

import csv
import http.client
import io
import json
import os
import resource
import socket
import subprocess
import sys
import tarfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = open(os.path.join(ROOT, "classification_model/VERSION")).read().strip()
IMAGE = f"localhost/classification-api:{VERSION}"
UID = 10001
# this machine starts containers only with cgroupfs and runc, with limits no
# higher than its own (it lacks CAP_SYS_RESOURCE)
PODMAN = os.environ.get("PODMAN", "podman").split() + ["--cgroup-manager=cgroupfs", "--runtime", "runc"]
# (nproc above 32768 was refused here though the host's limit is higher)
NOFILE = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 16384)
NPROC = min(resource.getrlimit(resource.RLIMIT_NPROC)[0], 4096)
LIMITS = ["--ulimit", f"nofile={NOFILE}:{NOFILE}", "--ulimit", f"nproc={NPROC}:{NPROC}"]
ADMIN_KEY = "ci-admin-key-0123456789"
DB_HOST = "db.internal"  # the machine's PostgreSQL, reached by name
GRACE = 10
PREFIX = f"ci-image-{os.getpid()}"


def step(message):
    print(f"\n--> {message}", flush=True)


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def podman(*args, check=True, capture=True):
    result = subprocess.run(PODMAN + list(args), capture_output=capture, text=True)
    if check and result.returncode != 0:
        fail(f"podman {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip() if capture else ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def within(seconds, condition):
    """Polls `condition` until it holds, at most `seconds`; whether it held."""
    deadline = time.monotonic() + seconds
    pause = 0.01
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body if isinstance(body, (bytes, type(None))) else body.encode()
        hdrs = dict(headers or {})
        if data is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return Reply(r.status, dict(r.getheaders()), r.read().decode())
    finally:
        conn.close()


def admin(extra=None):
    return {"Authorization": f"Bearer {ADMIN_KEY}", **(extra or {})}


class Container:
    """One container of the image on the host's network, on its own port."""

    def __init__(self, name, env=None, volume=None):
        self.name, self.port = f"{PREFIX}-{name}", free_port()
        args = ["run", "-d", "--name", self.name, "--read-only", "--network", "host",
                "--add-host", f"{DB_HOST}:127.0.0.1", *LIMITS,
                "-e", f"PORT={self.port}", "-e", "GRPC_PORT=0", "-e", f"SHUTDOWN_GRACE_SECS={GRACE}"]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        if volume:
            args += ["-v", f"{volume}:/data"]
        podman(*args, IMAGE)
        self.wait_ready()

    def wait_ready(self):
        def ready():
            try:
                return request(self.port, "GET", "/health/ready", timeout=2).status == 200
            except OSError:
                return self.state() == "exited"
        if not within(60, ready) or self.state() == "exited":
            fail(f"{self.name} did not become ready:\n{self.logs()}")

    def state(self):
        return podman("inspect", "--format", "{{.State.Status}}", self.name, check=False)

    def logs(self):
        return subprocess.run(PODMAN + ["logs", self.name], capture_output=True, text=True).stdout

    def pid(self):
        return int(podman("inspect", "--format", "{{.State.Pid}}", self.name))

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check=False)


def dataset_csv():
    with open(os.path.join(ROOT, "classification_model/datasets/titanic.csv"), newline="") as f:
        return f.read()


def record(id_):
    return {"id": id_, "pclass": 3, "name": "Braund, Mr. Owen Harris", "sex": "male",
            "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "embarked": "S"}


def check_contents():
    step(f"{IMAGE}: labels, user, and no shell or package manager")
    labels = json.loads(podman("image", "inspect", "--format", "{{json .Labels}}", IMAGE))
    if labels.get("org.opencontainers.image.version") != VERSION:
        fail(f"the version label is {labels.get('org.opencontainers.image.version')!r}, not {VERSION}")
    for key in ("revision", "source", "licenses"):
        if not labels.get(f"org.opencontainers.image.{key}"):
            fail(f"no org.opencontainers.image.{key} label")
    user = podman("image", "inspect", "--format", "{{.Config.User}}", IMAGE)
    if user != f"{UID}:{UID}":
        fail(f"the image runs as {user!r}")
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE))
    if size > 40_000_000:
        fail(f"the image weighs {size} bytes")
    name = f"{PREFIX}-contents"
    podman("create", "--name", name, IMAGE)
    try:
        tar = subprocess.run(PODMAN + ["export", name], capture_output=True, check=True).stdout
    finally:
        podman("rm", "-f", name, check=False)
    files = sorted(m.name for m in tarfile.open(fileobj=io.BytesIO(tar)) if not m.isdir())
    for banned in ("bin/sh", "usr/bin/apt", "usr/bin/dpkg", "sbin/apk"):
        if banned in files:
            fail(f"the image holds {banned}")
    print(f"{size / 1e6:.1f} MB, user {user}, labels {labels['org.opencontainers.image.version']}"
          f" @ {labels['org.opencontainers.image.revision'][:12]}; files: {', '.join(files)}")


def binary_answer(body):
    """The 1309-row answer of the same binary run outside the image."""
    binary = os.path.join(ROOT, "target/image/rootfs/usr/local/bin/classification_api")
    address = f"/tmp/{PREFIX}-address"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", "GRPC_PORT": "0", "HISTORY": "off",
           "ADDRESS_FILE": address, "RUST_LOG": "warn"}
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    try:
        if not within(30, lambda: os.path.exists(address)):
            fail("the binary did not start")
        port = int(open(address).read().split()[0].rsplit(":", 1)[1])
        return request(port, "POST", "/predict", dataset_csv(), {"Content-Type": "text/csv"})
    finally:
        proc.terminate()
        proc.wait()
        os.remove(address)


def check_serving():
    step("serving: /health, /predict on the 1309 rows as the binary answers, /v2, the web app")
    c = Container("serve", {"HISTORY": "off"})
    try:
        r = request(c.port, "GET", "/health")
        if r.status != 200 or r.json()["model_version"] != VERSION:
            fail(f"/health: {r.status} {r.body}")
        body = dataset_csv()
        ours = request(c.port, "POST", "/predict", body, {"Content-Type": "text/csv"})
        if ours.status != 200:
            fail(f"/predict: {ours.status} {ours.body[:300]}")
        theirs = binary_answer(body)
        for key in ("probabilities", "predictions", "version"):
            if ours.json()[key] != theirs.json()[key]:
                fail(f"the image's {key} differ from the binary's")
        print(f"1309 rows: the same {len(ours.json()['probabilities'])} probabilities as the binary")
        v2 = request(c.port, "GET", "/v2")
        if v2.status != 200 or "extensions" not in v2.json():
            fail(f"/v2: {v2.status} {v2.body}")
        page = request(c.port, "GET", "/")
        if page.status != 200 or "<html" not in page.body.lower():
            fail(f"/: {page.status}")
        step("it runs as the non-root user, on a read-only root")
        status = open(f"/proc/{c.pid()}/status").read()
        uid = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        if set(uid) != {str(UID)}:
            fail(f"the server runs as uid {uid}")
        root = next(line for line in open(f"/proc/{c.pid()}/mountinfo") if line.split()[4] == "/")
        if "ro" not in root.split()[5].split(","):
            fail(f"the root is not read-only: {root}")
        print(f"uid {UID}; root mount: {root.split()[5]}")
    finally:
        c.remove()


def check_sigterm_and_sqlite():
    step("SIGTERM (podman stop) with a batch in flight: it is answered, exit 0; the SQLite history outlives the container")
    volume = f"{PREFIX}-data"
    podman("volume", "create", volume)
    try:
        env = {"ADMIN_API_KEY": ADMIN_KEY}
        c = Container("sqlite", env, volume)
        r = request(c.port, "POST", "/predict", json.dumps({"inputs": [record("kept-1")]}))
        if r.status != 200:
            fail(f"/predict: {r.status} {r.body}")
        body = json.dumps({"inputs": [record(f"inflight-{i}") for i in range(500)]}).encode()
        s = socket.create_connection(("127.0.0.1", c.port), timeout=30)
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += s.recv(1)
        if not interim.startswith(b"HTTP/1.1 100"):
            fail(f"no 100 Continue: {interim!r}")
        s.sendall(body[:10])
        started = time.monotonic()
        stopper = threading.Thread(target=lambda: podman("stop", "-t", str(GRACE + 5), c.name))
        stopper.start()
        if not within(10, lambda: "SIGTERM" in c.logs()):
            fail("the server never logged the SIGTERM")
        s.sendall(body[10:])
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        s.close()
        stopper.join()
        took = time.monotonic() - started
        if not answer.startswith(b"HTTP/1.1 200"):
            fail(f"the batch in flight got {answer[:200]!r}")
        code = podman("inspect", "--format", "{{.State.ExitCode}}", c.name)
        if code != "0" or took > GRACE:
            fail(f"exit code {code} after {took:.1f} s (grace {GRACE} s)")
        print(f"the batch in flight answered 200; exit 0, {took:.2f} s after SIGTERM")
        c.remove()
        again = Container("sqlite-again", env, volume)
        try:
            for id_ in ("kept-1", "inflight-499"):
                r = request(again.port, "GET", f"/history/{id_}", headers=admin())
                if r.status != 200:
                    fail(f"/history/{id_} after a restart: {r.status} {r.body}")
            print("the records of both requests are in the history of a new container on the volume")
        finally:
            again.remove()
    finally:
        podman("volume", "rm", "-f", volume, check=False)


def check_admin_rule():
    step("the admin endpoints: closed without ADMIN_API_KEY, whatever the client; a proxied request never counts as local")
    c = Container("admin", {"HISTORY": "on"})
    try:
        for headers in ({}, {"X-Forwarded-For": "203.0.113.9"}):
            r = request(c.port, "GET", "/history", headers=headers)
            if r.status != 403:
                fail(f"/history without a key {headers}: {r.status} {r.body}")
        print(f"403: {r.json()['errors'][0]['message']}")
    finally:
        c.remove()
    c = Container("admin-loopback", {"ADMIN_LOOPBACK": "true"})
    try:
        if request(c.port, "GET", "/history").status != 200:
            fail("ADMIN_LOOPBACK=true does not open /history to loopback")
        r = request(c.port, "GET", "/history", headers={"X-Forwarded-For": "203.0.113.9"})
        if r.status != 403:
            fail(f"a proxied request from loopback got {r.status}")
        print("ADMIN_LOOPBACK=true: loopback 200, the same through a proxy 403")
    finally:
        c.remove()


def psql(sql):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", sql],
                   check=True, capture_output=True)


class Database:
    def __init__(self, tag):
        self.name = f"ci_{tag}_{os.getpid()}"
        psql(f"DROP DATABASE IF EXISTS {self.name}")
        psql(f"CREATE DATABASE {self.name}")
        self.url = f"postgres://postgres@{DB_HOST}:5432/{self.name}"

    def drop(self):
        psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def check_postgres():
    step(f"PostgreSQL by host name ({DB_HOST})")
    db = Database("image")
    c = None
    try:
        c = Container("postgres", {"DATABASE_URL": db.url, "ADMIN_API_KEY": ADMIN_KEY})
        if "backend=\"postgres\"" not in c.logs():
            fail(f"not on PostgreSQL:\n{c.logs()}")
        r = request(c.port, "POST", "/predict", json.dumps({"inputs": [record("pg-1")]}))
        if r.status != 200 or request(c.port, "GET", "/history/pg-1", headers=admin()).status != 200:
            fail(f"/predict then /history on PostgreSQL: {r.status} {r.body}")
        print("stored in and read from PostgreSQL")
    finally:
        if c:
            c.remove()
        db.drop()


def history_ids(port):
    r = request(port, "GET", "/history", headers=admin({"Accept": "text/csv"}), timeout=120)
    if r.status != 200:
        fail(f"/history as CSV: {r.status} {r.body[:200]}")
    return [row["id"] for row in csv.DictReader(io.StringIO(r.body))]


def check_replicas():
    step("three replicas on one PostgreSQL, one killed (SIGKILL) mid-load and started again")
    db = Database("replicas")
    replicas = []
    try:
        env = {"DATABASE_URL": db.url, "ADMIN_API_KEY": ADMIN_KEY, "RUST_LOG": "warn"}
        replicas = [Container(f"replica-{i}", env) for i in range(3)]
        # a request cut off by the kill may be stored without its 200
        # reaching the client: attempted, not acknowledged
        acknowledged, attempted, failures, lock = [], set(), [0], threading.Lock()
        stop = threading.Event()

        def client(n):
            i = 0
            while not stop.is_set():
                i += 1
                target = replicas[(n + i) % 3]
                id_ = f"c{n}-{i}"
                with lock:
                    attempted.add(id_)
                try:
                    r = request(target.port, "POST", "/predict",
                                json.dumps({"inputs": [record(id_)]}), timeout=5)
                    ok = r.status == 200 and r.json()["ids"] == [id_]
                except OSError:
                    ok = False
                with lock:
                    if ok:
                        acknowledged.append(id_)
                    else:
                        failures[0] += 1

        def answered():
            with lock:
                return len(acknowledged)

        clients = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in clients:
            t.start()
        try:
            if not within(60, lambda: answered() >= 300):
                fail("too little load before the kill")
            podman("kill", "-s", "KILL", replicas[1].name)
            at_kill = answered()
            if not within(60, lambda: answered() >= at_kill + 300):
                fail("the others stopped answering after the kill")
            podman("start", replicas[1].name)
            replicas[1].wait_ready()
            at_start = answered()
            if not within(60, lambda: answered() >= at_start + 300):
                fail("no load after the restart")
        finally:
            stop.set()
            for t in clients:
                t.join()
        print(f"{len(acknowledged)} answered 200, {failures[0]} not (the killed replica's)")
        listings = [history_ids(r.port) for r in replicas]
        for r, ids in zip(replicas, listings):
            if len(ids) != len(set(ids)):
                fail(f"{r.name} lists an id twice")
            missing = set(acknowledged) - set(ids)
            if missing:
                fail(f"{r.name}: {len(missing)} answered records are not in /history, e.g. {sorted(missing)[:3]}")
        if len({frozenset(ids) for ids in listings}) != 1:
            fail("the replicas list different histories")
        phantom = set(listings[0]) - attempted
        if phantom:
            fail(f"records no client sent are stored: {sorted(phantom)[:3]}")
        feedback = {"feedback": [{"id": id_, "survived": i % 2} for i, id_ in enumerate(acknowledged[:50])]}
        r = request(replicas[0].port, "POST", "/feedback", json.dumps(feedback), admin())
        if r.status != 200:
            fail(f"/feedback: {r.status} {r.body}")
        reports = [request(r.port, "GET", "/monitoring", headers=admin()).json() for r in replicas]
        counts = {(m["count"], json.dumps(m.get("live"), sort_keys=True)) for m in reports}
        if len(counts) != 1 or reports[0]["count"] != len(listings[0]) or not reports[0].get("live"):
            fail(f"/monitoring differs between replicas or misses records: {counts}")
        print(f"every answered record is in /history on all three ({len(listings[0])} rows, ids unique,"
              f" {len(listings[0]) - len(acknowledged)} stored whose answer the kill cut off);"
              f" /monitoring agrees everywhere (count {reports[0]['count']}, feedback posted to one"
              f" replica seen by all)")
    finally:
        for r in replicas:
            r.remove()
        db.drop()


def main():
    if "--replicas-only" not in sys.argv:
        check_contents()
        check_serving()
        check_sigterm_and_sqlite()
        check_admin_rule()
        check_postgres()
    check_replicas()
    print("\nthe image passes", flush=True)


if __name__ == "__main__":
    main()
