"""A small district worked out by hand, for the district's tests: three offices, a month of inspections
and mediations each (ids that repeat across offices), written as their systems export them."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_csv

YEAR = 2024
DISTRICT = {"id": "dongcheng", "name": "东城区"}
OFFICES = [
    {"id": "jiaodaokou", "name": "交道口街道", "communities": ["府学社区", "交东社区", "菊儿社区"],
     "labels": {"business_forums": "“交道口·南锣会客厅”政企交流活动"}},
    {"id": "andingmen", "name": "安定门街道", "communities": ["国子监社区", "五道营社区"]},
    {"id": "beixinqiao", "name": "北新桥街道", "communities": ["民安社区"]},
]
INSPECTIONS = ["检查编号", "检查日期", "检查类型", "检查对象", "所属社区", "发现隐患数", "整改隐患数", "发放宣传材料（份）"]
MEDIATIONS = ["案件编号", "受理日期", "调委会", "纠纷类型", "调解结果", "协议形式", "结案日期"]
# (type, community, hazards found, fixed, leaflets) per inspection; the ids are I-<month>-1, … in each office.
JIAODAOKOU_INSPECTIONS = [("垃圾分类", "交东社区", 2, 1, 10), ("垃圾分类", "菊儿社区", 0, 0, 5), ("餐饮公服", "交东社区", 3, 3, 0)]
ANDINGMEN_INSPECTIONS = [("垃圾分类", "国子监社区", 1, 1, 7), ("餐饮公服", "五道营社区", 4, 2, 0)]
# (committee, outcome) per mediation case.
JIAODAOKOU_MEDIATIONS = [("交东社区人民调解委员会", "调解成功")]
ANDINGMEN_MEDIATIONS = [("街道人民调解委员会", "调解成功"), ("国子监社区人民调解委员会", "调解不成功"),
                        ("五道营社区人民调解委员会", "调解不成功")]


def offices_file(path: Path, district: bool = True) -> Path:
    import yaml

    declared = {"district": DISTRICT} if district else {}
    path.write_text(yaml.safe_dump({**declared, "offices": OFFICES}, allow_unicode=True), encoding="utf-8")
    return path


def write_inspections(inbox: Path, office: str, month: int, rows: list[tuple]) -> Path:
    return write_csv(inbox / office / "inspections" / f"检查记录_{YEAR}{month:02d}.csv", INSPECTIONS,
                     [[f"I-{month}-{i}", f"{YEAR}-{month:02d}-{i + 1:02d}", kind, "某商户", community, found, fixed, leaflets]
                      for i, (kind, community, found, fixed, leaflets) in enumerate(rows, 1)])


def write_mediations(inbox: Path, office: str, month: int, rows: list[tuple]) -> Path:
    return write_csv(inbox / office / "mediations" / f"人民调解_{YEAR}{month:02d}.csv", MEDIATIONS,
                     [[f"M-{i}", f"{YEAR}-{month:02d}-{i + 1:02d}", committee, "邻里纠纷", outcome, "书面",
                       f"{YEAR}-{month:02d}-{i + 10:02d}"] for i, (committee, outcome) in enumerate(rows, 1)])
