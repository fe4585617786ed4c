"""The demo's made-up world: seasons, names, shops, addresses, phone and ID numbers, and how counts are split."""

from __future__ import annotations

import calendar
import datetime as dt
import random

from reportpipe.validation.id_numbers import check_character

ALL_MONTHS = range(1, 13)
FLAT = (1,) * 12
SUMMER = (0.7, 0.6, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, 1.0, 0.9, 0.8)
DUSTY = (0.5, 0.5, 1.2, 1.5, 1.3, 1.1, 0.9, 0.9, 1.1, 1.2, 0.9, 0.5)
HOLIDAY_DIP = (0.8, 0.6, 1.0, 1.0, 1.0, 1.1, 1.0, 0.9, 1.0, 0.9, 1.1, 1.2)
FIRE = (0.8, 0.5, 0.8, 0.8, 1.0, 1.0, 0.6, 0.6, 0.8, 1.0, 2.5, 1.2)
HOURS = (0.2,) * 7 + (1.5,) * 3 + (3,) * 8 + (2,) * 4 + (0.8,) * 2

COMMUNITIES = {  # community: streets and hutongs in it
    "府学社区": ("府学胡同", "文丞相胡同", "交道口南大街", "东公街"),
    "福祥社区": ("福祥胡同", "蓑衣胡同", "鼓楼东大街", "东不压桥胡同"),
    "大兴社区": ("大兴胡同", "香饵胡同", "交道口南大街", "东四北大街"),
    "交东社区": ("交道口东大街", "交道口北头条", "交道口北二条", "北剪子巷"),
    "菊儿社区": ("菊儿胡同", "寿比胡同", "交道口北三条", "南锣鼓巷"),
    "南锣鼓巷社区": ("南锣鼓巷", "雨儿胡同", "帽儿胡同", "黑芝麻胡同", "沙井胡同", "前圆恩寺胡同"),
    "鼓楼苑社区": ("鼓楼东大街", "前鼓楼苑胡同", "后鼓楼苑胡同", "宝钞胡同"),
    "北兵马司社区": ("北兵马司胡同", "东棉花胡同", "板厂胡同", "炒豆胡同"),
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡杜程苏魏吕丁沈姚崔钟谭陆范金石贾夏付白孟秦闫侯史郝毛"
GIVEN_NAMES = ("建国 秀英 桂兰 志强 丽华 淑珍 玉兰 海涛 静 伟 磊 娜 敏 军 勇 杰 涛 明 超 秀兰 霞 平 刚 桂英 文 华 红 萍 "
               "鹏 辉 宇 浩 欣怡 子涵 雨桐 梓轩 俊杰 建华 国强 淑华 凤英 德胜 宝山 金凤 春生 振华 立新 慧敏").split()
BRANDS = "老北京 胡同里 南锣 鼓楼 福顺 聚德 文宇 吉祥 兴旺 大槐树 小院 四合 京味 拾光 悦来 同和 和顺 青砖 灰瓦 井儿".split()
SHOPS = "炸酱面馆 咖啡馆 便利店 奶酪店 烤肉店 酒吧 文创店 小吃店 涮肉馆 饺子馆 烧饼铺 理发店 水果店 茶馆 民宿 烘焙坊".split()
FIRMS = "鑫源 恒达 京华 锦程 隆盛 华宇 中天 博远 嘉禾 瑞丰 永泰 金鼎".split()
FIRM_KINDS = "餐饮管理有限公司 建筑工程有限公司 商贸有限公司 文化发展有限公司 物业管理有限公司 装饰工程有限公司".split()
LAWS = ("《中华人民共和国行政处罚法》", "《北京市生活垃圾管理条例》", "《优化营商环境条例》", "《中华人民共和国宪法》",
        "《信访工作条例》", "《北京市物业管理条例》", "《中华人民共和国民法典》", "《北京市接诉即办工作条例》",
        "《中华人民共和国安全生产法》", "《北京历史文化名城保护条例》")
ISSUES = ("物业管理", "房屋修缮", "环境卫生", "噪音扰民", "占道经营", "停车管理", "劳动社保", "民生保障", "拆违整治", "邻里纠纷")
ID_AREAS_OUTSIDE = ("110105", "110108", "130102", "370102", "410105", "230102")


# ---- counting helpers ------------------------------------------------------------------------

def split(total: int, weights: list[float], floor: int = 0) -> list[int]:
    """Split total into integers ≥ floor, proportional to weights (largest remainder)."""
    rest, weight = total - floor * len(weights), sum(weights)
    assert rest >= 0 and weight > 0, (total, len(weights))
    shares = [rest * w / weight for w in weights]
    parts = [floor + int(s) for s in shares]
    for i in sorted(range(len(shares)), key=lambda i: int(shares[i]) - shares[i])[: total - sum(parts)]:
        parts[i] += 1
    return parts


def jitter(weights, rng: random.Random, spread: float = 0.35) -> list[float]:
    """Weights with random noise, so that months and rows are uneven."""
    return [w * rng.uniform(1 - spread, 1 + spread) for w in weights]


def month_slots(n: int, rng: random.Random, season=FLAT) -> list[int]:
    """Months for n records, spread unevenly over the year."""
    return [m for m, k in zip(ALL_MONTHS, split(n, jitter(season, rng))) for _ in range(k)]


def rate_split(n: int, rate: int) -> tuple[int, int]:
    """(hits, misses) out of n such that 100 × hits / n is exactly rate."""
    hits = round(n * rate / 100)
    assert 100 * hits == rate * n, (n, rate)
    return hits, n - hits


def pick(rng: random.Random, mix: dict):
    """A key of mix, drawn with its weight."""
    return rng.choices(list(mix), list(mix.values()))[0]


def number(rows: list[dict], ref: str, column: str, fmt: str) -> list[dict]:
    """Sort rows by reference date and give them running identifiers."""
    rows.sort(key=lambda r: r[ref])
    for i, row in enumerate(rows, 1):
        row[column] = fmt.format(i)
    return rows


# ---- realistic values ------------------------------------------------------------------------

def last_day(year: int, month: int) -> dt.date:
    """The last day of the month: the day of its export's snapshot."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def day_in(year: int, month: int, rng: random.Random, weekdays: bool = False) -> dt.date:
    """A day of the month; offices mostly act on weekdays."""
    days = [dt.date(year, month, d) for d in range(1, last_day(year, month).day + 1)]
    return rng.choice([d for d in days if d.weekday() < 5] if weekdays else days)


def moment_in(year: int, month: int, rng: random.Random) -> dt.datetime:
    """A time of the month, mostly in the daytime."""
    hour = rng.choices(range(24), HOURS)[0]
    return dt.datetime.combine(day_in(year, month, rng), dt.time(hour, rng.randrange(60), rng.randrange(60)))


def person(rng: random.Random) -> str:
    """A person's name."""
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def shop(rng: random.Random) -> str:
    """A shop's name."""
    return rng.choice(BRANDS) + rng.choice(SHOPS)


def firm(rng: random.Random) -> str:
    """A company's name."""
    return f"北京{rng.choice(FIRMS)}{rng.choice(FIRM_KINDS)}"


def address(rng: random.Random, community: str) -> str:
    """A house number on a street of the community."""
    street = rng.choice(COMMUNITIES[community])
    return f"{street}{rng.randint(1, 260 if street.endswith('大街') else 99)}号"


def phone(rng: random.Random, empty: float) -> str | None:
    """Empty, a Beijing landline or a mobile number."""
    r = rng.random()
    if r < empty:
        return None
    if r < empty + 0.15:
        return f"010-{rng.choice('68')}{rng.randrange(10**7):07d}"
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def id_card(rng: random.Random, area: str) -> str:
    """An ID card number with a valid GB 11643 check character."""
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
    body = f"{area}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + check_character(body)


