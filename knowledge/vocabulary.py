"""A bilingual vocabulary of common e-commerce words: attribute names, option names, categories, colours.

The catalog compile step uses it to give every spec key, option name and category a spoken form in
both languages when the seller wrote only one ("suction" -> 吸力, "续航" -> battery life). It is a
dictionary of the trade, not of any one catalog; what it lacks falls back to the seller's own words.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.catalog import Text
from knowledge.text import CJK, normalize

# en spoken form, other en spellings | zh spoken form, other zh spellings
_ATTRIBUTES = """
battery life, battery runtime, runtime, run time | 续航, 续航时间, 电池续航, 使用时间, 工作时间
battery life, endurance, playtime, play time, working time | 续航, 续航时间, 电池续航, 使用时间, 工作时间
standby time, standby | 待机时间, 待机
battery capacity, capacity mah, mah | 电池容量
battery, batteries, battery type | 电池, 电池类型
charging time, charge time, time to charge, full charge | 充电时间, 充满时间
charging, charging method, charging type, charge | 充电方式, 充电
fast charging, quick charge, fast charge | 快充
wireless charging, qi | 无线充电
charging port, port, ports, connector, interface | 接口, 充电接口
input | 输入
output, output power, max output | 输出, 输出功率
wattage, watts, power, rated power, power rating | 功率, 额定功率
max power, maximum power, max load, maximum load, load power | 最大功率, 最大负载
voltage, rated voltage | 电压, 额定电压
current | 电流
power supply, power source, power | 供电方式, 电源
capacity, volume | 容量
water tank, water tank capacity, tank | 水箱容量, 水箱
dustbin, dust bin, dust box, dustbin capacity | 尘盒, 尘盒容量, 集尘盒
suction, suction power | 吸力
noise level, noise, loudness | 噪音, 噪音值, 噪声
weight, net weight | 重量, 净重
max load, load capacity, max weight, weight limit, maximum weight | 承重, 最大承重, 最大称重
dimensions, size, measurements | 尺寸, 大小, 规格尺寸
length | 长度
cable length, cord length | 线长, 线材长度
width | 宽度
height | 高度
thickness | 厚度
screen, display | 屏幕, 显示屏
screen size, display size | 屏幕尺寸
resolution | 分辨率
refresh rate | 刷新率
brightness | 亮度
color temperature, colour temperature | 色温
lumens, luminous flux | 光通量
field of view, fov, viewing angle | 视角, 视场角
night vision | 夜视
storage, memory, internal storage | 存储, 内存, 存储空间
cloud storage | 云存储
local storage, sd card, memory card | 本地存储, 存储卡
camera | 摄像头
video resolution | 视频分辨率
water resistance, waterproof, waterproof rating, ip rating, water rating | 防水, 防水等级
dust resistance | 防尘
material, materials | 材质, 材料
inner pot, inner pot material, inner pot coating | 内胆, 内胆材质
shell material, housing | 外壳材质
strap, strap material | 表带, 表带材质
fabric | 面料
lining | 内衬
sole | 鞋底
fit | 版型
color, colour, colors, colours | 颜色, 配色
size, sizes | 尺码, 尺寸
style, model, version, edition | 款式, 型号, 版本
package, bundle, set, kit | 套餐, 套装
in the box, box contents, included, accessories, what's in the box | 包装清单, 配件, 附件
bluetooth, bluetooth version | 蓝牙, 蓝牙版本
wifi, wi-fi, wireless network, network | 无线网络, wifi, 网络
connectivity, connection, connect | 连接方式, 连接
works with, compatible with, compatibility | 兼容平台, 兼容, 适配平台, 支持平台
works with, compatible platforms, ecosystem, platforms, smart home | 兼容平台, 兼容, 适配平台, 支持平台
voice assistant, voice control | 语音助手, 语音控制
app, app control, app support, smart app | 手机app, app, 应用
smart control, smart features | 智能控制, 智能功能
remote control | 遥控
timer, delay start, scheduling, schedule, preset | 预约, 定时, 预约功能
programs, modes, cooking modes, functions, presets | 功能, 模式, 菜单, 程序
temperature range, temperature, temperatures, temperature settings, temperature control | 温度, 温控, 温度范围, 控温
heating, heating method | 加热方式, 加热
keep warm | 保温
auto shut-off, auto off, automatic shut-off | 自动断电, 自动关机
child lock | 童锁
anti-dry protection, boil-dry protection | 防干烧
noise cancellation, noise cancelling, anc | 降噪, 主动降噪
latency | 延迟
codec, codecs | 编码, 音频编码
driver, driver size | 单元, 发声单元
frequency response | 频响
sound, audio | 音质, 音效
microphone, mic | 麦克风
speaker | 扬声器
filter, filter type | 滤网, 滤芯
cadr, clean air delivery rate | cadr, 洁净空气量
coverage, room size, coverage area, area | 适用面积, 覆盖面积
sensor, sensors | 传感器
heart rate | 心率
blood oxygen, spo2 | 血氧
gps | gps, 定位
nfc | nfc
unlock methods, unlocking, unlock | 开锁方式, 解锁方式
fingerprint | 指纹
lock | 锁
mopping, mop | 拖地
navigation, mapping | 导航, 建图
self-emptying, auto-empty | 自动集尘
climbing, obstacle height, threshold | 越障, 越障高度
cleaning time, cleaning area | 清扫时间, 清扫面积
brand | 品牌
origin, made in, country of origin | 产地
warranty, guarantee | 保修, 质保, 保修期
certification, certificates | 认证
age, age range, suitable age | 适用年龄
suitable for, for, use, usage, use case | 适用, 适用人群, 适用场景, 用途
season | 季节
capacity liters, liters | 容积
speed, speeds | 速度, 档位
blade, blades | 刀头, 刀片
rpm, rotation speed, motor speed | 转速
motor | 电机
stock, inventory, in stock | 库存
sku | sku, 商品编码
price | 价格
original price, regular price, list price, compare at price | 原价
weight capacity | 载重
waterproof level | 防水级别
shelf life | 保质期
ingredients | 成分, 配料
flavor, flavour | 口味
scent, fragrance | 香味, 香型
volume ml, net content | 净含量
skin type | 适用肤质
packing size, packed size | 收纳尺寸
sleeping capacity, persons, people, person capacity | 适用人数, 人数
season rating | 季节等级
comfort temperature, comfort rating | 舒适温度
fill, fill material, filling | 填充物, 填充
waterproof rating mm, hydrostatic head | 防水指数
burn time | 燃烧时间
fuel, fuel type | 燃料, 燃料类型
boil time | 烧水时间
beam distance, range | 照射距离, 射程
lumen output | 亮度流明
flow rate | 流速
filter life | 滤芯寿命
"""

_CATEGORIES = """
rice cooker | 电饭煲, 电饭锅
air fryer | 空气炸锅
blender | 破壁机, 搅拌机, 料理机
kettle, electric kettle | 电热水壶, 烧水壶, 热水壶
coffee machine, coffee maker, espresso machine | 咖啡机
dishwasher | 洗碗机
microwave | 微波炉
oven | 烤箱
toaster | 面包机, 吐司机
juicer | 榨汁机
robot vacuum, vacuum, robovac, vacuum cleaner | 扫地机器人, 扫地机, 吸尘器
air purifier, purifier | 空气净化器, 净化器
humidifier | 加湿器
fan | 风扇, 电风扇
heater | 取暖器
doorbell, video doorbell | 门铃, 可视门铃
smart lock, door lock, lock | 智能门锁, 门锁, 智能锁
smart plug, plug, socket, outlet | 智能插座, 插座
smart bulb, bulb, light bulb | 智能灯泡, 灯泡
lamp, desk lamp | 台灯, 灯
thermostat | 温控器
camera, security camera, indoor camera, outdoor camera | 摄像头, 摄像机, 监控
speaker, smart speaker | 音箱, 智能音箱, 音响
headphones, headphone, earbuds, earphones, buds | 耳机
watch, smartwatch, smart watch | 手表, 智能手表
fitness band, band, tracker, fitness tracker | 手环, 智能手环
scale, body fat scale | 体脂秤, 秤
power bank, powerbank, portable charger | 充电宝, 移动电源
charger, wall charger | 充电器, 充电头
cable, charging cable | 数据线, 充电线
phone case, case | 手机壳
keyboard | 键盘
mouse | 鼠标
shaver, razor, electric shaver | 剃须刀
toothbrush, electric toothbrush | 电动牙刷
hair dryer, hairdryer | 吹风机
hair straightener | 直发器
t-shirt, tee, shirt | t恤, 短袖
hoodie, sweatshirt | 卫衣
jeans | 牛仔裤
pants, trousers | 裤子
jacket, rain jacket | 外套, 夹克, 雨衣
sneakers, shoes, running shoes, footwear, trainers | 运动鞋, 鞋子, 跑鞋, 鞋
boots, hiking boots | 靴子, 登山鞋
backpack, bag | 背包, 双肩包, 包
cap, hat | 帽子, 棒球帽
helmet, cycling helmet | 头盔, 骑行头盔
tent | 帐篷
sleeping bag | 睡袋
stove, camping stove | 炉头, 露营炉, 炉子
headlamp, head torch | 头灯
water filter | 净水器, 滤水器
trekking poles, hiking poles | 登山杖
drone | 无人机
tablet | 平板
phone, smartphone | 手机
laptop | 笔记本电脑
"""

_COLOURS = """
black | 黑色, 黑
white | 白色, 白
red | 红色, 红
blue | 蓝色, 蓝
navy, navy blue | 藏青色, 藏青, 海军蓝
green | 绿色, 绿
yellow | 黄色, 黄
orange | 橙色, 橙
purple, violet | 紫色, 紫
pink | 粉色, 粉红色, 粉
grey, gray | 灰色, 灰
silver | 银色, 银
gold | 金色, 金
rose gold | 玫瑰金
brown | 棕色, 咖啡色, 棕
beige, khaki | 米色, 卡其色
olive | 橄榄绿, 军绿色
"""


def _table(text: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    rows = []
    for line in text.strip().splitlines():
        en, zh = line.split("|")
        rows.append(
            (
                tuple(normalize(t) for t in en.split(",") if t.strip()),
                tuple(normalize(t) for t in zh.split(",") if t.strip()),
            )
        )
    return tuple(rows)


ATTRIBUTES = _table(_ATTRIBUTES)
CATEGORIES = _table(_CATEGORIES)
COLOURS = _table(_COLOURS)
# size letters and the words viewers say for them
SIZE_WORDS = {
    "xs": ("extra small", "特小号", "xs码"),
    "s": ("small", "小号", "小码", "s码"),
    "m": ("medium", "中号", "中码", "m码"),
    "l": ("large", "大号", "大码", "l码"),
    "xl": ("extra large", "x large", "加大", "加大码", "xl码"),
    "xxl": ("xx large", "2xl", "加加大", "xxl码"),
}


def _words(key: str) -> str:
    """A key as words: 'battery_life' / 'BatteryLife' / 'battery-life' -> 'battery life'."""
    key = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key)
    key = re.sub(r"\s*\([^)]*\)\s*", " ", key)  # "Capacity (mAh)" -> "capacity"
    return normalize(re.sub(r"[_\-/]+", " ", key)).strip()


@lru_cache(maxsize=4096)
def _lookup(term: str, tables: tuple[str, ...]) -> Text | None:
    words = _words(term)
    if not words:
        return None
    for name in tables:
        for en, zh in {"attributes": ATTRIBUTES, "categories": CATEGORIES, "colours": COLOURS}[name]:
            if words in en or words.replace(" ", "") in zh:
                return Text(zh=zh[0], en=en[0])
    return None


def translate(term: str, kind: str = "attribute") -> Text | None:
    """Both languages of a known attribute, category or colour; None when the vocabulary lacks it."""
    tables = {"attribute": ("attributes",), "category": ("categories",), "colour": ("colours",)}[kind]
    found = _lookup(term, tables)
    if found is None and kind == "category":
        found = _head_category(term)
    return found


def _head_category(term: str) -> Text | None:
    """'Smart Robot Vacuum' -> the robot vacuum row; '便携式电热水壶' -> the kettle row."""
    words = _words(term)
    if CJK.search(words):
        for en, zh in CATEGORIES:
            if any(words.replace(" ", "").endswith(z) for z in zh):
                return Text(zh=zh[0], en=en[0])
        return None
    parts = words.split()
    for n in range(min(3, len(parts) - 1), 0, -1):
        tail = " ".join(parts[-n:])
        for en, zh in CATEGORIES:
            if tail in en or tail.rstrip("s") in en:
                return Text(zh=zh[0], en=en[0])
    return None


# "是否支持预约" asks a question; the spoken label is what it asks about: "预约"
ZH_QUESTION_KEY = re.compile(r"是否(支持|有|带|可以)?|可否|能否|能不能|可不可以")


def category_terms(category: str) -> set[str]:
    """Every word the vocabulary knows for a category, in both languages ("Video Doorbells" -> doorbell,
    video doorbell, 门铃, 可视门铃), plus the category's own words in the singular."""
    words = _words(category)
    # the head noun stands for the category ("doorbell" of "Video Doorbells"); a modifier ("robot",
    # "video") does not
    head = re.sub(r"(?<=[a-z])s$", "", words.split()[-1]) if words and not CJK.search(words) else ""
    terms = {words, head}
    found = _lookup(category, ("categories",)) or _head_category(category)
    if found is not None:
        for en, zh in CATEGORIES:
            if found.en == en[0]:
                terms |= {*en, *zh}
    return {t for t in terms if len(t) >= 2}


def spoken_key(key: str) -> Text:
    """A spec key or option name in both languages: the vocabulary's, else the key as words."""
    plain = ZH_QUESTION_KEY.sub("", key) or key
    found = translate(plain)
    if found is not None:
        return found
    words = _words(plain) or plain
    return Text(zh=words, en=words)


@lru_cache(maxsize=8192)
def colour_of(value: str) -> Text | None:
    """The colour a seller's colour name holds: "抹茶绿" -> green, "Midnight Black" -> black, "钛银" -> silver."""
    exact = translate(value, "colour")
    if exact is not None:
        return exact
    words = normalize(value)
    best: tuple[int, Text] | None = None
    for en, zh in COLOURS:
        for term in (*en, *zh):
            hit = term in words if CJK.search(term) else re.search(rf"\b{re.escape(term)}\b", words)
            if hit and (best is None or len(term) > best[0]):
                best = (len(term), Text(zh=zh[0], en=en[0]))
    return best[1] if best else None


def size_words(value: str) -> tuple[str, ...]:
    """What viewers say for a size letter ("M" -> medium, 中号, M码); nothing for other values."""
    return SIZE_WORDS.get(value.strip().lower(), ())


def all_colour_words() -> dict[str, Text]:
    """Every colour word of the vocabulary (either language) -> its row."""
    out: dict[str, Text] = {}
    for en, zh in COLOURS:
        row = Text(zh=zh[0], en=en[0])
        for w in (*en, *zh):
            out[w] = row
    return out


# how a question asks for a measure -> the units a value that answers it is written in
_UNIT_HINTS = (
    (r"几升|多少升|多少水|多大容量|\bliters?\b|\blitres?\b|how much water", r"\d\s*(l|升|ml|毫升)\b|\d\s*(升|毫升)"),
    (r"毫升|\bml\b", r"\d\s*(ml|毫升)"),
    (r"多重|多沉|几斤|多少克|几克|几公斤|多少公斤|how heavy|\bweigh", r"\d\s*(kg|g|克|公斤|斤|lbs?|oz)(?![a-z])"),
    (r"多快|转速|\brpm\b|how fast", r"\d\s*(rpm|转|km/h|mph|m/s)"),
    (r"多少瓦|几瓦|\bwatts?\b|how powerful", r"\d\s*(w|瓦)(?![a-z])"),
    (
        r"多久|多长时间|几个?小时|几分钟|几天|how long (does|will|can|to|until|before)|how many (hours|minutes|days)",
        r"\d\s*(h|hrs?|hours?|小时|分钟|min|mins|minutes|天|days?)(?![a-z])",
    ),
    (r"多远|how far|多少米|几米", r"\d\s*(m|米|ft|km|公里)(?![a-z])"),
    (r"多大声|吵不吵|吵吗|安静|分贝|how loud|how quiet|\bdb\b|noisy", r"\d\s*(db|分贝)"),
    (r"多少度|温度|how hot|temperature", r"\d\s*(°|度|℃|℉)"),
    (r"毫安|\bmah\b", r"\d\s*(mah|毫安)"),
    (r"wider|视角|多广|视野|field of view|how wide", r"\d\s*°"),
    (r"thick|厚", r"\d\s*(gsm|g/m|oz|mm|毫米)"),
    (r"亮|bright|流明|lumens?", r"\d\s*(lm|lumens?|流明)"),
    (r"出多少水|流速|flow|per minute|一分钟", r"\d\s*(l/min|升/分|ml/min|毫升/分)"),
    (
        r"多大|多宽|多高|多长|尺寸|how big|how wide|how tall|dimensions",
        r"\d\s*(cm|mm|厘米|毫米|inch|寸|\"|l|升)(?![a-z])",
    ),
)
UNIT_HINTS = tuple((re.compile(q, re.IGNORECASE), re.compile(v, re.IGNORECASE)) for q, v in _UNIT_HINTS)


# units that belong to one attribute only (lumens are brightness, decibels loudness); hours or
# centimetres could be several attributes of one product (charging time or battery life)
SPECIFIC_UNITS = re.compile(r"lm|db|°|rpm|mah|/min|gsm|oz|瓦")


def measure_units(question: str, specific: bool = False) -> list[re.Pattern[str]]:
    """The value patterns of the measures a question asks for ("几升" -> a value in L or 升); with
    `specific`, only units that name one attribute."""
    q = normalize(question)
    found = [value for asked, value in UNIT_HINTS if asked.search(q)]
    return [v for v in found if SPECIFIC_UNITS.search(v.pattern)] if specific else found
