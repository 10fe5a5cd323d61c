"""Serving product photos: the exported graph's ``embedding`` output and bundle fields, then a real
server on 127.0.0.1 answering ``/v1`` PNG/JPEG photos, OIP v2 tensors (JSON, binary, gRPC), refusing bad
photos with a 4xx naming the instance, and logging the photo statistics and embeddings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmarks.recs_fixture import LocalServer as Server

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def trained(photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A tiny CNN trained on simulated photos and registered in a fresh workspace (torch at 1 thread)."""
    from shopml.config import Workspace
    from shopml.images import ImagesConfig, train_images

    root = tmp_path_factory.mktemp("ws")
    ws = Workspace(root)
    cfg = ImagesConfig.make(quick=True, data=photos, epochs=8, baselines=False, n_resamples=50)
    result = train_images(cfg, ws=ws, tracking_uri=ws.mlflow_uri)
    result.workspace = root  # type: ignore[attr-defined]
    return result


def test_export_adds_the_embedding_output_with_parity() -> None:
    import torch

    from shopml.images.cnn import Classifier, Serving, build_cnn
    from shopml.images.export import export_graph, onnx_outputs, torch_outputs

    x = np.random.default_rng(0).integers(0, 256, (16, 28, 28)).astype(np.uint8)
    for pool, dim in ((1, 16), (3, 144)):
        torch.manual_seed(0)
        serving = Serving(Classifier(build_cnn(3, width=4, extra=False, pool=pool), 0.3, 0.3))
        out = export_graph(serving, ["a", "b", "c"], x)
        assert out.parity <= 1e-4 and out.embedding_parity <= 1e-4 and out.embedding_dim == dim
        proba, label, emb = onnx_outputs(out.graph, x, ["probabilities", "label", "embedding"])
        want_p, want_e = torch_outputs(serving, x)
        assert emb.shape == (16, dim) and np.allclose(emb, want_e, atol=1e-4)
        assert np.allclose(proba, want_p, atol=1e-4)
        assert label.tolist() == [["a", "b", "c"][i] for i in want_p.argmax(1)]


def test_bundle_records_the_serving_contract(trained: Any) -> None:
    meta = json.loads((trained.bundle_dir / "bundle.json").read_text())
    assert meta["input_type"] == "image" and meta["image_shape"] == [1, 28, 28]
    assert meta["embedding_output"] == "embedding" and meta["embedding_dim"] == 32
    assert meta["id_column"] == "image_id"
    assert meta["classes"][:2] == ["tshirt", "trousers"] and meta["parity_max_abs_diff"] <= 1e-4
    review = meta["review"]
    assert 0 < meta["review_threshold"] <= 1 and review["threshold"] == meta["review_threshold"]
    assert review["target"] == 0.98 and review["chosen_on"] == "validation"
    if review["met"]:
        assert review["precision"] >= 0.98


# --- the server -------------------------------------------------------------------------------------
PATH = "/v1/models/images/predict"
INFER = "/v2/models/images/infer"


@pytest.fixture(scope="module")
def served(trained: Any) -> Any:
    """The tiny model's workspace served (bodies up to 4 MiB, so the per-photo limits are what refuse)."""
    import socket

    from shopml.config import Workspace
    from shopml.registry import Registry

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        grpc_port = int(sock.getsockname()[1])
    ws = trained.workspace
    server = Server(ws, Registry(Workspace(ws)), max_body_bytes=4 << 20, grpc_port=grpc_port)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def test_photos(photos: Path) -> np.ndarray:
    from shopml.images.idx import load_images

    return load_images(photos).test_x[:12]


def encode_photo(pixels: np.ndarray, fmt: str = "PNG", **save: Any) -> str:
    """uint8 or RGB(A) pixels → base64 text of the encoded photo."""
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt, **save)
    return base64.b64encode(buf.getvalue()).decode()


def _post(server: Server, path: str, doc: Any) -> Any:
    import httpx

    return httpx.post(server.url + path, json=doc, timeout=30)


def test_v1_png_and_jpeg_photos(served: Server, test_photos: np.ndarray) -> None:
    meta = json.loads((_bundle(served) / "bundle.json").read_text())
    x = test_photos[:4]
    instances: list[Any] = [{"image": {"b64": encode_photo(p)}} for p in x[:2]]
    instances += [{"image": "data:image/png;base64," + encode_photo(x[2])}]  # a data URL
    instances += [{"image": encode_photo(x[3], "JPEG", quality=95)}]  # the bare base64 string
    r = _post(served, PATH, {"instances": instances})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["review_threshold"] == pytest.approx(meta["review_threshold"])
    for p in doc["predictions"]:
        probs = [t["probability"] for t in p["top"]]
        assert len(p["top"]) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
        assert p["label"] == p["top"][0]["category"] and p["label"] in meta["classes"]
        assert p["auto_assign"] is (probs[0] >= meta["review_threshold"] and meta["review"]["met"])
    # the PNG photos are the tensors /255 exactly: the same probabilities as OIP v2
    tensor = (x[:3].astype(np.float32) / 255.0)[:, None]
    v2 = _post(served, INFER, {"inputs": [_tensor(tensor)]}).json()
    proba = np.asarray(v2["outputs"][0]["data"]).reshape(3, -1)
    for i, p in enumerate(doc["predictions"][:3]):
        for t in p["top"]:
            assert t["probability"] == pytest.approx(proba[i, meta["classes"].index(t["category"])], abs=1e-6)
    # the JPEG photo (lossy) still gets its label's probability close to the lossless one
    png = _post(served, PATH, {"instances": [{"image": encode_photo(x[3])}]}).json()["predictions"][0]
    lossy = doc["predictions"][3]["top"][0]["probability"]
    assert lossy == pytest.approx(png["top"][0]["probability"], abs=0.1)


def _bundle(server: Server) -> Path:
    from shopml.config import Workspace
    from shopml.registry import Registry

    return Registry(Workspace(server.workspace)).load_bundle("images").path


def _tensor(pixels: np.ndarray, nested: bool = False) -> dict[str, Any]:
    data = pixels.tolist() if nested else pixels.reshape(-1).tolist()
    return {"name": "image", "shape": list(pixels.shape), "datatype": "FP32", "data": data}


def test_v1_fits_larger_colour_and_transparent_photos(served: Server, test_photos: np.ndarray) -> None:
    from PIL import Image

    grey = test_photos[0]
    big = np.asarray(Image.fromarray(grey).resize((56, 56), Image.Resampling.NEAREST))
    rgb = np.repeat(big[:, :, None], 3, axis=2)
    rgba = np.concatenate([rgb, np.full((56, 56, 1), 255, np.uint8)], axis=2)
    wide = np.zeros((28, 56), np.uint8)
    wide[:, 14:42] = grey
    docs = [encode_photo(grey), encode_photo(rgb), encode_photo(rgba), encode_photo(wide, "JPEG")]
    r = _post(served, PATH, {"instances": [{"image": d} for d in docs]})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert preds[1]["label"] == preds[2]["label"]  # opaque alpha changes nothing
    assert abs(preds[0]["top"][0]["probability"] - preds[1]["top"][0]["probability"]) < 0.2


def test_v2_json_binary_and_grpc(served: Server, test_photos: np.ndarray) -> None:
    import httpx
    import orjson

    from shopml.serve.grpc import oip_pb2 as pb
    from shopml.serve.grpc.client import OipClient
    from shopml.serve.tensors import decode

    meta = httpx.get(served.url + "/v2/models/images").json()
    assert meta["inputs"][0] == {"name": "image", "datatype": "FP32", "shape": [-1, 1, 28, 28]}
    assert meta["parameters"]["id_column"] == "image_id" and "review_threshold" in meta["parameters"]
    pixels = (test_photos[:5].astype(np.float32) / 255.0)[:, None]
    flat = _post(served, INFER, {"inputs": [_tensor(pixels)]})
    nested = _post(served, INFER, {"inputs": [_tensor(pixels, nested=True)]})
    assert flat.status_code == 200 and nested.status_code == 200, flat.text + nested.text
    out = {o["name"]: o for o in flat.json()["outputs"]}
    assert out["probabilities"]["shape"][0] == 5 and out["label"]["shape"] == [5]
    assert nested.json()["outputs"] == flat.json()["outputs"]
    raw = pixels.astype("<f4").tobytes()
    header = orjson.dumps(
        {"inputs": [{"name": "image", "shape": [5, 1, 28, 28], "datatype": "FP32",
                     "parameters": {"binary_data_size": len(raw)}}]}
    )  # fmt: skip
    length = {"Inference-Header-Content-Length": str(len(header))}
    r = httpx.post(served.url + INFER, content=header + raw, headers=length)
    assert r.status_code == 200, r.text
    assert {o["name"]: o for o in r.json()["outputs"]}["label"]["data"] == out["label"]["data"]
    req = pb.ModelInferRequest(model_name="images")
    req.inputs.add(name="image", datatype="FP32", shape=[5, 1, 28, 28])
    req.raw_input_contents.append(raw)
    client = OipClient(f"127.0.0.1:{served.app.grpc.port}")
    try:
        resp = client.call("ModelInfer", req)
        typed = pb.ModelInferRequest(model_name="images")
        t = typed.inputs.add(name="image", datatype="FP32", shape=[1, 1, 28, 28])
        t.contents.fp32_contents.extend(pixels[0].reshape(-1).tolist())
        one = client.call("ModelInfer", typed)
    finally:
        client.close()
    got = {o.name: r for o, r in zip(resp.outputs, resp.raw_output_contents, strict=True)}
    assert decode("BYTES", got["label"], 5) == out["label"]["data"]
    proba = np.frombuffer(got["probabilities"], "<f4")
    assert np.allclose(proba, out["probabilities"]["data"], atol=1e-6)
    single = dict(zip([o.name for o in one.outputs], one.raw_output_contents, strict=True))
    assert decode("BYTES", single["label"], 1) == [out["label"]["data"][0]]


def _png_bytes(img: Any, fmt: str = "PNG") -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def _bad_photos() -> list[tuple[str, str, int, list[str]]]:
    """(case, base64 text, status, words in the error)."""
    import base64

    from PIL import Image

    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    ok = _png_bytes(Image.new("L", (28, 28), 40))
    noise = np.random.default_rng(0).integers(0, 256, (400, 500, 3), dtype=np.uint8)
    return [
        ("not an image", b64(b"this is a product description, not a photo"), 422, ["not a PNG or JPEG"]),
        ("truncated", b64(_png_bytes(Image.new("L", (200, 200), 90).rotate(7))[:-60]), 422, ["complete"]),
        ("a GIF", b64(_png_bytes(Image.new("L", (28, 28)), "GIF")), 422, ["not a PNG or JPEG"]),
        ("not base64", "@@@" + b64(ok), 422, ["not valid base64"]),
        ("too many bytes", b64(_png_bytes(Image.fromarray(noise))), 413, ["bytes per photo"]),
        ("decompression bomb", b64(_png_bytes(Image.new("L", (5000, 4000)))), 413, ["pixels per photo"]),
        ("one column over", b64(_png_bytes(Image.new("L", (2049, 2048)))), 413, ["4194304 pixels per photo"]),
    ]


@pytest.mark.parametrize("case", range(7))
def test_bad_photos_are_4xx_naming_the_instance(served: Server, test_photos: np.ndarray, case: int) -> None:
    name, text, status, words = _bad_photos()[case]
    good = {"image": encode_photo(test_photos[0])}
    r = _post(served, PATH, {"instances": [good, {"image": {"b64": text}}]})
    assert r.status_code == status, (name, r.text)
    assert "instance 1" in r.json()["error"] and all(w in r.json()["error"] for w in words), (name, r.json())


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"instances": [{"photo": "x"}]}, 422, ["instance 0", "no field 'image'", "'photo'"]),
        ({"instances": [{"image": 5}]}, 422, ["instance 0", "base64"]),
        ({"instances": [{"image": {"url": "http://x"}}]}, 422, ["instance 0", "b64"]),
        ({"instances": [{"image": "AAAA", "image_id": 3}]}, 422, ["instance 0", "image_id"]),
        ({"instances": []}, 422, ["empty"]),
        ({"inputs": [{"name": "image", "shape": [1, 28, 28], "datatype": "FP32", "data": [0.0] * 784}]},
         400, ["input 'image'", "[N, 1, 28, 28]"]),
        ({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "INT64", "data": [0] * 784}]},
         422, ["input 'image'", "FP32"]),
        ({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [0.5] * 780}]},
         400, ["input 'image'", "784"]),
        ({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [255.0] * 784}]},
         422, ["input 'image'", "instance 0", "[0, 1]"]),
        ({"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": ["a"] * 784}]},
         422, ["input 'image'", "non-numbers"]),
        ({"inputs": [{"name": "pixels", "shape": [1], "datatype": "FP32", "data": [0.5]}]},
         422, ["inputs must be 'image'"]),
    ],
)  # fmt: skip
def test_malformed_requests_are_4xx_naming_the_field(
    served: Server, body: dict[str, Any], status: int, words: list[str]
) -> None:
    r = _post(served, INFER if "inputs" in body else PATH, body)
    assert r.status_code == status, r.text
    assert all(w in r.json()["error"] for w in words), r.json()


def test_auto_assign_follows_the_review_threshold(served: Server, test_photos: np.ndarray) -> None:
    meta = json.loads((_bundle(served) / "bundle.json").read_text())
    r = _post(served, PATH, {"instances": [{"image": encode_photo(p)} for p in test_photos]})
    preds = r.json()["predictions"]
    tops = np.array([p["top"][0]["probability"] for p in preds])
    auto = np.array([p["auto_assign"] for p in preds])
    want = (tops >= meta["review_threshold"]) & bool(meta["review"]["met"])
    assert (auto == want).all()


def test_prediction_log_has_photo_statistics_and_embeddings(served: Server, test_photos: np.ndarray) -> None:
    import time

    import pyarrow.parquet as pq

    from shopml.images.stats import image_stats

    ids = ["p-1", "p-2"]
    pairs = zip(test_photos[:2], ids, strict=True)
    body = {"instances": [{"image": encode_photo(p), "image_id": k} for p, k in pairs]}
    r = _post(served, PATH, body)
    assert r.status_code == 200, r.text
    rid = r.json()["predictions"][0]["request_id"]
    deadline = time.monotonic() + 15
    rows: list[dict[str, Any]] = []
    table = None
    while not rows and time.monotonic() < deadline:
        time.sleep(0.3)
        for part in Path(served.workspace).glob("logs/predictions/model=images/*/*.parquet"):
            t = pq.read_table(part)
            got = [x for x in t.to_pylist() if x["request_id"] == rid]
            if got:
                rows, table = got, t
    assert rows and table is not None, "the prediction was not logged"
    row = rows[0]
    for column in ("predicted_label", "probability", "probabilities", "brightness", "contrast", "sharpness",
                   "embedding", "image_id"):  # fmt: skip
        assert column in table.schema.names, column
    import pyarrow as pa

    assert table.schema.field("embedding").type.value_type == pa.float32()
    stats = image_stats(test_photos[:1])
    for k in ("brightness", "contrast", "sharpness"):
        assert row[k] == pytest.approx(float(stats[k][0]), rel=1e-5)
    assert row["image_id"] == "p-1" and len(row["embedding"]) == 32
    assert row["predicted_label"] == r.json()["predictions"][0]["label"]
    # the log's decision is the answer's auto_assign: the threshold is the review threshold
    assert row["threshold"] == pytest.approx(r.json()["review_threshold"])
    assert row["decision"] == int(r.json()["predictions"][0]["auto_assign"])


def test_a_model_short_of_the_precision_target_sends_every_photo_to_review() -> None:
    from shopml.kinds.multiclass import MulticlassHead
    from shopml.serve.image import ImageHead, ImageOutputs, _review_threshold

    assert _review_threshold({"review_threshold": 1.0, "review": {"met": False}}) is None
    assert _review_threshold({"review_threshold": None}) is None  # bundles without a finite threshold
    assert _review_threshold({"review_threshold": 0.7, "review": {"met": True}}) == 0.7
    proba = np.array([[0.95, 0.05, 0.0], [0.5, 0.3, 0.2]], np.float32)
    pixels = np.zeros((2, 1, 28, 28), np.float32)
    out = ImageOutputs(proba, None, pixels)
    for threshold, want in ((None, [False, False]), (0.7, [True, False])):
        head = ImageHead(MulticlassHead(["a", "b", "c"]), threshold)
        doc = json.loads(head.encode_v1("images", 1, ["r0", "r1"], out))
        assert [p["auto_assign"] for p in doc["predictions"]] == want
        assert doc["predictions"][1]["top"] == [
            {"category": "a", "probability": 0.5},
            {"category": "b", "probability": pytest.approx(0.3)},
            {"category": "c", "probability": pytest.approx(0.2)},
        ]
    assert "embedding" not in head.log_columns(out)  # a graph without the output logs none
