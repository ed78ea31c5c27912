"""Sentences built only from the plan and catalog text: declines, "I don't know", and fact statements.

These never come from the model, so they are always safe to speak; the LLM composer falls back
to them whenever its own text fails a check.
"""

from __future__ import annotations

from agent.answer.plan import Plan
from knowledge.catalog import Catalog

DECLINES = {
    "manipulation": {
        "en": "Sorry, I can only tell you what our product information says, and I can't change prices or promise "
        "anything beyond it.",
        "zh": "抱歉，我只能按商品资料如实介绍，不能改价格，也不能承诺资料以外的优惠。",
    },
    "offtopic": {
        "en": "I'm the shop's AI host, so I can only help with our products. Ask me anything about them!",
        "zh": "我是店铺的AI主播，只能回答商品相关的问题哦，欢迎问我任何商品的事。",
    },
    "insult": {
        "en": "I'm sorry to hear that. I'm happy to help with any question about our products.",
        "zh": "抱歉让您不满意了，有任何商品问题都可以问我。",
    },
}

UNKNOWN = {
    "not_in_catalog": {
        "en": "Sorry, our product information doesn't say that{about}. I'll pass your question on to the host.",
        "zh": "抱歉，商品资料里没有写{about}这项信息，我帮您转给主播确认。",
    },
    "no_product": {
        "en": "Sorry, I can't find that in our catalog. Tell me which product you mean, or I'll pass your question "
        "on to the host.",
        "zh": "抱歉，商品资料里没有找到相关信息。您可以告诉我是哪款商品，或者我帮您转给主播。",
    },
    "ambiguous_product": {
        "en": "Which one do you mean: {options}?",
        "zh": "您问的是哪一款呢：{options}？",
    },
}


def names(catalog: Catalog, product_ids: tuple[str, ...], lang: str) -> str:
    items = [catalog.product(p).spoken.get(lang) for p in product_ids]
    if lang == "zh":
        return "、".join(items[:-1]) + "还是" + items[-1] if len(items) > 1 else "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def decline(plan: Plan) -> str:
    return DECLINES.get(plan.reason, DECLINES["offtopic"])[plan.language]


def unknown(plan: Plan, catalog: Catalog) -> str:
    lang = plan.language
    template = UNKNOWN.get(plan.reason, UNKNOWN["not_in_catalog"])[lang]
    about = ""
    if plan.product_ids:
        name = names(catalog, plan.product_ids[:1], lang)
        about = f"{name}的" if lang == "zh" else f" about the {name}"
    return template.format(about=about, options=names(catalog, plan.candidates, lang))


def missing_note(plan: Plan, catalog: Catalog) -> str | None:
    """For a comparison where one product's catalog entry lacks the aspect."""
    if not plan.missing:
        return None
    name = names(catalog, plan.missing, plan.language)
    return (
        f"商品资料里没有写{name}的这项信息。"
        if plan.language == "zh"
        else f"Our information doesn't say that for the {name}."
    )


def statements(plan: Plan, catalog: Catalog) -> list[str]:
    """The answer as catalog sentences, one per fact (plus a note on what is missing)."""
    if plan.status == "declined":
        return [decline(plan)]
    if plan.status == "unknown":
        return [unknown(plan, catalog)]
    out = [fact.statement.get(plan.language) for fact in plan.facts]
    note = missing_note(plan, catalog)
    return [*out, note] if note else out
