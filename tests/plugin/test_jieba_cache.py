"""Issue 14: jieba's dictionary cache lives in a folder of our own, never /tmp/jieba.cache (on a shared
server another user's file of that name cannot be replaced, and jieba logged a traceback on every run)."""

import os
import subprocess
import sys


def test_jieba_writes_its_cache_under_the_lfd_cache(tmp_path):
    cache, scratch = tmp_path / "cache", tmp_path / "tmp"
    scratch.mkdir()
    code = ("from llamafactory_domains.evaluators.rouge_zh import _jieba\n"
            "from llamafactory_domains.plugin.retrieval import words\n"
            "print(list(_jieba().cut('高血压患者能吃党参吗')), words('党参'))\n")
    env = {**os.environ, "LFD_CACHE": str(cache), "TMPDIR": str(scratch), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "党参" in done.stdout and done.stderr == ""
    assert (cache / "jieba" / "jieba.cache").is_file()
    assert not list(scratch.iterdir())  # nothing in the temporary folder: no jieba.cache, no leftover temp file
