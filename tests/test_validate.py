"""`rasa data validate` must be clean: no conflicts, no unused or undefined responses."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import PROJECT_ROOT


def test_rasa_data_validate_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--data", "data/nlu", "data/rules",
         "data/stories", "--domain", "domain.yml", "--config", "config.yml",
         "--fail-on-warnings"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
