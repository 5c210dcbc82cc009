"""bench/results.json -> a markdown table with the issue's targets beside each figure."""

from __future__ import annotations


def _row(what, value, target="", ok=None):
    mark = "" if ok is None else (" ✅" if ok else " ❌")
    return f"| {what} | {value} | {target}{mark} |"


def table(r: dict) -> str:
    rows = ["| measurement | result | target |", "|---|---|---|"]
    t = r.get("training")
    if t:
        rows += [
            _row(
                "textbook loop (DataLoader + ToTensor, 784-400-20, batch 128)",
                f"{t['textbook_samples_per_s']:,.0f} samples/s",
            ),
            _row("our Trainer, same net and batch", f"{t['ours_same_net_samples_per_s']:,.0f} samples/s"),
            _row(
                "speed-up over the textbook loop",
                f"{t['speedup_vs_textbook']:.1f}×",
                "≥ 3×",
                t["speedup_vs_textbook"] >= 3,
            ),
            _row("measured matmul throughput (2048², fp32)", f"{t['matmul_gflops']:.0f} GFLOP/s"),
            _row(
                "our Trainer as a share of it (same net)",
                f"{t['ours_same_net_fraction_of_matmul']:.0%}",
                "≥ 50 %",
                t["ours_same_net_fraction_of_matmul"] >= 0.5,
            ),
            _row(
                "… with --precision bf16 (mixed precision; opt-in)",
                f"{t['ours_bf16_samples_per_s']:,.0f} samples/s = {t['speedup_bf16_vs_textbook']:.1f}× textbook, "
                f"{t['ours_bf16_fraction_of_bf16_matmul']:.0%} of bf16 matmul ({t['matmul_gflops_bf16']:.0f} GFLOP/s)",
            ),
            _row(
                "shipped recipe (784-512-256-16, batch 64, shift aug.)",
                f"{t['ours_recipe_samples_per_s']:,.0f} samples/s"
                f" = {t['ours_recipe_fraction_of_matmul']:.0%} of matmul",
            ),
        ]
    q = r.get("textbook_quality")
    if q:
        rows.append(_row(f"textbook VAE after {q['epochs']} epochs: validation −ELBO", f"{q['val_neg_elbo']:.1f} nats"))
    big = r.get("pages_fashion") or {}
    for page, v in (r.get("pages") or {}).items():
        rows.append(
            _row(
                f"page {page}: cold (new process) / warm",
                f"{v['cold_s']:.1f} s / {v['warm_s']:.2f} s",
                "warm ≤ 3 s",
                v["warm_s"] <= 3,
            )
        )
        if page in big:
            f = big[page]
            rows.append(
                _row(
                    "… on Fashion's 54,000 images (fashion-vae-z2): cold / warm",
                    f"{f['cold_s']:.1f} s / {f['warm_s']:.2f} s ({f['warm_s'] / max(v['warm_s'], 1e-9):.1f}× warm)",
                    "warm ≤ 3 s",
                    f["warm_s"] <= 3,
                )
            )
    s = r.get("slider")
    if s:
        rows.append(
            _row(
                "slider move → decoded image (server work, median / p95)",
                f"{s['fragment_work_median_ms']:.1f} ms / {s['fragment_work_p95_ms']:.1f} ms",
                "≤ 100 ms",
                s["fragment_work_p95_ms"] <= 100,
            )
        )
    p = r.get("projections")
    if p:
        rows.append(_row("UMAP first call (numba compilation)", f"{p['umap_first_call_incl_compile_s']:.1f} s"))
        for m in ("pca", "tsne", "umap"):
            rows.append(
                _row(f"{m} on 4,500 codes: cold / cached", f"{p[m + '_cold_s']:.2f} s / {p[m + '_cached_s']:.3f} s")
            )
    rt = r.get("retrain")
    if rt:
        gap = rt["val_neg_elbo"] - rt["shipped_val_neg_elbo"]
        rows += [
            _row(
                f"in-app retrain, vae-z16, {rt['epochs']} epochs: wall",
                f"{rt['wall_s']:.0f} s",
                "≤ 60 s",
                rt["wall_s"] <= 60,
            ),
            _row("… peak memory (process RSS)", f"{rt['peak_rss_mb']:.0f} MB"),
            _row(
                "… validation −ELBO vs shipped",
                f"{rt['val_neg_elbo']:.1f} vs {rt['shipped_val_neg_elbo']:.1f} nats",
                "within 5 nats",
                gap <= 5,
            ),
        ]
    j = r.get("jobs")
    if j:
        rows += [
            _row(
                "Traverse page render: idle / while a job trains",
                f"{j['traverse_render_idle_s']:.2f} s / {j['traverse_render_while_training_s']:.2f} s",
            ),
            _row("second tab's job while one runs", j["second_job_message"]),
            _row(
                "cancel → job stopped",
                f"{j['cancel_latency_s'] * 1000:.0f} ms, files left: {len(j['files_left'])}",
                "≤ 2 s, none",
                j["cancel_latency_s"] <= 2 and not j["files_left"],
            ),
        ]
    iw = r.get("iw")
    if iw:
        a, b = iw["k1000_n1000"], iw["k5000_n200"]
        rows += [
            _row("IW-NLL, K = 1000 on 1,000 digits", f"{a['s']:.1f} s, peak RSS {a['peak_rss_mb']:.0f} MB"),
            _row(
                "IW-NLL, K = 5000 on 200 digits: peak RSS",
                f"{b['peak_rss_mb']:.0f} MB",
                "< 2 GB",
                b["peak_rss_mb"] < 2048,
            ),
        ]
    d = r.get("device")
    if d:
        peaks = ", ".join(f"{p} {g:,.0f} GFLOP/s" for p, g in d["peak_gflops"].items())
        rows.append(_row(f"device: {d['device']} (auto precision: {d['auto_precision']})", f"matmul peak {peaks}"))
        for run in d["runs"]:
            rows.append(
                _row(
                    f"… {run['net']} net, batch {run['batch']:,}, {run['precision']}",
                    f"{run['samples_per_s']:,.0f} samples/s = {run['share_of_peak']:.0%} of {run['precision']} matmul",
                )
            )
    o = r.get("onnx")
    if o:
        for what, fmt in (
            ("load in a fresh process (after imports)", lambda v: f"{v['load']['first_load_s']:.2f} s"),
            ("encode mnist5k's 4,500 images (batches of 1,000)", lambda v: f"{v['encode_images_per_s']:,.0f} images/s"),
            ("decode 4,500 codes (batches of 1,000)", lambda v: f"{v['decode_codes_per_s']:,.0f} codes/s"),
            ("decode one code (server side)", lambda v: f"{v['decode_one_ms']:.2f} ms"),
            ("decode logits of K = 100 x 200 codes (the IW bound)", lambda v: f"{v['decode_iw_100x200_s']:.2f} s"),
        ):
            rows.append(_row(f"vae-z16, {what}: torch vs ONNX", f"{fmt(o['torch'])} vs {fmt(o['onnx'])}"))
    return "\n".join(rows)
