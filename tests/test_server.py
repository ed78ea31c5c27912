"""The HTTP API run in-process and as a real server process."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import running_server
from fastapi.testclient import TestClient

from agent.app import build
from agent.app.host import HostOptions
from agent.app.server import create_app


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("c")


@pytest.fixture(scope="module")
def client(catalog_dir: Path) -> TestClient:
    catalog = catalog_dir / "catalog.yaml"
    catalog.write_text(
        "products:\n  - id: band\n    name: {zh: 手环, en: Band}\n    category: fitness band\n    price: 199\n"
        "    specs: {battery_life: {zh: 14天, en: 14 days}}\n",
        encoding="utf-8",
    )
    return TestClient(
        create_app(build.host(HostOptions(catalog=catalog, composer="catalog")), "secret", watch_interval=None)
    )


def test_ask_answers_from_the_catalog(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "How long does the battery last?", "product": "band"})
    assert r.status_code == 200
    assert r.json()["status"] == "answered" and "14 days" in r.json()["answer"]
    assert "<title>" in client.get("/").text


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({}, 422, "question"),
        ({"question": ""}, 422, "question"),
        ({"question": "x" * 501}, 422, "question"),
        ({"question": "hi", "product": "nope"}, 404, "not in the catalog"),
        ("not json", 422, ""),
    ],
)
def test_malformed_requests_get_a_reason(client: TestClient, body: object, status: int, reason: str) -> None:
    r = client.post(
        "/api/ask",
        content=body if isinstance(body, str) else json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == status
    assert reason in json.dumps(r.json())


def test_reload_needs_the_admin_token_and_keeps_the_last_good_catalog(client: TestClient, catalog_dir: Path) -> None:
    assert client.post("/api/catalog/reload").status_code == 401
    broken = catalog_dir / "broken.yaml"
    broken.write_text("products:\n  - {id: x, name: X}\n", encoding="utf-8")
    r = client.post("/api/catalog/reload", json={"path": str(broken)}, headers={"Authorization": "Bearer secret"})
    assert r.status_code == 400 and "missing price" in r.json()["problems"][0]
    assert "14 days" in client.post("/api/ask", json={"question": "battery?", "product": "band"}).json()["answer"]


def test_a_real_server_process_serves_the_sample_catalog() -> None:
    with running_server("--composer", "catalog", "--no-voice", env={"LIVEHOST_ADMIN_TOKEN": "t"}) as (url, proc):
        req = urllib.request.Request(
            url + "/api/ask",
            data=json.dumps({"question": "手环X2续航多久?"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        answer = json.loads(urllib.request.urlopen(req, timeout=30).read())
        assert answer["status"] == "answered" and "14天" in answer["answer"]
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    port = url.rsplit(":", 1)[1]
    assert f"viewer page (share this one): http://localhost:{port}/watch?room=live&token=" in out
    assert f"host page (camera, product on stage, agent control): http://localhost:{port}/host?room=live&token=" in out


def test_an_edited_catalog_is_picked_up_and_a_broken_edit_changes_nothing(tmp_path: Path) -> None:
    catalog = tmp_path / "live.yaml"
    catalog.write_text("products:\n  - {id: plug, name: Plug, category: smart plug, price: 49}\n", encoding="utf-8")
    app = create_app(build.host(HostOptions(catalog=catalog, composer="catalog")), "t", watch_interval=0.05)

    def price() -> str:
        return str(client.post("/api/ask", json={"question": "How much is the plug?"}).json()["answer"])

    def wait_for(condition: Callable[[], bool]) -> bool:
        for _ in range(100):
            if condition():
                return True
            time.sleep(0.05)
        return False

    with TestClient(app) as client:
        assert "49" in price()
        catalog.write_text("products:\n  - {id: plug, name: Plug, category: smart plug, price: 59}\n", encoding="utf-8")
        assert wait_for(lambda: "59" in price())
        catalog.write_text("products:\n  - {id: plug, name: Plug, price: lots}\n", encoding="utf-8")
        admin = {"Authorization": "Bearer t"}  # the problems quote the file: the admin's to read
        assert wait_for(lambda: bool(client.get("/healthz", headers=admin).json()["catalog_problems"]))
        assert "cannot read 'lots'" in client.get("/healthz", headers=admin).json()["catalog_problems"][0]
        assert client.get("/healthz").json()["catalog_problem_count"] == 1
        assert "catalog_problems" not in client.get("/healthz").json()
        assert "59" in price()


def test_metrics_for_the_admin_and_readiness_for_anyone(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    client.post("/api/ask", json={"question": "How long does the band last?"})
    scrape = client.get("/metrics", headers={"Authorization": "Bearer secret"})
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    assert 'livehost_questions_total{channel="api",status="answered"}' in scrape.text
    assert "livehost_answer_first_clause_seconds_count" in scrape.text and "livehost_viewers 0" in scrape.text
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True}  # no voice: no AI host to wait for
