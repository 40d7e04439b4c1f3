"""The speech front end for a ~500-character Chinese script full of numbers: sentences, spoken form, phonemes.

Measures, on the same script in the same run: splitting it into sentences, each sentence's spoken
form (``speech/normalize.py``: zh-normalization plus our rules), and espeak ``cmn`` phonemes of
those spoken forms (what Piper does before the model runs). The baseline is what the front end
did before normalization existed: espeak phonemes of the script's own sentences. The report gives
the median over the repeats, the ratio of the whole front end to that baseline, the one-off cost
of loading zh-normalization and espeak, and the machine's load average (``harness.write_report``).

    python benchmarks/speech_frontend.py            # 30 repeats
    python benchmarks/speech_frontend.py --smoke    # 2 repeats: the code path only
"""

import statistics
import time

from harness import arguments, write_report

# ~500 characters, the length of the original table's scripts, with the kinds of numbers they hold.
SCRIPT = (
    "2025年3月15日上午10:30，公司在深圳发布了第3季度财报。财报显示，季度营收达到2.97亿元，"
    "同比增长12.5%，净利润为4,999万元，毛利率提升到38.6%。新款手机售价¥3,299元，比上一代便宜300元，"
    "内存从8GB升级到12GB，电池容量为5000mAh，支持100W快充，充满只需要25分钟。首发当天销量突破10万台，"
    "在电商平台的销量排名第2名。CEO在发布会上表示，AI功能是这一代产品的重点，用户满意度达到96%。"
    "公司计划在2026年之前把海外市场的份额从15%提高到20%-25%，并在全国新开200家门店。"
    "客服电话是400-800-1234，也可以拨打13812345678咨询。活动期间，前1,000名下单的用户可以获得价值"
    "199元的耳机，活动时间为3月15日-3月31日。北京今天气温-3℃到5℃，上海12℃，广州气温28°C。"
    "研发团队有1,200名工程师，去年研发投入超过3.5亿元，占营收的8.7%。股价今天上涨了4.99%，收于128.50元，"
    "总市值超过860亿元。分析师预计，明年营收有望增长到15亿元，增幅在20%到30%之间。"
    "新版系统v2.1.3将在4月1日推送，升级包大小约为1.5GB，用户可以访问官网example.com了解详情。"
)


def main() -> None:
    args = arguments(__doc__, "speech_frontend").parse_args()
    repeats = 2 if args.smoke else 30
    # 1. One-off costs: loading zh-normalization's tables and espeak's data.
    started = time.perf_counter()
    from piper.phoneme_ids import phonemes_to_ids
    from piper.phonemize_espeak import EspeakPhonemizer

    from talking_head_dagster.speech.normalize import spoken_form
    from talking_head_dagster.speech.sentences import split_sentences

    spoken_form("预热1.5%", "zh")
    espeak = EspeakPhonemizer()
    espeak.phonemize("cmn", "预热")
    warm_up_s = time.perf_counter() - started

    def phoneme_ids(texts: list[str]) -> int:
        return sum(len(phonemes_to_ids(p)) for text in texts for p in espeak.phonemize("cmn", text))

    # 2. Repeats: baseline (phonemes of the script's own sentences) and the front end.
    split_s, normalize_s, phonemize_s, baseline_s = [], [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sentences = split_sentences(SCRIPT)
        t1 = time.perf_counter()
        spoken = [spoken_form(sentence, "zh") for sentence in sentences]
        t2 = time.perf_counter()
        spoken_ids = phoneme_ids(spoken)
        t3 = time.perf_counter()
        baseline_ids = phoneme_ids(sentences)
        t4 = time.perf_counter()
        split_s.append(t1 - t0)
        normalize_s.append(t2 - t1)
        phonemize_s.append(t3 - t2)
        baseline_s.append(t4 - t3)
    # 3. The report.
    median_ms = {
        name: statistics.median(values) * 1000
        for name, values in (
            ("split", split_s),
            ("normalize", normalize_s),
            ("phonemize_spoken", phonemize_s),
            ("baseline", baseline_s),
        )
    }
    front_end_ms = median_ms["split"] + median_ms["normalize"] + median_ms["phonemize_spoken"]
    write_report(
        args,
        {
            "script_chars": len(SCRIPT),
            "sentences": len(sentences),
            "spoken_chars": sum(len(s) for s in spoken),
            "phoneme_ids_spoken": spoken_ids,
            "phoneme_ids_baseline": baseline_ids,
            "repeats": repeats,
            "warm_up_s": round(warm_up_s, 3),
            "median_ms": {name: round(value, 2) for name, value in median_ms.items()},
            "front_end_ms": round(front_end_ms, 2),
            "front_end_vs_baseline": round(front_end_ms / median_ms["baseline"], 2),
            "normalize_vs_baseline": round(median_ms["normalize"] / median_ms["baseline"], 2),
        },
    )


if __name__ == "__main__":
    main()
