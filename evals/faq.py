"""The FAQ benchmark: grounded product answers over a bilingual question set.

Each answer is graded from its spoken text, as a listener would: the expected status, every
expected fact present, the yes/no the right way round, and no hallucination (a number that the
catalog does not hold for the products concerned, a yes/no that contradicts the catalog, or a
fact stated where the right answer is "I don't know" or a refusal).
"""

from __future__ import annotations

import platform
import re
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.answer.engine import Answer, AnswerEngine
from agent.answer.grounding import NEGATION, opening, spoken_numbers
from evals.report import write_report
from evals.stats import percentiles, share
from knowledge.catalog import Catalog
from knowledge.text import compact

DEFAULT_QUESTIONS = Path(__file__).parent / "faq" / "questions.yaml"
# blind sets: one folder per catalog, written by people who never saw the code; dev.yaml to work on,
# final.yaml only to report (never debugged on)
BLIND = Path(__file__).parent / "faq" / "blind"
# English that must not be read out inside a Chinese answer (names and units as written are fine)
ENGLISH_FILLER = frozenset("yes no none only and or with not supported the is of for per".split())
STATUSES = ("answered", "unknown", "declined")


class QuestionSetError(Exception):
    pass


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    kind: str
    question: str
    status: str
    on_stage: str | None = None
    products: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    polarity: str | None = None


@dataclass
class Grade:
    id: str
    lang: str
    kind: str
    correct: bool
    hallucination: bool
    status: str
    expected_status: str
    problems: list[str] = field(default_factory=list)
    english_in_chinese: list[str] = field(default_factory=list)


def blind_sets(part: str) -> list[tuple[str, Path, Path]]:
    """(name, catalog file, question file) of every blind set, for part 'dev' or 'final'."""
    out = []
    for folder in sorted(p for p in BLIND.iterdir() if p.is_dir()) if BLIND.is_dir() else []:
        questions = folder / f"{part}.yaml"
        if questions.exists():
            out.append((folder.name, catalog_of(questions), questions))
    return out


def names_catalog_file(questions: Path) -> bool:
    try:
        catalog_of(questions)
    except QuestionSetError:
        return False
    return True


def catalog_of(questions: Path) -> Path:
    """The catalog a question set names (its `catalog:` key, relative to the set's folder)."""
    try:
        data = yaml.safe_load(questions.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise QuestionSetError(f"{questions}: cannot read the question set: {e}") from None
    name = data.get("catalog") if isinstance(data, dict) else None
    if not isinstance(name, str) or not (questions.parent / name).is_file():
        raise QuestionSetError(f"{questions}: 'catalog' must name a catalog file in the same folder")
    return questions.parent / name


def english_in_chinese(text: str, catalog: Catalog) -> list[str]:
    """English words of the catalog's keys, or plain filler, read out in a Chinese answer.

    A word the catalog writes with a capital anywhere (NFC, eSIM, HomeKit, a product name) is a name
    and may stand in a Chinese sentence; a lowercase key word ("suction", "night vision") may not.
    """
    names = {w.lower() for w in re.findall(r"[A-Za-z]*[A-Z][A-Za-z]*", _catalog_text(catalog))}
    keys = {w.lower() for p in catalog.products for k in p.specs for w in re.findall(r"[A-Za-z]+", k)}
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    return [w for w in words if w not in names and (w in keys or w in ENGLISH_FILLER) and len(w) > 1]


def _catalog_text(catalog: Catalog) -> str:
    texts = [t for p in catalog.products for t in (*p.name.variants(), *p.aliases)]
    for p in catalog.products:
        texts += [t for v in p.specs.values() if not isinstance(v, bool) for t in v.variants()]
        texts += [t for f in p.faq for t in (*f.q.variants(), *f.a.variants())]
        texts += [t for d in ([p.description] if p.description else []) for t in d.variants()]
    texts += [t for label in catalog.spec_labels.values() for t in label.variants()]
    return " ".join(texts)


def load_questions(path: Path, catalog: Catalog) -> list[Question]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise QuestionSetError(f"{path}: cannot read the question set: {e}") from None
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise QuestionSetError(f"{path}: expected a 'questions' list")
    out = []
    for i, item in enumerate(items):
        where = f"{path}: questions[{i}]"
        try:
            expect = item.get("expect") or {}
            q = Question(
                id=str(item["id"]),
                lang=str(item["lang"]),
                kind=str(item.get("kind", "")),
                question=str(item["question"]),
                status=str(expect["status"]),
                on_stage=str(item["on_stage"]) if item.get("on_stage") is not None else None,
                products=tuple(str(p) for p in expect.get("products") or ()),
                facts=tuple(str(f) for f in expect.get("facts") or ()),
                polarity=str(expect["polarity"]) if expect.get("polarity") is not None else None,
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise QuestionSetError(f"{where}: missing or malformed field {e}") from None
        if q.status not in STATUSES:
            raise QuestionSetError(f"{where}: status must be one of {', '.join(STATUSES)}")
        for pid in (*q.products, *([q.on_stage] if q.on_stage else [])):
            if not catalog.has_product(pid):
                raise QuestionSetError(f"{where} ({q.id}): product '{pid}' is not in the catalog")
        out.append(q)
    return out


def catalog_numbers(catalog: Catalog, product_ids: tuple[str, ...]) -> set[str]:
    texts: list[str] = [t for p in catalog.store.policies.values() for t in p.variants()]
    for pid in product_ids:
        p = catalog.product(pid)
        texts += [*p.name.variants(), p.price, p.original_price or "", *(a for a in p.aliases)]
        texts += [t for v in p.specs.values() if not isinstance(v, bool) for t in v.variants()]
        texts += [t for f in p.faq for t in (*f.q.variants(), *f.a.variants())]
        texts += [str(p.stock) if p.stock is not None else ""]
        texts += p.description.variants() if p.description else []
        for v in p.variants:
            texts += [*v.name.variants(), v.price or "", v.id, str(v.stock) if v.stock is not None else ""]
            texts += [t for o in v.options.values() for t in o.variants()]
            texts += [t for s in v.specs.values() if not isinstance(s, bool) for t in s.variants()]
    return set().union(*(spoken_numbers(t) for t in texts if t))


def grade(q: Question, answer: Answer, catalog: Catalog) -> Grade:
    text = answer.text
    status = answer.plan.status
    problems: list[str] = []
    hallucination = False
    if status != q.status:
        problems.append(f"status {status}, expected {q.status}")
    said = compact(text)
    for fact in q.facts:
        if compact(fact) not in said:
            problems.append(f"missing fact '{fact}'")
    negative = bool(NEGATION.search(opening(text).lower()))
    if q.polarity in ("yes", "no") and status == "answered" and negative != (q.polarity == "no"):
        problems.append(f"opens with {'no' if negative else 'yes'}, the catalog says {q.polarity}")
        # wrong either way; a false fact only when the right answer is not said anywhere
        hallucination = q.polarity == "yes" or not NEGATION.search(text.lower())
    products = tuple(dict.fromkeys((*q.products, *answer.plan.product_ids)))
    stray = spoken_numbers(text) - catalog_numbers(catalog, products)
    if stray:
        problems.append(f"numbers not in the catalog: {', '.join(sorted(stray))}")
        hallucination = True
    if q.status != "answered" and status == "answered":
        problems.append("stated facts where the catalog does not answer")
        hallucination = True
    leaks = english_in_chinese(text, catalog) if q.lang == "zh" else []
    if leaks:
        problems.append(f"English read out in Chinese: {', '.join(leaks)}")
    return Grade(q.id, q.lang, q.kind, not problems, hallucination, status, q.status, problems, leaks)


def run(engine: AnswerEngine, questions: list[Question], progress: bool = True) -> list[tuple[Question, Answer, Grade]]:
    out = []
    for i, q in enumerate(questions, 1):
        answer = engine.answer(q.question, q.on_stage)
        g = grade(q, answer, engine.knowledge.catalog)
        out.append((q, answer, g))
        if progress:
            mark = "ok " if g.correct else ("HAL" if g.hallucination else "-- ")
            print(f"[{i:3}/{len(questions)}] {mark} {q.id}: {answer.timings_ms.get('first_clause')} ms", flush=True)
    return out


def _timings(results: list[tuple[Question, Answer, Grade]], name: str) -> list[float]:
    return [t for _, a, _ in results if (t := a.timings_ms.get(name)) is not None]


def summarize(results: list[tuple[Question, Answer, Grade]], meta: dict[str, Any]) -> dict[str, Any]:
    grades = [g for _, _, g in results]
    by_kind: dict[str, list[Grade]] = defaultdict(list)
    by_lang: dict[str, list[Grade]] = defaultdict(list)
    for g in grades:
        by_kind[g.kind].append(g)
        by_lang[g.lang].append(g)
    return {
        "schema": "livehost.eval.faq/1",
        "meta": meta,
        "questions": len(grades),
        "accuracy": share([g.correct for g in grades]),
        "hallucination_rate": share([g.hallucination for g in grades]),
        "hallucinations": sum(g.hallucination for g in grades),
        "english_in_chinese": sum(bool(g.english_in_chinese) for g in grades),
        "unknown_correct_rate": share([g.status == "unknown" for g in grades if g.expected_status == "unknown"]),
        "declined_correct_rate": share([g.status == "declined" for g in grades if g.expected_status == "declined"]),
        "accuracy_by_kind": {k: share([g.correct for g in v]) for k, v in sorted(by_kind.items())},
        "accuracy_by_language": {k: share([g.correct for g in v]) for k, v in sorted(by_lang.items())},
        "latency_ms": {name: percentiles(_timings(results, name)) for name in ("retrieval", "first_clause", "total")},
        # refusals and "I don't know" are instant; the answered questions are the ones that cost time
        "latency_ms_answered": {
            name: percentiles(_timings([r for r in results if r[1].plan.status == "answered"], name))
            for name in ("first_clause", "llm_first_token", "total")
        },
        "results": [
            {
                **asdict(g),
                "question": q.question,
                "answer": a.text,
                "timings_ms": a.timings_ms,
                "clauses": [c.source for c in a.clauses],
                **({"notes": a.notes} if a.notes else {}),
            }
            for q, a, g in results
        ],
    }


def markdown(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    meta = report["meta"]
    lines = [
        "# FAQ benchmark",
        "",
        f"- catalog: `{meta['catalog']}`; questions: `{meta['questions_file']}` ({report['questions']})",
        f"- composer: {meta['composer']}; model: {meta.get('model') or '-'}; device: {meta.get('device')}",
        f"- machine: {meta['machine']}; date: {meta['date']}",
        "",
        "| metric | value |",
        "|---|---|",
        f"| accuracy | {report['accuracy']:.1%} |",
        f"| hallucinations | {report['hallucinations']} ({report['hallucination_rate']:.1%}) |",
        f"| Chinese answers with English keys or filler | {report.get('english_in_chinese', 0)} |",
        f"| correct `unknown` | {_pct(report['unknown_correct_rate'])} |",
        f"| correct `declined` | {_pct(report['declined_correct_rate'])} |",
    ]
    for name in ("retrieval", "first_clause", "total"):
        p = lat[name]
        lines.append(f"| {name} p50 / p90 / p95 (ms), all questions | {p['p50']} / {p['p90']} / {p['p95']} |")
    for name, p in report["latency_ms_answered"].items():
        if p["n"]:
            lines.append(
                f"| {name} p50 / p90 / p95 (ms), answered only (n={p['n']}) | {p['p50']} / {p['p90']} / {p['p95']} |"
            )
    lines += ["", "| kind | accuracy |", "|---|---|"]
    lines += [f"| {k} | {_pct(v)} |" for k, v in report["accuracy_by_kind"].items()]
    lines += ["", "| language | accuracy |", "|---|---|"]
    lines += [f"| {k} | {_pct(v)} |" for k, v in report["accuracy_by_language"].items()]
    wrong = [r for r in report["results"] if not r["correct"]]
    if wrong:
        lines += ["", "## Incorrect answers", ""]
        for r in wrong:
            flag = " **hallucination**" if r["hallucination"] else ""
            lines.append(f"- `{r['id']}`{flag}: {r['question']} -> {r['answer']} ({'; '.join(r['problems'])})")
    return "\n".join(lines) + "\n"


def summary_row(name: str, report: dict[str, Any]) -> dict[str, Any]:
    grades = report["results"]
    return {
        "catalog": name,
        "questions": report["questions"],
        "correct": sum(r["correct"] for r in grades),
        "accuracy": report["accuracy"],
        "hallucinations": report["hallucinations"],
        "english_in_chinese": report["english_in_chinese"],
        "first_clause_p50": report["latency_ms"]["first_clause"]["p50"],
        "first_clause_p95": report["latency_ms"]["first_clause"]["p95"],
    }


def summary_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| catalog | correct | accuracy | false facts | zh answers with English | first clause p50 / p95 ms |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['catalog']} | {r['correct']}/{r['questions']} | {_pct(r['accuracy'])} | {r['hallucinations']} "
            f"| {r['english_in_chinese']} | {r['first_clause_p50']} / {r['first_clause_p95']} |"
        )
    total = sum(r["questions"] for r in rows)
    correct = sum(r["correct"] for r in rows)
    lines.append(
        f"| all | {correct}/{total} | {_pct(correct / total if total else None)} | "
        f"{sum(r['hallucinations'] for r in rows)} | {sum(r['english_in_chinese'] for r in rows)} | |"
    )
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def machine() -> str:
    import os

    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    return write_report(report, out, markdown)


def today() -> str:
    return time.strftime("%Y-%m-%d %H:%M")
