#!/usr/bin/env python3
"""The CPU a pickup pair's two functions cost one PostgreSQL backend (BENCHMARKS.md), with the commits
flushed (synchronous_commit on, as the server runs) and not (off): sets up bench/pickup_functions.sql,
then per round calls the procedure for --pairs pairs and reads the backend's user + system time from
/proc/<pid>/stat (the backend must run on this machine). Bounded: --rounds × --pairs calls, loopback only.

    python3 bench/pickup_functions.py --psql "psql -h $(readlink -f .pickupbox/bench/postgres)/run -U postgres -d pickupbox"
"""
import argparse
import os
import shlex
import subprocess
import time

p = argparse.ArgumentParser()
p.add_argument("--psql", required=True, help="psql command line, one string (the database make bench left)")
p.add_argument("--pairs", type=int, default=3000)
p.add_argument("--rounds", type=int, default=3)
args = p.parse_args()
psql = shlex.split(args.psql)
subprocess.run(psql + ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", os.path.join(os.path.dirname(__file__), "pickup_functions.sql")], check=True)
ticks = os.sysconf("SC_CLK_TCK")


class Backend:
    def __init__(self, synchronous_commit):
        # ON_ERROR_STOP: a step that did not accept (the procedure raises) ends psql, and query() says so.
        self.process = subprocess.Popen(psql + ["-X", "-qAt", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.pid = int(self.query("SELECT pg_backend_pid();")[0])
        self.query(f"SET synchronous_commit = {synchronous_commit};")
        self.query("CALL bench_pickup_pairs(200);")  # plans cached, before anything is timed

    def query(self, sql):
        self.process.stdin.write(sql + "\nSELECT 'bench-mark';\n")
        self.process.stdin.flush()
        lines = []
        while (line := self.process.stdout.readline()) and line.strip() != "bench-mark":
            lines.append(line.strip())
        if not line:
            raise SystemExit(f"psql stopped at: {sql} (see its error above)")
        return lines

    def cpu(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    def close(self):
        self.process.stdin.close()
        self.process.wait()


backends = {mode: Backend(mode) for mode in ("on", "off")}
for round in range(args.rounds):
    for mode, backend in backends.items():
        cpu, wall = backend.cpu(), time.monotonic()
        backend.query(f"CALL bench_pickup_pairs({args.pairs});")
        cpu, wall = backend.cpu() - cpu, time.monotonic() - wall
        print(f"round {round + 1}, synchronous_commit {mode:3}: {cpu / args.pairs * 1e6:4.0f} µs backend CPU a pair, "
              f"{wall / args.pairs * 1e6:4.0f} µs wall")
for backend in backends.values():
    backend.close()
