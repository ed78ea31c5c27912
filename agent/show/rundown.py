"""The show's rundown: a presentation segment per product, written from the catalog's own facts.

A segment is a few short spoken lines in one language: a hook that names the product, what kind of
product it is, its strongest specs, its options and price, an FAQ answer, and a call to ask. Every
line that states something is a fact's own sentence (knowledge/facts.py, agent/answer/operations.py),
so the show says nothing the catalog does not; the lines around them name only the product. Those
connecting lines are picked afresh on each loop of the rundown, so a host that presents the same
products all day does not repeat itself word for word each time round.

A seller can write the rundown out (`livehost show plan`), edit it and run it (`livehost serve
--show FILE`): the order, the languages, and any segment's lines. Lines a seller wrote pass the
same grounding check as answers against the product's facts before the show starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.answer.grounding import GroundingCheck
from agent.answer.operations import options_fact, price_range
from agent.answer.plan import Plan
from knowledge.catalog import Catalog, Product
from knowledge.facts import Fact, product_facts, speakable
from knowledge.resolve import ProductResolver

LANGUAGES = ("zh", "en")
MAX_SPECS = 4  # the specs a segment reads: the seller's first ones, as the catalog orders them
MAX_LINE_CHARS = 300
MAX_SEGMENTS = 1000

# Connecting phrases, five of each: a loop of the rundown takes about a quarter of an hour on the
# sample catalog, so a line comes back word for word only after five loops (bench-show counts repeats).
HOOKS = {
    "zh": (
        "接下来给大家介绍{name}。",
        "我们来看看这款{name}。",
        "下面这款是{name}。",
        "再给大家推荐一款：{name}。",
        "来，看看{name}。",
    ),
    "en": (
        "Next up: the {name}.",
        "Let's take a look at the {name}.",
        "Here's one worth a look: the {name}.",
        "Now for the {name}.",
        "Time to meet the {name}.",
    ),
}
# with the product's name: two products of one kind must not say the same sentence
KINDS = {
    "zh": (
        "{name}是一款{category}。",
        "{name}属于我们的{category}。",
        "说到{category}，就是这款{name}。",
        "{name}，一款{category}。",
        "这款{name}是{category}。",
    ),
    "en": (
        "The {name} is one of our {category}.",
        "The {name} belongs to our {category}.",
        "Among our {category}: the {name}.",
        "In our {category} range: the {name}.",
        "The {name} sits with our {category}.",
    ),
}
ASKED = {
    "zh": (
        "关于{name}，常有朋友问：{question}",
        "很多朋友问{name}：{question}",
        "经常有人问到{name}：{question}",
        "说到{name}，大家常问：{question}",
        "关于{name}，评论区常见的问题：{question}",
    ),
    "en": (
        "People often ask about the {name}: {question}",
        "A question we get a lot about the {name}: {question}",
        "Viewers keep asking about the {name}: {question}",
        "Something people want to know about the {name}: {question}",
        "A common question on the {name}: {question}",
    ),
}
# before a fact's own sentence, which is said as the catalog's facts have it
LEADS = {
    "zh": ("", "另外，", "值得一提的是，", "还有，", "再说一点："),
    "en": ("", "Worth knowing: ", "Also good to know: ", "Note this: ", "Here's a detail: "),
}
# before a sentence that opens like an answer ("Yes, ...", "不能, ..."): the FAQ's, a feature's yes or no
ANSWER_LEADS = {
    "zh": ("", "答案是：", "简单说：", "回答一下：", "是这样的："),
    "en": ("", "The answer: ", "In short: ", "Simply put: ", "Here it is: "),
}
ANSWERING = ("Yes", "No", "是的", "没有", "不")
CALLS = {
    "zh": (
        "对{name}有什么问题，随时问我。",
        "想了解{name}的更多细节，直接在评论区问我。",
        "关于{name}，有问题尽管问。",
        "{name}还有哪里想了解的，打在评论区。",
        "对{name}感兴趣的朋友，有问题随时提。",
    ),
    "en": (
        "Any question about the {name}, just ask.",
        "Want to know more about the {name}? Ask me in the chat.",
        "If there's anything about the {name} you'd like to know, go ahead and ask.",
        "Curious about anything else on the {name}? Drop it in the chat.",
        "Questions on the {name}? I'm right here.",
    ),
}
BRIDGES = {"zh": "我们继续说{name}。", "en": "Back to the {name}."}


class ShowError(Exception):
    """A show file that cannot be run: every problem, one sentence each, with where it is."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Segment:
    """One product presented in one language; no `lines`: written from the catalog on every loop."""

    product_id: str
    language: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rundown:
    segments: tuple[Segment, ...]


def plan_rundown(catalog: Catalog, languages: tuple[str, ...] = LANGUAGES) -> Rundown:
    """Every product in catalog order, each in every language asked for, lines written afresh per loop."""
    return Rundown(tuple(Segment(p.id, lang) for p in catalog.products for lang in languages))


def segment_lines(catalog: Catalog, product: Product, language: str, loop: int = 0) -> list[str]:
    """The spoken lines of a product's segment; `loop` picks the connecting phrases."""
    name = product.name.get(language)

    def pick(phrases: Mapping[str, tuple[str, ...]], k: int = 0) -> str:
        return phrases[language][(loop + k) % len(phrases[language])]

    lines = [pick(HOOKS).format(name=name)]
    if product.category is not None and speakable(product.category, language):
        category = product.category.get(language)
        kind = category if language == "zh" else _plural(category.lower())
        lines.append(pick(KINDS).format(name=name, category=kind))
    for k, fact in enumerate(_strongest(catalog, product, language)):
        if fact.kind == "faq":
            lines.append(pick(ASKED).format(name=name, question=fact.label.get(language)))
        statement = fact.statement.get(language)
        answers = fact.kind == "faq" or statement.startswith(ANSWERING)
        lead = pick(ANSWER_LEADS if answers else LEADS, k)  # each fact line its own lead this loop
        lines.append(lead + statement)
    lines.append(pick(CALLS).format(name=name))
    return [line.strip() for line in lines if line.strip()]


def bridge(product: Product, language: str) -> str:
    """What the host says when it goes back to a segment after answering questions."""
    return BRIDGES[language].format(name=product.name.get(language))


def _plural(noun: str) -> str:
    if noun.endswith("s"):
        return noun
    if noun.endswith(("ch", "sh", "x", "z")):
        return noun + "es"  # smartwatches
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def _strongest(catalog: Catalog, product: Product, language: str) -> list[Fact]:
    facts = product_facts(catalog, product)
    chosen = [
        f for f in facts
        if f.kind == "spec" and f.variant is None and speakable(f.label, language) and f.statement.has(language)
    ][:MAX_SPECS]  # fmt: skip
    options = options_fact(product, "")
    if options is not None:
        chosen.append(options)
    chosen.append(price_range(catalog, product) or next(f for f in facts if f.kind == "price" and f.variant is None))
    faq = next((f for f in facts if f.kind == "faq" and f.statement.has(language) and f.label.has(language)), None)
    if faq is not None:
        chosen.append(faq)
    return chosen


# ---- the show file -------------------------------------------------------------------------------


def to_yaml(rundown: Rundown, catalog: Catalog, with_lines: bool = True) -> str:
    """The rundown as a seller edits it: each segment's product, language and (optionally) its lines."""
    items: list[dict[str, Any]] = []
    for segment in rundown.segments:
        item: dict[str, Any] = {"product": segment.product_id, "language": segment.language}
        if with_lines:
            product = catalog.product(segment.product_id)
            item["lines"] = list(segment.lines) or segment_lines(catalog, product, segment.language)
        items.append(item)
    head = (
        "# livehost show: the host presents these segments in order, in a loop.\n"
        "# A segment without `lines` is written from the catalog afresh on every loop;\n"
        "# lines you write are checked against the catalog's facts before the show starts.\n"
    )
    return head + yaml.safe_dump({"segments": items}, allow_unicode=True, sort_keys=False, width=1000)


def load_rundown(path: Path, catalog: Catalog) -> Rundown:
    """A show file, checked against the catalog; ShowError lists every problem found."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ShowError([f"{path}: cannot be read ({e})"]) from None
    except yaml.YAMLError as e:
        raise ShowError([f"{path}: not valid YAML ({str(e).splitlines()[0]})"]) from None
    return parse_rundown(data, catalog, str(path))


def parse_rundown(data: Any, catalog: Catalog, where: str = "show") -> Rundown:
    items = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ShowError([f"{where}: needs a non-empty list under 'segments'"])
    if len(items) > MAX_SEGMENTS:
        raise ShowError([f"{where}: at most {MAX_SEGMENTS} segments ({len(items)} given)"])
    problems: list[str] = []
    segments: list[Segment] = []
    resolver = ProductResolver(catalog)
    for k, item in enumerate(items, 1):
        at = f"{where}: segment {k}"
        if not isinstance(item, dict):
            problems.append(f"{at}: must be a mapping with 'product' and 'language'")
            continue
        unknown = sorted(set(item) - {"product", "language", "lines"})
        if unknown:
            problems.append(f"{at}: unknown field(s) {', '.join(unknown)}")
        product_id, language, lines = item.get("product"), item.get("language", "zh"), item.get("lines") or []
        if not isinstance(product_id, str) or not catalog.has_product(product_id):
            problems.append(f"{at}: product {product_id!r} is not in the catalog")
            continue
        if language not in LANGUAGES:
            problems.append(f"{at}: language must be zh or en, not {language!r}")
            continue
        if not isinstance(lines, list) or not all(isinstance(line, str) and line.strip() for line in lines):
            problems.append(f"{at}: 'lines' must be a list of non-empty texts")
            continue
        ungrounded = _line_check(catalog, catalog.product(product_id), language, resolver)
        for n, line in enumerate(lines, 1):
            problem = ungrounded(line)
            if problem:
                problems.append(f"{at}, line {n}: {problem}")
        segments.append(Segment(product_id, language, tuple(line.strip() for line in lines)))
    if problems:
        raise ShowError(problems)
    return Rundown(tuple(segments))


def _line_check(catalog: Catalog, product: Product, language: str, resolver: ProductResolver) -> Callable[[str], str]:
    """For a segment's lines: why a seller's line may not be said (a number, yes/no, price or product
    the product's facts do not give), or ''. The facts and the check are made once per segment."""
    facts = (*product_facts(catalog, product), options_fact(product, ""), price_range(catalog, product))
    plan = Plan("", language, "answered", "show", (product.id,), tuple(f for f in facts if f is not None))
    check = GroundingCheck(plan, catalog, resolver)
    names = sorted(product.name.variants(), key=len, reverse=True)

    def ungrounded(line: str) -> str:
        if len(line) > MAX_LINE_CHARS:
            return f"longer than {MAX_LINE_CHARS} characters"
        said = line
        for name in names:  # "Power Bank 10000" is a name, not a measure
            said = said.replace(name, " ")
        verdict = check.check(said)
        return "" if verdict.ok else f'{verdict.reason} ("{line}")'

    return ungrounded
