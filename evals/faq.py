"""The FAQ benchmark: grounded product answers over a bilingual question set.

Each answer is graded from its spoken text, as a listener would: the expected status, every
expected fact present, the yes/no the right way round, and no hallucination (a number that the
catalog does not hold for the products concerned, a yes/no that contradicts the catalog, or a
fact stated where the right answer is "I don't know" or a refusal).
"""

from __future__ import annotations

import platform
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
                on_stage=item.get("on_stage"),
                products=tuple(expect.get("products") or ()),
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
        for v in p.variants:
            texts += [*v.name.variants(), v.price or "", v.id]
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
    return Grade(q.id, q.lang, q.kind, not problems, hallucination, status, q.status, problems)


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


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def machine() -> str:
    import os

    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    return write_report(report, out, markdown)


def today() -> str:
    return time.strftime("%Y-%m-%d %H:%M")
