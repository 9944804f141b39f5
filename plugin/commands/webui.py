"""`lfd webui`: LLaMA-Factory's web board (LlamaBoard) on 127.0.0.1, our data selected, our recipes loadable.

The board's working directory and saved configurations are made by :mod:`..board`; this command checks
the port and replaces itself with :mod:`..board_launch` run there: LLaMA-Factory's own board, launched as
``llamafactory-cli webui`` launches it, that predicts greedily by default and previews datasets as JSON.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sys
from pathlib import Path

from .. import RECIPES
from ..board import CONFIG_DIR, DATA_DIR, prepare
from ..board_launch import MODULE
from ..errors import UserError


def check_port(host: str, port: int) -> None:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as err:
        raise UserError(f"cannot listen on {host}:{port} ({err.strerror}); another board running? pass --port") \
            from None


def board_cli() -> str:
    """``llamafactory-cli``: the board starts its runs as plain ``llamafactory-cli train`` (runner.py)."""
    cli = Path(sys.executable).with_name("llamafactory-cli")
    found = str(cli) if cli.exists() else shutil.which("llamafactory-cli")
    if not found:
        raise UserError("llamafactory-cli is not installed in this environment; pip install llamafactory==0.9.5")
    return found


def board_command() -> list[str]:
    # -P: the board's working directory (the data dir's parent) is not put first on the module path
    return [sys.executable, "-P", "-m", MODULE]


def board_env(host: str, port: int, cli: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(GRADIO_SERVER_NAME=host, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    env["PATH"] = os.pathsep.join([str(Path(cli).parent), env.get("PATH", "")])  # its runs find it first
    return env


def run(args) -> int:
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: pick a port between 1 and 65535")
    cli, command = board_cli(), board_command()
    if not args.no_start:
        check_port(args.host, args.port)
    done = prepare(args.data_dir, args.work_dir, args.recipes)
    if done["linked"]:
        print(done["linked"], file=sys.stderr)
    for note in done["notes"]:
        print(f"note: {note}", file=sys.stderr)
    names = ", ".join(p.name for p in done["configs"]) or "none"
    print(f"data dir:   {done['data_dir']} ({len(done['datasets'])} datasets: {', '.join(done['datasets'][:6])}"
          f"{', ...' if len(done['datasets']) > 6 else ''})")
    print(f"recipes:    {done['home'] / CONFIG_DIR} ({names}): Train tab -> Config path -> Load arguments")
    print(f"board home: {done['home']} (its data, saves/, llamaboard_config/, llamaboard_cache/)")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: the board has no login; anyone who reaches {args.host}:{args.port} can start runs",
              file=sys.stderr)
    if args.no_start:
        print(f"start it:   cd {shlex.quote(str(done['home']))} && GRADIO_SERVER_NAME={shlex.quote(args.host)} "
              f"GRADIO_SERVER_PORT={args.port} {shlex.join(command)}")
        return 0
    print(f"LlamaBoard: http://{args.host}:{args.port} (starting LLaMA-Factory's board, greedy predictions by "
          "default; ready in about 30 s)", flush=True)
    sys.stderr.flush()
    os.chdir(done["home"])
    os.execve(command[0], command, board_env(args.host, args.port, cli))  # the board replaces this process
    return 0  # not reached


def add_parser(sub):
    from .arguments import add_command

    p = add_command(
        sub, "webui", example="lfd webui --data-dir build/demo/data --port 7860",
        description=("Start LLaMA-Factory's web board (LlamaBoard, as `llamafactory-cli webui`) on 127.0.0.1 with\n"
                     "DIR as its data dir (the dataset dropdown and preview show our datasets) and each training\n"
                     "recipe of recipes/ as a saved configuration: Train tab -> Config path -> Load arguments.\n"
                     "Evaluate & Predict predicts greedily (temperature 0 = do_sample: false, as our predict\n"
                     "recipes) unless you raise the temperature; dataset previews show JSON.\n"
                     "The board runs in a folder whose `data` is DIR (DIR's parent when DIR is named `data`)."),
        help="LLaMA-Factory's web board with our datasets and recipes loaded",
    )
    p.add_argument("--data-dir", type=Path, default=Path(DATA_DIR), metavar="DIR",
                   help="folder with dataset_info.json, as `lfd convert --out-dir` writes it (default data)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--work-dir", type=Path, metavar="DIR",
                   help="the board's working directory (default: DIR's parent if DIR is named `data`, else .)")
    p.add_argument("--recipes", type=Path, default=RECIPES, metavar="DIR",
                   help=f"recipes to offer (default {RECIPES})")
    p.add_argument("--no-start", action="store_true",
                   help="write the saved configurations and print the command, without starting the board")
    p.set_defaults(func=run)
    return p
