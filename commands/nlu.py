"""``hotline nlu``: build the Rasa environment, train and serve the model, and evaluate the interpreter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

import wiring
from commands.errors import UserError, load_settings
from config.settings import Settings
from nlu.evaluation import EvalDataError, Prediction, parse_lines, score
from nlu.interpreter import FallbackInterpreter, RasaInterpreter, RasaUnavailable
from nlu.rasa_env import RasaEnvError, load_env
from nlu.rasa_env import setup as setup_env


def _cli_reviewer() -> str:
    """Who labels from the command line, for the review item's audit: ``cli:<login>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _echo(message: str) -> None:
    click.echo(f"==> {message}", err=True)


@click.group(name="nlu")
def nlu_group() -> None:
    """Rasa NLU: separate Python 3.9 environment, training, loopback server, evaluation.

    \b
    Examples:
      hotline nlu setup
      hotline nlu train && hotline nlu serve
      hotline nlu eval nlu/data/eval/hotline_eval.jsonl
    """


@nlu_group.command()
@click.option("--python", "python", default="", help="Use this Python 3.9/3.10 instead of a bullseye root.")
def setup(python: str) -> None:
    """Build (or re-use) the Rasa environment under <data_dir>.

    \b
    Example:
      hotline nlu setup
      hotline nlu setup --python /usr/bin/python3.10
    """
    from nlu.rasa_server import RasaServerError, validate

    settings = load_settings()
    try:
        env = setup_env(settings.data_dir, python=python, progress=_echo)
        _echo("rasa data validate")
        validate(env, settings.data_dir)
    except (RasaEnvError, RasaServerError) as exc:
        raise UserError(f"Rasa setup failed / Không cài được Rasa: {exc}") from exc
    click.echo(f"Rasa environment ready ({env.kind}) at {env.host_venv}")


@nlu_group.command()
@click.option(
    "--force",
    is_flag=True,
    help="Retrain even when the model is up to date, and serve the new model even if the gate fails.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Largest drop allowed on any evaluation set (default: nlu.gate_tolerance, e.g. 0.01).",
)
@click.option(
    "--set",
    "set_names",
    multiple=True,
    help="Gate on this evaluation set only (file stem in nlu/data/eval; repeatable; default: all).",
)
def train(force: bool, tolerance: float | None, set_names: tuple[str, ...]) -> None:
    """Train the NLU model (skipped when the project files and the labelled review turns did not
    change) and serve it only if the regression gate passes: on every evaluation set in nlu/data/eval,
    intent accuracy and slot F1 of the new model must not drop below the model in service by more
    than the tolerance. Before/after is printed per set. The new model is trained in a workspace of
    its own (the project files plus the turns labelled in the review queue, as their own file
    reviewed.yml); the running hotline's models are touched only when it is served. Every run is
    logged for the monthly report's "Những gì AI đã học".

    \b
    Examples:
      hotline nlu train
      hotline nlu train --tolerance 0.02
      hotline nlu train --set hotline_eval
      hotline nlu train --force
    """
    from nlu.gated_training import eval_sets, rasa_scorer, train_gated
    from nlu.learning import TrainingLog
    from nlu.rasa_server import RasaServerError
    from nlu.review import ReviewQueue, training_yaml

    settings = load_settings()
    limit = settings.nlu.gate_tolerance if tolerance is None else tolerance
    try:
        sets = eval_sets(names=set_names)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    labelled = ReviewQueue(settings.data_dir).labelled()
    try:
        env = load_env(settings.data_dir)
        scorer = rasa_scorer(env, wiring.build(settings).rasa_token, settings.city, _echo)
        outcome = train_gated(
            env,
            settings.data_dir,
            tolerance=limit,
            force=force,
            scorer=scorer,
            sets=sets,
            progress=_echo,
            labelled=training_yaml(labelled) if labelled else "",
        )
    except (RasaEnvError, RasaServerError, OSError) as exc:
        raise UserError(f"training failed / Huấn luyện thất bại: {exc}") from exc
    if outcome.candidate is not None:
        TrainingLog(settings.data_dir).record(
            outcome.candidate.name,
            outcome.gate,
            promoted=outcome.promoted,
            forced=force,
            labelled=len(labelled),
            tolerance=limit,
        )
    if outcome.gate is not None:
        for line in outcome.gate.report():
            click.echo(line)
    if not outcome.promoted:
        raise UserError(
            f"the new model regressed and is not served (kept at {outcome.candidate}); "
            "fix the data or use --force / Mô hình mới kém hơn, chưa được dùng"
        )
    click.echo(str(outcome.model))


@nlu_group.command()
def serve() -> None:
    """Start the Rasa server in the background on the loopback address of nlu.rasa_url.

    \b
    Example:
      hotline nlu serve
    """
    from nlu.rasa_server import RasaServerError
    from nlu.rasa_server import serve as serve_model

    settings = load_settings()
    token = wiring.build(settings).rasa_token
    try:
        pid = serve_model(
            load_env(settings.data_dir), settings.data_dir, settings.nlu.rasa_url, token, progress=_echo
        )
    except (RasaEnvError, RasaServerError) as exc:
        raise UserError(f"cannot start Rasa / Không khởi động được Rasa: {exc}") from exc
    click.echo(f"Rasa ready at {settings.nlu.rasa_url} (pid {pid})")


@nlu_group.command()
def status() -> None:
    """Show whether the environment, a model and the server are there.

    \b
    Example:
      hotline nlu status
    """
    from nlu.rasa_server import current_model, is_ready, read_pid

    settings = load_settings()
    env = load_env(settings.data_dir)
    model = current_model(env) if env.installed else None
    pid = read_pid(settings.data_dir)
    ready = pid is not None and is_ready(settings.nlu.rasa_url, wiring.build(settings).rasa_token)
    click.echo(f"environment: {env.kind} {'installed' if env.installed else 'missing'} ({env.host_venv})")
    click.echo(f"model: {model.name if model else 'none'}")
    click.echo(
        f"server: {'ready' if ready else 'running, not ready' if pid else 'stopped'}"
        + (f" (pid {pid}, {settings.nlu.rasa_url})" if pid else "")
    )


@nlu_group.command()
def stop() -> None:
    """Stop the Rasa server started by `hotline nlu serve`.

    \b
    Example:
      hotline nlu stop
    """
    from nlu.rasa_server import stop as stop_server

    settings = load_settings()
    click.echo("stopped" if stop_server(settings.data_dir) else "not running")


@nlu_group.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--backend",
    type=click.Choice(["auto", "rasa", "fallback"]),
    default="auto",
    show_default=True,
    help="auto: Rasa (started, and trained, if needed), else the fallback.",
)
@click.option("--errors", is_flag=True, help="Also print the misclassified lines.")
def evaluate(file: Path, backend: str, errors: bool) -> None:
    """Score the interpreter on a JSONL file; the last line printed is the JSON result.

    Each line: {"text": ..., "intent": ..., "entities": {key: value}, "now": optional ISO}.

    \b
    Example:
      hotline nlu eval nlu/data/eval/hotline_eval.jsonl
    """
    settings = load_settings()
    try:
        examples = parse_lines(file.read_text(encoding="utf-8").splitlines())
    except (EvalDataError, UnicodeDecodeError) as exc:
        raise UserError(f"bad evaluation file / Tệp đánh giá lỗi: {exc}") from exc
    if not examples:
        raise UserError("the evaluation file is empty / Tệp đánh giá rỗng")

    rasa: RasaInterpreter | None = None
    if backend in ("auto", "rasa"):
        rasa = _start_rasa(settings, required=backend == "rasa")
    fallback = wiring.build(settings).interpreter_for("fallback")
    assert isinstance(fallback, FallbackInterpreter)
    used = "rasa" if rasa is not None else "fallback"
    predictions = []
    with click.progressbar(examples, label=f"interpreting ({used})", file=sys.stderr) as bar:
        for ex in bar:
            try:
                result = rasa.interpret(ex.text, ex.now) if rasa else fallback.interpret(ex.text, ex.now)
            except RasaUnavailable as exc:
                raise UserError(f"Rasa stopped answering during the evaluation: {exc}") from exc
            predictions.append(Prediction(result.intent, result.entities))
    if rasa is not None:
        rasa.close()
    if errors:
        for ex, pr in zip(examples, predictions, strict=True):
            if ex.intent != pr.intent or ex.entities != pr.entities:
                click.echo(f"{ex.intent}->{pr.intent} {ex.text!r} gold={ex.entities} got={pr.entities}")
    click.echo(json.dumps(score(examples, predictions, used), ensure_ascii=False))


def _start_rasa(settings: Settings, required: bool) -> RasaInterpreter | None:
    from nlu.rasa_server import RasaServerError, current_model, is_ready, serve, train

    token = wiring.build(settings).rasa_token
    try:
        if not is_ready(settings.nlu.rasa_url, token):
            env = load_env(settings.data_dir)
            if current_model(env) is None:
                train(env, settings.data_dir, progress=_echo)
            serve(env, settings.data_dir, settings.nlu.rasa_url, token, progress=_echo)
            _echo("the Rasa server stays up for the next evaluation or call; `hotline nlu stop` stops it")
    except (RasaEnvError, RasaServerError, OSError) as exc:
        if required:
            raise UserError(f"cannot start Rasa / Không khởi động được Rasa: {exc}") from exc
        _echo(f"Rasa unavailable ({exc}); evaluating the rule-based fallback")
        return None
    rasa = wiring.build(settings).interpreter_for("rasa", timeout_s=max(settings.nlu.rasa_timeout_s, 5.0))
    assert isinstance(rasa, RasaInterpreter)
    return rasa


@nlu_group.command(
    name="review",
    epilog="""\b
Examples:
  hotline nlu review
  hotline nlu review --reason not_understood
  hotline nlu review --label 3fa2c1d0 --intent inform --entity name="Nguyễn Văn An"
  hotline nlu review --discard 3fa2c1d0
  hotline nlu review --export""",
)
@click.option(
    "--reason", default="", help="List only one reason: not_understood, low_confidence, correction, handoff."
)
@click.option("--label", "label_id", default="", help="Label this item with --intent (and --entity).")
@click.option("--intent", default="", help="The right intent of the labelled turn.")
@click.option("--entity", "entities", multiple=True, help="A right slot value, KEY=VALUE (repeatable).")
@click.option("--discard", "discard_id", default="", help="Drop this item from the queue.")
@click.option(
    "--export",
    is_flag=True,
    help="Write the labelled turns into the Rasa project's training data (to inspect or commit them; "
    "`hotline nlu train` takes them from the queue anyway).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Training file for --export (default: nlu/rasa_project/data/reviewed.yml).",
)
def review(
    reason: str,
    label_id: str,
    intent: str,
    entities: tuple[str, ...],
    discard_id: str,
    export: bool,
    out: Path | None,
) -> None:
    """The learning loop's review queue: turns not understood, low-confidence intents, corrections at
    the read-back and handoffs, to label (intent, slots) or discard; --export adds the labelled ones
    to the training data as their own file. `hotline nlu train` trains on the labelled turns (as their
    own file) whether exported or not. The staff portal's /nlu/review works on the same queue."""
    from nlu.rasa_server import PROJECT_DIR
    from nlu.review import ReviewError, ReviewQueue, training_yaml

    queue = ReviewQueue(load_settings().data_dir)
    try:
        if label_id:
            if not intent:
                raise UserError("--label cần --intent / --label needs --intent")
            values = {}
            for pair in entities:
                key, sep, value = pair.partition("=")
                if not sep or not key.strip():
                    raise UserError(f"--entity phải có dạng KEY=VALUE / --entity must be KEY=VALUE: {pair!r}")
                values[key.strip()] = value.strip()
            q = queue.label(label_id, intent, values, reviewer=_cli_reviewer())
            click.echo(f"đã gán nhãn / labelled {q.id}: {q.label_intent} {q.label_entities}")
            return
        if discard_id:
            q = queue.discard(discard_id, reviewer=_cli_reviewer())
            click.echo(f"đã bỏ / discarded {q.id}")
            return
        if export:
            labelled = queue.labelled()
            if not labelled:
                raise UserError("chưa có mục nào được gán nhãn / no labelled items to export")
            target = out or PROJECT_DIR / "data" / "reviewed.yml"
            target.write_text(training_yaml(labelled), encoding="utf-8")
            click.echo(f"{len(labelled)} câu đã vào dữ liệu huấn luyện / labelled turns written to {target}")
            return
        pending = queue.pending(reason)
    except ReviewError as exc:
        raise UserError(str(exc)) from exc
    if not pending:
        click.echo("Hàng đợi trống / the review queue is empty.")
        return
    for q in pending:
        it = q.item
        click.echo(
            f"{q.id}  {it.reason:14} {it.intent or '-':22} {it.confidence:4.2f}  {it.phase}/{it.slot}  "
            f"[{q.city} {q.created}]  {it.text}"
        )
