"""`lfd demo`: the main job end to end on CPU, three domains, with the tiny stand-in model.

Bundled raw samples (data/samples/: med_norm, med_mrg, safety_exam) -> `lfd convert` into one data folder
-> tiny Qwen2 -> the REAL `llamafactory-cli train` with the shipped recipes (overridden on the command line:
CPU_OVERRIDES, the data folder, steps, max_new_tokens, and for the random stand-in each Tuning's stand_in): one LoRA
(med_norm_lora.yaml) and one full fine-tune (safety_full.yaml on safety_exam + med_mrg) -> the real predict
step for the base and the tuned model on each test split -> `lfd compare` per split -> one overview page
(index.html) and summary.md. The llamafactory-cli runs go two at a time, one core each: with a tiny
model their start-up (imports) costs more than their compute. While they run, each one's step/total and latest
loss (read from its trainer_log.jsonl every second) are shown on stderr when it is a terminal.
Data, models, checkpoints and logs go under --work-dir, reports under --reports-dir; the repo's data/ and
saves/ are left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .. import RECIPES, ROOT
from ..errors import UserError
from ..io.atomic import AtomicFiles
from ..progress import RunsLine
from ..report import overview
from ..report.markdown import render_markdown, summary_rows
from ..report.terminal import print_table

BUNDLED = ROOT / "data" / "samples"  # raw samples written by the project in the real formats (see each build.py)
SAMPLES = BUNDLED / "med_norm"  # the clinical-term samples, which tests/recipes also trains on
CONVERSIONS = {  # converter -> its `lfd convert` inputs
    # --val-size: med_norm_lora.yaml watches eval loss on med_norm_val, never on the test split
    "med_norm": [SAMPLES / "yidu_n7k_train.xlsx", "--test", SAMPLES / "chip_cdn_dev.json", "--val-size", "10"],
    # --circular 4: the test questions again with their options rotated, to see whether the model knows the
    # answer or the letter (safety_exam_test_circular)
    "safety_exam": [BUNDLED / "safety_exam" / "anquan_seed_table.md", "--test-size", "15", "--shuffle-options", "2",
                    "--circular", "4"],
    "med_mrg": [BUNDLED / "med_mrg" / "IMCS-V2_train.json", "--test", BUNDLED / "med_mrg" / "IMCS-V2_dev.json"],
}
# What a CPU run must change in a CUDA recipe, and nothing more.
CPU_OVERRIDES = ["bf16=false", "preprocessing_num_workers=1", "dataloader_num_workers=0"]
QUIET_ENV = {
    "HF_HUB_OFFLINE": "1",            # nothing to download: every path is local
    "DISABLE_VERSION_CHECK": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "WANDB_DISABLED": "true",
    "CUDA_VISIBLE_DEVICES": "",       # the demo is the CPU path even on a GPU machine
}
WORKERS = 2  # llamafactory-cli runs at once
POLL_SECONDS = 1.0  # how often the running jobs' trainer_log.jsonl are read
STAND_IN_NOTE = "The tiny stand-in model has random weights: it learns output formats, not medicine."
REAL_MODEL = ("modelscope download --model Qwen/Qwen2.5-0.5B-Instruct --local_dir models/Qwen2.5-0.5B-Instruct",
              "lfd demo --model models/Qwen2.5-0.5B-Instruct")


@dataclass(frozen=True)
class Tuning:
    label: str
    recipe: str
    datasets: str  # what it trains on; a `dataset=` override when it differs from the recipe's
    stand_in: tuple[str, ...]  # overrides for the random stand-in only: a real model keeps the recipe's


TUNINGS = {
    "lora": Tuning("LoRA", "med_norm_lora.yaml", "med_norm_train", (
        "learning_rate=1.0e-2",
        # The stand-in's vocabulary is new and its embeddings random, so a LoRA alone cannot move its logits:
        # they train with it, as LLaMA-Factory does itself after resize_vocab.
        "additional_target=embed_tokens,lm_head")),
    "full": Tuning("full fine-tune", "safety_full.yaml", "safety_exam_train,med_mrg_train", ("learning_rate=1.0e-2",)),
}


@dataclass(frozen=True)
class Split:
    name: str  # the converter, and the dataset prefix
    task: str
    recipe: str  # predict recipe
    tuning: str  # key of TUNINGS
    max_new_tokens: int  # room for the longest answer, and no more: the untuned model never stops
    headline: tuple[str, ...]  # metrics of the summary: the split's primary metric first
    evaluators: tuple[str, ...] = ()  # -e specs besides the dataset's own
    test: str = ""  # the test split predicted and scored, when not <name>_test

    @property
    def dataset(self) -> str:
        return self.test or f"{self.name}_test"


SPLITS = (
    # + character ROUGE: unseen test terms are rarely matched exactly, but whether the output looks like one shows
    Split("med_norm", "clinical term → its standard terms", "med_norm_lora_predict.yaml", "lora", 32,
          ("exact_match", "rouge-l_char"), ("rouge_zh:level=char",)),
    # every question in up to 4 orders of its options: right in each (circular) vs right as written (original order)
    Split("safety_exam", "安规 exam question, options rotated → the option letters", "safety_exam_predict.yaml", "full",
          32, ("choice_circular_accuracy", "choice_original_order_accuracy", "choice_accuracy", "choice_flip_rate",
               "choice_no_answer_rate"), test="safety_exam_test_circular"),
    Split("med_mrg", "doctor–parent dialogue → six-field JSON report", "med_mrg_predict.yaml", "full", 160,
          ("imcs_rouge", "json_parse_rate", "json_field_exact_match")),
)


@dataclass
class Job:
    """One `llamafactory-cli train` run."""

    name: str
    what: str
    recipe: str
    overrides: list[str]
    log: Path
    after: str | None = None  # the job whose output this one reads
    seconds: float = 0.0

    @property
    def output_dir(self) -> Path:
        """Where the run writes (its ``output_dir=`` override): trainer_log.jsonl shows its progress."""
        return Path(next(o for o in self.overrides if o.startswith("output_dir=")).partition("=")[2])


class Jobs:
    """Runs jobs WORKERS at a time in list order, each after the job it reads; the first failure stops the rest."""

    def __init__(self, env: dict[str, str], stream=None):
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}
        self.failed = threading.Event()
        self.lock = threading.Lock()
        self.progress = RunsLine(stream)  # each running job's step/total and loss, from its trainer_log.jsonl

    def say(self, text: str) -> None:
        with self.lock:
            self.progress.say(text)

    def follow(self, stop: threading.Event) -> None:
        """Every POLL_SECONDS until ``stop``: show where the running jobs are."""
        while not stop.wait(POLL_SECONDS):
            with self.lock:
                self.progress.tick()

    def run_all(self, jobs: list[Job]) -> None:
        futures = {}
        stop = threading.Event()
        threading.Thread(target=self.follow, args=(stop,), daemon=True).start()
        try:
            self.run_each(jobs, futures)
        finally:
            stop.set()
            with self.lock:
                self.progress.clear()

    def run_each(self, jobs: list[Job], futures: dict) -> None:
        with ThreadPoolExecutor(WORKERS) as pool:
            for job in jobs:  # a job's `after` is listed before it, so a waiting job never blocks its own input
                futures[job.name] = pool.submit(self.run, job, futures.get(job.after))
            try:
                done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
                failure = next((f.exception() for f in futures.values() if f in done and f.exception()), None)
                if failure:
                    raise failure
            except BaseException:  # a failed run or Ctrl-C: stop the others
                self.failed.set()
                for future in futures.values():
                    future.cancel()
                with self.lock:
                    for process in self.running.values():
                        process.terminate()
                raise

    def run(self, job: Job, after) -> None:
        if after is not None:
            after.result()
        cli = Path(sys.executable).with_name("llamafactory-cli")
        command = [str(cli), "train", str(RECIPES / job.recipe), *job.overrides]
        job.log.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        with open(job.log, "w", encoding="utf-8") as out:
            out.write("$ " + " ".join(command) + "\n")
            out.flush()
            with self.lock:  # started, and seen by run_all's stop, or not started at all
                if self.failed.is_set():
                    return
                self.progress.say(f"      started   {job.name}: {job.what}")
                self.progress.watch(job.name, job.output_dir)
                self.running[job.name] = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                                          env=self.env)
            code = self.running[job.name].wait()
            with self.lock:
                del self.running[job.name]
                self.progress.forget(job.name)
        job.seconds = time.monotonic() - start
        if code != 0:
            if not self.failed.is_set():
                tail = "".join(job.log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-25:])
                self.say(tail)
            raise UserError(f"llamafactory-cli train recipes/{job.recipe} ({job.name}) failed (exit {code}); "
                            f"full log: {job.log}")
        self.say(f"      finished  {job.name} in {job.seconds:.0f}s")


def step(number: int, total: int, text: str) -> None:
    print(f"[{number}/{total}] {text}", file=sys.stderr, flush=True)


def lfd(*args) -> None:
    from ..cli import main

    code = main([str(a) for a in args])
    if code:
        raise UserError(f"`lfd {args[0]}` failed in the demo (exit {code}); see the message above")


def job_env(work: Path) -> dict[str, str]:
    """The llamafactory-cli environment: offline, CPU, one thread per run (two runs share the cores)."""
    env = {**os.environ, **QUIET_ENV, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or WORKERS) // WORKERS))}
    if sys.flags.dont_write_bytecode:
        # PYTHONDONTWRITEBYTECODE would make every run recompile torch and transformers (~25 s each):
        # their bytecode is cached under the work dir instead (or the PYTHONPYCACHEPREFIX set), never beside
        # the installed sources.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = env.get("PYTHONPYCACHEPREFIX") or str(work / ".pycache")
        sys.pycache_prefix, sys.dont_write_bytecode = env["PYTHONPYCACHEPREFIX"], False  # this process too
    return env


def plan(args, work: Path, model: Path) -> tuple[list[Job], dict[str, Path], dict]:
    """The train and predict jobs, the tuned output of each tuning and the predictions of each split."""
    data, saves, logs = work / "data", work / "saves", work / "logs"
    common = [f"dataset_dir={data}", *CPU_OVERRIDES]
    tuned = {name: saves / name / "sft" for name in TUNINGS}
    jobs = []
    for name, tuning in TUNINGS.items():
        overrides = [f"model_name_or_path={model}", *common, f"output_dir={tuned[name]}", f"max_steps={args.steps}",
                     f"logging_steps={max(1, args.steps // 20)}", "save_steps=100000", "plot_loss=false"]
        if tuning.datasets != recipe_value(tuning.recipe, "dataset"):
            overrides.append(f"dataset={tuning.datasets}")
        if not args.model:
            overrides += tuning.stand_in
        jobs.append(Job(f"train_{name}", f"{tuning.label} with recipes/{tuning.recipe} on "
                        f"{tuning.datasets.replace(',', ' + ')}, {args.steps} steps", tuning.recipe, overrides,
                        logs / f"train_{name}.log"))
    predictions: dict[str, dict[str, Path]] = {split.name: {} for split in SPLITS}
    by_model = [("tuned", split) for split in SPLITS if split.tuning == "lora"] + [("base", split) for split in SPLITS]
    by_model += [("tuned", split) for split in SPLITS if split.tuning != "lora"]  # the full fine-tune ends last
    for label, split in by_model:
        out = saves / "predict" / split.name / label
        if label == "base":
            source, after = [f"model_name_or_path={model}", "adapter_name_or_path=null"], None
        elif split.tuning == "lora":
            source, after = [f"model_name_or_path={model}", f"adapter_name_or_path={tuned['lora']}"], "train_lora"
        else:
            source, after = [f"model_name_or_path={tuned[split.tuning]}", "adapter_name_or_path=null"], \
                f"train_{split.tuning}"
        dataset = [f"eval_dataset={split.dataset}"] if split.dataset != recipe_value(split.recipe, "eval_dataset") else []
        jobs.append(Job(f"predict_{split.name}_{label}", f"{label} model on {split.dataset} (greedy)", split.recipe,
                        [*source, *common, *dataset, f"output_dir={out}", f"max_new_tokens={split.max_new_tokens}"],
                        logs / f"predict_{split.name}_{label}.log", after))
        predictions[split.name][label] = out / "generated_predictions.jsonl"
    return jobs, tuned, predictions


def recipe_value(recipe: str, key: str) -> str:
    """A recipe's ``key`` (dataset, eval_dataset) as text, "" when it has none."""
    import yaml

    return str(yaml.safe_load((RECIPES / recipe).read_text(encoding="utf-8")).get(key, ""))


def losses(output_dir: Path) -> list[tuple[int, float]]:
    """(step, loss) of each logged step, from LLaMA-Factory's trainer_log.jsonl."""
    path = output_dir / "trainer_log.jsonl"
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["current_steps"], row["loss"]) for row in rows if "loss" in row]


def shown(path: Path) -> str:
    """``path`` relative to the repo root when inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def run(args) -> int:
    started = time.monotonic()
    work: Path = args.work_dir.resolve()
    reports: Path = args.reports_dir
    data, model = work / "data", work / "tiny-qwen2"
    if args.model and not (args.model / "config.json").is_file():
        raise UserError(f"--model {args.model}: no config.json there; pass the folder `modelscope download "
                        "--local_dir` wrote")
    total = 5
    env = job_env(work)

    step(1, total, f"converting the bundled samples of {', '.join(CONVERSIONS)} into {data}")
    for converter, inputs in CONVERSIONS.items():
        lfd("convert", converter, *inputs, "--out-dir", data, "--rejects", data / f"{converter}_rejects.jsonl",
            "--force")
    if args.model:
        model = args.model.resolve()
        step(2, total, f"using the model in {model}")
    else:
        step(2, total, f"building the tiny stand-in model in {model} (random weights: it learns formats, not medicine)")
        from ..tiny_model import build_tiny_model

        # the vocabulary learns the training splits only: the test items stay as unseen to it as to the model
        build_tiny_model(model, corpus=[data / f"{s.name}_train.jsonl" for s in SPLITS])

    jobs, tuned, predictions = plan(args, work, model)
    step(3, total, f"fine-tuning and predicting: {len(jobs)} llamafactory-cli runs, {WORKERS} at a time "
                   f"(logs in {work / 'logs'})")
    Jobs(env).run_all(jobs)

    step(4, total, f"scoring base vs tuned on each test split with lfd compare -> {reports}")
    splits = compare_splits(reports, data / "dataset_info.json", predictions)
    step(5, total, "writing the overview page and the Markdown summary")
    index, summary = write_reports(args, reports, work, model, splits, jobs, tuned, time.monotonic() - started)

    print(f"reports: {index} (open it in a browser), {summary}")
    print_table(["test split", "metric", "base", "tuned", "tuned - base [95% CI]", "p", "pairs"],
                summary_rows(splits), right={2, 3, 4, 5, 6})
    print(f"scores x100; every metric of a split: {reports}/<split>/compare.html; done in "
          f"{time.monotonic() - started:.0f}s")
    if not args.model:
        print(f"{STAND_IN_NOTE} The same pipeline on a real model:\n  {REAL_MODEL[0]}\n  {REAL_MODEL[1]}")
    return 0


def compare_splits(reports: Path, info: Path, predictions: dict) -> list[overview.Split]:
    """`lfd compare` of each split (its tables saved as compare.txt), read back for the overview."""
    splits = []
    for split in SPLITS:
        out = reports / split.name
        out.mkdir(parents=True, exist_ok=True)
        evaluators = [arg for spec in split.evaluators for arg in ("-e", spec)]
        with open(out / "compare.txt", "w", encoding="utf-8") as text, contextlib.redirect_stdout(text):
            lfd("compare", predictions[split.name]["base"], predictions[split.name]["tuned"], "--dataset",
                split.dataset, "--dataset-info", info, *evaluators, "--out", out / "compare.json",
                "--html", out / "compare.html")
        tuning = TUNINGS[split.tuning]
        tuned_by = f"{tuning.label} · `recipes/{tuning.recipe}` on {tuning.datasets.replace(',', ' + ')}"
        splits.append(overview.Split(
            split.dataset, tuned_by,
            json.loads((out / "compare.json").read_text(encoding="utf-8")), list(split.headline),
            f"{split.name}/compare.html", split.task))
    return splits


def write_reports(args, reports: Path, work: Path, model: Path, splits, jobs: list[Job], tuned: dict[str, Path],
                  seconds: float) -> tuple[Path, Path]:
    """index.html and summary.md in ``reports``."""
    if args.model:
        notes = [(f"Fine-tuned from `{shown(model)}` for {args.steps} steps on a few dozen bundled examples: "
                  "a run of the pipeline, not a benchmark.")]
    else:
        notes = [STAND_IN_NOTE, f"The same pipeline on a real model: `{REAL_MODEL[0]}`, then `{REAL_MODEL[1]}`."]
    notes.append("Bundled raw samples were converted with `lfd convert`, fine-tuned by the real "
                 "`llamafactory-cli train` with the shipped recipes (what each run overrides is listed below), predicted greedily by the "
                 "base and the tuned model and scored with `lfd compare`: scores ×100 with 95% intervals (exact "
                 "for 0/1 metrics), Δ = tuned − base on the items both runs score with a paired interval, p = exact "
                 "McNemar (0/1 metrics) or sign-flip test. Each split is judged by its primary metric; the others are "
                 "exploratory, their p Holm-adjusted.")
    curves = {f"{TUNINGS[name].label} ({TUNINGS[name].recipe})": losses(path) for name, path in tuned.items()}
    view = overview.Overview(
        title="Base vs tuned on three test splits",
        notes=notes,
        meta=[("Model", f"`{shown(model)}`"), ("Steps per fine-tune", str(args.steps)),
              ("Measured in", f"{seconds:.0f} s, {WORKERS} llamafactory-cli runs at a time"),
              ("Work folder", f"`{shown(work)}`")],
        splits=splits,
        losses={name: curve for name, curve in curves.items() if curve},
        jobs=[(job.name, " ".join(["llamafactory-cli train", f"recipes/{job.recipe}", *job.overrides])
               .replace(f"{ROOT}/", ""), job.seconds) for job in jobs],
    )
    seconds_of = {job.name: job.seconds for job in jobs}
    trainings = [(t.label, t.recipe, args.steps, losses(tuned[name]), seconds_of[f"train_{name}"])
                 for name, t in TUNINGS.items()]
    index, summary = reports / "index.html", reports / "summary.md"
    with AtomicFiles() as files:
        files.open(index).write(overview.render_overview(view))
        files.open(summary).write(render_markdown(view, trainings))
        files.commit()
    return index, summary


def add_parser(sub):
    from .arguments import add_command, positive_int

    p = add_command(
        sub, "demo", example="lfd demo",
        description=("Run the whole pipeline on the bundled samples (med_norm, med_mrg, safety_exam) on CPU:\n"
                     "convert -> tiny random model -> llamafactory-cli train (one LoRA, one full fine-tune) ->\n"
                     "predict each test split with the base and the tuned model -> lfd compare -> one HTML page."),
        help="the main job end to end on CPU (what `make demo` runs)",
    )
    p.add_argument("--work-dir", type=Path, default=Path("build/demo"),
                   help="data, models, checkpoints and logs (default build/demo)")
    p.add_argument("--reports-dir", type=Path, default=Path("reports/demo"),
                   help="index.html, summary.md and each split's comparison (default reports/demo)")
    p.add_argument("--model", type=Path, help="a downloaded model folder to use instead of the tiny stand-in")
    p.add_argument("--steps", type=positive_int, default=150, help="training steps of each fine-tune (default 150)")
    p.set_defaults(func=run)
    return p
