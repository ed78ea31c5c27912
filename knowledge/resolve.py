"""Which product a question is about: by name, alias, distinctive model code, category, or stage.

"这款手环" resolves to the band on stage; "the scale" to the only scale; "X2 vs Watch GT" to both.
When a category has several products and none is on stage, the question is ambiguous and the
candidates are returned so the agent can ask which one is meant.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from knowledge.aspects import ASPECTS
from knowledge.catalog import Catalog, Product
from knowledge.text import EN_STOPWORDS, ZH_STOPWORDS, compact, normalize, tokens
from knowledge.vocabulary import category_terms

# category words too broad to pick products by ("smart" of "Smart Locks")
GENERIC_CATEGORY_WORDS = frozenset({"smart", "video", "home", "electric", "portable", "mini", "智能", "便携"})
PARTIAL_NAME = 0.3  # share of a name's (rarity-weighted) words a question must say to name it
MAX_PARTIAL = 4

# Category words viewers use; a product belongs to a group when its category mentions any of them.
CATEGORY_GROUPS: tuple[tuple[str, ...], ...] = (
    ("手环", "band", "fitness band", "tracker", "fitness tracker"),
    ("手表", "watch", "smartwatch", "smart watch"),
    ("耳机", "earbuds", "earbud", "earphones", "headphones", "buds"),
    ("音箱", "音响", "speaker"),
    ("摄像头", "摄像机", "监控", "camera", "cam"),
    ("体脂秤", "秤", "scale", "body fat scale"),
    ("充电宝", "移动电源", "power bank", "powerbank"),
    ("插座", "智能插座", "plug", "smart plug", "socket", "outlet"),
    ("扫地机器人", "扫地机", "扫拖", "vacuum", "robot vacuum", "robovac"),
    ("台灯", "灯", "lamp", "desk lamp"),
)


SPOKEN_DIGITS = {
    w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}
SPOKEN_DIGIT = re.compile(r"\b(" + "|".join(SPOKEN_DIGITS) + r")\b", re.IGNORECASE)


def _key(text: str) -> str:
    """Compact form for name matching: "Robo Vac S seven" reads as "robovacs7" (a mangled transcript of
    "RoboVac S7"), and the particle 的 is optional in names ("两万毫安的充电宝")."""
    text = SPOKEN_DIGIT.sub(lambda m: SPOKEN_DIGITS[m.group(1).lower()], text)
    return compact(text).replace("的", "")


# Words that point back at something already said: only then may a follow-up question inherit the
# product the conversation was about ("how much is it?"), so an unrecognised name never does.
REFERENCE = re.compile(
    r"\b(it|its|it's|this|that|these|those|this one|that one|they|them|the same)\b"
    r"|它|这款|这个|那款|那个|这台|那台|这只|该款",
    re.IGNORECASE,
)


def _stopword(word: str) -> bool:
    """ "for" in "Case for iPhone", "的" in a Chinese name: never a name on its own."""
    return word.lower() in EN_STOPWORDS or word in ZH_STOPWORDS


def _root(word: str) -> str:
    """One form for a word and its plural: "ridgelines" and "ridgeline" -> "ridgelin"."""
    if word.endswith("es") and len(word) > 5:
        word = word[:-2]
    elif word.endswith("s") and len(word) > 4 and not word.endswith("ss"):
        word = word[:-1]
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def _shared_name_words(catalog: Catalog) -> dict[str, set[str]]:
    """Name word -> the products whose names hold it but whose word another product's listing also uses
    (its description, specs, FAQ or category): a word of the shop's trade, not a name."""
    prose: dict[str, set[str]] = {}
    for p in catalog.products:
        for word in set().union(*map(_prose_roots, _listing_texts(p))):
            prose.setdefault(word, set()).add(p.id)
    shared: dict[str, set[str]] = {}
    for p in catalog.products:
        for word in set().union(*map(_roots, p.name.variants())):
            if re.search(r"\d", word):
                continue  # a model code is the product's own however often it is mentioned
            if prose.get(word, set()) - {p.id}:
                shared.setdefault(word, set()).add(p.id)
    return shared


def _listing_texts(p: Product) -> list[str]:
    """What a product's listing says besides its name: description, category, spec values, FAQ."""
    texts = [*(p.description.variants() if p.description else []), *(p.category.variants() if p.category else [])]
    texts += [t for v in p.specs.values() if not isinstance(v, bool) for t in v.variants()]
    texts += [t for f in p.faq for t in (*f.q.variants(), *f.a.variants())]
    return texts


def _inside_other_names(catalog: Catalog) -> dict[str, set[str]]:
    """Chinese aliases (no digits) -> the other products whose names or aliases contain them."""
    names = [(_key(n), p.id) for p in catalog.products for n in (*p.name.variants(), *p.aliases) if CJK_ONLY.search(n)]
    joined = "\x00".join(n for n, _ in names)
    starts = list(itertools.accumulate((len(n) + 1 for n, _ in names), initial=0))
    out: dict[str, set[str]] = {}
    for p in catalog.products:
        for alias in p.aliases:
            key = _key(alias)
            if len(key) < 2 or not CJK_ONLY.fullmatch(key):
                continue
            at = joined.find(key)
            while at >= 0:
                owner = names[bisect.bisect_right(starts, at) - 1][1]
                if owner != p.id:
                    out.setdefault(key, set()).update({owner, p.id})
                at = joined.find(key, at + 1)
    return out


@lru_cache(maxsize=65536)
def _roots(text: str) -> frozenset[str]:
    return frozenset(_root(w) for w in tokens(text))


@lru_cache(maxsize=65536)
def _prose_roots(text: str) -> frozenset[str]:
    """A listing text's word roots, plurals also in the singular ("cats" says "cat")."""
    return frozenset(_root(f) for w in tokens(text) for f in (w, w[:-1] if w.endswith("s") else w))


def _said_elsewhere(word: str, product_id: str, shared: dict[str, set[str]]) -> bool:
    return any(product_id in shared.get(w, ()) for w in _roots(word))


def refers_back(question: str) -> bool:
    return bool(REFERENCE.search(question))


# two things set side by side in one question
JOINED = re.compile(r"\b(vs\.?|versus|or|and|compared?|than)\b|和|跟|与|还是|比|对比", re.IGNORECASE)
CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
# a question about the two (or all) products of a kind: "both tents", "两款卫衣", "这两个"
BOTH = re.compile(r"\b(both|the two|these two|those two|either)\b|两款|两个|两台|两件|这两|两者|俩", re.IGNORECASE)


@dataclass(frozen=True)
class Resolution:
    product_ids: tuple[str, ...]  # the products the question is about, in order of mention
    how: str  # name | category | stage | none | ambiguous
    candidates: tuple[str, ...] = ()  # when ambiguous: the products that fit


class ProductResolver:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.shared = _shared_name_words(catalog)
        kinds = _inside_other_names(catalog)
        self.name_keys = self._name_keys(catalog, self.shared, kinds)
        self.category_keys = {p.id: self._category_keys(p) for p in catalog.products}
        numbers: dict[str, set[str]] = {}
        for p in catalog.products:
            for n in {n for name in p.name.variants() for n in re.findall(r"(?<![\d.])\d{3,}(?![\d.])", name)}:
                numbers.setdefault(n, set()).add(p.id)
        self.name_numbers = {n: next(iter(ids)) for n, ids in numbers.items() if len(ids) == 1}
        self._category_openings(catalog)
        for key, owners in kinds.items():  # "筋膜枪" names the kind both products are
            for pid in owners:
                self.category_keys[pid].add(key)
        category_words = {compact(w) for group in CATEGORY_GROUPS for w in group}
        self.name_words = {
            p.id: [
                list(dict.fromkeys(_root(w) for w in tokens(n) if len(w) > 1 and not w.isdigit()))
                for n in dict.fromkeys(p.name.variants())
            ]
            for p in catalog.products
        }
        self.name_words = {pid: [ws for ws in names if ws] for pid, names in self.name_words.items()}
        counts = Counter(w for names in self.name_words.values() for w in {w for ws in names for w in ws})
        n = len(catalog.products)
        # a word in every name weighs nothing, a word of one name the most; category words count half
        self.unique_weight = math.log((n + 1) / 1) * 0.99
        self.word_weight = {w: math.log((n + 1) / c) * (0.5 if w in category_words else 1.0) for w, c in counts.items()}

    @staticmethod
    def _name_keys(
        catalog: Catalog, shared: dict[str, set[str]], kinds: dict[str, set[str]]
    ) -> dict[str, tuple[str, bool]]:
        """compact key -> (product id, is a single word), for names, aliases and model codes.

        A single word of a name names the product only when no other product's listing uses it: "ZoomBall"
        does, "cat" of "Interactive Cat Ball" in a pet shop whose every listing speaks of cats does not."""
        feature_words = {compact(t) for a in ASPECTS for t in a.terms}
        category_words = {compact(w) for group in CATEGORY_GROUPS for w in group}
        owners: dict[tuple[str, bool], set[str]] = {}
        for p in catalog.products:
            names = [(_key(k), not re.search(r"[\s\-_/]", k.strip())) for k in [*p.name.variants(), *p.aliases]]
            words = [w for n in p.name.variants() for w in re.split(r"[\s\-_/]+", n)]
            # the Latin/digit parts of a Chinese name ("智能手环X2" -> "X2") are model codes
            words += [w for n in p.name.variants() for w in re.findall(r"[A-Za-z0-9]+", n)]
            names += [
                (_key(w), True)
                for w in words
                if _key(w) not in feature_words and not _stopword(w) and not _said_elsewhere(w, p.id, shared)
            ]
            for key, single in names:
                if len(key) >= 2 and not key.isdigit() and key not in category_words:
                    owners.setdefault((key, single), set()).add(p.id)
        by_key: dict[str, set[str]] = {}
        for (key, _), ids in owners.items():
            by_key.setdefault(key, set()).update(ids)
        # a word of one product's name that another's alias also holds ("magsafe" of the MagSafe case and
        # of the "magsafe power bank") names neither alone
        for p in catalog.products:
            for word in {_key(w) for a in p.aliases for w in re.split(r"[\s\-_/]+", a)}:
                if word in by_key:
                    by_key[word].add(p.id)
        # a Chinese alias inside another product's name or alias ("筋膜枪" of the F5, in the F2's "迷你筋膜枪")
        # is a kind of product, not one product's name
        for key, holders in kinds.items():
            by_key.setdefault(key, set()).update(holders)
        return {key: (next(iter(ids)), single) for (key, single), ids in owners.items() if len(by_key[key]) == 1}

    @staticmethod
    def _category_keys(product: Product) -> set[str]:
        if not product.category:
            return set()
        own = {compact(t) for t in product.category.variants()}
        own |= {compact(t) for c in product.category.variants() for t in category_terms(c)} - GENERIC_CATEGORY_WORDS
        # the head noun of a Chinese category ("牙刷" of "电动牙刷"): its last two characters
        own |= {c[-2:] for c in map(compact, product.category.variants()) if CJK_ONLY.fullmatch(c) and len(c) >= 3}
        own -= GENERIC_CATEGORY_WORDS
        keys = set(own)
        for group in CATEGORY_GROUPS:
            words = {compact(w) for w in group}
            if any(w in c or c in w for w in words for c in own):
                keys |= words
        return {k for k in keys if k} - GENERIC_CATEGORY_WORDS

    def _category_openings(self, catalog: Catalog) -> None:
        """The first word of a four-character Chinese category ("按摩" of "按摩仪器", "口腔" of "口腔护理") names
        it too, unless products of other categories speak of it ("蓝牙" of "蓝牙音箱" in a shop of earbuds)."""
        members: dict[str, set[str]] = {}
        for p in catalog.products:
            for c in map(compact, p.category.variants() if p.category else []):
                if CJK_ONLY.fullmatch(c) and len(c) >= 4:
                    members.setdefault(c, set()).add(p.id)
        if not members:
            return
        text = {p.id: compact(" ".join(_listing_texts(p) + p.name.variants())) for p in catalog.products}
        for category, ids in members.items():
            word = category[:2]
            if not any(word in t for pid, t in text.items() if pid not in ids):
                for pid in ids:
                    self.category_keys[pid].add(word)

    def resolve(self, question: str, on_stage: str | None = None) -> Resolution:
        found = self._resolve(question, on_stage)
        if len(found.product_ids) == 1 and BOTH.search(question):  # "两款连帽卫衣哪个便宜", "compare both tents"
            peers = self._same_category(found.product_ids[0])
            if 2 <= len(peers) <= 3:
                return Resolution(peers, "name")
        return found

    def _same_category(self, product_id: str) -> tuple[str, ...]:
        category = self.catalog.product(product_id).category
        if category is None:
            return (product_id,)
        words = set(category.variants())  # a half-bilingual catalog: "帐篷 / Tents" and "Tents"
        return tuple(p.id for p in self.catalog.products if p.category and words & set(p.category.variants()))

    def _resolve(self, question: str, on_stage: str | None) -> Resolution:
        q = compact(question)
        named = self.mentioned(question)
        if len(named) == 1 and JOINED.search(question):  # "bike vs rower": one named, one by its kind
            others = {*self.partly_named(question), *self._by_category(q)} - set(named)
            if len(others) == 1:
                named.append(others.pop())
        if named:
            return Resolution(tuple(named), "name")
        stage = on_stage if on_stage and self.catalog.has_product(on_stage) else None
        kinds = self._categories_named(q)
        if len(kinds) >= 2:  # "牙刷和冲牙器哪个续航更久": one product of each category named
            return Resolution(kinds, "name")
        in_category = self._by_category(q)
        if in_category:
            if len(in_category) == 1:
                return Resolution((in_category[0],), "category")
            if stage in in_category:
                return Resolution((stage,), "stage")
            # a name word that is the category word asked ("按摩" of "眼部按摩仪" in "按摩类的") narrows nothing
            rest = question
            for key in sorted(self.category_keys[in_category[0]], key=len, reverse=True):
                if CJK_ONLY.fullmatch(key):
                    rest = rest.replace(key, " ")
            narrowed = [p for p in self.partly_named(rest) if p in in_category]
            if len(narrowed) == 1:  # "the 65w charger" of two chargers
                return Resolution((narrowed[0],), "name")
            return Resolution((), "ambiguous", tuple(in_category))
        partial = () if stage and refers_back(question) else self.partly_named(question)
        if len(partial) == 1 or (partial and stage not in partial):
            return Resolution((partial[0],), "name") if len(partial) == 1 else Resolution((), "ambiguous", partial)
        if stage:
            return Resolution((stage,), "stage")
        return Resolution((), "none")

    def mentioned(self, question: str) -> list[str]:
        """The products a text names (full name, alias or model code), in order of mention."""
        q = _key(question)
        spaced = " " + re.sub(r"[^\w]+", " ", normalize(question)) + " "
        found: list[tuple[int, str, str]] = []  # (position in q, key, product)
        for key, (pid, single) in self.name_keys.items():
            pos = q.find(key)
            if pos < 0:
                continue
            # a Latin model code ("pro", "x2") must stand as a word: "promised" is not "pro"
            if single and re.fullmatch(r"[a-z0-9]+", key) and not re.search(rf"(?<![a-z0-9]){key}(?![a-z0-9])", spaced):
                continue
            found.append((pos, key, pid))
        # "the 25000 one": a number of three or more digits that only one product's name holds
        for m in re.finditer(r"(?<![\d.])\d{3,}(?![\d.])", question):
            owner = self.name_numbers.get(m.group())
            if owner is not None:
                found.append((q.find(m.group()), m.group(), owner))
        # a match inside a longer match of another product is not a mention of its own
        kept = [f for f in found if not any(f[2] != o[2] and f[1] in o[1] and f[1] != o[1] for o in found)]
        return list(dict.fromkeys(pid for _, _, pid in sorted(kept)))

    def partly_named(self, question: str) -> tuple[str, ...]:
        """Products named in part: "the everyday tee" for "Everyday Cotton Tee", "ridgelines", "智能门锁" for
        "智能门锁L9". Each name word counts by how rare it is among the catalog's names (the head noun of an
        English name twice); the best name wins, or the best few when they come close."""
        asked = {_root(w) for w in tokens(question)}
        if not asked:
            return ()
        scores: list[tuple[float, str]] = []
        for pid, names in self.name_words.items():
            best = 0.0
            for words in names:
                weights = {w: self.word_weight[w] * (2.0 if w == words[-1] and w.isalpha() else 1.0) for w in words}
                found = [w for w in words if w in asked]
                if not found or max(self.word_weight[w] for w in found) < 1.0:
                    continue  # only words every name shares ("smart"): not a mention
                share = sum(weights[w] for w in found) / sum(weights.values())
                # a word only this product's name has ("Ridgeline", "Keyfolk") names it on its own
                unique = any(
                    self.word_weight[w] >= self.unique_weight and pid not in self.shared.get(w, ()) for w in found
                )
                best = max(best, share if share >= PARTIAL_NAME or not unique else PARTIAL_NAME)
            if best >= PARTIAL_NAME:
                scores.append((best, pid))
        if not scores:
            return ()
        scores.sort(reverse=True)
        top = scores[0][0]
        return tuple(pid for score, pid in scores if score >= top * 0.75)[:MAX_PARTIAL]

    def _categories_named(self, q: str) -> tuple[str, ...]:
        """Products each named alone by a category word of its own, apart from one another in the question,
        in order of mention; empty unless every such word names exactly one product."""
        spans: dict[tuple[int, int], set[str]] = {}
        for pid, keys in self.category_keys.items():
            for key in keys:
                start = q.find(key) if len(key) >= 2 else -1
                if start >= 0:
                    spans.setdefault((start, start + len(key)), set()).add(pid)
        # a word inside a longer one ("牙刷" in "电动牙刷") is that longer word
        outer = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
        owners = [spans[s] for s in sorted(outer)]
        if len(owners) < 2 or any(len(o) != 1 for o in owners):
            return ()
        ids = tuple(dict.fromkeys(next(iter(o)) for o in owners))
        return ids if len(ids) >= 2 else ()

    def _by_category(self, q: str) -> list[str]:
        best = 0
        hits: list[str] = []
        for pid, keys in self.category_keys.items():
            length = max((len(k) for k in keys if k in q), default=0)
            if length > best:
                best, hits = length, [pid]
            elif length and length == best:
                hits.append(pid)
        return hits
