#!/usr/bin/env python3
"""The server's own time for one route, from /metrics (http_request_duration_seconds, "from the end of
the request head to the response"): what wrk's latency adds on top is queueing in the client and the
kernel. Two calls around a load run:

    route_latency.py --port 18080 --save before.txt
    route_latency.py --port 18080 --since before.txt --route /status

prints the requests counted between the two and p50/p90/p99 estimated within the histogram's buckets
(linear inside a bucket, so "p99 ≤ 5 ms" is exact, the figure inside the bucket an estimate)."""
import argparse
import re
import urllib.request

LINE = re.compile(r'^http_request_duration_seconds_bucket\{(?P<labels>[^}]*)\} (?P<value>\S+)$')


def scrape(port, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def buckets(text, route):
    out = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        labels = dict(kv.split("=", 1) for kv in re.findall(r'\w+="[^"]*"', m["labels"]))
        if labels.get("route", "").strip('"') != route:
            continue
        le = labels["le"].strip('"')
        out[float("inf") if le == "+Inf" else float(le)] = float(m["value"])
    return out


def quantile(cumulative, q):
    bounds = sorted(cumulative)
    total = cumulative[bounds[-1]]
    target = q * total
    lower, below = 0.0, 0.0
    for b in bounds:
        if cumulative[b] >= target:
            if b == float("inf"):
                return f"> {lower * 1000:g} ms"
            inside = cumulative[b] - below
            frac = (target - below) / inside if inside else 1.0
            return f"{(lower + (b - lower) * frac) * 1000:.2f} ms (≤ {b * 1000:g} ms)"
        lower, below = b, cumulative[b]
    return "n/a"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token")
    p.add_argument("--save")
    p.add_argument("--since")
    p.add_argument("--route", default="/status")
    a = p.parse_args()
    text = scrape(a.port, a.token)
    if a.save:
        open(a.save, "w").write(text)
        return
    now = buckets(text, a.route)
    before = buckets(open(a.since).read(), a.route) if a.since else {}
    delta = {b: now[b] - before.get(b, 0.0) for b in now}
    if not delta or max(delta.values()) == 0:
        print(f"server time for {a.route}: no requests counted")
        return
    print(f"server time for {a.route} ({int(max(delta.values()))} requests, /metrics histogram): "
          f"p50 {quantile(delta, 0.5)}, p90 {quantile(delta, 0.9)}, p99 {quantile(delta, 0.99)}")


if __name__ == "__main__":
    main()
