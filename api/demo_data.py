"""The demo catalog: categories, warehouses and forty-odd gifts with Chinese and English names."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

CATEGORIES = [
    ("electronics", "数码电子 Electronics"),
    ("home", "居家生活 Home & Living"),
    ("kitchen", "厨房电器 Kitchen"),
    ("food", "美食饮品 Food & Drink"),
    ("travel", "出行旅游 Travel"),
    ("sports", "运动户外 Sports & Outdoors"),
    ("kids", "母婴玩具 Kids & Toys"),
]

WAREHOUSES = [
    ("SH01", "上海嘉定仓 Shanghai Jiading", 400, "Asia/Shanghai", ["2027-01-01", "2027-02-17"]),
    ("GZ01", "广州白云仓 Guangzhou Baiyun", 250, "Asia/Shanghai", ["2027-01-01", "2027-02-17"]),
]


class DemoGift(NamedTuple):
    sku: str
    category: str
    name: str
    points: int
    cash: Decimal | None = None
    limit: int | None = None


GIFTS = [
    DemoGift(
        "EL-PB10K", "electronics", "小米移动电源 10000mAh / Xiaomi Power Bank 10000mAh", 6_900
    ),
    DemoGift(
        "EL-BUDS5", "electronics", "华为 FreeBuds 5i 无线耳机 / Huawei FreeBuds 5i Earbuds", 32_000
    ),
    DemoGift("EL-BAND8", "electronics", "小米手环 8 / Xiaomi Smart Band 8", 14_500),
    DemoGift("EL-SPK-M", "electronics", "漫步者蓝牙音箱 / Edifier Bluetooth Speaker", 9_800),
    DemoGift("EL-CHG65", "electronics", "安克 65W 氮化镓充电器 / Anker 65W GaN Charger", 8_800),
    DemoGift(
        "EL-KBD",
        "electronics",
        "罗技无线键盘 K380 / Logitech K380 Keyboard",
        9_000,
        Decimal("29.90"),
    ),
    DemoGift("EL-MOUSE", "electronics", "罗技无线鼠标 M330 / Logitech M330 Silent Mouse", 5_200),
    DemoGift(
        "EL-SSD1T",
        "electronics",
        "三星移动固态硬盘 1TB / Samsung Portable SSD 1TB",
        45_000,
        Decimal("99.00"),
        1,
    ),
    DemoGift("EL-CAM", "electronics", "萤石家用摄像头 / EZVIZ Home Camera", 12_800),
    DemoGift("EL-LAMP", "electronics", "明基护眼台灯 / BenQ Desk Lamp", 26_000, Decimal("49.00")),
    DemoGift("HM-TOWEL", "home", "洁丽雅纯棉毛巾三条装 / Grace Cotton Towels (3)", 1_800),
    DemoGift("HM-PILLOW", "home", "乳胶枕 / Natural Latex Pillow", 9_000),
    DemoGift("HM-BLNKT", "home", "珊瑚绒毯 / Coral Fleece Blanket", 4_500),
    DemoGift("HM-DIFF", "home", "香薰加湿器 / Aroma Diffuser", 5_600),
    DemoGift("HM-UMBR", "home", "天堂伞晴雨两用 / Paradise Sun & Rain Umbrella", 2_600),
    DemoGift("HM-MUG", "home", "膳魔师保温杯 500ml / Thermos Vacuum Mug 500ml", 7_800),
    DemoGift(
        "HM-SHEET", "home", "水星家纺四件套 / Mercury Bedding Set (4 pcs)", 19_800, Decimal("39.00")
    ),
    DemoGift("KT-RICE", "kitchen", "美的智能电饭煲 / Midea Smart Rice Cooker", 21_000),
    DemoGift("KT-KETTLE", "kitchen", "苏泊尔电水壶 / Supor Electric Kettle", 6_500),
    DemoGift("KT-AIRFRY", "kitchen", "九阳空气炸锅 / Joyoung Air Fryer", 24_000, Decimal("59.00")),
    DemoGift("KT-KNIFE", "kitchen", "张小泉刀具套装 / Zhang Xiaoquan Knife Set", 11_200),
    DemoGift("KT-SOYMK", "kitchen", "九阳豆浆机 / Joyoung Soymilk Maker", 17_500),
    DemoGift("KT-PAN", "kitchen", "爱仕达不粘炒锅 / ASD Non-stick Wok", 9_900),
    DemoGift("FD-TEA", "food", "西湖龙井礼盒 / West Lake Longjing Tea Gift Box", 12_000),
    DemoGift("FD-NUTS", "food", "三只松鼠坚果礼盒 / Three Squirrels Nut Gift Box", 3_900),
    DemoGift("FD-MOON", "food", "稻香村糕点礼盒 / Daoxiangcun Pastry Box", 4_800),
    DemoGift("FD-OIL", "food", "金龙鱼食用油 5L / Arawana Cooking Oil 5L", 2_900),
    DemoGift("FD-RICE", "food", "五常大米 5kg / Wuchang Rice 5kg", 3_500),
    DemoGift("FD-COFFEE", "food", "永璞咖啡液礼盒 / Yongpu Coffee Concentrate Box", 2_400),
    DemoGift(
        "TR-LUGG20",
        "travel",
        "小米 20 寸旅行箱 / Xiaomi 20-inch Carry-on",
        29_000,
        Decimal("69.00"),
    ),
    DemoGift("TR-NECK", "travel", "U 型记忆枕 / Memory Foam Neck Pillow", 2_100),
    DemoGift("TR-BAG", "travel", "双肩电脑包 / Laptop Backpack", 8_800),
    DemoGift("TR-ADAPT", "travel", "全球通用转换插头 / Universal Travel Adapter", 2_900),
    DemoGift("SP-YOGA", "sports", "瑜伽垫 / Yoga Mat", 3_300),
    DemoGift("SP-ROPE", "sports", "智能跳绳 / Smart Jump Rope", 2_200),
    DemoGift("SP-BOTTLE", "sports", "运动水壶 1L / Sports Bottle 1L", 1_900),
    DemoGift("SP-RACKET", "sports", "李宁羽毛球拍 / Li-Ning Badminton Racket", 13_800, limit=2),
    DemoGift(
        "SP-TENT", "sports", "牧高笛双人帐篷 / Mobi Garden 2-person Tent", 36_000, Decimal("89.00")
    ),
    DemoGift("KD-LEGO", "kids", "乐高城市系列 / LEGO City Set", 18_000, limit=2),
    DemoGift("KD-BOOKS", "kids", "儿童绘本十册 / Picture Books (10)", 5_500),
    DemoGift("KD-CRAYON", "kids", "得力蜡笔套装 / Deli Crayon Set", 900),
    DemoGift("KD-BLOCKS", "kids", "木质积木 100 粒 / Wooden Blocks (100)", 4_200),
    DemoGift("KD-HOT", "kids", "限量版熊猫公仔 / Limited Panda Plush", 9_000, limit=1),
]

FAMILY_NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
]
