"""Soak with faults: report calls placed continuously while the parts of the hotline fail on a schedule,
and at the end every call accounted for (R1: 0 lost calls).

Real parts: SIPp callers (tests/sipcaller.py: espeak-ng Vietnamese report speech in one RTP stream,
each call with its own caller number from an injection file) -> a test Asterisk (PJSIP, MixMonitor,
Stasis, the dialplan fallback and its journal) -> the app worker in its own process (bench/soak_app.py:
ARI, AudioSocket, the dialogue engine, ticket filing; transcript seam for speech) -> a PostgreSQL
cluster of its own (initdb + pg_ctl into a temporary folder on a private port: the machine's server is
never touched) and the attachment store; the scheduler (``hotline scheduler run``) delivers the SMS
outbox to a local HTTP gateway. Recordings go to a small tmpfs.

Faults, spread evenly over the run: ``kill-app`` (SIGKILL the app worker; restarted 2 s later, as
``hotline up`` does), ``restart-asterisk``, ``stop-rasa`` (a real Rasa server the app uses; only with
--rasa), ``stop-postgres`` (10 s), ``fill-recordings`` (the tmpfs full for 20 s), ``delay-sms`` (the
gateway answers after 15 s for a minute).

At the end (faults healed, journals replayed, the fallback journal imported) each caller number is
looked up: a ticket, a draft for call-back, an operator handoff, an answer, or nothing. Printed: calls
placed, per outcome, refused at SIP (Asterisk down: the caller heard an error, nothing to account),
lost (must be 0), duplicates (must be 0), ticket recordings missing, the worst silence in a call's
recording (longest stretch where neither side is audible: an upper bound of what a caller heard as
dead air, since the caller's own silences count too). JSON to bench/results/soak.json.

    .venv/bin/python bench/soak.py [--minutes 10] [--concurrency 10] [--rasa] [--faults kill-app,...] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pbx.fallback_calls import JOURNAL_NAME, import_journal
from tests.asterisk import AsteriskInstance, free_port, make_instance, sipp_argv, sipp_workdir
from tests.live_app import app_settings, settings_env, wav_rms_windows
from tests.sipcaller import CallerScript, read_stats, render_caller
from ticketing.calls import CallLog, CallRecord, Outcome
from ticketing.db import migrate
from ticketing.db.calls import SqlCallRepository
from ticketing.db.engine import make_engine, make_session_factory
from ticketing.domain.model import AttachmentKind, Status
from ticketing.journal import TicketJournal, journal_path
from ticketing.ports import TicketQuery
from wiring import build

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ALL_FAULTS = ("kill-app", "restart-asterisk", "stop-rasa", "stop-postgres", "fill-recordings", "delay-sms")
REPORT = [
    "tôi muốn phản ánh đèn đường ở ngõ 7 phố thái hà bị hỏng cả tuần nay",
    "phường đống đa",
    "từ tối hôm qua",
    "tôi tên là trần thị bích ngọc",
    "đúng rồi",
    "đúng rồi",
]
SILENCE_RMS = 150.0  # 16-bit samples: speech and prompts are in the thousands, line noise below 50


def log(msg: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def report_script() -> CallerScript:
    script = CallerScript(caller="[field0]").silence(2.0)
    for line in REPORT:
        script.say(line).silence(3.0)
    return script.silence(20.0).say("không, cảm ơn").silence(1.0)


# ---- parts the soak owns ----------------------------------------------------------------------------


class PgCluster:
    """A PostgreSQL cluster of the soak's own (trust on loopback, a private port, a temp folder)."""

    def __init__(self, base: Path) -> None:
        # Its own folder under /tmp: the postgres user must reach it, and a test's tmp_path is 0700.
        self.home = Path(tempfile.mkdtemp(prefix="hotline-soak-pg-"))
        os.chmod(self.home, 0o755)
        self.dir = self.home / "pg"
        self.port = free_port()
        self.log = self.home / "pg.log"

    def _as_postgres(self, *argv: str) -> subprocess.CompletedProcess[str]:
        cmd = list(argv)
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.log, "postgres", "postgres")
        done = self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "hotline")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=200"
        done = self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-o", options, "-l", str(self.log), "-w", "start"
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr[-2000:]} {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://hotline@127.0.0.1:{self.port}/postgres"


class SmsGateway:
    """A local SMS gateway over HTTP that can be made slow."""

    def __init__(self) -> None:
        self.delay_s = 0.0
        self.received = 0
        self.timed_out = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(gateway.delay_s)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"status": "queued"}')
                except OSError:  # the sender gave up waiting (its timeout): it will try again
                    gateway.timed_out += 1
                    return
                gateway.received += 1

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


class Worker:
    """A subprocess restarted on demand (the app worker, the scheduler)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_file: Path) -> None:
        self.name, self.argv, self.env, self.log_file = name, argv, env, log_file
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with open(self.log_file, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def wait_ready(self, marker: bytes, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.log_file.read_bytes().count(marker) >= self.starts:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_file.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready: {self.log_file.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class Tmpfs:
    def __init__(self, path: Path, size_mb: int) -> None:
        self.path, self.size_mb = path, size_mb
        self.mounted = False

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size_mb}m,mode=0700", "tmpfs", str(self.path)],
            check=True,
        )
        self.mounted = True

    def fill(self) -> Path:
        filler = self.path / "filler.bin"
        with open(filler, "wb") as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * (1 << 20))
        return filler

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False)
            self.mounted = False


# ---- the run ------------------------------------------------------------------------------------------


@dataclass
class Soak:
    minutes: float
    concurrency: int
    faults: list[str]
    rasa: bool = False
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hotline-soak-")))
    fault_log: list[dict[str, Any]] = field(default_factory=list)

    def run(self) -> dict[str, Any]:
        inst: AsteriskInstance | None = None
        pg = PgCluster(self.base)
        sms = SmsGateway()
        workers: list[Worker] = []
        tmpfs: Tmpfs | None = None
        rasa_dir = self.base / "rasa"
        try:
            pg.init()
            pg.start()
            migrate.upgrade(pg.url)
            inst = make_instance(self.base / "asterisk", f"soak{os.getpid()}")
            tmpfs = Tmpfs(inst.recordings_dir, 64 if self.minutes <= 3 else 400)
            tmpfs.mount()
            settings = app_settings(inst, self.base / "app")
            settings = settings.model_copy(
                update={
                    "database": settings.database.model_copy(update={"url": pg.url}),
                    "notify": settings.notify.model_copy(update={"sms": "http", "sms_url": sms.url}),
                    "pbx": settings.pbx.model_copy(update={"audiosocket_port": free_port()}),
                }
            )
            env = {**os.environ, **settings_env(settings), "HOTLINE_NOTIFY__SMS": "http"}
            env["HOTLINE_NOTIFY__SMS_URL"] = sms.url
            env["PYTHONPATH"] = str(REPO)
            if self.rasa:
                env.update(self._start_rasa(rasa_dir))
            else:
                env["HOTLINE_NLU__RASA_URL"] = ""
            build(settings).admin.import_agencies(settings.city, "soak")
            app = Worker(
                "app",
                [sys.executable, str(REPO / "bench" / "soak_app.py"), *REPORT],
                env,
                self.base / "app.log",
            )
            scheduler = Worker(
                "scheduler",
                [sys.executable, "-c", "import cli; cli.main()", "scheduler", "run", "--interval", "5"],
                env,
                self.base / "scheduler.log",
            )
            workers += [app, scheduler]
            app.start()
            app.wait_ready(b"soak app ready")
            time.sleep(2.0)  # the supervisor registers the Stasis app right after start
            scheduler.start()
            placed = self._place_calls(inst, app, pg, sms, tmpfs, rasa_dir)
            return self._account(inst, settings, pg, placed, sms)
        finally:
            for worker in workers:
                worker.stop()
            if self.rasa:
                from nlu.rasa_server import stop as stop_rasa

                stop_rasa(rasa_dir)
            if tmpfs is not None:
                tmpfs.unmount()
            if inst is not None:
                inst.stop()
                inst.remove_state()
            pg.remove()
            sms.close()

    def _start_rasa(self, rasa_dir: Path) -> dict[str, str]:
        from nlu.rasa_env import load_env
        from nlu.rasa_server import ensure_token, serve

        rasa_dir.mkdir(parents=True, exist_ok=True)
        url = f"http://127.0.0.1:{free_port()}"
        token = ensure_token("", rasa_dir)
        log("starting Rasa (model load takes a minute)")
        serve(load_env(REPO / "var"), rasa_dir, url, token, progress=log)
        self._rasa_url, self._rasa_token = url, token
        return {
            "HOTLINE_NLU__RASA_URL": url,
            "HOTLINE_NLU__RASA_TOKEN": token,
            "HOTLINE_NLU__RASA_TIMEOUT_S": "2",
        }

    def _place_calls(
        self,
        inst: AsteriskInstance,
        app: Worker,
        pg: PgCluster,
        sms: SmsGateway,
        tmpfs: Tmpfs,
        rasa_dir: Path,
    ) -> dict[str, Any]:
        script = report_script()
        workdir = sipp_workdir(self.base / "sipp")
        call_s = script.duration_s + 3.0
        scenario = render_caller(workdir, script, hangup="after", tail_s=3.0)
        rate_per_10s = max(1, math.ceil(self.concurrency * 10 / call_s))
        total = max(self.concurrency, math.ceil(self.minutes * 60 * rate_per_10s / 10))
        callers = [f"09{17000000 + i:08d}" for i in range(1, total + 1)]
        (workdir / "callers.csv").write_text("SEQUENTIAL\n" + "".join(f"{c};\n" for c in callers))
        argv = sipp_argv(inst, workdir, scenario=["-sf", str(scenario)], calls=total)
        for flag in ("-timeout_error",):
            argv.remove(flag)
        i = argv.index("-timeout")
        del argv[i : i + 2]
        stats = workdir / "stats.csv"
        argv += ["-inf", str(workdir / "callers.csv"), "-l", str(self.concurrency), "-r", str(rate_per_10s)]
        argv += ["-rp", "10000", "-trace_stat", "-stf", str(stats), "-fd", "5", "-recv_timeout", "90000"]
        log(f"placing {total} calls, {self.concurrency} at once, each {call_s:.0f} s; faults: {self.faults}")
        started = time.monotonic()
        sipp = subprocess.Popen(argv, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        span = self.minutes * 60
        schedule = [(span * (k + 1) / (len(self.faults) + 1), f) for k, f in enumerate(self.faults)]
        for at, fault in schedule:
            while time.monotonic() - started < at:
                time.sleep(0.5)
            self._inject(fault, inst, app, pg, sms, tmpfs, rasa_dir)
        out, _ = sipp.communicate(timeout=span + call_s * 3 + 300)
        elapsed = time.monotonic() - started
        result = read_stats(stats)
        log(f"SIPp done in {elapsed:.0f} s: {json.dumps({k: result.get(k) for k in _SIPP_KEYS})}")
        return {
            "callers": callers,
            "stats": result,
            "elapsed_s": elapsed,
            "sipp_tail": out.decode(errors="replace")[-1500:],
        }

    def _inject(
        self,
        fault: str,
        inst: AsteriskInstance,
        app: Worker,
        pg: PgCluster,
        sms: SmsGateway,
        tmpfs: Tmpfs,
        rasa_dir: Path,
    ) -> None:
        t0 = time.monotonic()
        log(f"fault: {fault}")
        if fault == "kill-app":
            app.kill()
            time.sleep(2.0)
            app.start()
            app.wait_ready(b"soak app ready")
        elif fault == "restart-asterisk":
            inst.stop()
            inst.start()
        elif fault == "stop-rasa":
            from nlu.rasa_server import stop as stop_rasa

            stop_rasa(rasa_dir)
        elif fault == "stop-postgres":
            pg.stop()
            time.sleep(10.0)
            pg.start()
        elif fault == "fill-recordings":
            filler = tmpfs.fill()
            time.sleep(20.0)
            filler.unlink()
        elif fault == "delay-sms":
            sms.delay_s = 15.0
            threading.Timer(60.0, lambda: setattr(sms, "delay_s", 0.0)).start()
        self.fault_log.append({"fault": fault, "took_s": round(time.monotonic() - t0, 1)})

    def _account(
        self, inst: AsteriskInstance, settings: Any, pg: PgCluster, placed: dict[str, Any], sms: SmsGateway
    ) -> dict[str, Any]:
        data_dir = settings.data_dir
        services = build(settings)
        engine = make_engine(pg.url)
        repo = SqlCallRepository(make_session_factory(engine))
        journal = TicketJournal(journal_path(data_dir))
        deadline = time.monotonic() + 180
        while journal.pending() and time.monotonic() < deadline:  # the app replays every minute
            time.sleep(2.0)
        import_journal(
            inst.host_path(f"{inst.layout.log_dir}/{JOURNAL_NAME}"), self.base / "fallback.offset", repo
        )
        callers = set(placed["callers"])
        records = [r for r in CallLog(repo).recent(100_000) if r.caller in callers]
        by_caller: dict[str, list[CallRecord]] = {}
        for r in records:
            by_caller.setdefault(r.caller, []).append(r)
        tickets: dict[str, list[Any]] = {}
        for t in services.tickets.find(TicketQuery(limit=100_000)):
            if t.caller.phone in callers:
                tickets.setdefault(t.caller.phone, []).append(t)
        # recordings are attached once a call is over: give the attacher time after the last call
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            missing = [
                t.code
                for ts in tickets.values()
                for t in ts
                if not any(
                    a.kind is AttachmentKind.RECORDING for a in services.tickets.get(t.code).attachments
                )
            ]
            if not missing:
                break
            time.sleep(3.0)
        outcomes: Counter[str] = Counter()
        unaccounted: list[str] = []
        for caller in placed["callers"]:
            outcome = _outcome(by_caller.get(caller, []), tickets.get(caller, []))
            if outcome is None:
                unaccounted.append(caller)
            else:
                outcomes[outcome] += 1
        stats = placed["stats"]
        refused = sum(int(stats.get(k, "0") or 0) for k in _REFUSED_KEYS)
        worst_silence, silence_call = _worst_silence(inst)
        duplicates = sum(len(ts) - 1 for ts in tickets.values() if len(ts) > 1)
        result = {
            "minutes": self.minutes,
            "concurrency": self.concurrency,
            "faults": self.fault_log,
            "placed": len(placed["callers"]),
            "sipp_successful": int(stats.get("SuccessfulCall(C)", "0") or 0),
            "sipp_failed": int(stats.get("FailedCall(C)", "0") or 0),
            "outcomes": dict(sorted(outcomes.items())),
            "refused_at_sip": min(refused, len(unaccounted)),
            "lost": max(0, len(unaccounted) - refused),
            "unaccounted_callers": unaccounted,
            "duplicates": duplicates,
            "tickets": sum(len(ts) for ts in tickets.values()),
            "recordings_missing": len(missing),
            "recordings_missing_codes": missing,
            "worst_silence_s": worst_silence,
            "worst_silence_call": silence_call,
            "sms_delivered_to_gateway": sms.received,
            "sms_timed_out_at_gateway": sms.timed_out,
            "sipp_stats": {k: stats.get(k) for k in _SIPP_KEYS},
        }
        engine.dispose()
        services.close()
        return result


_SIPP_KEYS = (
    "TotalCallCreated",
    "SuccessfulCall(C)",
    "FailedCall(C)",
    "FailedCannotSendMessage(C)",
    "FailedMaxUDPRetrans(C)",
    "FailedUnexpectedMessage(C)",
    "FailedCallRejected(C)",
    "FailedCmdNotSent(C)",
    "FailedRegexpDoesntMatch(C)",
    "FailedRegexpHdrNotFound(C)",
    "FailedOutboundCongestion(C)",
    "FailedTimeoutOnRecv(C)",
    "FailedTimeoutOnSend(C)",
)
_REFUSED_KEYS = ("FailedMaxUDPRetrans(C)", "FailedCallRejected(C)", "FailedCannotSendMessage(C)")


def _outcome(records: list[CallRecord], tickets: list[Any]) -> str | None:
    """How one caller's call ended, from the call record(s) and the tickets with the caller's number."""
    if any(t.status is not Status.DRAFT for t in tickets):
        return "ticket"
    if tickets or any(r.draft_id for r in records):
        return "draft"
    if any(r.outcome is Outcome.TRANSFERRED for r in records):
        return "handoff"
    if any(r.outcome is Outcome.AI_HANDLED for r in records):
        return "answer"
    if records:
        return f"ended:{records[-1].outcome.value if records[-1].outcome else 'open'}"
    return None


def _worst_silence(inst: AsteriskInstance) -> tuple[float, str]:
    worst, where = 0.0, ""
    for wav in inst.recordings():
        try:
            windows = wav_rms_windows(wav, 0.25)
        except Exception:
            continue
        run = best = 0
        for rms in windows:
            run = run + 1 if rms < SILENCE_RMS else 0
            best = max(best, run)
        if best * 0.25 > worst:
            worst, where = best * 0.25, wav.stem
    return worst, where


def table(result: dict[str, Any]) -> str:
    rows = [
        ("calls placed", result["placed"]),
        *((f"  {k}", v) for k, v in result["outcomes"].items()),
        ("refused at SIP (Asterisk down)", result["refused_at_sip"]),
        ("lost", result["lost"]),
        ("duplicates", result["duplicates"]),
        ("tickets", result["tickets"]),
        ("ticket recordings missing", result["recordings_missing"]),
        ("worst silence in a recording (s)", result["worst_silence_s"]),
        ("SMS delivered to the gateway", result["sms_delivered_to_gateway"]),
        ("SMS attempts timed out (slow gateway)", result["sms_timed_out_at_gateway"]),
    ]
    return "\n".join(f"{k:<36} {v}" for k, v in rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long calls are placed")
    parser.add_argument("--concurrency", type=int, default=10, help="calls at once")
    parser.add_argument(
        "--rasa", action="store_true", help="run a real Rasa server (for the stop-rasa fault)"
    )
    parser.add_argument(
        "--faults", default="", help=f"comma-separated, default all of: {','.join(ALL_FAULTS)}"
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's logs and data folder")
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f] or [
        f for f in ALL_FAULTS if args.rasa or f != "stop-rasa"
    ]
    unknown = set(faults) - set(ALL_FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    soak = Soak(args.minutes, args.concurrency, faults, rasa=args.rasa)
    try:
        result = soak.run()
    finally:
        if args.keep:
            print(f"logs and data kept in {soak.base}")
        else:
            shutil.rmtree(soak.base, ignore_errors=True)
    print(table(result))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS / 'soak.json'}")


if __name__ == "__main__":
    main()
