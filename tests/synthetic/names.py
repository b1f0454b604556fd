"""Name tables, vocabularies and name builders for the synthetic Liuzhou audit folders.

Split out of :mod:`synthetic.city` so that the generator reads as logic, not tables.
Township and street names are real or plausible ones for each county-level division; school names
are made up in the patterns Liuzhou's schools actually use; subjects and degrees are weighted by type.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "COUNTIES",
    "DEGREES",
    "NEW_HIRE_DEGREES",
    "OWNERSHIP_ZH",
    "SECONDARY_DEGREES",
    "SUBJECTS",
    "TYPE_ZH",
    "County",
    "PersonNamer",
    "SchoolNamer",
    "chinese_number",
    "weighted",
]


@dataclass(frozen=True)
class County:
    """A county-level division: its name, administrative code, share of schools and townships."""

    name: str
    code: str
    weight: int
    licence_prefix: str
    is_district: bool
    townships: tuple[str, ...]
    stems: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        """How school names start: districts are named under the city, counties on their own."""
        return f"柳州市{self.name}" if self.is_district else self.name

    @property
    def seat(self) -> str:
        """The county seat (or the first street of a district), listed first."""
        return self.townships[0]


def _t(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COUNTIES: tuple[County, ...] = (
    County(
        "城中区",
        "450202",
        5,
        "城中",
        True,
        _t("城中街道 公园街道 水上街道 潭中街道 中南街道 河东街道 静兰街道"),
        _t("文惠 景行 公园路 水上 潭中 中南 静兰 东环 三中路 映山 龙城 城站路 青云 五星"),
    ),
    County(
        "鱼峰区",
        "450203",
        11,
        "鱼峰",
        True,
        _t("天马街道 驾鹤街道 箭盘山街道 五里亭街道 荣军街道 白莲街道 麒麟街道 阳和街道 白沙镇 里雍镇 雒容镇 洛埠镇"),
        _t("驾鹤路 荣军路 箭盘山 天马 五里亭 屏山 航鹰 白莲 麒麟 弯塘路 东环路 阳和 窑埠 柳东"),
    ),
    County(
        "柳南区",
        "450204",
        10,
        "柳南",
        True,
        _t("河西街道 南站街道 鹅山街道 柳南街道 柳石街道 银山街道 潭西街道 西鹅街道 太阳村镇 洛满镇 流山镇"),
        _t("河西 南站 鹅山 柳石路 银山 潭西 西鹅 航五路 红光 飞鹅路 鹧鸪江 帽合 航岭 谷埠街"),
    ),
    County(
        "柳北区",
        "450205",
        10,
        "柳北",
        True,
        _t("解放街道 雅儒街道 胜利街道 白露街道 锦绣街道 钢城街道 柳长街道 石碑坪镇 沙塘镇 长塘镇"),
        _t("雅儒路 胜利 白露 锦绣 钢城 柳长 跃进路 北雀路 杨柳 燎原路 黄村 长风 解放 三中"),
    ),
    County("柳江区", "450206", 11, "柳江", True, _t("拉堡镇 进德镇 穿山镇 成团镇 百朋镇 三都镇 里高镇 土博镇")),
    County(
        "柳城县",
        "450222",
        11,
        "柳城",
        False,
        _t("大埔镇 龙头镇 太平镇 沙埔镇 东泉镇 凤山镇 六塘镇 冲脉镇 寨隆镇 马山镇 古砦仫佬族乡 社冲乡"),
    ),
    County("鹿寨县", "450223", 10, "鹿寨", False, _t("鹿寨镇 中渡镇 寨沙镇 平山镇 黄冕镇 四排镇 江口乡 导江乡 拉沟乡")),
    County(
        "融安县",
        "450224",
        8,
        "融安",
        False,
        _t("长安镇 浮石镇 泗顶镇 板榄镇 大将镇 大良镇 雅瑶乡 大坡乡 东起乡 沙子乡 桥板乡 潭头乡"),
    ),
    County(
        "融水苗族自治县",
        "450225",
        13,
        "融水",
        False,
        _t(
            "融水镇 和睦镇 三防镇 怀宝镇 洞头镇 大浪镇 永乐镇 四荣乡 香粉乡 安太乡 汪洞乡 "
            "同练瑶族乡 滚贝侗族乡 杆洞乡 安陲乡 白云乡 红水乡 拱洞乡 大年乡 良寨乡"
        ),
    ),
    County(
        "三江侗族自治县",
        "450226",
        10,
        "三江",
        False,
        _t(
            "古宜镇 丹洲镇 斗江镇 独峒镇 林溪镇 八江镇 程村乡 洋溪乡 良口乡 老堡乡 高基瑶族乡 "
            "和平乡 富禄苗族乡 同乐苗族乡 梅林乡"
        ),
    ),
)

VILLAGES = _t(
    "大坪 新和 平安 石门 古木 龙岩 六合 长乐 白石 良双 高定 岜团 归东 泗里 大寨 中寨 江边 红岩 "
    "板江 洞口 新村 元宝 大洞 高岩 马鞍 清江 沙坪 寨头 福禄 培秀 归述 和里 冲口 布央 林略 "
    "岩寨 高秀 木洞 东潭 安马"
)
KINDERGARTEN_BRANDS = _t(
    "小天使 蓝天 阳光 童心 金色摇篮 贝贝 启航 育才 博雅 七彩虹 星光 智慧树 明日之星 春芽 "
    "新苗 小太阳 爱心 快乐宝贝 童乐 蒲公英 小博士 彩虹桥 未来星 好孩子"
)
PRIVATE_SCHOOL_BRANDS = _t("育英 博文 文华 东方 新世纪 华景 启明 明德 致远 卓远 弘毅 正源")
CITY_VOCATIONAL = _t("第一职业技术学校 第二职业技术学校 交通学校 商贸学校 城市职业学校 卫生学校 铁道学校 机电工程学校")
SURNAMES = _t(
    "李 王 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 韦 覃 蓝 莫 潘 "
    "廖 石 龙 欧 蒙 陆 农 黎 卢 邓"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲红萍燕林斌婷雪梅琳海波宁凤春玉兰金慧晓"
    "建国志文嘉欣怡宇浩俊峰丹莉晨佳思雨"
)

TYPE_ZH = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "junior": "初级中学",
    "nine_year": "九年一贯制学校",
    "complete_secondary": "完全中学",
    "senior": "高级中学",
    "twelve_year": "十二年一贯制学校",
    "vocational": "中等职业学校",
    "special": "特殊教育学校",
}
OWNERSHIP_ZH = {"public": "公办", "private": "民办"}


def weighted(text: str) -> tuple[str, ...]:
    """Expand 'a:3 b:1' into ('a', 'a', 'a', 'b') so that rng.choice draws by weight quickly."""
    return tuple(item for part in text.split() for item in [part.split(":")[0]] * int(part.split(":")[1]))


_PRIMARY = "语文:28 数学:24 英语:9 科学:6 道德与法治:5 体育:6 体育与健康:2 音乐:5 美术:5 艺术:1 信息技术:3 心理健康:1"
_JUNIOR = (
    "语文:15 数学:15 英语:14 物理:7 化学:5 生物:5 历史:6 地理:5 道德与法治:6 体育与健康:7 音乐:3 美术:3 "
    "信息技术:3 心理健康:2"
)
_SENIOR = (
    "语文:14 数学:14 英语:14 物理:8 化学:7 生物:6 历史:6 地理:6 政治:6 体育与健康:6 音乐:2 美术:2 信息技术:3 心理健康:2"
)
SUBJECTS = {
    "kindergarten": weighted("学前教育:88 音乐:4 美术:4 体育:4"),
    "primary": weighted(_PRIMARY),
    "junior": weighted(_JUNIOR),
    "nine_year": weighted(f"{_PRIMARY} {_JUNIOR}"),
    "complete_secondary": weighted(f"{_JUNIOR} {_SENIOR}"),
    "senior": weighted(_SENIOR),
    "twelve_year": weighted(f"{_PRIMARY} {_SENIOR}"),
    "vocational": weighted("专业课:45 语文:10 数学:10 英语:8 政治:5 体育与健康:5 信息技术:8 历史:3 心理健康:2 艺术:2"),
    "special": weighted("特殊教育:40 语文:15 数学:15 康复训练:10 体育:6 音乐:6 美术:6 心理健康:2"),
}
SECONDARY_DEGREES = weighted("专科:6 本科:80 硕士:13 博士:1")
DEGREES = {
    "kindergarten": weighted("高中及以下:5 专科:45 本科:48 硕士:2"),
    "primary": weighted("高中及以下:2 专科:25 本科:70 硕士:3"),
    "special": weighted("专科:20 本科:75 硕士:5"),
    "vocational": weighted("专科:8 本科:75 硕士:16 博士:1"),
}
NEW_HIRE_DEGREES = weighted("专科:10 本科:80 硕士:10")

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """Write 1..99 the way school names do: 3 → 三, 12 → 十二, 25 → 二十五."""
    if not 0 < n < 100:
        raise ValueError(f"chinese_number covers 1..99, got {n}")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + ("" if ones == 0 else _DIGITS[ones])


class PersonNamer:
    """Random Chinese personal names (for the 班主任 column)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def name(self) -> str:
        """One name: a surname and one or two given characters."""
        rng = self._rng
        given = rng.choice(GIVEN_CHARS)
        if rng.random() < 0.7:
            given += rng.choice(GIVEN_CHARS)
        return rng.choice(SURNAMES) + given


class SchoolNamer:
    """Builds unique, plausible school names; falls back to a numeric suffix when a pattern is used up."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()
        self._city_number = 0

    def name(self, county: County, township: str, stype: str, private: bool) -> str:
        """A name not given out before, for a school of `stype` in `township` of `county`."""
        candidate = ""
        for _ in range(6):
            candidate = self._candidate(county, township, stype, private)
            if candidate not in self._taken:
                break
        else:
            stem, k = candidate, 2
            while f"{stem}（{k}）" in self._taken:
                k += 1
            candidate = f"{stem}（{k}）"
        self._taken.add(candidate)
        return candidate

    def _next_city_number(self) -> str:
        self._city_number = self._city_number % 99 + 1
        return chinese_number(self._city_number)

    def _candidate(self, county: County, township: str, stype: str, private: bool) -> str:
        rng = self._rng
        urban = township.endswith("街道") and bool(county.stems)
        central = urban or township == county.seat  # county-wide names (实验, 第二…) belong in town
        prefix, nth = county.prefix, chinese_number(rng.randint(1, 5))
        local = f"{prefix}{rng.choice(county.stems)}" if urban else f"{prefix}{township}"
        village = f"{prefix}{township}{rng.choice(VILLAGES)}"
        if stype == "kindergarten":
            if private:
                return f"{prefix if urban else local}{rng.choice(KINDERGARTEN_BRANDS)}幼儿园"
            if central:
                return rng.choice([f"{local}幼儿园", f"{prefix}实验幼儿园", f"{prefix}第{nth}幼儿园"])
            return rng.choice([f"{local}中心幼儿园", f"{village}幼儿园"])
        if private:
            suffix = {"primary": "小学", "junior": "中学", "vocational": "职业技术学校"}.get(stype, "学校")
            return f"{prefix}{rng.choice(PRIVATE_SCHOOL_BRANDS)}{suffix}"
        if stype == "primary":
            if urban:
                return f"{local}小学"
            if central:
                return rng.choice([f"{prefix}实验小学", f"{prefix}第{nth}小学", f"{local}中心小学"])
            return rng.choice([f"{local}中心小学", f"{village}小学", f"{village}小学"])
        if stype == "junior":
            if urban:
                return rng.choice([f"柳州市第{self._next_city_number()}中学", f"{local}中学"])
            return f"{prefix}第{nth}中学" if central and rng.random() < 0.5 else f"{local}中学"
        if stype == "nine_year":
            return f"{local}学校" if urban else rng.choice([f"{local}九年一贯制学校", f"{village}学校"])
        if stype in ("senior", "complete_secondary"):
            if county.stems:
                return f"柳州市第{self._next_city_number()}中学"
            return rng.choice(
                [
                    f"{prefix}高级中学",
                    f"{prefix}中学",
                    f"{prefix}民族高级中学",
                    f"{prefix}第{chinese_number(rng.randint(2, 4))}中学",
                ]
            )
        if stype == "twelve_year":
            return rng.choice([f"{prefix}实验学校", f"{local}实验学校"])
        if stype == "vocational":
            if county.stems:
                return f"柳州市{rng.choice(CITY_VOCATIONAL)}"
            return rng.choice([f"{prefix}职业技术学校", f"{prefix}职业教育中心"])
        return f"{prefix}{rng.choice(['特殊教育学校', '特殊教育学校', '启智学校', '培智学校'])}"
