"""Compose rows: `up -d` and `down` of a five-service project (two user
bridge networks, a named volume, one service_healthy dependency), through
`berth compose` against berthd and Debian's docker-compose 1.29 against
dockerd, with the same compose file. Every figure is measured in the run;
none is hard-coded."""

import json
import os
import re
import statistics
import subprocess
import time

# version 2.4: docker-compose 1.29 honours `condition: service_healthy`
# there (the 3.x formats dropped it until the Compose Specification).
# Every service is sh as PID 1 with a TERM trap, its work in the
# background and `wait` in the foreground, so SIGTERM ends it at once
# on both engines and `down` never waits out a stop timeout.
def _svc(work):
    return f'["sh", "-c", "trap \'exit 0\' TERM; {work} & wait"]'


HEALTH_INTERVAL = "100ms"

COMPOSE = f"""version: "2.4"
services:
  web:
    image: busybox
    command: {_svc("nc -l -p 80")}
    depends_on:
      - api
    networks: [front]
  api:
    image: busybox
    command: {_svc("nc -l -p 8080")}
    depends_on:
      db:
        condition: service_healthy
      redis:
        condition: service_started
    networks: [front, back]
  worker:
    image: busybox
    command: {_svc("sleep 3600")}
    depends_on:
      - redis
    networks: [back]
  db:
    image: busybox
    command: {_svc("sleep 3600")}
    volumes:
      - dbdata:/data
    networks: [back]
    healthcheck:
      test: ["CMD", "true"]
      interval: {HEALTH_INTERVAL}
      timeout: 1s
      retries: 3
  redis:
    image: busybox
    command: {_svc("nc -l -p 6379")}
    networks: [back]
networks:
  front: {{}}
  back: {{}}
volumes:
  dbdata: {{}}
"""

SERVICES = 5
PROJECT = "benchcompose"


def _run(args, env=None):
    t = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return dt


def _project_objects(docker):
    """Containers, networks and volumes labelled with the bench's project."""
    label = f"label=com.docker.compose.project={PROJECT}"
    out = {}
    for kind, args in (("containers", ["ps", "-aq"]), ("networks", ["network", "ls", "-q"]),
                       ("volumes", ["volume", "ls", "-q"])):
        p = subprocess.run(docker + args + ["--filter", label], capture_output=True, text=True)
        out[kind] = p.stdout.split()
    # by name too, in case an engine left a label off
    for kind, args, names in (("networks", ["network", "ls", "--format", "{{.Name}}"], ("front", "back")),
                              ("volumes", ["volume", "ls", "--format", "{{.Name}}"], ("dbdata",))):
        have = subprocess.run(docker + args, capture_output=True, text=True).stdout.split()
        out[kind] += [n for n in have if n in {f"{PROJECT}_{x}" for x in names} and n not in out[kind]]
    return out


def _running(docker):
    label = f"label=com.docker.compose.project={PROJECT}"
    p = subprocess.run(docker + ["ps", "-q", "--filter", label], capture_output=True, text=True, check=True)
    return len(p.stdout.split())


def _health_order(docker):
    """(api started after db's first passing health check, ms from db's start to that check's end)."""
    def inspect(svc):
        ids = subprocess.run(docker + ["ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}",
                                       "--filter", f"label=com.docker.compose.service={svc}"],
                             capture_output=True, text=True).stdout.split()
        if not ids:
            return None
        return json.loads(subprocess.run(docker + ["inspect", ids[0]], capture_output=True, text=True).stdout)[0]
    db, api = inspect("db"), inspect("api")
    if not db or not api:
        return False, None
    log = (db["State"].get("Health") or {}).get("Log") or []
    ok = [h for h in log if h.get("ExitCode") == 0]
    if not ok:
        return False, None
    healthy = _ns(ok[0]["End"])
    return healthy <= _ns(api["State"]["StartedAt"]), (healthy - _ns(db["State"]["StartedAt"])) / 1e6


def _ns(stamp):
    """Nanoseconds of an RFC 3339 time stamp (this machine's daemons write UTC)."""
    day, _, rest = stamp.partition("T")
    clock = re.match(r"(\d+):(\d+):(\d+)(?:\.(\d+))?", rest)
    h, m, s, frac = clock.groups()
    y, mo, d = map(int, day.split("-"))
    secs = ((y * 372 + mo * 31 + d) * 24 + int(h)) * 3600 + int(m) * 60 + int(s)
    return secs * 10**9 + int((frac or "").ljust(9, "0")[:9])


def _cleanup(docker):
    """Remove whatever of the project is left (a failed run) on one daemon."""
    objs = _project_objects(docker)
    if objs["containers"]:
        subprocess.run(docker + ["rm", "-f"] + objs["containers"], capture_output=True)
    for n in objs["networks"]:
        subprocess.run(docker + ["network", "rm", n], capture_output=True)
    for v in objs["volumes"]:
        subprocess.run(docker + ["volume", "rm", "-f", v], capture_output=True)
    return _project_objects(docker)


def _cycles(up, down, docker, runs, env=None):
    """One warm-up cycle, then `runs` timed cycles of up -d and down."""
    ups, downs, order_ok, health = [], [], True, []
    for i in range(runs + 1):
        u = _run(up, env)
        n = _running(docker)
        if n != SERVICES:
            raise RuntimeError(f"{' '.join(up)}: {n} of {SERVICES} services running")
        bridges = [f"br-{n[:12]}" for n in _project_objects(docker)["networks"]]
        bridges = [br for br in bridges if os.path.exists(f"/sys/class/net/{br}")]
        if len(bridges) != 2:
            raise RuntimeError(f"{' '.join(up)}: host bridges {bridges}, not the project's two")
        ok, after = _health_order(docker)
        order_ok = order_ok and ok
        d = _run(down, env)
        left = _project_objects(docker)
        if any(left.values()):
            raise RuntimeError(f"{' '.join(down)} left {left}")
        kept = [br for br in bridges if os.path.exists(f"/sys/class/net/{br}")]
        if kept:
            raise RuntimeError(f"{' '.join(down)} left host bridges {kept}")
        if i:
            ups.append(u)
            downs.append(d)
            if after is not None:
                health.append(after)
    return (statistics.median(ups) * 1000, statistics.median(downs) * 1000, order_ok,
            statistics.median(health) if health else None)


def _client_ms(args, env=None, runs=3):
    """The client's own start: `version`, which asks no daemon."""
    return statistics.median(_run(args, env) for _ in range(runs)) * 1000


def rows(engines, berth_bin, work, runs):
    path = os.path.join(work, "compose", "compose.yml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(COMPOSE)
    d, b = engines["docker"], engines["berth"]
    dc_env = dict(os.environ, DOCKER_HOST=f"unix://{d.sock}", COMPOSE_INTERACTIVE_NO_CLI="1")
    dc = ["/usr/bin/docker-compose", "--ansi", "never", "-f", path, "-p", PROJECT]
    bc = [berth_bin, "-H", f"unix://{b.sock}", "compose", "--ansi", "never", "-f", path, "-p", PROJECT]
    down = ["down", "-v", "-t", "1"]
    res = {}
    try:
        res["docker"] = _cycles(dc + ["up", "-d"], dc + down, d.docker, runs, dc_env)
        res["berth"] = _cycles(bc + ["up", "-d"], bc + down, b.docker, runs)
    finally:
        left = {n: _cleanup(e.docker) for n, e in (("docker", d), ("berth", b))}
    if any(any(v.values()) for v in left.values()):
        raise RuntimeError(f"compose bench left objects behind: {left}")
    client = {"docker": _client_ms(dc + ["version"], dc_env), "berth": _client_ms(bc + ["version"])}
    order = ", ".join(f"{n} {'yes' if res[n][2] else 'NO'}" for n in ("docker", "berth"))
    health = ", ".join(f"{n} {res[n][3]:.0f} ms" if res[n][3] is not None else f"{n} n/a" for n in ("docker", "berth"))
    starts = ", ".join(f"{n} {client[n]:.0f} ms" for n in ("docker", "berth"))
    shape = (f"5 services (web, api, worker, db, redis), 2 networks, 1 named volume; api waits for db "
             f"service_healthy (interval {HEALTH_INTERVAL}); docker-compose 1.29 vs `berth compose`, same file; "
             f"median of {runs} after 1 warm-up; api started after db healthy: {order}; "
             f"db healthy after its start (median): {health}; client's own start (`version`): {starts}")
    return [
        {"what": "compose up -d, 5 services (median)", "unit": "ms", "docker": res["docker"][0],
         "berth": res["berth"][0], "berth_cli": None, "note": shape},
        {"what": "compose down -v -t 1, 5 services (median)", "unit": "ms", "docker": res["docker"][1],
         "berth": res["berth"][1], "berth_cli": None,
         "note": "every service exits on SIGTERM (sh trap), so no stop timeout is waited out on either side"},
    ]
