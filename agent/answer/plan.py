"""Deciding what an answer may say, before any text is generated.

The planner is the grounding decision: it screens the question, resolves the product(s), finds
the aspect asked about and picks the catalog facts that answer it. When no fact answers the most
specific aspect of the question, the status is `unknown`, whatever the model might have said.
The language model only ever phrases a plan; it never decides whether a fact exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property

from agent.answer import operations as ops
from agent.answer import queries
from agent.answer.catalog_queries import CatalogQueries
from agent.answer.evidence import (
    YES_NO_QUESTION,
    asked_terms,
    confirmed,
    evidencing,
    labelled,
    latin_words,
    mentioned,
    opened,
    unexplained,
)
from agent.answer.language import in_language
from agent.answer.planned import MAX_FACTS, Plan
from agent.answer.screening import screen
from knowledge.aspects import ASPECTS, AspectHit, answers, detect
from knowledge.base import KnowledgeBase
from knowledge.catalog import Product
from knowledge.facts import Fact
from knowledge.resolve import CATEGORY_GROUPS, Resolution
from knowledge.text import CJK, compact, detect_language, normalize, tokens
from knowledge.vocabulary import category_terms, measure_units

MAX_PRODUCTS = 3  # an ambiguous category with more products than this gets a clarifying question
# without an aspect word, a fact must be this similar to the question to answer it
MIN_SEMANTIC = 0.45
MIN_LEXICAL_WITH_SEMANTIC = (0.6, 0.3)
# an FAQ whose own question is this similar to the viewer's is the answer, in the seller's words
FAQ_MATCH = 0.55
# a store policy matched by meaning alone, when no policy word was recognised
POLICY_MATCH = 0.4
# a spec matched by the meaning of its label alone, and its lead over the next
MEANING_MATCH = 0.3
# aspects a generic measure word reads as ("多大", "how big"): the measure asked for decides instead
MEASURE_ASPECTS = frozenset({"size", "weight", "power"})
MEANING_MARGIN = 0.08
# a model name the catalog does not know, next to a category word: "SmartWatch Ultra", "手表Ultra"
CATEGORY_WORDS = frozenset(compact(w) for g in CATEGORY_GROUPS for w in g)
UNKNOWN_MODEL = re.compile(r"^(?:[A-Z][A-Za-z0-9]*|[A-Za-z]*\d[A-Za-z0-9]*)$")


class Planner:
    def __init__(self, knowledge: KnowledgeBase):
        self.kb = knowledge
        self.lookups = CatalogQueries(knowledge, self._about_catalog)
        names = {normalize(n) for p in knowledge.catalog.products for n in (*p.name.variants(), *p.aliases)}
        # a category word ("charger") names what is asked about, not an aspect of it ("charging")
        names |= {
            normalize(t)
            for p in knowledge.catalog.products
            for c in (p.category.variants() if p.category else [])
            for t in category_terms(c)
        } - {normalize(t) for a in ASPECTS if a.strict or any(k.startswith("kind:") for k in a.keys) for t in a.terms}
        self._names = sorted((n for n in names if len(n) >= 3), key=len, reverse=True)
        self._aspect_words = {compact(t) for a in ASPECTS for t in a.terms}
        # words of the catalog's own names ("Smart" in "Smart Plug P1") are never an unknown model
        self._name_words = {w.lower() for n in names for w in re.findall(r"[A-Za-z0-9]+", n)}
        self._shop_words = {
            t
            for p in knowledge.catalog.products
            for text in (*p.name.variants(), *p.aliases, *(p.category.variants() if p.category else []))
            for t in tokens(text)
        }

    @cached_property
    def _latin_words(self) -> set[str]:
        """Every Latin-script word the catalog uses (a yes/no question's other words are chat); built at
        the first yes/no question, not with every catalog load."""
        facts = self.kb.index.facts
        return {w for f in facts for t in (*f.label.variants(), *f.value.variants()) for w in latin_words(t)}

    def plan(self, question: str, on_stage: str | None = None) -> Plan:
        return in_language(self._plan(question, on_stage))

    def _plan(self, question: str, on_stage: str | None = None) -> Plan:
        lang = detect_language(question)
        decline = screen(question)
        if decline:
            return Plan(question, lang, "declined", decline.reason)
        resolution = self._by_variant(question, self.kb.resolver.resolve(question, on_stage))
        hits = detect(self._without_names(question, resolution.product_ids))
        primary = hits[0] if hits else None
        only = self.kb.catalog.products
        if resolution.how == "none" and len(only) == 1 and hits:
            # a one-product shop: "does it support AAC?" is about that product, as if it were on stage
            resolution = Resolution((only[0].id,), "stage")
        query = queries.read_query(question) or queries.asks_own_option(question, self._single(resolution))
        live = self.lookups.live(question, lang, resolution, hits, query)
        if live is not None:
            return live
        if query is not None:
            queried = self.lookups.plan(question, lang, query, resolution, hits)
            if queried is not None:
                return queried
        if resolution.how != "name" and self._unknown_model(question):
            return Plan(question, lang, "unknown", "no_product", aspect=primary.aspect.name if primary else None)
        if primary and _is_policy(primary) and resolution.how != "name":
            # "is it hot swappable?" of the product on stage is not about swapping a purchase
            return self._with_evidence(question, lang, resolution.product_ids, self._policy(question, lang, primary))
        products = resolution.product_ids
        if resolution.how == "ambiguous":
            if len(resolution.candidates) > MAX_PRODUCTS:
                return Plan(question, lang, "unknown", "ambiguous_product", candidates=resolution.candidates)
            products = resolution.candidates
        if not products:
            if primary and any(_is_policy(h) for h in hits):
                return self._policy(question, lang, next(h for h in hits if _is_policy(h)))
            policy = self._policy_by_meaning(question, lang)
            if policy is not None:
                return policy
            if not hits and not self._about_catalog(question):
                # neither a product nor any word of the catalog: not a question for the shop's host
                return Plan(question, lang, "declined", "offtopic")
            return Plan(question, lang, "unknown", "no_product", aspect=primary.aspect.name if primary else None)
        plan = self._products(question, lang, products, hits, resolution.how)
        if plan.status == "unknown" and primary and _is_policy(primary):
            # "what's the warranty on the power bank?": the product says nothing of its own, the store does
            policy = self._policy(question, lang, primary)
            if policy.status == "answered":
                return policy
        # a concrete aspect asked and missing ("charging time") stays unknown; only words the lexicon
        # does not know are read by meaning
        # a lexicon aspect the catalog does not word that way ("how bright" for "output: 250 lm") is
        # still found by a unit that belongs to that attribute alone
        measured = bool(measure_units(question)) and all(h.aspect.name in MEASURE_ASPECTS for h in hits)
        specific = bool(measure_units(question, specific=True))
        if plan.status == "unknown" and (not hits or measured or specific):
            found = [self._meaning_fact(question, pid, specific and not measured and bool(hits)) for pid in products]
            if found and all(found):
                facts = tuple(f for f in found if f is not None)
                reason = "compare" if len(facts) > 1 else "spec"
                plan = Plan(question, lang, "answered", reason, products, facts, aspect="meaning")
        if plan.status == "unknown":  # "what's the heel to toe drop?" of a shoe with a spec called "drop"
            named = [self._named_spec(question, pid, hits) for pid in products]
            if named and all(named):
                facts = tuple(f for f in named if f is not None)
                reason = "compare" if len(facts) > 1 else "spec"
                plan = Plan(question, lang, "answered", reason, products, facts, aspect="label")
        return self._with_evidence(question, lang, products, plan, hits)

    def _named_spec(self, question: str, pid: str, hits: list[AspectHit]) -> Fact | None:
        """The product's spec whose own label the question says, word for word (the longest such), unless
        the label is only part of a longer thing asked ("storage" of "cloud storage plan")."""
        q, words = compact(question), latin_words(question)
        asked = [compact(h.term) for h in hits]
        said = [
            (len(compact(label)), f)
            for f in self._candidate_facts(question, pid)
            if f.kind == "spec"
            for label in f.label.variants()
            if (CJK.search(label) and len(compact(label)) >= 2 and compact(label) in q)
            or (not CJK.search(label) and len(label) >= 3 and latin_words(label) and latin_words(label) <= words)
        ]
        said = [(n, f) for n, f in said if not any(compact(t) in a for t in f.label.variants() for a in asked)]
        return max(said, key=lambda x: x[0])[1] if said else None

    def _with_evidence(
        self, question: str, lang: str, products: tuple[str, ...], plan: Plan, hits: Sequence[AspectHit] = ()
    ) -> Plan:
        """A yes/no question about one product whose plan does not speak to what was asked (an
        unknown, or facts without the asked words) is answered by the fact that says them, if one does."""
        if len(products) != 1 or plan.status == "declined" or not YES_NO_QUESTION.search(question):
            return plan
        names, known = self._product_names(products[0]), self._latin_words
        if plan.status == "answered" and plan.facts:
            speaking = evidencing(question, plan.facts, names, known)
            if speaking:
                return replace(plan, facts=speaking)
            if not asked_terms(question, names, known):
                return plan
        candidates = self._candidate_facts(question, products[0])
        fact = mentioned(question, candidates, names, known) or labelled(question, candidates)
        if fact is not None:
            return Plan(question, lang, "answered", "spec", products, (fact,), aspect="mention")
        if plan.status == "answered" and unexplained(question, plan.facts, names, known, hits):
            # "does the G30 do QC fast charging?" answered "charging port: USB-C" says nothing of QC: a
            # yes/no of the product that means what was asked answers it ("push button igniter" ->
            # "piezo ignition: yes"), else the catalog does not say
            polar = self._polar_by_meaning(question, candidates)
            if polar is not None:
                return Plan(question, lang, "answered", "spec", products, (polar,), aspect="meaning")
            return Plan(question, lang, "unknown", "not_in_catalog", products, aspect=plan.aspect)
        return plan

    def _polar_by_meaning(self, question: str, facts: list[Fact]) -> Fact | None:
        """The product's yes/no spec whose meaning is closest to the question, clearly ahead of the next."""
        polar = [f for f in facts if f.kind == "spec" and f.polarity is not None]
        ranked = self.kb.index.search(question, polar, k=2)
        if not ranked or ranked[0].semantic < MEANING_MATCH:
            return None
        if len(ranked) > 1 and ranked[0].semantic - ranked[1].semantic < MEANING_MARGIN:
            return None
        return opened(ranked[0].fact)

    def _meaning_fact(self, question: str, pid: str, specific: bool = False) -> Fact | None:
        """The spec asked about in the viewer's own words: a value in the measure asked for ("几升" -> 4L),
        else a label close enough in meaning, clearly ahead of the next."""
        specs = [f for f in self._candidate_facts(question, pid) if f.kind in ("spec", "detail")]
        units = measure_units(question, specific)
        if units:
            fitting = [f for f in specs if any(u.search(" ".join(f.value.variants())) for u in units)]
            ranked = self.kb.index.search(question, fitting, k=1)
            return ranked[0].fact if ranked else None
        ranked = self.kb.index.search(question, specs, k=2)
        if not ranked or ranked[0].semantic < MEANING_MATCH:
            return None
        if len(ranked) > 1 and ranked[0].semantic - ranked[1].semantic < MEANING_MARGIN:
            return None
        return ranked[0].fact

    def _by_variant(self, question: str, resolution: Resolution) -> Resolution:
        """Of several products the question may mean, the one whose option it names ("the lavender power bank")."""
        if resolution.how != "ambiguous":
            return resolution
        catalog = self.kb.catalog
        products = [catalog.product(p) for p in resolution.candidates]
        if not ops.names_an_option(question, products):
            return resolution
        strength = {p.id: ops.naming_strength(question, p) for p in products}
        best = max(strength.values())
        named = tuple(pid for pid, s in strength.items() if s == best and s[1] > 0)
        if len(named) == 1:
            return Resolution(named, "name")
        return resolution

    def _single(self, resolution: Resolution) -> Product | None:
        ids = resolution.product_ids
        return self.kb.catalog.product(ids[0]) if len(ids) == 1 else None

    def _product_names(self, product_id: str | None) -> str:
        """Every name of a product (both languages, aliases), as one text."""
        if product_id is None:
            return ""
        product = self.kb.catalog.product(product_id)
        category = product.category.variants() if product.category else ()
        return " ".join((*product.name.variants(), *product.aliases, *category))

    def _about_catalog(self, question: str) -> bool:
        """Whether the question names anything the shop has: a word of a product's name or category."""
        return any(t in self._shop_words for t in tokens(question))

    def _policy_by_meaning(self, question: str, lang: str) -> Plan | None:
        """A store policy asked in words of the viewer's own ("how long do I have to send it back?")."""
        found = self.kb.index.search(question, self.kb.policies(), k=1)
        if found and found[0].semantic >= POLICY_MATCH:
            return Plan(question, lang, "answered", "policy", facts=(found[0].fact,), aspect=found[0].fact.key)
        return None

    def _policy(self, question: str, lang: str, hit: AspectHit) -> Plan:
        facts = [f for f in self.kb.policies() if answers(hit.aspect, f)] or _speaking_of(hit, self.kb.policies())
        if not facts:
            return Plan(question, lang, "unknown", "not_in_catalog", aspect=hit.aspect.name)
        best = self.kb.index.search(question, facts, k=1)[0].fact  # of "returns" and "exchanges", the closer
        return Plan(question, lang, "answered", "policy", facts=(best,), aspect=hit.aspect.name)

    def _without_names(self, question: str, products: tuple[str, ...] = ()) -> str:
        """The question with product names taken out, so "Pro 4G" does not read as a question about 4G, and
        "the laptop power bank" (a name said in part, two words or more) not as one about laptops."""
        text = normalize(question)
        for pid in products:
            for name in self.kb.catalog.product(pid).name.variants():
                words = re.findall(r"[a-z0-9]+", normalize(name))
                spans = [" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, len(words) + 1)]
                for span in sorted(spans, key=len, reverse=True):
                    if re.search(rf"\b{re.escape(span)}\b", text):
                        text = re.sub(rf"\b{re.escape(span)}\b", " ", text)
                        break
        for name in self._names:
            text = text.replace(name, " ")
        return text

    def _unknown_model(self, question: str) -> bool:
        category = CATEGORY_WORDS
        words = re.findall(r"[A-Za-z0-9]+|[\u4e00-\u9fff]+", question)
        for i, word in enumerate(words):
            if word.lower() in self._name_words and not any(ch.isdigit() for ch in word):
                continue
            if not UNKNOWN_MODEL.match(word) or i == 0 or compact(word) in category | self._aspect_words:
                continue
            near = [compact(w) for w in words[max(0, i - 1) : i + 2] if w != word]
            if any(any(c in n for c in category) for n in near) and not self.kb.resolver.mentioned(word):
                return True
        return False

    def _products(self, question: str, lang: str, products: tuple[str, ...], hits: list[AspectHit], how: str) -> Plan:
        chosen: list[Fact] = []
        missing: list[str] = []
        primary: AspectHit | None = None
        for pid in products:
            candidates = self._candidate_facts(question, pid)
            strict_missing = [h for h in hits if h.aspect.strict and not any(answers(h.aspect, f) for f in candidates)]
            if strict_missing:  # asked about stock, payment, colours...: the catalog does not say
                missing.append(pid)
                primary = primary or strict_missing[0]
                continue
            found = self._faq_match(question, candidates)
            answering = [h for h in hits if any(answers(h.aspect, f) for f in candidates)]
            top = next((h for h in hits if h.term not in h.aspect.weak), None)
            if answering and top is not None and top.weight > answering[0].weight and not found:
                # the most specific thing asked ("refresh rate") is not in the catalog: a vaguer fact
                # ("screen: 1.5-inch AMOLED") would not answer it
                missing.append(pid)
                primary = primary or top
                continue
            if answering:
                primary = primary or answering[0]
                aspect_facts = self._answering(question, candidates, answering[0])
                # a comparison sets the asked spec side by side; the seller's FAQ words come after it
                found = aspect_facts + found if len(products) > 1 else found + aspect_facts
                found = list(dict.fromkeys(found))
                for hit in answering[1:3]:  # a second question in the same breath ("waterproof, and the battery?")
                    found += [f for f in self._answering(question, candidates, hit)[:1] if f not in found]
            elif not hits and not found:
                found = self._answering(question, candidates, None)
            if not found:
                missing.append(pid)
            per_product = MAX_FACTS if len(products) == 1 else min(len(answering), 2) or 1
            chosen += found[:per_product]
        primary = primary or (hits[0] if hits else None)
        aspect = primary.aspect.name if primary else None
        terms = tuple(t for h in hits for t in h.aspect.terms if t not in h.aspect.weak)
        chosen = [
            confirmed(question, f, self._product_names(f.product_id), terms)
            for f in self._price_ranges(question, chosen)
        ]
        if not chosen:
            return Plan(question, lang, "unknown", "not_in_catalog", products, aspect=aspect)
        reason = "compare" if len(products) > 1 else ("faq" if chosen[0].kind == "faq" else chosen[0].kind)
        if how == "ambiguous":
            reason = "ambiguous_product"
        return Plan(
            question,
            lang,
            "answered",
            reason,
            products,
            tuple(chosen),
            aspect,
            candidates=products if how == "ambiguous" else (),
            missing=tuple(missing),
        )

    def _price_ranges(self, question: str, chosen: list[Fact]) -> list[Fact]:
        """A product's price asked without naming a variant is the range over its variants."""
        out: list[Fact] = []
        listed = {f.product_id for f in chosen if f.kind == "variants"}  # each option's price is said there
        for fact in chosen:
            product = self.kb.catalog.product(fact.product_id) if fact.product_id else None
            if fact.kind != "price" or product is None or product.id in listed or ops.named_variants(question, product):
                out.append(fact)
                continue
            # a few options are each said with their price; many are said as a range
            ranged = ops.price_range(self.kb.catalog, product)
            if ranged is None:
                out.append(fact)
            elif fact.variant is None and product.original_price:
                out += [fact, ranged]  # the discount, then what the options cost
            elif ranged not in out:
                out.append(ranged)
        return list(dict.fromkeys(out))

    def _candidate_facts(self, question: str, pid: str) -> list[Fact]:
        """The product's facts, narrowed to a variant when the question names one."""
        facts = self.kb.facts_of(pid)
        product = self.kb.catalog.product(pid)
        named = [v.id for v in ops.named_variants(question, product)]
        if not named:
            return facts
        overridden = {f.key for f in facts if f.variant in named}
        return [f for f in facts if f.variant in named or (f.variant is None and f.key not in overridden)]

    def _faq_match(self, question: str, facts: list[Fact]) -> list[Fact]:
        faqs = [f for f in facts if f.kind == "faq"]
        best = self.kb.index.label_similarity(question, faqs)[:1]
        return [best[0][0]] if best and best[0][1] >= FAQ_MATCH else []

    def _answering(self, question: str, facts: list[Fact], hit: AspectHit | None) -> list[Fact]:
        """The facts that answer the question, best first; empty when none does."""
        if hit is not None:
            matching = [f for f in facts if answers(hit.aspect, f)]
            ranked = [s.fact for s in self.kb.index.search(question, matching)]
            # the catalog's own spec first; an FAQ only when it matched on its own question
            # and the product itself before its variants (a named variant was already narrowed to)
            ranked.sort(key=lambda f: (f.kind == "faq", f.kind == "detail", f.variant is not None))
            return _with_variant_twins(ranked[:2], matching)
        # an FAQ answers only through its own question (_faq_match): its "yes"/"no" belongs to that question
        ranked_scores = self.kb.index.search(question, [f for f in facts if f.kind == "spec"], k=1)
        if not ranked_scores:
            return []
        best = ranked_scores[0]
        lexical_min, semantic_min = MIN_LEXICAL_WITH_SEMANTIC
        if best.semantic >= MIN_SEMANTIC or (best.lexical >= lexical_min and best.semantic >= semantic_min):
            return _with_variant_twins([best.fact], facts)
        return []


def _speaking_of(hit: AspectHit, policies: list[Fact]) -> list[Fact]:
    """Policies under names of the seller's own ("售后" for returns) whose text says the most of the asked
    aspect's words ("7天无理由退换 ... 退货运费"): those that say the most."""
    said = {
        f: sum(
            1
            for t in hit.aspect.terms
            if len(compact(t)) >= 2 and t not in hit.aspect.weak and compact(t) in compact(" ".join(f.value.variants()))
        )
        for f in policies
    }
    most = max(said.values(), default=0)
    return [f for f, n in said.items() if n == most] if most else []


def _is_policy(hit: AspectHit) -> bool:
    return any(k.startswith("kind:policy") for k in hit.aspect.keys)


def _with_variant_twins(chosen: list[Fact], pool: list[Fact]) -> list[Fact]:
    """A base spec answered together with the variants that differ on it (NFC: no / NFC Edition: yes)."""
    out = list(chosen)
    for fact in chosen:
        if fact.kind == "spec" and fact.variant is None:
            out += [f for f in pool if f.kind == "spec" and f.key == fact.key and f.variant and f not in out]
    return out
