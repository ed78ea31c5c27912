"""The turns a scenario's `source` expands to: real recorded sentences (for WER) or catalog questions.

Kept apart from `evals/scenario.py`, which turns these dicts into `Turn`s and reports a `SourceError`
as its own `ScenarioError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class SourceError(ValueError):
    """A source that cannot be expanded; the message names where and why."""


def expand_source(data: Any, where: str) -> list[dict[str, Any]]:
    """Turns generated from a data set: `{asterisk: sentences}` (real recorded speech, for WER) or
    `{questions: FILE, lang: en|zh}` (catalog questions with their expected facts)."""
    if not isinstance(data, dict):
        raise SourceError(f"{where}: expected a mapping such as {{asterisk: sentences}} or {{questions: FILE}}")
    limit = data.get("limit")
    if "asterisk" in data:
        from evals.asr import asterisk_sentences

        try:
            items = asterisk_sentences()
        except FileNotFoundError as e:
            raise SourceError(f"{where}: {e}") from None
        turns = [
            {"id": f"ast-{path.stem}", "audio": str(path), "text": text, "expect": "transcribe"} for path, text in items
        ]
    elif "questions" in data:
        turns = _questions(data, where)
    else:
        raise SourceError(f"{where}: a source is {{asterisk: sentences}} or {{questions: FILE, lang: en}}")
    return turns[: int(limit)] if limit else turns


def _questions(data: dict[str, Any], where: str) -> list[dict[str, Any]]:
    import yaml

    path = Path(str(data["questions"]))
    path = path if path.is_absolute() else ROOT / path
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as e:
        raise SourceError(f"{where}: cannot read questions from {path}: {e}") from None
    statuses = data.get("status", ["answered", "unknown"])
    turns = []
    for q in items:
        expect = q.get("expect") or {}
        if (
            q.get("on_stage")
            or q.get("lang") != data.get("lang", q.get("lang"))
            or expect.get("status") not in statuses
        ):
            continue
        status = expect["status"]
        turns.append(
            {
                "id": q["id"],
                "say": q["question"],
                "lang": q["lang"],
                "expect": "answer" if status == "answered" else status,
                "facts": [str(f) for f in expect.get("facts") or []],
            }
        )
    every = int(data.get("every", 1))
    return turns[::every]
