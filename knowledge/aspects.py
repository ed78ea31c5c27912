"""What a question asks about: a bilingual lexicon of product aspects for smart hardware.

An aspect links the words viewers use ("续航", "how long does it last") to the facts that answer
them (spec keys containing "battery", labels containing "续航"). It is how the agent knows that a
question about wireless charging is *not* answered by a fact about charging time: the most
specific aspect of the question must be matched by a fact, or the answer is "the catalog does
not say". Aspects with kind `price`, `variants` or `policy:<key>` point at those facts directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.facts import Fact
from knowledge.text import compact, normalize

# name | fact kinds/keys it answers (substrings of spec keys, or kind:...) | English terms | Chinese terms
# "!name": a strict aspect, one catalogs usually lack (stock, payment...): asked and not found means unknown.
# "~term": a weak, generic term ("how much", "多大") that yields to any concrete one in the same question.
_TABLE = """
overview | kind:description | tell me about, introduce, what is it, what is this, features, what can it do, selling point | 介绍, 是什么, 特点, 卖点, 有什么功能, 讲讲, 说说这款
price | kind:price | price, cost, ~how much, expensive, cheap, yuan, rmb, pay for it, going for, sell for, sells for, what does it cost | 价格, ~多少钱, 价钱, 售价, 贵, 便宜, 几块, 多钱, 啥价, 卖多少, 什么价, 价位
discount | kind:price | discount, on sale, original price, regular price, deal, save, coupon, voucher, promo code, flash sale | 优惠, 折扣, 打折, 原价, 降了多少, 便宜了多少, 优惠券, 券, 秒杀, 满减
!variants | kind:variants | color, colour, version, edition, variant, options, which models, sizes | 颜色, 配色, 版本, 款式, 几种, 哪几种, 尺寸可选, 几个版本
battery | battery, standby, endurance, playtime, runtime | battery, last, standby, runtime, run time, playtime, play time, per charge, single charge, one charge, between charges, hours of use, clean for | 续航, 电池, 电量, 用多久, 待机, 能用几, 充一次, 用几天, 用几个小时, 能听多久, 听多久, 单次, 充满电, 能扫多久, 扫多久
capacity | capacity | capacity, mah, milliamp, how big is the battery | 容量, 毫安
charging | charg, input | ~charge, charging, charger, fast charg, recharge | 充电, 快充, 充满, 充电器, 回血
wireless_charging | wireless_charg, qi | wireless charg, qi charg | 无线充
water | water, ip_rating, waterproof, ip6 | waterproof, water, swim, shower, rain, splash, ip67, ip68, atm, dive, diving, bath, sauna | 防水, 游泳, 洗澡, 淋雨, 下水, 泼水, 潜水, 进水, 泡水, 桑拿, 泡澡
weight | weight | weigh, weight, heavy, heavier, light, lighter, grams | 重量, 多重, 重不重, 轻不轻, 几克, 多沉, 更轻, 更重, 多少克, 重多少, 有多重
size | size, dimension | size, dimension, ~how big, ~how large, width, length, thick | 尺寸, ~大小, ~多大, 体积, 厚度, 多厚
display | display, screen | screen, display, amoled, lcd, inch, touchscreen, screen size | 屏幕, 屏, 显示, 英寸, 触屏, 屏幕尺寸, 屏幕多大
refresh_rate | refresh | refresh rate, hz | 刷新率
nfc | nfc | nfc, transit card, door card, access card, contactless, tap to pay | nfc, 门禁, 公交卡, 刷卡, 交通卡
gps | gps, gnss | gps, location, navigation, positioning, track my run, track my route, route, without my phone | gps, 定位, 导航, 轨迹
bluetooth | bluetooth | bluetooth, bt version, bluetooth version | 蓝牙, 蓝牙版本
wifi | wifi, wi_fi, network | wifi, wi-fi, 5ghz, 2.4ghz, network | wifi, 无线网, 联网, 网络
esim | esim, cellular, lte | esim, sim card, cellular, lte, 4g, make calls without phone | esim, 独立通话, 插卡, 电话卡
calling | calling, call, microphone, mic | call, calls, calling, microphone, mic, hands-free, phone call | 通话, 打电话, 接电话, 麦克风, 免提
heart_rate | heart | heart rate, heart-rate, pulse, bpm | 心率, 脉搏
blood_oxygen | oxygen, spo2 | blood oxygen, spo2, oxygen | 血氧
ecg | ecg | ecg, ekg, electrocardiogram | 心电, ecg
blood_pressure | pressure | blood pressure | 血压
sleep | sleep | sleep | 睡眠
storage | storage, memory, sd | storage, memory, gb, sd card, memory card, local recording | 存储, 内存, 储存, 内存卡, sd卡
cloud | cloud | cloud | 云存储, 云端, 云服务
anc | anc, noise_cancel | noise cancel, noise-cancel, noise cancelling, anc, block out noise | 降噪, 主动降噪
noise_level | noise_level, db, decibel | decibel, db, how quiet, noisy, noise level | 噪音, 分贝, 吵不吵
multipoint | multipoint, multi_device | multipoint, two devices, two phones, connect to two, switch between | 双设备, 两台设备, 同时连接, 一拖二, 两个手机
latency | latency, delay | latency, delay, lag, gaming, games | 延迟, 游戏, 打游戏
codec | codec | codec, ldac, aac, sbc, aptx, hi-res | 编码, ldac, aac, 高清音质
sound | output_power, driver, audio, sound, speaker | loud, sound, bass, speaker power, audio quality | 音质, 低音, 音量, 喇叭, 瓦数, 声音
output | output | output, max output, output power, how fast does it charge my phone | 输出, 输出功率, 快充功率
stereo_pairing | stereo, pairing, party | stereo pair, pair two, party mode, two speakers | 立体声, 配对, 两个音箱, 串联
resolution | resolution, pixel | resolution, 1080p, 2k, 4k, pixels, video quality, how clear | 分辨率, 像素, 清晰度, 清不清楚, 画质
night_vision | night | night vision, at night, in the dark | 夜视, 晚上, 夜里, 黑暗
pan_tilt | pan, tilt, rotat | pan, tilt, rotate, turn around, 360 | 云台, 转动, 旋转, 360度, 能转, 转多少度
two_way_audio | two_way, talk | two-way audio, talk through, speak through, talk to, speak to, intercom | 双向语音, 对讲, 说话, 喊话
outdoor | outdoor | outdoor, outdoors, outside | 户外, 室外, 外面
metrics | metric, measure, body | body fat, bmi, measure, measurements, metrics, body composition | 体脂, 测量, 测什么, 指标, 身体数据, bmi
max_load | max_load, maximum_load | maximum weight, max weight, most weight, weight limit, how heavy a person, heaviest | 最大称重, 称重上限, 最多称, 最多能称, 承重
users | users, user, profile | users, profiles, family members, how many people | 用户, 几个人, 家庭成员, 几个人用
power_source | power_source, power_supply, batter | power source, batteries, aaa, aa battery, plug in | 供电, 电池供电, 插电, 干电池
ports | port, usb | port, ports, usb-c, type-c, usb-a, usb port | 接口, 口, type-c, usb
laptop | laptop | laptop, macbook, notebook computer | 笔记本, 电脑
max_power | max_power, maximum_power, load_power | maximum load, max power, appliance, max load | 最大功率, 负载功率, 带得动
current | current, amp | current, amps, ampere | 电流, 安培
energy | energy | energy monitoring, power consumption, electricity usage | 电量统计, 用电量, 耗电统计
voice_assistant | voice_assistant, assistant, alexa, voice | alexa, siri, google assistant, voice assistant, voice control, xiaoai | 语音助手, 小爱, 语音控制, 天猫精灵, 声控
homekit | homekit, apple | homekit, apple home | homekit, 苹果家庭
suction | suction | suction, pa, how strong | 吸力
mopping | mop | mop, mopping | 拖地, 拖布, 拖把
vacuum_navigation | navigation, lidar, mapping | lidar, laser, mapping, map, navigation | 导航, 激光, 建图, 地图
auto_empty | auto_empty, self_empty, dock | auto-empty, self-empty, empty itself, empty its own, empties, dock | 自动集尘, 集尘, 自清空, 自动倒
dustbin | dustbin, dust | dustbin, dust bin, dust box | 尘盒, 集尘盒
color_temperature | color_temp, colour_temp, kelvin | color temperature, colour temperature, color temp, kelvin, warm light, cold light, warm and cool | 色温, 暖光, 冷光
brightness | brightness, lumen, lux | brightness, bright, lumens, lux, dimmable, brightness levels | 亮度, 调光, 几档
power | power, watt | wattage, power draw, how many watts, watts | ~功率, 瓦
built_in_battery | built_in_battery, cordless | cordless, wireless use, without plugging | 内置电池, 无线使用, 不插电
material | material, strap | material, made of, metal, plastic, aluminum, titanium | 材质, 材料, 金属, 塑料, 铝, 钛
in_box | box, package, accessor, included | in the box, box, package, included, accessories, comes with, come with, ear tips, spare | 包装, 配件, 附带, 送什么, 赠品, 盒子里
compatibility | compat, os, system, platform, phone | compatible, compatibility, iphone, android, ios, work with, harmonyos | 兼容, 苹果手机, 安卓, 鸿蒙, 适配, 能连
app | app | app, application, companion app | app, 应用, 软件
warranty | kind:policy:warranty, warranty | warranty, guarantee, if it breaks, repair | 保修, 质保, 坏了, 维修
returns | kind:policy:returns | return, refund, send it back, exchange, swap, replacement, replace it, arrives broken, arrives damaged | 退货, 退款, 无理由, 退换, 换货, 能退, 退吗, 可以退, 换新, 质量问题
shipping | kind:policy:shipping | ship, shipping, postage, courier, free delivery, express | 发货, 快递, 包邮, 运费, 邮费, 配送, 发什么快递
invoice | kind:policy:invoice | invoice, receipt, fapiao, vat | 发票, 开票, 专票
!arrival | arrival, delivery_time | when will it arrive, arrive in, arrive by, how many days to arrive, delivered to, get here, get to, delivery to, delivery take, days does delivery, delivery time, gets to me, until it gets, until it arrives, how long until i get | 到货, 几天到, 多久到, 送到, 能到, 几天能到
!stock | stock, inventory | in stock, stock, inventory, sold out, how many left, available now | 库存, 有货, 现货, 还剩, 卖完, 还有几, 售罄
!payment | payment | alipay, wechat pay, installment, credit card, payment method, pay with | 支付宝, 微信支付, 分期, 花呗, 信用卡, 付款方式
!promotion | promotion, promo | double 11, 11.11, black friday, 618, cheaper later, next month, price drop, go on sale | 双11, 双十一, 618, 降价, 以后会便宜, 过几天, 下个月, 活动价
!extended_warranty | extended_warranty | extended warranty, extend the warranty, warranty extension | 延保, 延长保修
!car | car | car, vehicle, tesla, byd | 车机, 汽车, 车载, 特斯拉, 比亚迪
!subscription | subscription, plan | subscription, membership, service fee, monthly fee, cloud plan, storage plan | 套餐, 会员, 订阅, 月费, 年费
climbing | climb, threshold, obstacle | sill, threshold, climb, doorstep, obstacle, get over | 门槛, 越障, 爬坡, 过坎, 障碍
flight | flight, plane | flight, plane, airplane, carry-on, airline | 飞机, 登机, 航空, 坐飞机
"""


@dataclass(frozen=True)
class Aspect:
    name: str
    keys: tuple[str, ...]  # spec-key substrings, or "kind:price", "kind:policy:returns"...
    terms: tuple[str, ...]  # normalized question terms
    weak: frozenset[str] = frozenset()  # generic terms among them
    strict: bool = False


@dataclass(frozen=True)
class AspectHit:
    aspect: Aspect
    term: str  # the matched question term; longer means more specific

    @property
    def weight(self) -> int:
        if self.term in self.aspect.weak:
            return 1
        return len(self.term) * (2 if re.search(r"[\u4e00-\u9fff]", self.term) else 1)


def _parse(table: str) -> tuple[Aspect, ...]:
    out = []
    for row in table.strip().splitlines():
        name, keys, en, zh = (cell.strip() for cell in row.split("|"))
        raw = [t.strip() for t in (en + "," + zh).split(",") if t.strip()]
        terms = tuple(dict.fromkeys(normalize(t.lstrip("~")) for t in raw))
        weak = frozenset(normalize(t[1:]) for t in raw if t.startswith("~"))
        keys_ = tuple(k.strip() for k in keys.split(","))
        out.append(Aspect(name.lstrip("!"), keys_, terms, weak, strict=name.startswith("!")))
    return tuple(out)


ASPECTS = _parse(_TABLE)


def _contains(question: str, term: str) -> bool:
    if re.search(r"[\u4e00-\u9fff]", term):
        return term.replace(" ", "") in question.replace(" ", "")
    # short words must stand alone ("car" is not "card"); longer ones may be stems ("charg")
    end = r"(?![a-z])" if len(term) <= 3 else ""
    # "it" before a particle stands for whatever is moved: "send it back" is "send something back"
    pattern = re.sub(r"\\ it\\ (?=(?:back|up|out|off|away|in|on)\b)", r"\\ [a-z]+\\ ", re.escape(term))
    return re.search(rf"(?<![a-z0-9]){pattern}{end}", question) is not None


def detect(question: str) -> list[AspectHit]:
    """The aspects a question mentions, most specific first."""
    q = normalize(question)
    hits: dict[str, AspectHit] = {}
    for aspect in ASPECTS:
        for term in aspect.terms:
            if _contains(q, term) and (aspect.name not in hits or len(term) > len(hits[aspect.name].term)):
                hits[aspect.name] = AspectHit(aspect, term)
    ordered = sorted(hits.values(), key=lambda h: -h.weight)
    # a term inside a longer matched term ("charg" in "wireless charg") is not a question of its own
    return [h for h in ordered if not any(h.term != o.term and h.term in o.term for o in ordered)]


def answers(aspect: Aspect, fact: Fact) -> bool:
    """Whether `fact` is about `aspect`: by kind, by spec key, or by its label's words."""
    for key in aspect.keys:
        if key.startswith("kind:"):
            want = key[5:].split(":")
            if fact.kind == want[0] and (len(want) == 1 or fact.key == want[1]):
                return True
            if fact.kind == "policy" == want[0] and _names_policy(aspect, fact):
                return True
        elif fact.kind == "spec" and key in fact.key:
            return True
    if all(k.startswith("kind:") for k in aspect.keys):
        return False  # price, variants, policies are facts of their own kind, never a spec that mentions them
    if fact.kind in ("spec", "faq", "detail"):
        # a spec's value counts too ("45 dB" answers a question about decibels); an FAQ's answer does not
        words = [*fact.label.variants(), *(fact.value.variants() if fact.kind == "spec" else [])]
        label = compact(" ".join(words))
        return any(
            compact(term) in label for term in aspect.terms if len(compact(term)) >= 2 and term not in aspect.weak
        )
    return False


def _names_policy(aspect: Aspect, fact: Fact) -> bool:
    """A seller's own policy name ("退换货", "exchanges") that holds one of the aspect's words."""
    name = compact(" ".join((fact.key, *fact.label.variants())))
    return any(compact(term) in name for term in aspect.terms if len(compact(term)) >= 2 and term not in aspect.weak)
