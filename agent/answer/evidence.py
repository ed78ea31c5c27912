"""A yes/no question answered by the catalog's own words for what was asked.

"Do the Pulse buds support LDAC?" has no spec called LDAC, but the listing says "Codecs: SBC, AAC
(no LDAC)"; "is it hot swappable?" is answered by "75% layout, hot-swappable switches". When the
words a viewer asks about (beyond the product's name and the question's frame) all stand in one
fact, that fact is the evidence: a yes when they stand plainly, a no when the fact negates them, the
fact's own yes or no when it has one. Nothing is inferred from what a text does not mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import replace

from knowledge.catalog import Text
from knowledge.facts import Fact
from knowledge.text import EN_STOPWORDS, stem

# a question that wants a yes or a no ("does it work with Alexa?", "能连小爱吗")
YES_NO_QUESTION = re.compile(
    r"^\s*(do|does|did|is|are|can|could|will|would|has|have|should)\b|吗[?？!！。\s]*$|能不能|可不可以|是不是|有没有|支不支持",
    re.IGNORECASE,
)
# the frame of a yes/no question: words that say how it asks, not what about
FRAME = frozenset(
    """support supports supported come comes work works working use used using compatible include
    includes included able available offer offers feature features actually really still also
    there well right""".split()
)
NEGATED = re.compile(
    r"(?:\b(?:no|not|non|without|never|isn't|doesn't|don't|can't|cannot|won't)\b|不支持|不含|不带|不能|无|没有)\W{0,2}$",
    re.IGNORECASE,
)
# a negation after what it negates, in the same clause ("crystal litter is not compatible", "X不支持")
NEGATED_AFTER = re.compile(
    r"^[^,;.()（）、，；。/|]*?(?:\b(?:not|isn't|aren't|can't|cannot|won't|doesn't|don't|never)\b|不支持|不能|不可以|不适用|不兼容)",
    re.IGNORECASE,
)
# a label that lists what something is not for ("不适用: iPhone 15/16", "not compatible with: ...")
NEGATIVE_LABEL = re.compile(r"不适用|不兼容|不支持|不包含|不含|incompatible|not compatible|not supported|not included")
# where a negation stops reaching: "no LDAC" is negated, "SBC, AAC (no LDAC)" negates only LDAC
CLAUSE = re.compile(r"[,;.()（）、，；。/|]")
YES = Text(zh="是的，", en="Yes. ")
NO = Text(zh="不，", en="No. ")


# a Latin-script word, a model code or a number with its decimals ("LDAC", "hot-swappable" as two, "5.3")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+]*(?:\.\d+)*")


def latin_words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


def asked_terms(question: str, names: str, known: Set[str] = frozenset()) -> list[str]:
    """The Latin-script words a yes/no question asks about: not the frame, not the product's names.
    ("LDAC", "hot", "swappable", "rgb"); model codes and numbers count, two-letter words only when
    written in capitals ("is it IP68?"). Given the catalog's `known` words, a plain word the catalog
    never uses ("kinda", "lol", "shorter") is chat, not what is asked; a number or code always counts."""
    own = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", names)}
    out = []
    for word in WORD.findall(question):
        low = word.lower()
        if low in EN_STOPWORDS or low in FRAME or any(low in w for w in own):  # "buds" of "Earbuds"
            continue
        if len(low) < 3 and not (word.isupper() or re.search(r"\d", low)):
            continue
        # a capitalised word inside the question is a name ("my Tesla"): never chat
        named = word[0].isupper() and not question.lstrip().startswith(word)
        if known and low.isalpha() and not named and not _known(low, known):
            continue
        out.append(low)
    return out


def _known(word: str, known: Set[str]) -> bool:
    if word in known or word.rstrip("s") in known or word + "s" in known or stem(word) in known:
        return True
    if len(word) < 7:
        return False
    return any(len(k) - len(word) in (-1, 0, 1) and k[0] == word[0] and _one_edit(word, k) for k in known)


def _near(term: str, word: str) -> bool:
    """The same word, allowing a plural and, in a long word, one slip ("rechargable")."""
    if word == term or word.rstrip("s") == term.rstrip("s") or stem(word) == stem(term):  # "washing", "wash"
        return True
    if len(term) < 7 or abs(len(term) - len(word)) > 1:
        return False
    return _one_edit(term, word)


def _one_edit(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def _found(term: str, text: str) -> list[int]:
    """Where the term stands in the text (start offsets), as a word or a hyphen-joined part of one."""
    spots = []
    for m in WORD.finditer(text):
        if _near(term, m.group().lower()):
            spots.append(m.start())
    return spots


def _negated(text: str, spot: int) -> bool:
    clause_start = max((m.end() for m in CLAUSE.finditer(text, 0, spot)), default=0)
    return bool(NEGATED.search(text[clause_start:spot]) or NEGATED_AFTER.search(text[spot:]))


def _negative_label(fact: Fact) -> bool:
    return any(NEGATIVE_LABEL.search(t.lower()) for t in (fact.key, *fact.label.variants()))


def mentioned(question: str, facts: list[Fact], names: str, known: Set[str] = frozenset()) -> Fact | None:
    """The fact that answers a yes/no question in its own words, opening with its yes or no; an FAQ
    whose question and answer hold the words is the seller's own answer, as written."""
    if not YES_NO_QUESTION.search(question):
        return None
    terms = asked_terms(question, names, known)
    if not terms:
        return None
    best: tuple[int, Fact] | None = None
    for fact in facts:
        if fact.kind not in ("spec", "detail", "description", "faq"):
            continue
        # a spec's label says what it is about ("rechargeable: no"); other facts answer by their text
        about = " ".join(fact.label.variants()) if fact.kind in ("spec", "faq") else ""
        said = " ".join(fact.value.variants())
        spots = {t: (_found(t, about), _found(t, said)) for t in terms}
        if not all(a or s for a, s in spots.values()):
            continue
        rank = (0 if fact.kind == "spec" else 1 if fact.kind == "faq" else 2) * 2 + (fact.polarity is None)
        if fact.kind == "faq" or fact.polarity is not None:
            if best is None or rank < best[0]:
                best = (rank, fact)
            continue
        if best is None or rank < best[0]:
            negated = _negative_label(fact) or any(_negated(said, spot) for _, s in spots.values() for spot in s)
            best = (rank, _opened(fact, not negated))
    return best[1] if best else None


def _opened(fact: Fact, polarity: bool) -> Fact:
    """The fact as the answer to a yes/no question: its statement opened with the yes or the no."""
    opening = YES if polarity else NO
    statement = Text(zh=opening.get("zh") + fact.statement.get("zh"), en=opening.get("en") + fact.statement.get("en"))
    return replace(fact, statement=statement, polarity=polarity)


def confirmed(question: str, fact: Fact, product_names: str = "", aspect_terms: Sequence[str] = ()) -> Fact:
    """A yes/no question answered by a value that names what was asked ("works with: Mi Home, Alexa" for
    "does it work with Alexa?") opens with the yes, or with a no when the value negates it ("codecs:
    SBC, AAC (no LDAC)"); a no is never inferred from what a list lacks. What was asked is the
    question's own words, or in another language the words of the aspect it asked about ("要交月费吗"
    against "no monthly fee").

    Words that only name the product ("do the Pulse buds support LDAC?" against "vendor: Pulse Audio")
    or what the fact is about are no evidence."""
    if fact.kind != "spec" or fact.polarity is not None or not YES_NO_QUESTION.search(question):
        return fact
    value = " ".join(fact.value.variants())
    words = re.findall(r"[A-Za-z][A-Za-z0-9+.-]{2,}", question)
    named = [w for w in words if re.search(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])", value, re.IGNORECASE)]
    known = (" ".join(fact.label.variants()) + " " + product_names).lower()
    named = [w for w in named if w.lower() not in known]
    spots = [spot for w in named for spot in _found(w.lower(), value)]
    if not named:  # the aspect's words in the value, in either language
        for term in aspect_terms:
            if len(term) < 3 or term.lower() in known:
                continue
            for m in re.finditer(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", value, re.IGNORECASE):
                spots.append(m.start())
        if not spots:
            return fact
    return _opened(fact, not (_negative_label(fact) or any(_negated(value, spot) for spot in spots)))


def evidencing(question: str, facts: tuple[Fact, ...], names: str, known: Set[str] = frozenset()) -> tuple[Fact, ...]:
    """Of the facts chosen for a yes/no question, those that speak to what it asks: a yes or a no, or
    all its words. ("Pulse" found the vendor "Pulse Audio"; only "codecs: ... (no LDAC)" answers.)"""
    terms = asked_terms(question, names, known)
    if not terms:
        return facts if any(f.polarity is not None for f in facts) else ()

    def speaks(fact: Fact) -> bool:
        text = " ".join((*fact.label.variants(), *fact.value.variants()))
        return fact.polarity is not None or all(_found(t, text) for t in terms)

    return tuple(f for f in facts if speaks(f))


def labelled(question: str, facts: list[Fact]) -> Fact | None:
    """A spec with its own yes or no whose label the question says as written ("does it do QC?" of
    "QC: no"), for labels too short for the word-for-word match elsewhere; opened with its yes or no."""
    if not YES_NO_QUESTION.search(question):
        return None
    said = {w for w in WORD.findall(question) if w.isupper() or re.search(r"\d", w)}
    for fact in facts:
        if fact.kind == "spec" and fact.polarity is not None and said & set(WORD.findall(fact.key)):
            return _opened(fact, fact.polarity)
    return None


def unexplained(
    question: str, facts: Iterable[Fact], names: str, known: Set[str], hits: Sequence[object] = ()
) -> list[str]:
    """The words a yes/no question asks about that neither the chosen facts say nor the aspect it was
    matched by names: what the answer would leave unanswered ("QC" of "does it do QC fast charging?"
    against "charging port: USB-C")."""
    facts = list(facts)
    if any(f.polarity is not None for f in facts):
        return []
    text = " ".join(t for f in facts for t in (*f.label.variants(), *f.value.variants()))
    matched = " ".join(str(getattr(h, "term", "")) for h in hits).lower()
    return [t for t in asked_terms(question, names, known) if not _found(t, text) and t not in matched]


def opened(fact: Fact) -> Fact:
    """A yes/no fact as the answer to a yes/no question, opened with its own yes or no."""
    return _opened(fact, bool(fact.polarity))
