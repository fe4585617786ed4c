"""One generator per source of the 2023 report, reproducing its figures exactly (GENERATORS); rows for a source
added since from its contract alone (`from_contract`)."""

from __future__ import annotations

import calendar
import datetime as dt
import random

from reportpipe.demo.values import (
    ALL_MONTHS,
    COMMUNITIES,
    DUSTY,
    FIRE,
    FLAT,
    HOLIDAY_DIP,
    ID_AREAS_OUTSIDE,
    ISSUES,
    LAWS,
    SUMMER,
    address,
    day_in,
    firm,
    id_card,
    jitter,
    last_day,
    moment_in,
    month_slots,
    number,
    person,
    phone,
    pick,
    rate_split,
    shop,
    split,
)

# ---- the sources ---------------------------------------------------------------------------

CHANNELS = {  # 来源渠道: (figure of the orders handled, season, problem mix)
    "政通": ("orders_zhengtong", SUMMER,
             {"占道经营": 3, "噪音扰民": 3, "餐饮油烟": 2, "无照游商": 2, "违规广告": 1, "垃圾分类": 1, "其他": 2}),
    "网格": ("orders_grid", SUMMER, {"占道经营": 3, "无照游商": 3, "垃圾分类": 3, "违规广告": 2, "其他": 1}),
    "环保扬尘": ("orders_dust", DUSTY, {"施工扬尘": 5, "渣土遗撒": 3, "其他": 1}),
}


def work_orders(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Orders per channel; 退单 (sent back, not handled) come on top of the handled ones."""
    rows = []
    for channel, (figure, season, problems) in CHANNELS.items():
        handled = [True] * fig[figure] + [False] * round(fig[figure] * 0.05)
        rng.shuffle(handled)
        for is_handled, month in zip(handled, month_slots(len(handled), rng, season)):
            received = moment_in(year, month, rng)
            # at least 3 minutes apart, so that dropping seconds never reverses the order
            response = received + dt.timedelta(minutes=rng.randint(3, 240))
            closed = response + dt.timedelta(minutes=10 + rng.expovariate(1 / 1800))
            cutoff = dt.datetime.combine(last_day(year, month), dt.time(23, 59, 59))  # the export's snapshot
            status = "已办结" if closed <= cutoff else "办理中"
            if not is_handled:
                status = "退单"
            community = rng.choice(list(COMMUNITIES))
            rows.append({"来源渠道": channel, "受理时间": received, "问题类型": pick(rng, problems),
                         "所属社区": community, "问题地址": address(rng, community), "诉求人电话": phone(rng, 0.2),
                         "首次响应时间": None if status == "办理中" and response > cutoff else response,
                         "办结时间": closed if status == "已办结" else None, "办理状态": status})
    return number(rows, "受理时间", "工单编号", f"JDK-WO-{year}-{{:06d}}")


FINES = {  # (程序类型, 当事人类型): usual fines; 简易程序 allows at most 200 yuan for persons, 3000 for units
    ("简易程序", "个人"): (50, 100, 200), ("简易程序", "单位"): (500, 1000, 2000, 3000),
    ("一般程序", "个人"): (200, 500, 1000, 2000), ("一般程序", "单位"): (5000, 10000, 20000, 30000, 50000),
}
OTHER_VIOLATIONS = {"无照经营": 3, "店外经营": 4, "户外广告": 2, "燃气安全": 1, "其他": 1}
UNIT_VIOLATIONS = ("施工扬尘", "泄漏遗撒", "燃气安全", "户外广告")


def penalty_cases(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Closed cases: garbage, dust/spill and waived cases as the figures say, the rest other violations."""
    cases = ([("垃圾分类", rng.choices(("罚款", "警告"), (3, 1))[0]) for _ in range(fig["garbage_penalties"])]
             + [(rng.choice(("施工扬尘", "泄漏遗撒")), "罚款") for _ in range(fig["dust_spill_cases"])]
             + [(rng.choice(("无照经营", "店外经营", "户外广告", "垃圾分类")), "不予处罚")
                for _ in range(fig["minor_waivers"])])
    cases += [(pick(rng, OTHER_VIOLATIONS), rng.choices(("罚款", "警告"), (2, 1))[0])
              for _ in range(fig["cases_closed"] - len(cases))]
    assert fig["cases_general"] + fig["cases_simple"] == len(cases)
    # weighted sample without replacement (Efraimidis-Spirakis): serious matters go the general procedure
    weights = [10 if kind in UNIT_VIOLATIONS else 1 for kind, _ in cases]
    keys = [rng.random() ** (1 / w) for w in weights]
    general = set(sorted(range(len(cases)), key=keys.__getitem__, reverse=True)[: fig["cases_general"]])
    rows = []
    for i, ((kind, outcome), month) in enumerate(zip(cases, month_slots(len(cases), rng, HOLIDAY_DIP))):
        procedure = "一般程序" if i in general else "简易程序"
        party = "单位" if kind in UNIT_VIOLATIONS or rng.random() < 0.45 else "个人"
        closed = day_in(year, month, rng, weekdays=True)
        name = (person(rng) if party == "个人"
                else firm(rng) if kind in ("施工扬尘", "泄漏遗撒") or rng.random() < 0.4 else shop(rng))
        rows.append({"立案日期": closed - dt.timedelta(days=rng.randint(10, 85) if i in general else 0),
                     "结案日期": closed, "程序类型": procedure, "违法类型": kind, "当事人类型": party,
                     "当事人名称": name, "处理结果": outcome,
                     "罚款金额（元）": rng.choice(FINES[procedure, party]) if outcome == "罚款" else 0,
                     "是否法制审核": "是" if i in general or rng.random() < 0.1 else "否"})
    return number(rows, "结案日期", "案件编号", f"京东城交执罚〔{year}〕{{}}号")


def inspections(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Visits per type; leaflets of garbage visits and hazards fixed at caterers add up to the figures."""
    counts = {"垃圾分类": fig["garbage_inspections"], "餐饮公服": fig["catering_inspections"],
              "施工工地": fig["construction_inspections"]}
    counts |= {"消防安全": round(sum(counts.values()) * 0.12), "其他": round(sum(counts.values()) * 0.04)}
    rows = []
    for kind, n in counts.items():
        for month in month_slots(n, rng, DUSTY if kind == "施工工地" else SUMMER):
            community = rng.choice(list(COMMUNITIES))
            target = {"施工工地": f"{address(rng, community)}房屋修缮工地", "垃圾分类": rng.choice((shop(rng), firm(rng)))}
            found = rng.choice((0, 0, 0, 1, 1, 2, 3))
            rows.append({"检查日期": day_in(year, month, rng, weekdays=True), "检查类型": kind,
                         "检查对象": target.get(kind, shop(rng)), "所属社区": community, "发现隐患数": found,
                         "整改隐患数": rng.randint(0, found), "发放宣传材料（份）": rng.choice((0, 2, 5, 10, 20))})
    garbage = [r for r in rows if r["检查类型"] == "垃圾分类"]
    for row, n in zip(garbage, split(fig["garbage_leaflets"], [rng.choice((0, 1, 1, 2, 5)) for _ in garbage])):
        row["发放宣传材料（份）"] = n
    catering = [r for r in rows if r["检查类型"] == "餐饮公服"]
    for row, n in zip(catering, split(fig["catering_hazards_fixed"], [rng.choice((0,) * 8 + (1, 2)) for _ in catering])):
        row["整改隐患数"], row["发现隐患数"] = n, n + rng.choice((0, 0, 0, 1))
    return number(rows, "检查日期", "检查编号", f"JC{year}-{{:05d}}")


# column, figure, floor, typical load per 勤务类型 (日常巡查, 联合执法, 专项打击, 重点点位盯守)
PATROL_FIGURES = (
    ("出动人次", "patrol_staff", 2, (3, 8, 10, 2)),
    ("盯守点位数", "watch_points", 0, (0.3, 0, 0, 4)),
    ("查处无照游商（起）", "vendors_stopped", 0, (0.5, 1, 3, 0.2)),
    ("暂扣车辆（辆）", "vehicles_seized", 0, (0, 0, 0.5, 0)),
    ("拆除牌匾标识（块）", "signs_removed", 0, (0, 1, 0.5, 0)),
)
DUTIES = ("日常巡查", "联合执法", "专项打击", "重点点位盯守")


def patrol_logs(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """A daily patrol every day, joint and special operations as the figure says, a few watch duties."""
    days = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(366 if calendar.isleap(year) else 365)]
    rows = [{"勤务日期": d, "勤务类型": "日常巡查"} for d in days]
    rows += [{"勤务日期": day_in(year, m, rng, weekdays=True), "勤务类型": rng.choices(("联合执法", "专项打击"), (3, 2))[0]}
             for m in month_slots(fig["joint_operations"], rng, SUMMER)]
    rows += [{"勤务日期": day_in(year, m, rng), "勤务类型": "重点点位盯守"} for m in ALL_MONTHS for _ in range(rng.randint(2, 6))]
    for column, figure, floor, loads in PATROL_FIGURES:
        weights = [loads[DUTIES.index(r["勤务类型"])] * rng.expovariate(1) for r in rows]
        for row, n in zip(rows, split(fig[figure], weights, floor)):
            row[column] = n
    return number(rows, "勤务日期", "日志编号", f"QW{year}-{{:04d}}")


# 信访形式: (share carrying an ID number, share carrying a phone, 信访人数 mix)
PETITION_FORMS = {"来访": (0.95, 0.9, {1: 80, 2: 12, 3: 5, 6: 3}), "网信": (0.9, 1.0, {1: 1}),
                  "来信": (0.4, 0.6, {1: 85, 2: 10, 4: 5}), "来电": (0.0, 1.0, {1: 1})}


def petitions(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Visits and online cases as the figures say, plus letters and calls."""
    visits = fig["petition_visits"]
    counts = {"来访": visits, "网信": fig["petition_online"], "来信": round(visits * 0.15), "来电": round(visits * 0.3)}
    rows = []
    for form, n in counts.items():
        with_id, with_phone, people = PETITION_FORMS[form]
        for month in month_slots(n, rng, HOLIDAY_DIP):
            registered = day_in(year, month, rng, weekdays=True)
            community = rng.choice(list(COMMUNITIES)) if rng.random() < 0.85 else None  # None: from outside
            area = "110101" if community else rng.choice(ID_AREAS_OUTSIDE)
            rows.append({"登记日期": registered, "信访形式": form, "信访人姓名": person(rng),
                         "身份证号": id_card(rng, area) if rng.random() < with_id else None,
                         "联系电话": phone(rng, 1 - with_phone), "信访人数": pick(rng, people),
                         "问题类别": rng.choice(ISSUES), "所属社区": community,
                         "办理状态": "已办结" if registered + dt.timedelta(days=rng.randint(2, 20)) <= last_day(year, month)
                         else "办理中"})
    return number(rows, "登记日期", "信访件编号", f"JDK-XF-{year}-{{:04d}}")


RECEIVERS = {"处级": ("刘建华", "王静", "张志强", "陈海涛"), "科级": ("李明", "赵丽华", "孙伟", "周敏", "吴涛"),
             "其他": ("郑欣怡", "马超", "朱雨桐", "胡浩")}


def petition_receptions(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Batches received, the leaders' batches and people as the figures say."""
    leader = fig["leader_reception_batches"]
    others = fig["reception_batches"] - leader
    levels = ["处级"] * leader + [rng.choices(("科级", "其他"), (2, 1))[0] for _ in range(others)]
    people = (split(fig["leader_reception_people"], jitter([1] * leader, rng, 0.9), floor=1)
              + split(fig["reception_people"] - fig["leader_reception_people"], jitter([1] * others, rng, 0.9), floor=1))
    order = list(range(len(levels)))
    rng.shuffle(order)
    rows = []
    for i, month in zip(order, month_slots(len(levels), rng, HOLIDAY_DIP)):
        community = rng.choice(list(COMMUNITIES))
        rows.append({"接待日期": day_in(year, month, rng, weekdays=True), "来访人数": people[i],
                     "接待人": rng.choice(RECEIVERS[levels[i]]), "接待人级别": levels[i],
                     "事由": f"反映{rng.choice(COMMUNITIES[community])}{rng.choice(ISSUES)}问题"})
    return number(rows, "接待日期", "登记编号", f"JF{year}-{{:04d}}")


DISPUTE_TYPES = {"邻里纠纷": 5, "家庭纠纷": 3, "物业纠纷": 3, "房屋纠纷": 2, "劳动纠纷": 1, "其他": 1}


def disputes(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Disputes taken up: the resolved ones as the figure says, the rest transferred, failed or open."""
    resolved, rest = fig["disputes_resolved"], fig["disputes_received"] - fig["disputes_resolved"]
    transferred, failed = round(rest * 0.5), round(rest * 0.2)
    outcomes = ([("已化解", rng.choice(("思想工作", "心理疏导", "困难帮扶", "自行和解"))) for _ in range(resolved)]
                + [("已转办", rng.choice(("转人民调解", "转相关部门"))) for _ in range(transferred)]
                + [("未化解", rng.choice(("思想工作", None))) for _ in range(failed)]
                + [("办理中", None)] * (rest - transferred - failed))
    rng.shuffle(outcomes)
    rows = [{"受理日期": day_in(year, month, rng), "纠纷类型": pick(rng, DISPUTE_TYPES),
             "所属社区": rng.choice(list(COMMUNITIES)), "化解方式": way, "办理结果": result,
             "当事人": f"{person(rng)}、{person(rng)}"}
            for (result, way), month in zip(outcomes, month_slots(len(outcomes), rng))]
    return number(rows, "受理日期", "纠纷编号", f"JDK-MD-{year}-{{:03d}}")


def mediations(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Mediations; those not finished by the export are 调解中, the success rate holds among the rest."""
    rows = []
    for month in month_slots(fig["mediations_handled"], rng):
        received = day_in(year, month, rng)
        closed = received + dt.timedelta(days=rng.randint(0, 12))
        open_ = closed > last_day(year, month)
        committee = rng.choice(["街道"] + list(COMMUNITIES))
        rows.append({"受理日期": received, "调委会": f"{committee}人民调解委员会", "纠纷类型": pick(rng, DISPUTE_TYPES),
                     "调解结果": "调解中" if open_ else "调解成功",
                     "协议形式": None if open_ else rng.choices(("口头", "书面"), (3, 2))[0],
                     "结案日期": None if open_ else closed})
    decided = [r for r in rows if r["调解结果"] != "调解中"]
    for row in rng.sample(decided, rate_split(len(decided), fig["mediation_success_rate"])[1]):
        row["调解结果"] = "调解不成功"
    return number(rows, "受理日期", "案件编号", f"JDK-TJ-{year}-{{:04d}}")


SUPPLIES = {  # 物资名称: (figure of the quantity, 单位, usual quantity per hand-out, season, 发放对象)
    "灭火器": ("extinguishers", "具", 80, FIRE, "{}居民院落"),
    "四件套": ("elderly_kits", "套", 30, (3, 1, 0, 0, 0, 0, 0, 0, 1, 3, 0, 0), "{}80岁以上老人"),  # 春节, 重阳
    "烟感报警器": ("smoke_alarms", "个", 8, FLAT, "{}独居老人家庭"),
    "防灾应急包": ("disaster_kits", "个", 5, (0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), "{}灾害信息员"),  # 防灾减灾日
}


def supplies(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Hand-outs whose quantities add up to the figures, plus other items."""
    rows = []
    for item, (figure, unit, usual, season, receiver) in SUPPLIES.items():
        months = month_slots(max(1, round(fig[figure] / usual)), rng, season)
        for month, quantity in zip(months, split(fig[figure], jitter([1] * len(months), rng, 0.6), floor=1)):
            community = rng.choice(list(COMMUNITIES))
            if item == "灭火器" and rng.random() < 0.15:  # units outside the communities
                community, to = None, f"驻街单位：{firm(rng)}"
            else:
                to = receiver.format(community)
            rows.append({"发放日期": day_in(year, month, rng, weekdays=True), "物资名称": item, "数量": quantity,
                         "单位": unit, "发放对象": to, "所属社区": community})
    for month in rng.sample(ALL_MONTHS, 5):
        community = rng.choice(list(COMMUNITIES))
        rows.append({"发放日期": day_in(year, month, rng, weekdays=True), "物资名称": "其他",
                     "数量": rng.randint(10, 100), "单位": "个",
                     "发放对象": f"{community}居民（{rng.choice(('应急手电筒', '急救包', '防滑垫'))}）", "所属社区": community})
    return number(rows, "发放日期", "发放编号", f"WZ{year}-{{:04d}}")


NPC = {  # 类别: (figure of the row count, months when raised, summaries)
    "审议意见": ("npc_opinions", (4, 6, 9, 12),
                 ("关于加强背街小巷环境整治的意见", "关于优化平房区停车管理的意见", "关于做好冬季取暖安全的意见",
                  "关于提升接诉即办响应率的意见", "关于加强历史文化街区保护的意见")),
    "代表建议": ("npc_suggestions", (1,),
                 ("关于南锣鼓巷周边交通疏导的建议", "关于增设社区养老助餐点的建议", "关于胡同公厕改造提升的建议",
                  "关于老旧楼房加装电梯的建议", "关于规范共享单车停放的建议")),
    "接待意见": ("npc_reception_opinions", (3, 5, 6, 9, 11, 12),
                 ("反映{}夜间噪音扰民", "反映{}雨后积水", "建议{}增设休闲座椅", "反映{}垃圾桶站异味", "反映{}违规停车")),
    "座谈反映问题": ("npc_forum_issues", (4, 6, 9, 11),
                     ("平房区电动自行车充电难", "老年人就医陪护需求", "胡同停车秩序", "文保院落修缮进度", "商户外摆管理")),
}


def npc_items(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Deputies' items; the satisfaction and reply rates hold exactly."""
    happy, unhappy = rate_split(fig["npc_suggestions"], fig["npc_suggestion_satisfaction"])
    replied, unreplied = rate_split(fig["npc_reception_opinions"], fig["npc_reception_reply_rate"])
    satisfaction = {"满意": 8, "基本满意": 2}
    answers = {"代表建议": [("是", "满意")] * happy + [("是", "基本满意")] * unhappy,
               "接待意见": [("是", pick(rng, satisfaction)) for _ in range(replied)] + [("否", None)] * unreplied}
    rows = []
    for category, (figure, months, summaries) in NPC.items():
        answered = answers.get(category) or [("是", pick(rng, satisfaction)) if rng.random() < 0.85 else ("否", None)
                                             for _ in range(fig[figure])]
        season = [float(m in months) for m in ALL_MONTHS]
        topics = rng.sample(summaries, len(summaries))  # no topic twice before all were raised
        for i, ((answer, satisfied), month) in enumerate(zip(answered, month_slots(fig[figure], rng, season))):
            street = rng.choice(rng.choice(list(COMMUNITIES.values())))
            rows.append({"提出日期": day_in(year, month, rng, weekdays=True), "类别": category,
                         "内容摘要": topics[i % len(topics)].format(street), "是否已答复": answer, "满意度": satisfied})
    return number(rows, "提出日期", "编号", f"RD{year}-{{:03d}}")


SUIT_CAUSES = ("不服行政处罚决定（店外经营）", "不服责令限期拆除决定", "要求履行查处噪音扰民法定职责", "不服政府信息公开答复")
APPEAL_CAUSES = ("不服行政处罚决定（垃圾分类）", "不服政府信息公开答复", "不服暂扣物品决定", "要求履行法定职责")


def litigation(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Lawsuits with the outcomes of the figures, and appeals (行政复议) that count toward none."""
    outcomes = (["撤诉"] * fig["lawsuits_withdrawn"] + ["败诉"] * fig["lawsuits_lost"]
                + ["未判决"] * fig["lawsuits_pending"])
    outcomes += ["胜诉"] * (fig["lawsuits"] - len(outcomes))
    suits = [{"案件类型": "行政诉讼", "案由": rng.choice(SUIT_CAUSES), "审理结果": o, "负责人出庭": "否"} for o in outcomes]
    # The first withdrawal was still pending when its month was first exported: the _v2 file corrects it.
    assert suits[0]["审理结果"] == "撤诉"
    suits[0]["_v1"] = {"审理结果": "未判决"}
    for row in rng.sample(suits, fig["court_appearances"]):
        row["负责人出庭"] = "是"
    appeals = [{"案件类型": "行政复议", "案由": rng.choice(APPEAL_CAUSES), "审理结果": rng.choice(("驳回", "胜诉", "撤诉", "未判决")),
                "负责人出庭": "否"} for _ in range(6)]
    rows = sorted(({**r, "收案日期": day_in(year, rng.randint(1, 12), rng, weekdays=True)} for r in suits + appeals),
                  key=lambda r: r["收案日期"])
    numbers = {"行政诉讼": iter(sorted(rng.sample(range(20, 400), len(suits)))),
               "行政复议": iter(sorted(rng.sample(range(10, 200), len(appeals))))}
    for row in rows:
        n = next(numbers[row["案件类型"]])
        row["案号"] = f"（{year}）京0101行初{n}号" if row["案件类型"] == "行政诉讼" else f"东政复字〔{year}〕{n}号"
    return rows


RULES = ("交道口街道办事处合同管理办法", "重大行政决策程序规定", "行政执法公示制度", "法律顾问工作制度",
         "公文处理办法", "财务管理制度", "印章管理办法", "信访工作制度")
CAMPAIGNS = ("宪法宣传周活动", "民法典宣传月进社区", "普法讲座进胡同", "法律明白人培训", "国家安全教育日宣传")
# 活动类别: (row count: figure or fixed, 参与人次: figure of the sum or usual range, 责任科室, season, 活动名称)
LEDGER = {
    "主任办公会学法": ("study_office_meeting_sessions", (12, 25), "党政综合办公室", FLAT, "主任办公会学法：{law}"),
    "理论学习中心组学法": ("study_group_sessions", (15, 30), "党群工作办公室", FLAT, "理论学习中心组专题学法：{law}"),
    "领导干部法治专题讲座": ("study_lectures", (60, 150), "司法所", FLAT, "领导干部法治专题讲座：{law}解读"),
    "副主任讲法": ("study_deputy_talks", (20, 60), "党政综合办公室", FLAT, "副主任讲法：{law}"),
    "政企交流活动": ("business_forums", (20, 45), "营商环境办公室", FLAT, "“交道口·南锣会客厅”政企交流活动第{n}期"),
    "制度制定修订": ("rules_made", (0, 0), "党政综合办公室", FLAT, "制定修订《{rule}》"),
    "执法案卷评查": ("case_reviews", (5, 12), "司法所", FLAT, "{year}年第{n}次执法案卷评查"),
    "消防培训": ("fire_trainings", (30, 120), "平安建设办公室", FIRE, "{community}家庭防火及自救逃生培训"),
    "应急演练": ("drills", (20, 80), "平安建设办公室", FIRE, "{community}初期火灾扑救及人员疏散演练"),
    "代表接待": ("npc_receptions", "npc_reception_voters", "人大街道工委", FLAT, "人大代表接待选民（{community}）"),
    "代表座谈会": ("npc_forums", (5, 15), "人大街道工委", FLAT, "参加区人大常委会接待代表座谈会"),
    "整改意见书回复": ("rectification_replies", (0, 0), "司法所", FLAT, "回复区司法局法治督察整改意见书"),
    "调解业务培训": ("mediator_trainings", "mediator_trainees", "司法所", FLAT, "人民调解员业务培训（第{n}期）"),
    "矛盾纠纷排查": ("dispute_screenings", (3, 12), "平安建设办公室", FLAT, "{community}矛盾纠纷排查"),
    "学法用法考试": (2, "law_exam_takers", "党群工作办公室", FLAT, "新提职领导干部和新入职人员学法用法考试"),
    "锦旗表彰": ("banners", (0, 0), "司法所", FLAT, "收到群众赠送锦旗"),
    "其他": (15, (10, 60), "司法所", FLAT, "{campaign}"),
}


def activity_ledger(fig: dict, year: int, rng: random.Random) -> list[dict]:
    """Ledger rows per category; counts and participant sums as the figures say."""
    rows = []
    for category, (count, participants, office, season, name) in LEDGER.items():
        n = fig[count] if isinstance(count, str) else count
        dates = sorted(day_in(year, m, rng, weekdays=True) for m in month_slots(n, rng, season))
        people = (split(fig[participants], jitter([1] * n, rng), floor=1) if isinstance(participants, str)
                  else [rng.randint(*participants) for _ in range(n)])
        for i, (date, k) in enumerate(zip(dates, people)):
            title = name.format(law=rng.choice(LAWS), community=rng.choice(list(COMMUNITIES)), n=i + 1, year=year,
                                rule=RULES[i % len(RULES)], campaign=rng.choice(CAMPAIGNS))
            rows.append({"活动日期": date, "责任科室": office, "活动类别": category, "活动名称": title, "参与人次": k})
    return number(rows, "活动日期", "台账编号", f"TZ-{year}-{{:04d}}")


# A source of the report: its generator, reproducing the report's figures, and the format its system delivers.
GENERATORS = {
    "work_orders": (work_orders, "csv"), "penalty_cases": (penalty_cases, "xlsx"), "inspections": (inspections, "csv"),
    "patrol_logs": (patrol_logs, "xlsx"), "petitions": (petitions, "csv"),
    "petition_receptions": (petition_receptions, "csv"), "disputes": (disputes, "xlsx"), "mediations": (mediations, "csv"),
    "supplies": (supplies, "csv"), "npc_items": (npc_items, "xlsx"), "litigation": (litigation, "csv"),
    "activity_ledger": (activity_ledger, "xlsx"),
}
# A source without a generator: about this many rows a month, optional cells empty this often.
