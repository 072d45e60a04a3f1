"""FVD runs end to end: tiny-video-ldm generating on the CPU, and videos a user already has; the store, the
settings recorded with the number, and the video leaderboard."""

from __future__ import annotations

import numpy as np
import pytest

from harness.video.io import write_video
from harness.video.reference import moving_shapes
from tests.helpers import cli_json, run_cli

RECORDED = {"extractor", "extractor_sha256", "clip_length", "resolution", "resize", "value_range", "features", "ddof",
            "seed", "num_generated", "num_reference", "reference", "generation", "prompts_sha256",
            "extract_seconds_per_clip"}


def test_tiny_video_ldm_generates_and_lands_on_the_video_leaderboard(tmp_path):
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", "--model", "tiny-video-ldm", "--task", "fvd", "--num-generated", "3", "--num-reference", "3",
                   "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert "random I3D weights" in proc.stderr and "fewer than the reference 2048" in proc.stderr
    (run,) = cli_json("runs", "--format", "json", "--db", str(db))
    settings = run["settings"]
    assert RECORDED <= set(settings) and settings["extractor"] == "random-i3d-seed0"
    assert settings["generation"] == {"steps": 2, "height": 32, "width": 32}  # the twin's small profile
    metrics = {m["metric"]: m for m in cli_json("show", run["run_id"], "--format", "json", "--db", str(db))["metrics"]}
    assert metrics["fvd"]["higher_is_better"] is False and np.isfinite(metrics["fvd"]["value"])
    assert metrics["n_generated"]["value"] == 3 and metrics["clip_length"]["value"] == 16
    proc = run_cli("leaderboard", "video", "--format", "csv", "--out", str(tmp_path / "site"), "--db", str(db))
    assert proc.returncode == 0 and "tiny-video-ldm" in proc.stdout


def test_videos_you_already_have_without_a_model(tmp_path):
    generated, ref = tmp_path / "generated", tmp_path / "reference"
    generated.mkdir()
    ref.mkdir()
    for i, clip in enumerate(moving_shapes(3, frames=18, size=48, seed=1)):
        write_video(generated / f"g{i}.mp4", clip)
    for i, clip in enumerate(moving_shapes(3, frames=16, size=48, seed=2)):
        np.save(ref / f"r{i}.npy", clip)
    db = tmp_path / "s.duckdb"
    (result,) = cli_json("run", "--task", "fvd", "--generated", str(generated), "--reference", str(ref), "--i3d",
                         "random", "--format", "json", "--db", str(db))
    (run,) = cli_json("runs", "--format", "json", "--db", str(db))
    assert run["model"] == "generated:generated" and run["model_fingerprint"].startswith("videos:")
    assert run["settings"]["generated"] == str(generated) and run["settings"]["num_reference"] == 3
    first = next(m["value"] for m in result["metrics"] if m["metric"] == "fvd")
    # the same videos in another order give the same FVD (clips are sampled per video with a fixed seed)
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    for i, path in enumerate(sorted(generated.iterdir(), reverse=True)):
        (shuffled / f"{i}-{path.name}").write_bytes(path.read_bytes())
    (again,) = cli_json("run", "--task", "fvd", "--generated", str(shuffled), "--reference", str(ref), "--i3d",
                        "random", "--format", "json", "--db", str(db))
    assert next(m["value"] for m in again["metrics"] if m["metric"] == "fvd") == pytest.approx(first, rel=1e-6, abs=1e-9)


def test_content_debiased_fvd_with_a_videomae_encoder(tmp_path):
    import torch
    from transformers import VideoMAEConfig, VideoMAEModel

    torch.manual_seed(0)
    encoder = tmp_path / "videomae"
    VideoMAEModel(VideoMAEConfig(image_size=224, patch_size=16, num_frames=16, tubelet_size=2, hidden_size=32,
                                 num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)).save_pretrained(encoder)
    generated, ref = tmp_path / "generated", tmp_path / "reference"
    for folder, seed in ((generated, 3), (ref, 4)):
        folder.mkdir()
        for i, clip in enumerate(moving_shapes(3, size=32, seed=seed)):
            np.save(folder / f"{i}.npy", clip)
    db = tmp_path / "s.duckdb"
    (result,) = cli_json("run", "--task", "fvd", "--generated", str(generated), "--reference", str(ref), "--i3d",
                         "random", "--videomae", str(encoder), "--format", "json", "--db", str(db))
    metrics = {m["metric"]: m for m in result["metrics"]}
    assert np.isfinite(metrics["cd_fvd"]["value"]) and metrics["cd_fvd"]["higher_is_better"] is False
    settings = cli_json("runs", "--format", "json", "--db", str(db))[0]["settings"]
    assert settings["videomae"] == "videomae" and len(settings["videomae_sha256"]) == 64
    proc = run_cli("run", "--task", "fvd", "--generated", str(generated), "--i3d", "random", "--videomae",
                   str(tmp_path / "nothing"), "--db", str(db))
    assert proc.returncode == 2 and "no VideoMAE checkpoint folder" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--task", "fvd"], "--model is required"),
    (["--task", "fvd", "--generated", "/no/such/dir", "--i3d", "random"], "not a folder of videos"),
    (["--model", "tiny-video-ldm", "--task", "fvd", "--i3d", "/no/i3d.pt"], "I3D weights not found at /no/i3d.pt"),
    (["--model", "tiny-pythia", "--task", "finance_headline", "--generated", "x"], "only apply to harness-native tasks"),
])
def test_bad_video_input_is_one_line_and_stores_nothing(tmp_path, args, message):
    db = tmp_path / "s.duckdb"
    proc = run_cli("run", *args, "--db", str(db))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert cli_json("runs", "--format", "json", "--db", str(db)) == []
