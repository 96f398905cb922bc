"""Test doubles shared by the tests/test_index_* suites: a fake embedder and synthetic Chinese passages.

Other suites import them (`from test_index_fakes import ...`); the tests here pin the doubles' own contract.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ITEMS: list[tuple[str, str]] = [
    ("park", "春天的公园里开满了桃花和樱花，游客很多"),
    ("library", "图书馆周末开放时间延长到晚上九点"),
    ("restaurant", "这家餐厅的红烧肉和清蒸鱼很受欢迎"),
    ("station", "火车站新建了地下停车场，可以停放五百辆汽车"),
    ("school", "小学生每天需要完成一小时的体育锻炼"),
    ("python", "Python is a programming language used for data analysis"),
    ("museum", "博物馆展出了一批宋代瓷器和书画"),
    ("metro", "城市地铁三号线将于明年年底通车"),
]

_WORDS = ["城市", "学校", "公园", "医院", "图书馆", "博物馆", "火车站", "机场", "地铁", "公交", "超市", "餐厅", "咖啡", "音乐", "电影", "足球", "篮球", "游泳", "跑步", "旅游", "春天", "夏天", "秋天", "冬天", "早上", "晚上", "周末", "假期", "天气", "下雨", "阳光", "花园", "树木", "河流", "山脉", "湖泊", "海边", "森林", "动物", "植物", "老师", "学生", "医生", "司机", "厨师", "工程师", "画家", "作家", "农民", "工人", "孩子", "老人", "朋友", "家庭", "邻居", "游客", "观众", "读者", "记者", "演员", "电脑", "手机", "汽车", "自行车", "飞机", "火车", "房子", "桌子", "椅子", "书包", "衣服", "鞋子", "帽子", "雨伞", "钥匙", "照片", "地图", "报纸", "杂志", "信件", "举办", "参观", "学习", "工作", "休息", "购买", "销售", "制作", "修理", "设计", "建设", "开放", "关闭", "增加", "减少", "提高", "改善", "发现", "研究", "讨论"]


def synthetic_passages(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """count (id, text) pairs of 15 to 40 characters of everyday Chinese words; nothing policy-specific."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        words = []
        while sum(map(len, words)) < rng.randint(15, 40):
            words.append(rng.choice(_WORDS))
            if rng.random() < 0.3:
                words.append(rng.choice("的和在了"))
        items.append((f"p{i:05d}", "".join(words) + "。"))
    return items


class FakeEmbedder:
    """Stands in for the sentence-embedding model, which is not the subject of these tests.

    Hashes character unigrams and bigrams into 64 signed buckets and L2-normalises: deterministic,
    instant, and texts sharing characters come out similar. It records every text it embeds, and
    can sleep per call so a build lasts long enough to be killed midway.
    """

    def __init__(self, model_id: str = "fake-ngram-64", dimension: int = 64, delay_s: float = 0.0,
                 started_marker: Path | None = None) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.delay_s = delay_s
        self.started_marker = started_marker
        self.embedded: list[str] = []
        self.query_calls = 0

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram in [*text, *(text[i : i + 2] for i in range(len(text) - 1))]:
                bucket = zlib.crc32(gram.encode("utf-8"))
                out[row, bucket % self.dimension] += 1.0 if bucket & 0x100 else -1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0], norm = 1.0, 1.0
            out[row] /= norm
        return out

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if self.started_marker is not None:
            self.started_marker.touch()
        if self.delay_s:
            time.sleep(self.delay_s)
        self.embedded.extend(texts)
        return self._vectors(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_calls += 1
        return self._vectors(texts)


def test_fake_embedder_is_deterministic_and_normalised():
    first = FakeEmbedder().embed_documents(["公园的桃花", "", "python"])
    second = FakeEmbedder().embed_queries(["公园的桃花", "", "python"])
    assert first.dtype == np.float32 and first.shape == (3, 64)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)


def test_fake_embedder_makes_shared_characters_similar():
    vectors = FakeEmbedder().embed_documents(["公园里的桃花", "公园桃花", "火车站停车场"])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_synthetic_passages_are_reproducible_with_unique_ids():
    items = synthetic_passages(50)
    assert items == synthetic_passages(50)
    assert len({item_id for item_id, _ in items}) == 50
    assert all(15 <= len(text) for _, text in items)
