"""``POST /v1/photos/strip`` through FastAPI's TestClient."""

from __future__ import annotations

import warnings

import pytest
from fastapi import FastAPI
from photo_checks import decode
from photo_corpus import CANARY, build_corpus

from charter.api.routers import photos

with warnings.catch_warnings():
    # newer Starlette asks for httpx2 but still works with httpx; not our concern here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SAMPLES = build_corpus()


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(photos.router)
    return TestClient(app)


@pytest.mark.parametrize(
    "sample",
    [s for s in SAMPLES if s.name.startswith("orient6")] + SAMPLES[-1:],
    ids=lambda s: s.name,
)
def test_strip_returns_clean_bytes(client: TestClient, sample) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/v1/photos/strip", files={"file": (sample.name, sample.data)})
    assert response.status_code == 200, response.text
    assert CANARY not in response.content
    expected = {
        "jpeg": "image/jpeg",
        "png": "image/png",
        "webp": "image/webp",
        "heif": "image/heic",
    }
    assert response.headers["content-type"] == expected[sample.fmt]
    assert "gps=6" in response.headers["x-charter-removed"]
    assert decode(response.content).tobytes() == decode(sample.data).tobytes()


def test_location_mode_via_query_and_form(client: TestClient) -> None:
    sample = SAMPLES[0]
    for kwargs in ({"params": {"mode": "location"}}, {"data": {"mode": "location"}}):
        response = client.post("/v1/photos/strip", files={"file": ("a.jpg", sample.data)}, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200
        assert b"CANARY-Make" in response.content and b"CANARY-GPS" not in response.content
        assert "gps=6" in response.headers["x-charter-removed"]


def test_keep_location_mode(client: TestClient) -> None:
    sample = SAMPLES[0]
    response = client.post(
        "/v1/photos/strip",
        params={"mode": "keep_location"},
        files={"file": ("a.jpg", sample.data)},
    )
    assert response.status_code == 200
    assert b"CANARY-GPS-METHOD" in response.content and b"CANARY-Make" not in response.content
    assert "gps=" not in response.headers["x-charter-removed"]


def test_drop_icc(client: TestClient) -> None:
    response = client.post(
        "/v1/photos/strip", params={"drop_icc": "true"}, files={"file": ("a.jpg", SAMPLES[0].data)}
    )
    assert response.status_code == 200 and "icc=1" in response.headers["x-charter-removed"]


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "empty"), (b"GIF89a....", "unsupported_format"), (SAMPLES[0].data[:400], "truncated")],
)
def test_bad_input_is_422(client: TestClient, content: bytes, code: str) -> None:
    response = client.post("/v1/photos/strip", files={"file": ("x.jpg", content)})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and error["field"] == "file"
    assert error["message"].startswith("x.jpg: ")


def test_bad_options_and_missing_file(client: TestClient) -> None:
    response = client.post(
        "/v1/photos/strip", params={"mode": "some"}, files={"file": ("a.jpg", SAMPLES[0].data)}
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "mode"
    response = client.post("/v1/photos/strip", data={"other": "x"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "missing_file"


def test_upload_limit(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photos, "MAX_UPLOAD_BYTES", 1000)
    response = client.post("/v1/photos/strip", files={"file": ("a.jpg", SAMPLES[0].data)})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"

    def chunks():  # type: ignore[no-untyped-def]
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
        yield SAMPLES[0].data
        yield b"\r\n--b--\r\n"

    response = client.post(
        "/v1/photos/strip",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 413


def test_openapi_documents_the_upload(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/photos/strip"]["post"]["requestBody"]
    assert "file" in body["content"]["multipart/form-data"]["schema"]["properties"]
