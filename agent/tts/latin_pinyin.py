"""Latin product names in Mandarin syllables, the way a Chinese speaker says them.

Acronyms are spelled with the letter names Chinese speakers use (GT -> ji4 ti4), a few common product
words have fixed readings (Pro -> pu3 luo2), words written in pinyin are read as pinyin (Xiaomi), and
anything else is transliterated by rule (Band -> ban1 de5, RoboVac -> luo1 bo1 wa1 ke5).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# every Mandarin syllable the Baker voice knows (toneless pinyin, ü written v)
SYLLABLES = frozenset(
    """a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce cen
    ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo ci cong
    cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui
    dun duo e ei en eng er fa fan fang fei fen feng fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua
    guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo ji
    jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua
    kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou
    lu luan lue lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai
    nan nang nao ne nei nen neng ni nia nian niang niao nie nin ning niu nong nou nu nuan nue nuo nv nve o ou pa
    pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu
    qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng
    sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su
    suan sui sun suo ta tai tan tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan
    wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin
    ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen
    zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo""".split()
)

# English letter names as Mandarin speakers say them
LETTERS = {
    "a": "ei1",
    "b": "bi4",
    "c": "xi1",
    "d": "di4",
    "e": "yi4",
    "f": "ai2 fu5",
    "g": "ji4",
    "h": "ai2 qi1",
    "i": "ai4",
    "j": "jie4",
    "k": "kei4",
    "l": "ai2 le5",
    "m": "ai2 mu5",
    "n": "en1",
    "o": "ou1",
    "p": "pi1",
    "q": "qiu1",
    "r": "a1 er5",
    "s": "ai2 si1",
    "t": "ti4",
    "u": "you1",
    "v": "wei1",
    "w": "da2 bu5 liu5",
    "x": "ai2 ke5 si1",
    "y": "wai4",
    "z": "zei4",
}

# product words whose Chinese reading is settled
WORDS = {
    "air": "ai4 er3",
    "apple": "ai1 po4",
    "band": "ban1 de5",
    "bluetooth": "lan2 ya2",
    "boom": "bu4 mu5",
    "home": "hou1 mu5",
    "homekit": "hou1 mu5 ji1 te4",
    "lite": "lai4 te4",
    "max": "mai4 ke4 si1",
    "mini": "mi2 ni3",
    "phone": "feng1",
    "plus": "pu3 la1 si1",
    "pro": "pu3 luo2",
    "smart": "si1 ma3 te4",
    "type": "tai4 pu3",
    "ultra": "ou1 te4 la1",
    "watch": "wo4 qi2",
    "wifi": "wai4 fei1",
}

_RESPELL: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (
    (r"ck", "k"),
    (r"c(?=[eiy])", "s"),
    (r"c(?!h)", "k"),
    (r"([aiou])([bdfgklmnprstvz])e$", lambda m: {"a": "ei", "i": "ai", "o": "ou", "u": "iu"}[m[1]] + m[2]),
    (r"tion|sion", "shen"),
    (r"igh", "ai"),
    (r"ph", "f"),
    (r"qu", "kw"),
    (r"x", "ks"),
    (r"tch", "ch"),
    (r"th", "s"),
    (r"wh", "w"),
    (r"gh", ""),
    (r"ee|ea|ie", "i"),
    (r"oo", "u"),
    (r"ou|ow|au|aw", "ao"),
    (r"oa", "ou"),
    (r"ay|ey", "ei"),
    (r"^y(?=[aeiou])", "Y"),  # consonant y, kept apart from the vowel y
    (r"y", "i"),
    (r"Y", "y"),
    (r"j", "zh"),
    (r"v", "w"),
    (r"([bdfgklmnprstz])\1", r"\1"),
)
_VOWEL_GROUPS = ("ai", "ei", "ao", "ou", "ia", "io", "iu", "ua", "ue", "ui", "uo", "oi", "a", "e", "i", "o", "u")
_CONSONANTS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "s", "z", "w", "y", "r")
_BARE_CONSONANT = {  # a consonant with no vowel of its own gets the weak vowel a Chinese speaker adds
    "b": "bu",
    "p": "pu",
    "m": "mu",
    "f": "fu",
    "d": "de",
    "t": "te",
    "n": "en",
    "l": "le",
    "g": "ge",
    "k": "ke",
    "h": "he",
    "s": "si",
    "z": "zi",
    "zh": "zhi",
    "ch": "qi",
    "sh": "shi",
    "w": "wu",
    "y": "yi",
    "r": "er",
}
_RIME_FALLBACKS = {
    "a": ("a", "ai", "e"),
    "e": ("e", "ei", "ai", "a"),
    "i": ("i", "ei", "ai"),
    "o": ("uo", "o", "ou", "ao"),
    "u": ("u", "ou", "o"),
    "ai": ("ai", "a", "ei"),
    "ei": ("ei", "ai", "i"),
    "ao": ("ao", "ou", "o"),
    "ou": ("ou", "o", "uo"),
    "oi": ("uai", "ai", "ei"),
    "ia": ("ia", "a"),
    "io": ("iao", "ao", "uo"),
    "iu": ("iu", "ou"),
    "ua": ("ua", "a"),
    "ue": ("ue", "ei", "e"),
    "ui": ("ui", "ei"),
    "uo": ("uo", "o", "ou"),
    "an": ("an", "en"),
    "en": ("en", "an", "in"),
    "in": ("in", "ing", "en"),
    "on": ("ong", "an", "en"),
    "un": ("un", "en", "ong"),
    "ang": ("ang", "an"),
    "eng": ("eng", "en"),
    "ing": ("ing", "in"),
    "ong": ("ong", "eng"),
    "ung": ("ong", "eng"),
}
_ZERO_ONSET = {
    "o": "ou",
    "i": "yi",
    "in": "yin",
    "ing": "ying",
    "ia": "ya",
    "io": "yao",
    "iu": "you",
    "u": "wu",
    "ua": "wa",
    "uo": "wo",
    "ui": "wei",
    "un": "wen",
    "ue": "yue",
    "ung": "weng",
    "on": "ang",
}


def latin_syllables(word: str) -> list[str]:
    """Mandarin syllables with tone digits for one Latin word ("GT" -> ["ji4", "ti4"])."""
    letters = re.sub(r"[^A-Za-z]", "", word)
    if not letters:
        return []
    fixed = WORDS.get(letters.lower())
    if fixed:
        return fixed.split()
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+", letters)  # RoboVac -> Robo Vac, eSIM -> e SIM
    if len(parts) > 1:
        return [syllable for part in parts for syllable in latin_syllables(part)]
    if letters.isupper() or len(letters) == 1:
        return [s for letter in letters.lower() for s in LETTERS[letter].split()]
    return _pinyin_word(letters.lower()) or _transliterate(letters.lower())


def _pinyin_word(word: str) -> list[str]:
    """A word written in pinyin ("xiaomi", "huawei") split into its syllables, else []."""
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            if head is not None and word[start:end] in SYLLABLES:
                candidate = [*head, word[start:end]]
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    result = best[len(word)]
    if not result or len(result) < 2:
        return []
    return [f"{s}1" for s in result]


def _transliterate(word: str) -> list[str]:
    for pattern, replacement in _RESPELL:
        word = re.sub(pattern, replacement, word)
    syllables: list[str] = []
    i = 0
    while i < len(word):
        onset = next((c for c in _CONSONANTS if word.startswith(c, i)), "")
        i += len(onset)
        vowel = next((v for v in _VOWEL_GROUPS if word.startswith(v, i)), "")
        if not vowel:
            if onset:
                final = onset in ("r", "l") and i >= len(word) and bool(syllables)
                syllables.append("er5" if final else _BARE_CONSONANT[onset] + "5")
            else:
                i += 1  # a letter that maps to nothing
            continue
        i += len(vowel)
        rime = vowel
        rest = word[i:]
        coda = "ng" if rest.startswith("ng") and not _vowel_at(rest, 2) else "n" if rest[:1] == "n" else ""
        if coda and not _vowel_at(rest, len(coda)) and (len(vowel) == 1 or _syllable(onset, vowel + coda, strict=True)):
            rime = vowel + coda
            i += len(coda)
        elif rest[:1] == "r" and not _vowel_at(rest, 1):
            i += 1  # a post-vocalic r is dropped, as in 斯马特 for "smart"
            if i >= len(word) and vowel == "e":  # final -er: 鲍尔 for "power", 斯皮克 for "speaker"
                syllables.append(_syllable(onset, "e") + "5" if onset else "er3")
                continue
        syllables.append(_syllable(onset, rime) + "1")
    return syllables


def _vowel_at(text: str, index: int) -> bool:
    return index < len(text) and text[index] in "aeiou"


def _syllable(onset: str, rime: str, strict: bool = False) -> str:
    """The nearest Mandarin syllable to onset + rime; with ``strict`` only an exact one, else ""."""
    initial = "l" if onset == "r" else onset
    if not initial:
        candidates = [_ZERO_ONSET.get(rime, rime), *_RIME_FALLBACKS.get(rime, ())]
    else:
        candidates = [initial + r for r in _RIME_FALLBACKS.get(rime, (rime,))]
    if strict:
        return candidates[0] if candidates[0] in SYLLABLES else ""
    for candidate in candidates:
        if candidate in SYLLABLES:
            return candidate
    return _BARE_CONSONANT.get(initial, "a")
