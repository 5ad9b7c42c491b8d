"""Print how fast /api/v1/suggest is, next to the bare encoder and a naive pipeline.

    python bench/suggest.py                          # the full run, about 3 minutes on 2 cores
    python bench/suggest.py --quick --json           # fewer iterations, then a JSON summary
    python bench/suggest.py --embedding-threads 1 --server-threads 4
    python bench/suggest.py --sweep                  # end-to-end only, per thread setting
    python bench/suggest.py --wait-idle 600          # on a shared machine: start when it is idle

One run measures:
  1. start-up: launching `assist serve` (caches ready, i.e. not the first start)
     until the first 200 from /healthz;
  2. at concurrency 1, in one loop taking blocks of each in turn: POST
     /api/v1/suggest over the messages below (requests, and http.client to show
     the client library's share), the bare encoder in-process on one short
     message (the lean ONNX runner, and sentence-transformers on torch), and a
     naive pipeline (torch encode + numpy dot over every phrase + argsort).
     Sharing one loop means a busy neighbour on this small machine slows all of
     them alike, so the ratios stay fair;
  3. POST /api/v1/suggest at concurrency 8 (one requests.Session with
     keep-alive per client thread), with the server's own timing_ms.
The load generator runs on the same machine as the server, so at concurrency 8
the client threads take some of the CPU too; the figures are an upper bound.
--sweep starts one server per thread setting, all at once, and moves the load
between them in short turns, for the same reason.

The data dir defaults to a temp dir whose models/ links to tests/.cache/models
or instance/models when either holds an export, so the ONNX export is not redone.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a plain script

import numpy as np  # noqa: E402
import requests  # noqa: E402

from assist.config import defaults as config_defaults  # noqa: E402

TARGET_STARTUP_S = 5.0
TARGET_E2E_OVER_FLOOR = 1.3
TARGET_NAIVE_OVER_E2E = 2.0
LIMIT = 3  # suggestions per request, the API default
FLOOR_MESSAGE = "Hi, my internet keeps dropping every evening. Can you help?"
# The concurrency-1 loop runs each measurement in blocks of BLOCK back-to-back
# calls.  Before each block it pauses, because onnxruntime's pool (in the server
# too) and torch's OpenMP threads keep spinning for about 60 ms after their last
# call and would slow whatever runs next; then one untimed call wakes the threads.
BLOCK = 8
PAUSE_S = 0.15
C8_BURST = 80  # requests per turn at concurrency 8 when several servers take turns
MODEL_CACHES = (ROOT / "tests" / ".cache" / "models", ROOT / "instance" / "models")

# (channel, message): mostly short chat lines, some phone notes and long emails,
# in roughly the mix a support queue sees.
MESSAGES = [
    ("chat", "This is the third time I've called about this and nobody has fixed it. I'm furious."),
    ("chat", "Thank you so much, Priya sorted everything out in five minutes. Brilliant service!"),
    ("email", "My husband passed away last month and I need to close his account. I don't know where to start."),
    ("chat", "Why was I charged twice this month? I only have one subscription."),
    ("chat", "The app has been down all morning and my whole team can't work. What's going on?"),
    ("chat", "hi can i change my delivery address"),
    ("phone", "Customer says the router lights are flashing orange and the internet is dead since yesterday."),
    ("chat", "I was promised a refund two weeks ago and I still haven't seen it. This is ridiculous."),
    ("chat", "I don't understand my bill, what is the 'service adjustment' line?"),
    ("chat", "Please cancel my subscription effective today."),
    ("email", "I'm really worried, my card was charged by you but I never signed up. Has my account been hacked?"),
    ("chat", "The parcel says delivered but there's nothing here. I've checked with the neighbours."),
    ("chat", "Great job on the new update, the dashboard is so much faster now!"),
    ("chat", "How do I reset my password? The link in the email doesn't work."),
    ("phone", "Caller is elderly and confused about why her direct debit went up, wants it explained slowly."),
    ("chat", "You people are useless. I want to speak to a manager NOW."),
    ("chat", "I lost my job and can't afford the payments this month. Is there anything you can do?"),
    ("chat", "Is there an outage in Leeds? Nothing is loading."),
    ("chat", "I ordered the blue one and you sent me the red one. Again."),
    ("chat", "Can you tell me when my contract ends?"),
    ("email", "Hello,\n\nI am writing to formally complain about the way my case has been handled. On 3 March I "
     "reported that my broadband was dropping several times a day. An engineer visit was booked for 7 March "
     "but nobody turned up, and when I called I was told there was no record of the booking. A second visit "
     "was arranged for 12 March; the engineer arrived, replaced the router and left, but the problem came "
     "back the same evening. Since then I have spent more than four hours on the phone with your team, been "
     "transferred between departments and been promised call-backs that never came. I work from home and "
     "have lost income because of this. I would like the fault fixed properly, compensation for the weeks "
     "without a working service, and a written explanation of what went wrong.\n\nRegards,\nMartin Hale"),
    ("chat", "my mum died last week and her phone contract is still running, how do i stop it"),
    ("chat", "I'm so sorry to bother you again but the fix didn't work :("),
    ("chat", "Your checkout page keeps giving me error 502 when I try to pay."),
    ("phone", "Customer disputing a late fee, says she paid on time and has the bank statement to prove it."),
    ("chat", "I've been waiting 45 minutes in this chat queue. Unacceptable."),
    ("email", "Hi team, could you send me a VAT invoice for order 88213? Our accounts department needs it for "
     "the quarter end. The company name and address should be the same as on the account. Thanks, Jo"),
    ("chat", "Just wanted to say thanks for being so patient with me yesterday."),
    ("chat", "Why did my price go up without any warning?"),
    ("chat", "The item arrived broken, the box was crushed."),
    ("chat", "I'm scared I'll lose all my photos if the account gets closed. Please help."),
    ("email", "Dear support,\n\nI have been a customer for nine years and I am extremely disappointed. "
     "Last week I upgraded to the premium plan because the sales team promised the faster speeds would be "
     "available at my address. They are not: the speed tests show exactly the same figures as before, and "
     "now I am paying twelve pounds a month more for nothing. When I raised this on chat I was told to "
     "restart the router, which I had already done many times. I would like to be moved back to my old "
     "plan with the difference refunded, or an explanation of when the promised speeds will actually be "
     "available.\n\nKind regards,\nAisha Khan"),
    ("chat", "ok thanks, that's all I needed"),
    ("chat", "Does the warranty cover water damage?"),
    ("chat", "Still no signal after the mast repair you said was finished on Friday."),
    ("phone", "Small business owner, card terminal offline since 9am, losing sales, very stressed."),
    ("chat", "I can't log in, it says my account is locked."),
    ("email", "Hello, I'd like to update the billing email on our account from accounts@oldco.example to "
     "finance@newco.example following our company rename. Please confirm once done. Many thanks."),
    ("chat", "The engineer was lovely and explained everything, please pass on my thanks."),
    ("chat", "I've emailed three times about the missing refund and got no reply. Do you even read them?"),
]


# ----------------------------------------------------------------------------- measuring


def stats(samples_ms):
    """n, p50, p95 and mean of a list of milliseconds."""
    values = np.asarray(samples_ms, dtype=np.float64)
    if not len(values):
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "mean": float("nan")}
    p50, p95 = np.percentile(values, [50, 95])
    return {"n": int(len(values)), "p50": float(p50), "p95": float(p95), "mean": float(values.mean())}


def cpu_snapshot():
    """(busy CPU seconds of the whole machine, all CPU seconds, ours and our children's), or None."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    own = os.times()
    return ((user + nice + system + irq + softirq + steal) / hz, sum(fields) / hz,
            own.user + own.system + own.children_user + own.children_system)


def others_cpu_share(before, after):
    """Share of the machine's CPU that processes other than this bench and its server used."""
    if before is None or after is None:
        return None
    busy, total, own = (a - b for a, b in zip(after, before, strict=True))
    return max(busy - own, 0.0) / total if total > 0 else None


def wait_until_idle(seconds):
    """Wait (at most ``seconds``) for a 5 s window in which the machine was 95% idle; True if found."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = cpu_snapshot()
        if before is None:
            return False
        time.sleep(5)
        after = cpu_snapshot()
        if (after[0] - before[0]) / max(after[1] - before[1], 1e-9) < 0.05:
            return True
    return False


def free_port():
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- the server


def assist_command():
    """How to run the `assist` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "assist"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assist.cli"]


def server_env(data_dir, embedding_threads=None, server_threads=None):
    """The environment for `assist` commands on ``data_dir``."""
    env = {**os.environ, "ASSIST_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    if embedding_threads:
        env["ASSIST_EMBEDDING_THREADS"] = str(embedding_threads)
    if server_threads:
        env["ASSIST_THREADS"] = str(server_threads)
    return env


def run_cli(data_dir, *args):
    """Run one `assist` command on ``data_dir``; returns its stdout."""
    done = subprocess.run([*assist_command(), *args], env=server_env(data_dir), capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"assist {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


class Server:
    """`assist serve` on 127.0.0.1 in a child process, its output in data_dir/bench-server.log."""

    def __init__(self, data_dir, port, env):
        self.data_dir, self.port, self.env = Path(data_dir), port, env
        self.base = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self, timeout=300):
        """Launch the server; returns seconds from launch to the first 200 from /healthz."""
        log = open(self.data_dir / "bench-server.log", "ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [*assist_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"assist serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except requests.ConnectionError:
                pass
            time.sleep(0.02)
        raise SystemExit(f"assist serve not healthy after {timeout} s:\n{self.log_tail()}")

    def health(self):
        """The /healthz body."""
        return requests.get(self.base + "/healthz", timeout=5).json()

    def stop(self):
        """Terminate the server (kill it if it does not stop within 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, chars=3000):
        path = self.data_dir / "bench-server.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def prepare_data_dir(requested):
    """Return (data dir, models note, is temporary); a temp dir links models/ to a ready cache."""
    if requested:
        path = Path(requested).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path, "as found", False
    path = Path(tempfile.mkdtemp(prefix="assist-bench-"))
    for cache in MODEL_CACHES:
        if any(cache.glob("*/onnx/model.onnx")):
            (path / "models").symlink_to(cache, target_is_directory=True)
            return path, f"models -> {cache.relative_to(ROOT)}", True
    return path, "models exported afresh (no cache found)", True


# ----------------------------------------------------------------------------- load


def run_load(base, token, total, concurrency, offset=0):
    """POST /api/v1/suggest ``total`` times from ``concurrency`` threads, from MESSAGES[offset] on.

    Returns (latencies in ms, server timing_ms dicts, requests per second).
    """
    url = base + "/api/v1/suggest"
    latencies, timings, errors, start = [], [], [], []
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency, action=lambda: start.append(time.perf_counter()))

    def client(k):
        try:
            with requests.Session() as session:
                session.headers["Authorization"] = f"Bearer {token}"
                session.get(base + "/healthz", timeout=10)  # open the keep-alive connection first
                barrier.wait(timeout=120)
                for i in range(k, total, concurrency):
                    channel, message = MESSAGES[(offset + i) % len(MESSAGES)]
                    body = {"message": message, "channel": channel, "limit": LIMIT}
                    began = time.perf_counter()
                    response = session.post(url, json=body, timeout=60)
                    elapsed = (time.perf_counter() - began) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"{response.status_code} {response.text[:200]}")
                    timing = response.json()["timing_ms"]
                    with lock:
                        latencies.append(elapsed)
                        timings.append(timing)
        except Exception as e:  # reported below; stop the others waiting at the barrier
            errors.append(repr(e))
            barrier.abort()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        cause = next((e for e in errors if "BrokenBarrier" not in e), errors[0])
        raise SystemExit(f"load at concurrency {concurrency} failed: {cause}")
    wall = time.perf_counter() - start[0]
    return latencies, timings, total / wall


def load_figures(concurrency, latencies, timings, rps):
    """End-to-end stats, throughput, the server's own timing parts and what lies outside them."""
    # embed, understand, rank, ..., total; a part under 0.05 ms at p95 (no CRM lookup asked) is left out
    names = sorted(dict.fromkeys(n for t in timings for n in t), key=lambda name: name == "total")
    parts = {name: stats([t.get(name, 0.0) for t in timings]) for name in names}
    parts = {name: figures for name, figures in parts.items() if figures["p95"] >= 0.05}
    overhead = stats([e - t["total"] for e, t in zip(latencies, timings, strict=True)])
    return {"concurrency": concurrency, "e2e": stats(latencies), "rps": rps, "server": parts, "overhead": overhead}


def measure_load(base, token, total, concurrency):
    """One load level from ``concurrency`` client threads."""
    return load_figures(concurrency, *run_load(base, token, total, concurrency))


def bench_servers(servers, token, plan):
    """End-to-end at concurrency 1 and 8 on each server, measured in turns.

    Every server is up at once; the load moves from one to the next in short
    blocks, so drift in the machine's load hits every setting alike.
    Returns [(c=1 figures, c=8 figures)] in the order of ``servers``.
    """
    for server in servers:
        run_load(server.base, token, len(MESSAGES), 1)
        run_load(server.base, token, len(MESSAGES), 8)
    runs = {(k, c): ([], [], []) for k in range(len(servers)) for c in (1, 8)}
    bursts = {1: (plan["c1_rounds"], BLOCK), 8: (max(plan["c8"] // C8_BURST, 1), C8_BURST)}
    for c, (rounds, size) in bursts.items():
        for r in range(rounds):
            for k in (list(range(len(servers))) * 2)[r % len(servers):][: len(servers)]:
                latencies, timings, rps = run_load(servers[k].base, token, size, c, offset=r * size)
                runs[k, c][0].extend(latencies)
                runs[k, c][1].extend(timings)
                runs[k, c][2].append(size / rps)  # seconds this burst took
    figures = {key: load_figures(key[1], lat, tim, len(lat) / sum(secs)) for key, (lat, tim, secs) in runs.items()}
    return [(figures[k, 1], figures[k, 8]) for k in range(len(servers))]


# ----------------------------------------------------------------------------- in-process


class InProcess:
    """The lean ONNX runner, sentence-transformers on torch and the naive pipeline, in this process."""

    def __init__(self, data_dir, threads, phrase_texts):
        import torch
        from sentence_transformers import SentenceTransformer

        from phrasebank.embedder import Embedder, bundled_model_path

        self.onnx = Embedder(cache_dir=data_dir / "models", threads=threads).load()
        self.torch = SentenceTransformer(str(bundled_model_path()), device="cpu")
        self.phrase_matrix = self.torch.encode(phrase_texts, normalize_embeddings=True, batch_size=64)
        torch_runtime = f"sentence-transformers, torch {torch.__version__} ({torch.get_num_threads()} threads)"
        self.runtimes = {"onnx": self.onnx.runtime, "torch": torch_runtime}

    def naive(self, message):
        """Torch encode + dot product over every phrase + argsort: the top LIMIT positions."""
        vector = self.torch.encode(message, normalize_embeddings=True)
        return np.argsort(-(self.phrase_matrix @ vector))[:LIMIT]


def bench_c1(server, token, local, rounds, warmup):
    """Every concurrency-1 figure from one interleaved loop of ``rounds`` rounds.

    Each round runs a block of BLOCK calls of each measurement (the bare
    encoders on the short message; the ONNX runner, the naive pipeline and a
    request on messages of the mix) in a rotating order, so a busy neighbour or
    a noisy minute slows all of them alike and the ratios stay fair.
    Returns ({name: ms samples}, server timing_ms dicts, requests per second).
    """
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def body(i):
        channel, message = MESSAGES[i % len(MESSAGES)]
        return {"message": message, "channel": channel, "limit": LIMIT}

    def post(i):
        response = session.post(server.base + "/api/v1/suggest", json=body(i), timeout=60)
        if response.status_code != 200:
            raise SystemExit(f"POST /api/v1/suggest: {response.status_code} {response.text[:300]}")
        return response.json()["timing_ms"]

    # The same request from http.client: how much of end-to-end is the requests library itself.
    lean = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    lean_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post_lean(i):
        lean.request("POST", "/api/v1/suggest", body=json.dumps(body(i)), headers=lean_headers)
        response = lean.getresponse()
        return json.loads(response.read())["timing_ms"]

    ops = {
        "onnx_floor": lambda i: local.onnx.encode_one(FLOOR_MESSAGE),
        "torch_floor": lambda i: local.torch.encode(FLOOR_MESSAGE),
        "onnx_mix": lambda i: local.onnx.encode_one(MESSAGES[i % len(MESSAGES)][1]),
        "naive": lambda i: local.naive(MESSAGES[i % len(MESSAGES)][1]),
        "e2e": post,
        "e2e_lean": post_lean,
    }
    names = list(ops)
    samples, timings = {name: [] for name in names}, []
    with session:
        for r in range(-warmup, rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:
                time.sleep(PAUSE_S)
                ops[name](r * BLOCK - 1)
                for i in range(r * BLOCK, (r + 1) * BLOCK):
                    began = time.perf_counter()
                    result = ops[name](i)
                    if r >= 0:
                        samples[name].append((time.perf_counter() - began) * 1000)
                        if name == "e2e":
                            timings.append(result)
    lean.close()
    return samples, timings, 1000 / statistics.mean(samples["e2e"])


def exported_phrase_texts(data_dir):
    """The text of every phrase, from `assist phrases export`."""
    data = json.loads(run_cli(data_dir, "phrases", "export"))
    rows = data["phrases"] if isinstance(data, dict) else data
    return [row["text"] for row in rows]


# ----------------------------------------------------------------------------- output


def verdict(ok):
    return "PASS" if ok else "FAIL"


def print_report(r):
    """The figures as one table, with the targets."""
    line = "-" * 96
    print(f"assist suggest benchmark: {os.cpu_count()} CPUs, server threads {r['server_threads']}, "
          f"embedding threads {r['embedding_threads']}, {len(MESSAGES)} messages, limit {LIMIT}")
    print(f"data dir {r['data_dir']} ({r['models']}); {r['phrases']} phrases; server runs {r['server_runtime']}")
    print("concurrency-1 figures come from one interleaved loop (see bench_c1), so the ratios compare like with like")
    others = r["other_processes_cpu_share"]
    if others is not None:
        busy = "  (figures are pessimistic)" if others > 0.1 else ""
        print(f"other processes used {others:.0%} of the machine's CPU during the run{busy}")
    print(line)
    print(f"{'':58}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")

    def row(label, s):
        print(f"{label:58}{s['n']:>6}{s['p50']:>10.2f}{s['p95']:>10.2f}{s['mean']:>10.2f}")

    print(f"1. Bare encoder, one short message ({len(FLOOR_MESSAGE)} chars), in-process")
    row(f"   {r['runtimes']['onnx']}", r["c1"]["onnx_floor"])
    row(f"   {r['runtimes']['torch']}", r["c1"]["torch_floor"])
    print(f"   torch / onnx p50: {r['ratios']['torch_over_onnx']:.2f}x")
    row("   onnx lean runner over the message mix (for context)", r["c1"]["onnx_mix"])
    print(line)
    s = r["startup"]
    print(f"2. Start-up, caches ready: launch -> first 200 /healthz: median {s['median_s']:.2f} s, "
          f"max {s['max_s']:.2f} s over {len(s['runs_s'])} starts"
          f"   target < {TARGET_STARTUP_S:.0f} s  {verdict(s['max_s'] < TARGET_STARTUP_S)}")
    if s.get("first_start_s") is not None:
        print(f"   (first start on this data dir, store + phrase embeddings: {s['first_start_s']:.2f} s)")
    print(line)
    print("3. End-to-end POST /api/v1/suggest, keep-alive, one session per client thread")
    for level in r["e2e"]:
        c = level["concurrency"]
        row(f"   concurrency {c}: end-to-end ({level['rps']:.1f} req/s)", level["e2e"])
        for part, figures in level["server"].items():
            row(f"      server timing_ms.{part}", figures)
        row("      HTTP + Flask + client (end-to-end - total)", level["overhead"])
        if c == 1:
            row("   concurrency 1, same requests from http.client", r["c1"]["e2e_lean"])
    print(line)
    print(f"4. Naive pipeline, in-process, c=1: torch encode + numpy dot over {r['phrases']} phrases + argsort")
    row("   naive, over the message mix", r["c1"]["naive"])
    print(line)
    ratios = r["ratios"]
    print("5. Ratios (p50, concurrency 1)")
    print(f"   end-to-end / bare onnx floor     {ratios['e2e_over_floor']:6.3f}   target <= {TARGET_E2E_OVER_FLOOR}"
          f"   {verdict(ratios['e2e_over_floor'] <= TARGET_E2E_OVER_FLOOR)}")
    print(f"   naive / end-to-end               {ratios['naive_over_e2e']:6.3f}   target >= {TARGET_NAIVE_OVER_E2E}"
          f"   {verdict(ratios['naive_over_e2e'] >= TARGET_NAIVE_OVER_E2E)}")
    print(f"   (end-to-end / onnx over the same mix: {ratios['e2e_over_mix']:.2f}; "
          f"end-to-end from http.client / onnx floor: {ratios['e2e_lean_over_floor']:.2f})")


def ratios_of(r):
    """The p50 ratios the targets are about (and two for context)."""
    e2e, c1 = r["e2e"][0]["e2e"]["p50"], r["c1"]
    return {
        "torch_over_onnx": c1["torch_floor"]["p50"] / c1["onnx_floor"]["p50"],
        "e2e_over_floor": e2e / c1["onnx_floor"]["p50"],
        "e2e_over_mix": e2e / c1["onnx_mix"]["p50"],
        "naive_over_e2e": c1["naive"]["p50"] / e2e,
        "e2e_lean_over_floor": c1["e2e_lean"]["p50"] / c1["onnx_floor"]["p50"],
    }


def passes(r):
    """PASS (True) or FAIL of each target."""
    return {
        "startup": r["startup"]["max_s"] < TARGET_STARTUP_S,
        "e2e_over_floor": r["ratios"]["e2e_over_floor"] <= TARGET_E2E_OVER_FLOOR,
        "naive_over_e2e": r["ratios"]["naive_over_e2e"] >= TARGET_NAIVE_OVER_E2E,
    }


# ----------------------------------------------------------------------------- runs


def iteration_plan(quick):
    """How many calls each measurement makes (whole passes over MESSAGES)."""
    n = len(MESSAGES)
    if quick:
        return {"warmup": 1, "c1_rounds": 2 * n // BLOCK, "c8": 4 * n, "starts": 1}
    return {"warmup": 2, "c1_rounds": 8 * n // BLOCK, "c8": 20 * n, "starts": 3}


def start_ready(data_dir, port, env, starts):
    """Start the server ``starts`` times (stopping all but the last); returns (server, seconds each)."""
    seconds = []
    for i in range(starts):
        server = Server(data_dir, port, env)
        try:
            seconds.append(server.start(timeout=60))
        except BaseException:
            server.stop()
            raise
        if i < starts - 1:
            server.stop()
    return server, seconds


def first_start(data_dir, port):
    """Start once so the store, the ONNX export and phrase vectors exist; returns seconds or None."""
    if (data_dir / "assist.db").exists():
        return None
    server = Server(data_dir, port, server_env(data_dir))
    try:
        return server.start(timeout=600)
    finally:
        server.stop()


def full_run(args, data_dir, models_note):
    """Every measurement of one run; returns the report dict."""
    plan = iteration_plan(args.quick)
    cpu_before = cpu_snapshot()
    first = first_start(data_dir, args.port)
    token = run_cli(data_dir, "token", "create", "--role", "agent", "--name", "bench").strip()
    phrase_texts = exported_phrase_texts(data_dir)
    local = InProcess(data_dir, args.embedding_threads, phrase_texts)
    env = server_env(data_dir, args.embedding_threads, args.server_threads)
    server, starts = start_ready(data_dir, args.port, env, plan["starts"])
    try:
        runtime = server.health()["embedding_runtime"]
        samples, timings, rps = bench_c1(server, token, local, plan["c1_rounds"], plan["warmup"])
        run_load(server.base, token, len(MESSAGES), 8)
        c8 = measure_load(server.base, token, plan["c8"], 8)
    finally:
        server.stop()
    report = {
        "data_dir": str(data_dir), "models": models_note, "phrases": len(phrase_texts),
        "server_runtime": runtime, "runtimes": local.runtimes, "plan": plan,
        "server_threads": args.server_threads, "embedding_threads": args.embedding_threads,
        "startup": {"runs_s": starts, "median_s": statistics.median(starts), "max_s": max(starts),
                    "first_start_s": first},
        "c1": {name: stats(values) for name, values in samples.items() if name != "e2e"},
        "e2e": [load_figures(1, samples["e2e"], timings, rps), c8],
        "other_processes_cpu_share": others_cpu_share(cpu_before, cpu_snapshot()),
    }
    report["ratios"] = ratios_of(report)
    report["pass"] = passes(report)
    return report


def sweep(args, data_dir):
    """End-to-end at c=1 and c=8 for each embedding threads x server threads setting, side by side."""
    plan = iteration_plan(args.quick)
    cpu_before = cpu_snapshot()
    first_start(data_dir, args.port)
    token = run_cli(data_dir, "token", "create", "--role", "agent", "--name", "bench").strip()
    settings = [(e, t) for e in args.sweep_embedding for t in args.sweep_server]
    servers = []
    try:
        for embedding_threads, server_threads in settings:
            env = server_env(data_dir, embedding_threads, server_threads)
            servers.append(start_ready(data_dir, free_port(), env, 1)[0])
        figures = bench_servers(servers, token, plan)
    finally:
        for server in servers:
            server.stop()
    results = [{"embedding_threads": e, "server_threads": t, "c1": c1, "c8": c8}
               for (e, t), (c1, c8) in zip(settings, figures, strict=True)]
    others = others_cpu_share(cpu_before, cpu_snapshot())
    if others is not None:
        print(f"other processes used {others:.0%} of the machine's CPU during the sweep")
    print(f"{'embedding threads':>18}{'server threads':>16}{'c=1 p50':>10}{'c=1 p95':>10}"
          f"{'c=8 p50':>10}{'c=8 p95':>10}{'c=8 req/s':>11}")
    for x in results:
        c1, c8 = x["c1"], x["c8"]
        print(f"{x['embedding_threads']:>18}{x['server_threads']:>16}{c1['e2e']['p50']:>10.2f}"
              f"{c1['e2e']['p95']:>10.2f}{c8['e2e']['p50']:>10.2f}{c8['e2e']['p95']:>10.2f}{c8['rps']:>11.1f}")
    for c in ("c1", "c8"):
        best = min(results, key=lambda x: x[c]["e2e"]["p50"])
        print(f"best {c} p50: embedding threads {best['embedding_threads']}, server threads {best['server_threads']}")
    return {"other_processes_cpu_share": others, "settings": results}


def parse_args(argv=None):
    config = config_defaults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a rough figure in under 1.5 minutes)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary after the table")
    parser.add_argument("--port", type=int, default=0, help="port for the server on 127.0.0.1 (default: a free one)")
    parser.add_argument("--data-dir", help="ASSIST_DATA_DIR to use (default: a temp dir, removed afterwards)")
    parser.add_argument("--embedding-threads", type=int, default=config["EMBEDDING_THREADS"],
                        help="ASSIST_EMBEDDING_THREADS for the server and the in-process runner "
                             f"(default {config['EMBEDDING_THREADS']})")
    parser.add_argument("--server-threads", type=int, default=config["THREADS"],
                        help=f"ASSIST_THREADS, waitress worker threads (default {config['THREADS']})")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for the machine to be idle (shared machines)")
    parser.add_argument("--sweep", action="store_true", help="only end-to-end, for each thread setting below")
    parser.add_argument("--sweep-embedding", type=int, nargs="+", default=[1, 2], help="embedding threads to sweep")
    parser.add_argument("--sweep-server", type=int, nargs="+", default=[2, 4, 8, 64],
                        help="server threads to sweep")
    args = parser.parse_args(argv)
    args.port = args.port or free_port()
    return args


def main(argv=None):
    """Run the benchmark and print its table (and JSON with --json)."""
    args = parse_args(argv)
    if args.wait_idle and not wait_until_idle(args.wait_idle):
        print(f"the machine was still busy after {args.wait_idle:.0f} s; measuring anyway", file=sys.stderr)
    data_dir, models_note, temporary = prepare_data_dir(args.data_dir)
    try:
        if args.sweep:
            results = sweep(args, data_dir)
            if args.json:
                print(json.dumps({"sweep": results}, indent=2))
            return
        report = full_run(args, data_dir, models_note)
        print_report(report)
        if args.json:
            print(json.dumps(report, indent=2))
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
