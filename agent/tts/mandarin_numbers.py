"""Chinese text as the Mandarin voice should read it: numbers, prices, units and symbols in words.

"1299元" -> 一千二百九十九元, "5.3" -> 五点三, "20%" -> 百分之二十, "10000mAh" -> 一万毫安时; digits glued
after Latin letters are a model code and are read digit by digit ("IP68" -> IP六八, "X2" -> X二);
emoji and other symbols are dropped.
"""

from __future__ import annotations

import re
import unicodedata

_DIGIT = "零一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")


def read_digits(digits: str) -> str:
    """Digit by digit: "2024" -> 二零二四."""
    return "".join(_DIGIT[int(d)] for d in digits if d.isdigit())


def read_number(number: str) -> str:
    """A non-negative integer or decimal as Chinese: "1299" -> 一千二百九十九, "5.3" -> 五点三, "20000" -> 两万."""
    whole, _, fraction = number.partition(".")
    text = _read_integer(whole or "0")
    if fraction:
        text += "点" + read_digits(fraction)
    return text


def _read_integer(digits: str) -> str:
    digits = digits.lstrip("0")
    if not digits:
        return "零"
    if len(digits) > 16:
        return read_digits(digits)
    groups: list[str] = []  # four-digit groups, most significant first
    while digits:
        groups.insert(0, digits[-4:])
        digits = digits[:-4]
    text = ""
    need_zero = False
    for index, group in enumerate(groups):
        value = int(group)
        big = _BIG_UNITS[len(groups) - 1 - index]
        if value == 0:
            need_zero = bool(text)
            continue
        if text and (need_zero or len(group) == 4 and group[0] == "0"):
            text += "零"
        text += _read_group(group.rjust(4, "0")) + big
        need_zero = False
    if text.startswith("一十"):  # 15 -> 十五, but 115 -> 一百一十五
        text = text[1:]
    # 2000 -> 两千, 12000 -> 一万两千; 十二万 and 一百零二万 keep 二
    return re.sub(r"(^|[万亿])二(?=[千万亿])", r"\1两", text)


def _read_price(match: re.Match[str]) -> str:
    low, high = match.group(2), match.group(3)
    return read_number(low) + ("到" + read_number(high) if high else "") + _CURRENCY[match.group(1)]


def _read_clock(match: re.Match[str]) -> str:
    hours, minutes = match.group(1), match.group(2)
    return read_number(hours) + "点" + ("" if minutes == "00" else read_number(minutes) + "分")


def _read_group(group: str) -> str:
    text = ""
    zero = False
    for position, char in enumerate(group):
        digit = int(char)
        unit = _SMALL_UNITS[3 - position]
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGIT[digit] + unit
    return text


# units that follow a number, longest first so "mAh" wins over "m"
_UNITS = {
    "kWh": "千瓦时",
    "mAh": "毫安时",
    "GHz": "吉赫兹",
    "MHz": "兆赫兹",
    "kHz": "千赫兹",
    "inch": "英寸",
    "Wh": "瓦时",
    "Hz": "赫兹",
    "mm": "毫米",
    "cm": "厘米",
    "km": "公里",
    "kg": "公斤",
    "mg": "毫克",
    "ml": "毫升",
    "mL": "毫升",
    "kW": "千瓦",
    "dB": "分贝",
    "ms": "毫秒",
    "min": "分钟",
    "mA": "毫安",
    "GB": "G",  # "128G" is how storage is said
    "TB": "T",
    "MB": "M",
    "m": "米",
    "g": "克",
    "L": "升",
    "W": "瓦",
    "V": "伏",
    "A": "安",
    "h": "小时",
    "s": "秒",
}
_UNIT_RE = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_NUM = r"\d+(?:\.\d+)?"
# measure words after which 2 is 两 ("2个" -> 两个, "2天" -> 两天; "2月" stays 二月)
_LIANG_BEFORE = "个种次台件只条张块位小周节瓶包双套年岁斤层款天颗根支把"
_CURRENCY = {"¥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
_SENTENCE_END = "。！？；!?;\n"
_CLAUSE_BREAK = "，、,:：…()[]（）【】《》〈〉{}—–"
CJK = r"\u3400-\u4dbf\u4e00-\u9fff"


def normalize_text(text: str) -> str:
    """Text as it should be spoken: numbers and symbols in Chinese, Latin words kept, breaks as ，/。."""
    text = text.replace("²", "平方").replace("³", "立方").replace("㎡", "平方米")
    text = unicodedata.normalize("NFKC", text)  # full-width letters, digits and punctuation -> ASCII
    text = text.replace("°C", "摄氏度").replace("°F", "华氏度").replace("°", "度")
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # 1,299 -> 1299
    text = re.sub(rf"([¥$€£])\s*({_NUM})(?:\s*[-~～—–至]\s*[¥$€£]?\s*({_NUM}))?", _read_price, text)
    # numbers glued after Latin letters are model codes: IP68 -> IP六八, X2 -> X二
    text = re.sub(r"(?<=[A-Za-z])(\d+)|(?<=[A-Za-z]-)(\d+)", lambda m: read_digits(m.group()), text)
    text = re.sub(rf"({_NUM})\s*[-~～—–至]\s*(?={_NUM})", lambda m: read_number(m.group(1)) + "到", text)
    text = re.sub(rf"(?<![\dA-Za-z.])-(?={_NUM})", "负", text)
    text = re.sub(rf"({_NUM})\s*%", lambda m: "百分之" + read_number(m.group(1)), text)
    text = re.sub(r"(\d+)\+", lambda m: read_number(m.group(1)) + "多", text)
    text = re.sub(rf"({_NUM})\s*({_UNIT_RE})(?![A-Za-z])", lambda m: read_number(m.group(1)) + _UNITS[m.group(2)], text)
    text = re.sub(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)", _read_clock, text)
    text = re.sub(r"(\d{4})(?=年)", lambda m: read_digits(m.group(1)), text)  # years digit by digit
    text = re.sub(r"(?<![\d.])(?:\d{11,}|0\d+)(?![\d.])", lambda m: read_digits(m.group()), text)  # 007, order ids
    text = re.sub(rf"(?<!第)(?<![\d.])2(?=[{_LIANG_BEFORE}])", "两", text)
    text = re.sub(_NUM, lambda m: read_number(m.group()), text)
    text = text.replace("+", "加").replace("&", "和").replace("=", "等于")
    text = re.sub(rf"(?<=[{CJK}\w])/(?=[{CJK}])(?![零一二两三四五六七八九十])", "每", text)  # 次/天, 元/月
    text = re.sub(r"\.(?=\s|$)", "。", text)
    out = []
    for char in text:
        if char in _SENTENCE_END:
            out.append("。")
        elif char in _CLAUSE_BREAK or char == "/":
            out.append("，")
        elif char.isspace():
            out.append(" ")
        elif re.match(rf"[{CJK}A-Za-z]", char) or char in "，。":
            out.append(char)
        # anything else (emoji, quotes, symbols) is not spoken
    spoken = "".join(out)
    spoken = re.sub(r" *([，。]) *", r"\1", spoken)
    spoken = re.sub(r"，*。[，。]*", "。", spoken)
    spoken = re.sub(r"，+", "，", spoken)
    spoken = re.sub(r" +", " ", spoken)
    spoken = spoken.lstrip(" ，。").rstrip(" ，")
    return spoken if re.search(rf"[{CJK}A-Za-z]", spoken) else ""
