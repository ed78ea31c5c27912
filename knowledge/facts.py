"""Catalog facts: the unit of retrieval and of grounding.

Every statement the agent may make comes from a `Fact`: a spec, a price, the variants, an FAQ
answer or a store policy. Each fact also carries a complete spoken sentence in both languages,
built only from catalog text, which is the answer of last resort when the model cannot be trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.catalog import Catalog, Product, SpecValue, Text, Variant
from knowledge.compile import described_spec
from knowledge.text import CJK
from knowledge.values import value_polarity

CURRENCY_WORDS = {
    "CNY": Text(zh="元", en="yuan"),
    "USD": Text(zh="美元", en="dollars"),
    "EUR": Text(zh="欧元", en="euros"),
}
YES_START = re.compile(r"^\s*(yes\b|yeah\b|sure\b|of course|可以|是的|是|支持|能|有的|有|当然)", re.IGNORECASE)
NO_START = re.compile(r"^\s*(no\b|nope\b|not\b|不|没有|否|无法|暂不|暂时不)", re.IGNORECASE)


@dataclass(frozen=True)
class Fact:
    id: str
    kind: str  # spec | price | variants | faq | policy | description
    product_id: str | None
    key: str
    label: Text  # what the fact is about: a spec label, an FAQ question, a policy name
    value: Text  # the catalog's own words for it
    statement: Text  # a complete spoken sentence built only from catalog text
    polarity: bool | None = None  # a yes/no fact: True = yes / supported, False = no
    variant: str | None = None

    def line(self, lang: str) -> str:
        """The fact as one prompt line: 'label: value'."""
        return f"{self.label.get(lang)}: {self.value.get(lang)}"


def polarity_of(answer: str) -> bool | None:
    """Whether an FAQ answer opens with yes or no."""
    if NO_START.match(answer):
        return False
    if YES_START.match(answer):
        return True
    return None


def money(catalog: Catalog, amount: str, lang: str) -> str:
    unit = CURRENCY_WORDS.get(catalog.store.currency)
    word = unit.get(lang) if unit else catalog.store.currency
    return f"{amount}{word}" if lang == "zh" else f"{amount} {word}"


def _value_text(value: SpecValue) -> Text:
    if isinstance(value, bool):
        return Text(zh="支持" if value else "不支持", en="yes" if value else "no")
    return value


def speakable(label: Text, lang: str) -> bool:
    """Whether a label can be said in `lang`: a Chinese answer does not read an English key aloud
    ("night vision"), nor an English answer a Chinese one; a name or acronym (NFC, HomeKit) can be."""
    text = label.get(lang)
    if lang == "zh":
        return bool(CJK.search(text)) or bool(re.search(r"[A-Z0-9]", text))
    return not CJK.search(text)


def _spec_statement(name: Text, label: Text, value: SpecValue) -> Text:
    zh_label = label.get("zh") if speakable(label, "zh") else ""
    en_label = label.get("en") if speakable(label, "en") else ""
    n_zh, n_en = name.get("zh"), name.get("en")
    polarity = value_polarity(value)
    if not isinstance(value, bool) and polarity is not None:
        zh_about = f"{n_zh}的{zh_label}" if zh_label else n_zh
        en_about = f"the {n_en}'s {en_label}" if en_label else f"the {n_en}"
        return Text(
            zh=f"{'有的，' if polarity else '不，'}{zh_about}：{value.get('zh')}。",
            en=f"{'Yes' if polarity else 'No'}, {en_about}: {value.get('en')}.",
        )
    if isinstance(value, bool):
        if zh_label:
            # "是的" first when the label itself holds a negation word ("炸篮可否进洗碗机")
            opener = "是的，" if value and re.search(r"[不没否无]", zh_label) else ""
            zh = f"{opener}{n_zh}{'支持' if value else '不支持'}{zh_label}。"
        else:
            zh = f"{'支持' if value else '不支持'}，{n_zh}{'有' if value else '没有'}这项功能。"
        en_what = en_label or "that feature"
        return Text(
            zh=zh, en=f"{'Yes' if value else 'No'}, the {n_en} {'has' if value else 'does not have'} {en_what}."
        )
    return Text(
        zh=f"{n_zh}的{zh_label}是{value.get('zh')}。" if zh_label else f"{n_zh}：{value.get('zh')}。",
        en=f"The {n_en}'s {en_label} is {value.get('en')}." if en_label else f"The {n_en}: {value.get('en')}.",
    )


def product_facts(catalog: Catalog, product: Product) -> list[Fact]:
    facts: list[Fact] = []
    pid = product.id
    facts.append(_price_fact(catalog, product))
    facts += [_spec_fact(catalog, product, key, value) for key, value in product.specs.items()]
    for variant in product.variants:
        facts += [_spec_fact(catalog, product, key, value, variant) for key, value in variant.specs.items()]
    for variant in product.variants:
        if variant.price and variant.price != product.price:
            facts.append(_variant_price_fact(catalog, product, variant))
    if product.variants:
        facts.append(_variants_fact(catalog, product))
    for i, faq in enumerate(product.faq):
        facts.append(
            Fact(
                id=f"{pid}/faq/{i}",
                kind="faq",
                product_id=pid,
                key=f"faq{i}",
                label=faq.q,
                value=faq.a,
                statement=faq.a,
                polarity=polarity_of(faq.a.get("en") if faq.a.has("en") else faq.a.get("zh")),
            )
        )
    if product.description:
        facts += _details(product)
        facts.append(
            Fact(
                id=f"{pid}/description",
                kind="description",
                product_id=pid,
                key="description",
                label=Text(zh="介绍", en="description"),
                value=product.description,
                statement=product.description,
            )
        )
    return facts


def _spec_fact(catalog: Catalog, product: Product, key: str, value: SpecValue, variant: Variant | None = None) -> Fact:
    spoken = catalog.spec_label(key)
    label, name = spoken, product.spoken
    if variant is not None:  # "NFC Edition NFC: yes", said of "SmartBand X2 NFC Edition"
        name = Text(zh=f"{name.get('zh')}{variant.name.get('zh')}", en=f"{name.get('en')} {variant.name.get('en')}")
        label = Text(
            zh=f"{variant.name.get('zh')} {spoken.get('zh')}", en=f"{variant.name.get('en')} {spoken.get('en')}"
        )
    return Fact(
        id=f"{product.id}/variant/{variant.id}/spec/{key}" if variant else f"{product.id}/spec/{key}",
        kind="spec",
        product_id=product.id,
        key=key,
        label=label,
        value=_value_text(value),
        statement=_spec_statement(name, spoken, value),
        polarity=value_polarity(value),
        variant=variant.id if variant else None,
    )


def _price_fact(catalog: Catalog, product: Product) -> Fact:
    name = product.spoken
    now = Text(zh=money(catalog, product.price, "zh"), en=money(catalog, product.price, "en"))
    if product.original_price and product.original_price != product.price:
        was = Text(zh=money(catalog, product.original_price, "zh"), en=money(catalog, product.original_price, "en"))
        value = Text(zh=f"现价{now.zh}，原价{was.zh}", en=f"{now.en} now, regular price {was.en}")
        statement = Text(
            zh=f"{name.get('zh')}现价{now.zh}，原价{was.zh}。",
            en=f"The {name.get('en')} is {now.en} now, down from {was.en}.",
        )
    else:
        value = now
        statement = Text(zh=f"{name.get('zh')}的价格是{now.zh}。", en=f"The {name.get('en')} costs {now.en}.")
    return Fact(
        id=f"{product.id}/price",
        kind="price",
        product_id=product.id,
        key="price",
        label=Text(zh="价格", en="price"),
        value=value,
        statement=statement,
    )


def _variant_price_fact(catalog: Catalog, product: Product, variant: Variant) -> Fact:
    price = variant.price or product.price
    value = Text(zh=money(catalog, price, "zh"), en=money(catalog, price, "en"))
    zh_name = f"{product.spoken.get('zh')}{variant.name.get('zh')}"
    en_name = f"{product.spoken.get('en')} {variant.name.get('en')}"
    return Fact(
        id=f"{product.id}/variant/{variant.id}/price",
        kind="price",
        product_id=product.id,
        key="price",
        label=Text(zh=f"{variant.name.get('zh')}价格", en=f"{variant.name.get('en')} price"),
        value=value,
        statement=Text(zh=f"{zh_name}的价格是{value.zh}。", en=f"The {en_name} costs {value.en}."),
        variant=variant.id,
    )


def _variant_phrase(catalog: Catalog, product: Product, variant: Variant, lang: str) -> str:
    name = variant.name.get(lang)
    if variant.price and variant.price != product.price:
        price = money(catalog, variant.price, lang)
        return f"{name}（{price}）" if lang == "zh" else f"{name} ({price})"
    return name


def _variants_fact(catalog: Catalog, product: Product) -> Fact:
    zh = "、".join(_variant_phrase(catalog, product, v, "zh") for v in product.variants)
    en_items = [_variant_phrase(catalog, product, v, "en") for v in product.variants]
    en = en_items[0] if len(en_items) == 1 else ", ".join(en_items[:-1]) + " and " + en_items[-1]
    name = product.spoken
    return Fact(
        id=f"{product.id}/variants",
        kind="variants",
        product_id=product.id,
        key="variants",
        label=Text(zh="版本", en="versions"),
        value=Text(zh=zh, en=en),
        statement=Text(
            zh=f"{name.get('zh')}有这些版本：{zh}。",
            en=f"The {name.get('en')} comes in {en}.",
        ),
    )


SENTENCE = re.compile(r"[^.!?。！？;；]+[.!?。！？;；]?")


def _details(product: Product) -> list[Fact]:
    """Each sentence of a longer description, so a question about one point of it finds that point."""
    assert product.description is not None
    out: list[Fact] = []
    for lang in ("zh", "en"):
        if not product.description.has(lang) or (lang == "zh" and product.description.zh == product.description.en):
            continue
        sentences = [m.group(0).strip() for m in SENTENCE.finditer(product.description.get(lang))]
        sentences = [t for t in sentences if len(t) > 3]
        if len(sentences) < 2:
            continue
        for i, sentence in enumerate(sentences):
            spec = described_spec(sentence)
            if spec is not None and spec[0] in product.specs:
                continue  # the compile step made it a spec
            other = "en" if lang == "zh" else "zh"
            bilingual = product.description.has(other) and product.description.zh != product.description.en
            text = Text(**{lang: sentence}) if bilingual else Text.same(sentence)
            out.append(
                Fact(
                    id=f"{product.id}/detail/{lang}/{i}",
                    kind="detail",
                    product_id=product.id,
                    key=f"detail{i}",
                    label=text,
                    value=text,
                    statement=text,
                    polarity=value_polarity(text),
                )
            )
    return out


def policy_facts(catalog: Catalog) -> list[Fact]:
    labels = {
        "shipping": Text(zh="发货与运费", en="shipping"),
        "returns": Text(zh="退换货", en="returns"),
        "warranty": Text(zh="保修", en="warranty"),
        "invoice": Text(zh="发票", en="invoices"),
    }
    return [
        Fact(
            id=f"store/policy/{key}",
            kind="policy",
            product_id=None,
            key=key,
            label=labels.get(key, Text.same(key.replace("_", " "))),
            value=text,
            statement=text,
        )
        for key, text in catalog.store.policies.items()
    ]


def catalog_facts(catalog: Catalog) -> list[Fact]:
    facts = policy_facts(catalog)
    for product in catalog.products:
        facts.extend(product_facts(catalog, product))
    return facts
