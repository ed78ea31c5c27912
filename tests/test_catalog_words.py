"""What the catalog's own words say about a question: a word every listing uses is no product name,
and a yes/no question is answered by the fact that speaks to it or not at all (real embeddings,
catalog sentences)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.answer.engine import AnswerEngine
from knowledge.base import KnowledgeBase
from knowledge.embedding import UniversalSentenceEncoder
from knowledge.loader import load_catalog
from knowledge.resolve import ProductResolver

PET_SHOP = """
store: {name: Paws, currency: USD}
products:
  - {id: ball, name: ZoomBall T1 Interactive Cat Ball, category: Toys, price: 19,
     description: A rolling ball that keeps your cat busy, specs: {noise: 30 dB}}
  - {id: fountain, name: AquaPaw W3 Fountain, category: Fountains, price: 39,
     description: Filtered water that makes cats drink more, specs: {noise: 25 dB, capacity: 2.5L}}
  - {id: feeder, name: PawFeast F4 Feeder, category: Feeders, price: 69,
     description: Meals on time for cats and dogs; push alerts, specs: {battery_backup: "yes", capacity: 4L}}
  - {id: bike, name: Cadence S2 Exercise Bike, category: Exercise Bikes, price: 899,
     description: A quiet bike for home rides, specs: {max_user_weight: 125 kg}}
  - {id: rower, name: AquaGlide R3 Water Rower, category: Rowing Machines, price: 699,
     description: Rows like a boat; one button pairs it with a bike computer, specs: {max_user_weight: 135 kg}}
  - {id: charger, name: GaN Charger G30, category: Chargers, price: 69,
     specs: {ports: USB-C x1, QC: false, PD: PD3.0, output: 30W}}
  - id: collar
    name: TrackTail G2 GPS Collar
    category: Trackers
    price: 129
    variants:
      - {id: g2-s-black, options: {Size: S, Color: Black}}
      - {id: g2-l-black, options: {Size: L, Color: Black}}
      - {id: g2-s-orange, options: {Size: S, Color: Orange}}
      - {id: g2-m-orange, options: {Size: M, Color: Orange}}
  - id: litterbox
    name: CleanPaw L1 Litter Box
    category: Litter Boxes
    price: 349
    description: Works with clumping clay litter. Crystal litter and pine pellets are not compatible.
    specs: {not compatible with: "kittens under 3 lbs", capacity: 9 L}
  - {id: stove, name: Kestrel Cook System, category: Stoves, price: 129,
     specs: {weight: 395 g, piezo_ignition: "yes", output: 1500 W, cartridge_included: "no"}}
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> AnswerEngine:
    path: Path = tmp_path_factory.mktemp("shop") / "catalog.yaml"
    path.write_text(PET_SHOP, encoding="utf-8")
    return AnswerEngine(KnowledgeBase(load_catalog(path), UniversalSentenceEncoder(threads=1)))


def test_a_word_every_listing_uses_names_no_product(engine: AnswerEngine) -> None:
    resolver: ProductResolver = engine.knowledge.resolver
    on_stage = resolver.resolve("how loud is this one? my cat hates noise", on_stage="fountain")
    assert on_stage.product_ids == ("fountain",)
    assert "ball" not in resolver.resolve("do you sell cat trees?").product_ids
    assert resolver.resolve("how loud is the zoomball?").product_ids == ("ball",)  # its own word still names it


def test_one_product_named_and_one_by_its_kind_are_compared(engine: AnswerEngine) -> None:
    both = engine.knowledge.resolver.resolve("rower vs bike, which takes a heavier rider?")
    assert set(both.product_ids) == {"bike", "rower"}


def test_a_yes_no_question_is_answered_by_the_fact_that_speaks_to_it(engine: AnswerEngine) -> None:
    qc = engine.answer("does the G30 do QC fast charging?")
    assert qc.plan.status == "answered" and qc.text.startswith("No")
    ignition = engine.answer("does the Kestrel have a push button igniter or do I need a lighter?")
    assert ignition.plan.status == "answered" and ignition.text.startswith("Yes")
    assert "ignition" in ignition.text.lower()


def test_a_yes_no_question_no_fact_speaks_to_is_not_answered_with_another_fact(engine: AnswerEngine) -> None:
    answer = engine.answer("does the G30 support Samsung super fast charging?")
    assert answer.plan.status == "unknown", answer.text


BEAUTY_SHOP = """
store:
  name: 悦颜
  currency: CNY
  policies:
    售后: 支持7天无理由退换，退货运费买家承担。
    赠品: 赠品随主商品一起发。
products:
  - {id: f5, name: 悦颜F5 专业筋膜枪, aliases: [F5, 筋膜枪], category: 按摩仪器, price: 459}
  - {id: f2, name: 悦颜F2 迷你筋膜枪, aliases: [F2, 迷你筋膜枪], category: 按摩仪器, price: 199}
  - {id: e3, name: 悦颜E3 眼部按摩仪, aliases: [E3], category: 按摩仪器, price: 299}
  - {id: d10, name: 悦颜D10 高速吹风机, aliases: [D10, 吹风机], category: 美发造型, price: 599}
"""


@pytest.fixture(scope="module")
def beauty(tmp_path_factory: pytest.TempPathFactory) -> AnswerEngine:
    path: Path = tmp_path_factory.mktemp("beauty") / "catalog.yaml"
    path.write_text(BEAUTY_SHOP, encoding="utf-8")
    return AnswerEngine(KnowledgeBase(load_catalog(path), UniversalSentenceEncoder(threads=1)))


def test_an_alias_inside_another_products_name_is_a_kind(beauty: AnswerEngine) -> None:
    resolver = beauty.knowledge.resolver
    assert set(resolver.resolve("筋膜枪多少钱").candidates) == {"f5", "f2"}  # two 筋膜枪: which one?
    assert "199" in beauty.answer("最便宜的筋膜枪是哪个").text
    assert resolver.resolve("吹风机多少钱").product_ids == ("d10",)  # an alias no other name holds


def test_the_first_word_of_a_chinese_category_names_it(beauty: AnswerEngine) -> None:
    assert "459" in beauty.answer("按摩类的哪个最贵").text


def test_a_policy_under_the_sellers_own_name_is_found_by_what_it_says(beauty: AnswerEngine) -> None:
    answer = beauty.answer("收到不喜欢能退吗 几天内")
    assert answer.plan.status == "answered" and "7天" in answer.text


def test_two_options_no_variant_has_together_are_a_no(engine: AnswerEngine) -> None:
    answer = engine.answer("can i get the L size gps collar in orange?")
    assert answer.text.startswith("No") and "S and M" in answer.text, answer.text
    assert engine.answer("can i get the S size gps collar in orange?").text.startswith("Yes")


def test_a_negation_after_what_it_negates_and_a_label_that_negates(engine: AnswerEngine) -> None:
    assert engine.answer("can i use crystal litter in the cleanpaw?").text.startswith("No")
    assert engine.answer("does the cleanpaw work with clumping clay litter?").text.startswith("Yes")
    assert engine.answer("is the cleanpaw ok for kittens?").text.startswith("No")


CHARGE_SHOP = """
store:
  name: 闪充小铺
  currency: CNY
  policies: {warranty: 充电器、充电宝质保18个月。}
products:
  - id: p20
    name: 大容量充电宝 20000mAh / Power Bank 20000mAh
    category: 充电宝 / Power Banks
    price: 99
    specs: {可上飞机: 是（74Wh）}
  - id: p25
    name: 笔记本充电宝 25000mAh 100W / Laptop Power Bank 25000mAh
    category: 充电宝 / Power Banks
    price: 299
    specs: {可上飞机: 是（92.5Wh）}
    variants:
      - {id: p25-black, name: 黑色 / Black, options: {颜色: 黑色 / Black}}
"""


@pytest.fixture(scope="module")
def chargers(tmp_path_factory: pytest.TempPathFactory) -> AnswerEngine:
    path: Path = tmp_path_factory.mktemp("chargers") / "catalog.yaml"
    path.write_text(CHARGE_SHOP, encoding="utf-8")
    return AnswerEngine(KnowledgeBase(load_catalog(path), UniversalSentenceEncoder(threads=1)))


def test_two_languages_in_one_cell_are_told_apart(chargers: AnswerEngine) -> None:
    bank = chargers.knowledge.catalog.product("p25")
    assert bank.name.zh == "笔记本充电宝 25000mAh 100W" and bank.name.en == "Laptop Power Bank 25000mAh"
    assert bank.variants[0].name.en == "Black" and bank.variants[0].name.zh == "黑色"
    english = chargers.answer("how much is the laptop power bank?").text
    assert "笔记本" not in english and "299" in english


def test_a_number_only_one_name_holds_names_that_product(chargers: AnswerEngine) -> None:
    assert "92.5" in chargers.answer("那个25000的充电宝能带上飞机吗").text


def test_a_policy_the_product_does_not_state_is_the_stores(chargers: AnswerEngine) -> None:
    answer = chargers.answer("whats the warranty on the Laptop Power Bank 25000mAh?")
    assert answer.plan.status == "answered" and "18" in answer.text


def test_a_listing_title_is_said_as_a_host_says_it() -> None:
    from knowledge.names import spoken_title

    assert spoken_title("悦颜S1 直发夹板 直卷两用 负离子") == "悦颜S1 直发夹板"
    assert spoken_title("悦颜F2 mini 迷你筋膜枪 口袋便携款") == "悦颜F2 mini 迷你筋膜枪"
    assert spoken_title("TreatCam C1 Pet Camera with Treat Toss") == "TreatCam C1 Pet Camera"
    assert spoken_title("厨小满IH电饭煲R5") == "厨小满IH电饭煲R5"  # short already


def test_answers_say_the_short_name_unless_two_products_would_share_it(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        """
products:
  - {id: c1, name: TreatCam C1 Pet Camera with Treat Toss, price: 99, specs: {night_vision: "yes"}}
  - {id: case15, name: Clear Case for iPhone 15, price: 19}
  - {id: case16, name: Clear Case for iPhone 16, price: 19}
""",
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    engine = AnswerEngine(KnowledgeBase(catalog))
    assert engine.answer("C1有夜视吗").text == "TreatCam C1 Pet Camera支持夜视。"
    assert "Clear Case for iPhone 16" in engine.answer("how much is the Clear Case for iPhone 16?").text
    assert catalog.product("c1").name.en == "TreatCam C1 Pet Camera with Treat Toss"  # the card keeps the title
