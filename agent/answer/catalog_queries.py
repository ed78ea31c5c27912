"""Questions the catalog answers as a query rather than by a fact about an aspect: the store's range,
whether it sells something, the cheapest or dearest, stock, options, an overview, a recommendation by
need or budget, and the operator's live offers and counts, which answer before the catalog does."""

from __future__ import annotations

from collections.abc import Callable, Set
from decimal import Decimal

from agent.answer import operations as ops
from agent.answer import queries
from agent.answer.language import foreign
from agent.answer.planned import MAX_FACTS, Plan
from knowledge.aspects import AspectHit
from knowledge.base import KnowledgeBase
from knowledge.catalog import Product
from knowledge.facts import Fact, speakable
from knowledge.resolve import Resolution

# questions about a price cut or a promotion, which the operator's live offers answer first
OFFER_ASPECTS = frozenset({"discount", "promotion"})
# a recommendation asked without naming a product or category: how close some product must come
RECOMMEND_MATCH = 0.2


class CatalogQueries:
    def __init__(self, knowledge: KnowledgeBase, about_catalog: Callable[[str], bool]):
        self.kb = knowledge
        self.about_catalog = about_catalog  # whether a question names anything the shop has

    def plan(
        self, question: str, lang: str, query: queries.Query, resolution: Resolution, hits: list[AspectHit]
    ) -> Plan | None:
        """A question that is a catalog query (cheapest, stock, options, the store...), when it is one."""
        catalog = self.kb.catalog
        ids = resolution.product_ids or resolution.candidates
        products = [catalog.product(p) for p in ids]
        single = products[0] if len(products) == 1 else None
        op = query.operation
        fact: Fact | None = None
        if op == "store":
            fact = ops.store_fact(catalog)
        elif op == "sell" and (resolution.how == "none" or not [h for h in hits if h.aspect.name != "price"]):
            if resolution.how in ("category", "ambiguous"):
                fact = ops.store_fact(catalog, found=products)
            elif resolution.how == "none":
                fact = ops.store_fact(catalog, asked=question)
        elif op in ("cheapest", "dearest"):
            cheap = op == "cheapest"
            if single is not None and single.variants:
                fact = ops.extreme_variant(catalog, single, question, cheap)
            elif resolution.how in ("category", "ambiguous", "none") or len(products) > 1:
                fact = ops.extreme_product(catalog, products or list(catalog.products), cheap, question)
        elif single is not None and op == "stock":
            fact = ops.stock_fact(catalog, single, ops.named_variants(question, single) or list(single.variants))
        elif single is not None and op == "options":
            fact = ops.options_fact(single, question)
        elif single is not None and op == "has_option" and query.value:
            fact = ops.has_option_fact(single, query.value, question)
        elif single is not None and op == "overview":
            return self._overview(question, lang, single)
        elif op == "recommend" and not (resolution.how == "name" and len(products) > 1):
            pool = products or list(catalog.products)
            unnamed = not products and not query.value and not hits and not self.about_catalog(question)
            if unnamed and self.kb.index.best_product_score(question, [p.id for p in pool]) < RECOMMEND_MATCH:
                return None  # "recommend a hotpot place": nothing the shop sells
            if resolution.how == "ambiguous":  # "a bag for uni": the word's products first, not only them
                return self._recommend(question, lang, query, list(catalog.products), favoured=set(ids))
            return self._recommend(question, lang, query, products or list(catalog.products))
        if fact is None:
            return None
        pids = (fact.product_id,) if fact.product_id else ()
        return Plan(question, lang, "answered", op, pids, (fact,), aspect=op)

    def live(
        self, question: str, lang: str, resolution: Resolution, hits: list[AspectHit], query: queries.Query | None
    ) -> Plan | None:
        """An offer or a stock count the operator has stated for now answers before the catalog does:
        "有优惠吗?" gets the live offer, "how many are left?" the live count."""
        live = self.kb.live
        asks_stock = query is not None and query.operation == "stock"
        asks_offer = any(h.aspect.name in OFFER_ASPECTS for h in hits)
        if live is None or not (asks_stock or asks_offer):
            return None
        kinds = ("stock",) if asks_stock else ("offer", "countdown")
        ids = resolution.product_ids
        if ids:
            found = [f for pid in ids for f in live.active(pid, shop_wide=asks_offer) if f.kind in kinds]
        else:  # the whole shop: its own offers, then each product's
            now = live.clock()
            found = [f for f in live.active(None) if f.kind in kinds]
            found += [f for f in live.all() if f.product_id and f.kind in kinds and f.active(now)]
        if not found:
            return None
        facts = [f.as_fact() for f in dict.fromkeys(found)][:MAX_FACTS]
        if asks_offer and len(ids) == 1:
            facts.append(self.price(self.kb.catalog.product(ids[0])))
        pids = ids or tuple(dict.fromkeys(f.product_id for f in found if f.product_id))
        return Plan(question, lang, "answered", "live", pids, tuple(facts), aspect="live")

    def price(self, product: Product) -> Fact:
        """What a product costs: over its options when they differ, else its own price fact."""
        own = next(f for f in self.kb.facts_of(product.id) if f.kind == "price")
        return ops.price_range(self.kb.catalog, product) or own

    def _overview(self, question: str, lang: str, product: Product) -> Plan:
        facts = self.kb.facts_of(product.id)
        # the description's first sentence when it has several (an answer is 1-3 short sentences)
        described = [f for f in facts if f.key == "detail0"] or [f for f in facts if f.kind == "description"]
        chosen = [f for f in described if not foreign(f, lang)][:1]
        price = self.price(product)
        # the specs the answer's language can name first: "Vendor" is not said in a Chinese answer
        specs = sorted(
            (f for f in facts if f.kind == "spec" and f.variant is None), key=lambda f: not speakable(f.label, lang)
        )
        specs = specs[: 2 if chosen else 3]
        return Plan(question, lang, "answered", "overview", (product.id,), (*chosen, *specs, price), aspect="overview")

    def _recommend(
        self, question: str, lang: str, query: queries.Query, products: list[Product], favoured: Set[str] = frozenset()
    ) -> Plan | None:
        budget = Decimal(query.value) if query.value else None
        pool = [p for p in products if budget is None or Decimal(ops.lowest_price(p)) <= budget]
        if not pool:
            return None
        ranked = self.kb.index.rank_products(question, [p.id for p in pool], favoured)
        best = self.kb.catalog.product(ranked[0])
        facts = self.kb.facts_of(best.id)
        support = self.kb.index.supporting_fact(question, best.id)
        described = [f for f in facts if f.kind in ("spec", "description")]
        if support is not None and support in described:
            fitting = [support]
        else:
            fitting = [s.fact for s in self.kb.index.search(question, described, k=1)]
        price = self.price(best)
        return Plan(question, lang, "answered", "recommend", (best.id,), (*fitting, price), aspect="recommend")
