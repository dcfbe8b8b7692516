"""The media storage Worker (blaze-storage) in workerd: R2 objects, D1 metadata, auth, limits."""

from __future__ import annotations

import json
import os
import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from local.driver import Instance, Reply
from tests.conftest import Start

WORKER = "blaze-storage"
TOKEN = "test-upload-token-" + os.urandom(8).hex()
LIMIT = 6 * 1024 * 1024
AUTH = {"authorization": f"Bearer {TOKEN}"}


def png(size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


def jpeg(size: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


@pytest.fixture
def storage(start: Start) -> Instance:
    return start([WORKER], secrets={"UPLOAD_TOKEN": TOKEN}, vars={"MAX_UPLOAD_BYTES": str(LIMIT)})


@pytest.fixture(scope="module")
def empty_storage(module_start: Start) -> Instance:
    """One instance for the rejected uploads: each asserts R2 and D1 stay empty."""
    return module_start([WORKER], secrets={"UPLOAD_TOKEN": TOKEN}, vars={"MAX_UPLOAD_BYTES": str(LIMIT)})


def upload(mf: Instance, key: str, body: bytes, content_type: str = "image/png", headers: dict | None = None) -> Reply:
    return mf.fetch(
        WORKER, f"/api/media/objects/{key}", "PUT",
        headers={"content-type": content_type, **(AUTH if headers is None else headers)}, body=body,
    )


def rows(mf: Instance) -> list[dict]:
    return mf.d1(WORKER, "DB", "SELECT key, content_type, size, etag, uploaded_by FROM media_objects ORDER BY key")


def _pointed_object(row: dict) -> str:
    """The R2 key of the object a metadata row describes."""
    return row.get("object_key") or row["key"]


def assert_bucket_matches_rows(mf: Instance, when: str = "") -> None:
    """Every object in R2 is described by exactly one row, and every row by its object."""
    described = {_pointed_object(r): r for r in mf.d1(WORKER, "DB", "SELECT * FROM media_objects")}
    stored = set(mf.r2_list(WORKER, "MEDIA"))
    orphans, dangling = sorted(stored - set(described)), sorted(set(described) - stored)
    assert stored == set(described), f"{when}: objects without a row {orphans}, rows without an object {dangling}"
    for name, row in described.items():
        assert mf.r2_stat(WORKER, "MEDIA", name) == {"size": row["size"], "etag": row["etag"]}, (when, name, row)


def stored_keys(mf: Instance) -> list[str]:
    """The keys whose objects the bucket holds, once it is checked against the rows."""
    assert_bucket_matches_rows(mf)
    return [r["key"] for r in rows(mf)]


def stored_bytes(mf: Instance, key: str) -> bytes | None:
    """The bytes R2 holds for `key`: those of the object its row points at."""
    found = mf.d1(WORKER, "DB", "SELECT * FROM media_objects WHERE key = ?", key)
    return mf.r2_get(WORKER, "MEDIA", _pointed_object(found[0])) if found else None


def assert_error(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == {"error": {"code": code, "message": reply.json()["error"]["message"]}}
    assert reply.json()["error"]["message"]


def test_upload_download_list_delete_round_trip(storage: Instance) -> None:
    body = png(4096)
    created = upload(storage, "teams/mlb/logo.png", body)
    assert created.status == 201, created.text
    meta = created.json()
    assert (meta["key"], meta["size"], meta["contentType"]) == ("teams/mlb/logo.png", 4096, "image/png")
    assert stored_bytes(storage, "teams/mlb/logo.png") == body
    assert rows(storage) == [
        {"key": "teams/mlb/logo.png", "content_type": "image/png", "size": 4096, "etag": meta["etag"], "uploaded_by": "token"}
    ]

    download = storage.fetch(WORKER, "/api/media/objects/teams/mlb/logo.png")
    assert download.status == 200 and download.body == body
    assert download.headers["content-type"] == "image/png"
    assert download.headers["etag"] == f'"{meta["etag"]}"'
    # The media host serves the same objects at its root.
    assert storage.fetch(WORKER, "/objects/teams/mlb/logo.png", host="https://media.blazesportsintel.com").body == body

    upload(storage, "teams/nfl/logo.png", png(100))
    listed = storage.fetch(WORKER, "/api/media/objects?prefix=teams/mlb/").json()
    assert [o["key"] for o in listed["objects"]] == ["teams/mlb/logo.png"]
    page = storage.fetch(WORKER, "/api/media/objects?limit=1").json()
    assert [o["key"] for o in page["objects"]] == ["teams/mlb/logo.png"] and page["cursor"] == "teams/mlb/logo.png"
    rest = storage.fetch(WORKER, f"/api/media/objects?limit=1&cursor={page['cursor']}").json()
    assert [o["key"] for o in rest["objects"]] == ["teams/nfl/logo.png"] and rest["cursor"] is None

    deleted = storage.fetch(WORKER, "/api/media/objects/teams/mlb/logo.png", "DELETE", headers=AUTH)
    assert deleted.status == 204
    assert_error(storage.fetch(WORKER, "/api/media/objects/teams/mlb/logo.png"), 404, "not_found")
    assert stored_keys(storage) == ["teams/nfl/logo.png"]
    assert [r["key"] for r in rows(storage)] == ["teams/nfl/logo.png"]


def test_range_and_conditional_downloads(storage: Instance) -> None:
    body = jpeg(1000)
    etag = upload(storage, "photos/a.jpg", body, "image/jpeg").headers["etag"]
    path = "/api/media/objects/photos/a.jpg"

    partial = storage.fetch(WORKER, path, headers={"range": "bytes=10-19"})
    assert partial.status == 206 and partial.body == body[10:20]
    assert partial.headers["content-range"] == "bytes 10-19/1000"
    suffix = storage.fetch(WORKER, path, headers={"range": "bytes=-5"})
    assert suffix.status == 206 and suffix.body == body[-5:]

    assert storage.fetch(WORKER, path, headers={"if-none-match": etag}).status == 304
    assert storage.fetch(WORKER, path, headers={"if-none-match": '"something-else"'}).body == body
    assert_error(storage.fetch(WORKER, path, headers={"if-match": '"something-else"'}), 412, "precondition_failed")
    assert storage.fetch(WORKER, path, headers={"if-match": etag}).status == 200
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert storage.fetch(WORKER, path, headers={"if-modified-since": future}).status == 304
    assert_error(storage.fetch(WORKER, path, headers={"range": "bytes=5000-6000"}), 416, "range_not_satisfiable")

    head = storage.fetch(WORKER, path, "HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["content-length"] == "1000"
    # HEAD answers every condition exactly as GET does, only without the body.
    conditions = [
        {"if-none-match": etag}, {"if-none-match": '"something-else"'}, {"if-match": '"something-else"'},
        {"if-match": etag}, {"if-modified-since": future}, {"if-unmodified-since": "Mon, 01 Jan 1990 00:00:00 GMT"},
    ]
    for condition in conditions:
        got, head = storage.fetch(WORKER, path, headers=condition), storage.fetch(WORKER, path, "HEAD", headers=condition)
        assert (head.status, head.headers.get("etag")) == (got.status, got.headers.get("etag")), condition
        assert head.body == b"", condition


@pytest.mark.parametrize(
    ("key", "body", "content_type", "disposition"),
    [
        ("photos/a_b.jpg", b"\xff\xd8\xff\xe0" + os.urandom(60), "image/jpeg", "inline; filename*=UTF-8''a_b.jpg"),
        ("clips/c.mp4", b"\x00\x00\x00\x18ftypmp42" + os.urandom(60), "video/mp4", "inline; filename*=UTF-8''c.mp4"),
        ("docs/report.pdf", b"%PDF-1.7\n" + os.urandom(60), "application/pdf", "attachment; filename*=UTF-8''report.pdf"),
    ],
)
def test_user_content_cannot_act_as_a_page_of_the_site(storage: Instance, key: str, body: bytes, content_type: str, disposition: str) -> None:
    assert upload(storage, key, body, content_type).status == 201
    for method in ("GET", "HEAD"):
        got = storage.fetch(WORKER, f"/api/media/objects/{key}", method)
        assert got.status == 200, (method, got.body[:200])
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert got.headers["content-disposition"] == disposition
        assert got.headers["content-type"] == content_type


@pytest.mark.parametrize(
    ("key", "body", "content_type", "headers", "status", "code"),
    [
        pytest.param("big.png", png(LIMIT + 1), "image/png", AUTH, 413, "too_large", id="oversize"),
        pytest.param("fake.png", b"<html><script>alert(1)</script></html>", "image/png", AUTH, 415, "type_mismatch", id="html-as-png"),
        pytest.param("fake.png", jpeg(500), "image/png", AUTH, 415, "type_mismatch", id="jpeg-as-png"),
        pytest.param("page.html", b"<html></html>", "text/html", AUTH, 415, "unsupported_type", id="type-not-allowed"),
        pytest.param("..%2F..%2Fsecret.png", png(100), "image/png", AUTH, 400, "invalid_key", id="encoded-traversal"),
        pytest.param("a/..%2fb.png", png(100), "image/png", AUTH, 400, "invalid_key", id="dot-dot-segment"),
        pytest.param(".hidden.png", png(100), "image/png", AUTH, 400, "invalid_key", id="hidden-name"),
        pytest.param("a//b.png", png(100), "image/png", AUTH, 400, "invalid_key", id="empty-segment"),
        pytest.param("a%5Cb.png", png(100), "image/png", AUTH, 400, "invalid_key", id="backslash"),
        pytest.param("ok.png", png(100), "image/png", {}, 401, "unauthorized", id="no-token"),
        pytest.param("ok.png", png(100), "image/png", {"authorization": "Bearer wrong"}, 401, "unauthorized", id="wrong-token"),
    ],
)
def test_rejected_uploads_leave_nothing_behind(
    empty_storage: Instance, key: str, body: bytes, content_type: str, headers: dict, status: int, code: str
) -> None:
    assert_error(upload(empty_storage, key, body, content_type, headers), status, code)
    assert empty_storage.r2_list(WORKER, "MEDIA") == []
    assert rows(empty_storage) == []


def test_overwrites_racing_deletes_keep_object_and_row_together(start: Start) -> None:
    mf = start([WORKER], secrets={"UPLOAD_TOKEN": TOKEN}, vars={"RATE_LIMIT_REQUESTS": "100000"})
    key, rounds, uploads, deletes = "teams/race.png", 40, 6, 24
    path = f"/api/media/objects/{key}"
    for round_ in range(rounds):
        # Uploads of different sizes from clients of different speeds (done after about
        # 0, 6, ..., 30 ms) and a delete sent every millisecond for most of that time, so
        # that deletes land before, between and after the steps of the uploads. Before
        # the fix, a row without its object showed within the first ten rounds.
        requests = [
            {"path": path, "method": "PUT", "headers": {**AUTH, "content-type": "image/png"},
             "body": png(1000 + 100 * i), "trickle": (4, 2 * i)}
            for i in range(uploads)
        ] + [{"path": path, "method": "DELETE", "headers": AUTH, "after_ms": j} for j in range(deletes)]
        # Half the rounds start with the key present, half with it absent.
        if round_ % 2:
            assert upload(mf, key, png(500)).status == 201
        replies = mf.fetch_all(WORKER, requests)
        assert [r.status for r in replies[:uploads]] == [201] * uploads, [r.text for r in replies[:uploads]]
        assert {r.status for r in replies[uploads:]} <= {204, 404}, [r.text for r in replies[uploads:]]
        assert_bucket_matches_rows(mf, f"round {round_}")
        listed = mf.fetch(WORKER, "/api/media/objects").json()["objects"]
        download = mf.fetch(WORKER, path)
        if listed:
            (only,) = listed
            assert download.status == 200 and download.headers["etag"] == f'"{only["etag"]}"', round_
            assert len(download.body) == only["size"], round_
        else:
            assert download.status == 404, round_


def test_an_object_stored_under_its_own_key_is_served_replaced_and_deleted(storage: Instance) -> None:
    # Rows written before media migration 0003 name no object: theirs is stored at the key.
    old, new = png(300), png(400)
    storage.r2_put(WORKER, "MEDIA", "legacy/a.png", old)
    etag = storage.r2_stat(WORKER, "MEDIA", "legacy/a.png")["etag"]
    storage.d1(
        WORKER, "DB",
        "INSERT INTO media_objects (key, content_type, size, etag, uploaded_at, uploaded_by) VALUES (?, 'image/png', ?, ?, '2026-01-01T00:00:00.000Z', 'token')",
        "legacy/a.png", len(old), etag,
    )
    assert storage.fetch(WORKER, "/api/media/objects/legacy/a.png").body == old
    assert upload(storage, "legacy/a.png", new).status == 201
    assert storage.fetch(WORKER, "/api/media/objects/legacy/a.png").body == new
    assert storage.r2_get(WORKER, "MEDIA", "legacy/a.png") is None
    assert stored_keys(storage) == ["legacy/a.png"]
    assert storage.fetch(WORKER, "/api/media/objects/legacy/a.png", "DELETE", headers=AUTH).status == 204
    assert storage.r2_list(WORKER, "MEDIA") == [] and rows(storage) == []


def test_delete_needs_the_token(storage: Instance) -> None:
    upload(storage, "keep.png", png(64))
    assert_error(storage.fetch(WORKER, "/api/media/objects/keep.png", "DELETE"), 401, "unauthorized")
    assert stored_keys(storage) == ["keep.png"]


def _signed_url(mf: Instance, key: str, content_type: str = "image/png", **extra: int) -> str:
    reply = mf.fetch(
        WORKER, "/api/media/signed-urls", "POST",
        headers={**AUTH, "content-type": "application/json"},
        body=json.dumps({"key": key, "contentType": content_type, **extra}).encode(),
    )
    assert reply.status == 201, reply.text
    return reply.json()["url"]


def _put_to(mf: Instance, url: str, body: bytes, content_type: str = "image/png") -> Reply:
    parts = urlsplit(url)
    return mf.fetch(WORKER, f"{parts.path}?{parts.query}", "PUT", headers={"content-type": content_type}, body=body)


def test_a_signed_url_uploads_once_within_its_limits(storage: Instance) -> None:
    url = _signed_url(storage, "uploads/fan.png", maxBytes=1000)
    assert "signature=" in url and TOKEN not in url
    assert_error(_put_to(storage, url, png(1001)), 413, "too_large")
    assert storage.r2_list(WORKER, "MEDIA") == []

    url = _signed_url(storage, "uploads/fan.png", maxBytes=1000)
    assert_error(_put_to(storage, url.replace("max=1000", "max=999999"), png(500)), 401, "unauthorized")
    assert_error(_put_to(storage, url.replace("uploads%2Ffan.png", "uploads/other.png").replace("/objects/uploads/fan.png", "/objects/uploads/other.png"), png(500)), 401, "unauthorized")
    created = _put_to(storage, url, png(500))
    assert created.status == 201, created.text
    assert rows(storage)[0]["uploaded_by"] == "signed-url"
    assert_error(_put_to(storage, url, png(500)), 401, "unauthorized")

    other = _signed_url(storage, "uploads/doc.pdf", "application/pdf")
    assert_error(_put_to(storage, other, png(500), "image/png"), 415, "type_mismatch")


def test_a_signed_url_uploads_once_under_concurrent_use(storage: Instance) -> None:
    clients, rounds = 20, 5
    for round_ in range(rounds):
        key = f"uploads/race-{round_}.png"
        url = _signed_url(storage, key)
        parts = urlsplit(url)
        request = {"path": f"{parts.path}?{parts.query}", "method": "PUT", "headers": {"content-type": "image/png"}}
        replies = storage.fetch_all(WORKER, [{**request, "body": png(256)} for _ in range(clients)])
        statuses = sorted(r.status for r in replies)
        assert statuses == [201] + [401] * (clients - 1), (round_, statuses)
        for refused in (r for r in replies if r.status == 401):
            assert_error(refused, 401, "unauthorized")
            assert "already used" in refused.json()["error"]["message"], refused.text
        (created,) = [r for r in replies if r.status == 201]
        assert stored_bytes(storage, key) is not None
        assert [r["etag"] for r in rows(storage) if r["key"] == key] == [created.json()["etag"]]


def test_claims_of_long_expired_urls_are_cleaned_up(storage: Instance) -> None:
    now = int(time.time())
    # One claim well past its URL's expiry, one that expired a moment ago (kept a while,
    # for clocks that run behind), one still valid.
    for nonce, expires in (("0" * 36, now - 3600), ("1" * 36, now - 5), ("2" * 36, now + 600)):
        storage.d1(WORKER, "DB", "INSERT INTO upload_nonces (nonce, expires_at) VALUES (?, ?)", nonce, expires)
    url = _signed_url(storage, "uploads/clean.png")
    assert _put_to(storage, url, png(100)).status == 201
    kept = {r["nonce"] for r in storage.d1(WORKER, "DB", "SELECT nonce FROM upload_nonces")}
    assert kept == {"1" * 36, "2" * 36, dict(parse_qsl(urlsplit(url).query))["nonce"]}


def test_an_expired_signed_url_is_refused(storage: Instance) -> None:
    url = _signed_url(storage, "uploads/late.png", expiresIn=1)
    time.sleep(2.1)
    assert_error(_put_to(storage, url, png(100)), 401, "unauthorized")
    assert storage.r2_list(WORKER, "MEDIA") == []


def _json(mf: Instance, path: str, payload: dict) -> Reply:
    return mf.fetch(WORKER, path, "POST", headers={**AUTH, "content-type": "application/json"}, body=json.dumps(payload).encode())


def test_multipart_upload_of_a_large_file(storage: Instance) -> None:
    first = b"\x00\x00\x00\x18ftypmp42" + os.urandom(5 * 1024 * 1024 - 12)
    second = os.urandom(300 * 1024)
    started = _json(storage, "/api/media/uploads", {"key": "video/highlights.mp4", "contentType": "video/mp4"})
    assert started.status == 201, started.text
    upload_id = started.json()["uploadId"]
    base = f"/api/media/uploads/{upload_id}"
    # Parts may arrive in any order; part 1 is checked when it arrives.
    assert storage.fetch(WORKER, f"{base}/parts/2", "PUT", headers=AUTH, body=second).status == 200
    assert storage.fetch(WORKER, f"{base}/parts/1", "PUT", headers=AUTH, body=first).status == 200
    assert storage.r2_list(WORKER, "MEDIA") == []
    done = storage.fetch(WORKER, f"{base}/complete", "POST", headers=AUTH)
    assert done.status == 201, done.text
    assert done.json()["size"] == len(first) + len(second)
    assert storage.fetch(WORKER, "/api/media/objects/video/highlights.mp4").body == first + second
    assert stored_keys(storage) == ["video/highlights.mp4"]
    assert rows(storage)[0]["content_type"] == "video/mp4"
    assert storage.kv_list(WORKER, "UPLOAD_SESSIONS") == []


def test_multipart_refuses_a_disguised_first_part_and_an_oversize_total(storage: Instance) -> None:
    upload_id = _json(storage, "/api/media/uploads", {"key": "video/fake.mp4", "contentType": "video/mp4"}).json()["uploadId"]
    disguised = storage.fetch(WORKER, f"/api/media/uploads/{upload_id}/parts/1", "PUT", headers=AUTH, body=b"MZ\x90\x00" + os.urandom(5000))
    assert_error(disguised, 415, "type_mismatch")
    assert_error(storage.fetch(WORKER, f"/api/media/uploads/{upload_id}/complete", "POST", headers=AUTH), 404, "no_such_upload")

    upload_id = _json(storage, "/api/media/uploads", {"key": "video/huge.mp4", "contentType": "video/mp4"}).json()["uploadId"]
    part = b"\x00\x00\x00\x18ftypmp42" + os.urandom(5 * 1024 * 1024 - 12)
    assert storage.fetch(WORKER, f"/api/media/uploads/{upload_id}/parts/1", "PUT", headers=AUTH, body=part).status == 200
    too_much = storage.fetch(WORKER, f"/api/media/uploads/{upload_id}/parts/2", "PUT", headers=AUTH, body=os.urandom(LIMIT - len(part) + 1))
    assert_error(too_much, 413, "too_large")
    assert storage.fetch(WORKER, f"/api/media/uploads/{upload_id}", "DELETE", headers=AUTH).status == 204
    assert storage.r2_list(WORKER, "MEDIA") == [] and rows(storage) == []
    assert storage.kv_list(WORKER, "UPLOAD_SESSIONS") == []
    assert_error(_json(storage, "/api/media/uploads", {"key": "../x.mp4", "contentType": "video/mp4"}), 400, "invalid_key")


def test_writes_are_rate_limited_per_client_and_recover(start: Start) -> None:
    mf = start([WORKER], secrets={"UPLOAD_TOKEN": TOKEN}, vars={"RATE_LIMIT_REQUESTS": "3", "RATE_LIMIT_WINDOW_SECONDS": "2"})
    client = {**AUTH, "cf-connecting-ip": "203.0.113.7"}
    # Start at the beginning of a window so all four requests fall into the same one.
    time.sleep(2 - time.time() % 2)
    statuses = [upload(mf, f"r{i}.png", png(64), headers=client).status for i in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = upload(mf, "r4.png", png(64), headers=client)
    assert_error(limited, 429, "rate_limited")
    retry_after = int(limited.headers["retry-after"])
    assert retry_after in (1, 2)
    assert upload(mf, "other.png", png(64), headers={**AUTH, "cf-connecting-ip": "198.51.100.1"}).status == 201
    assert mf.fetch(WORKER, "/api/media/objects/r0.png").status == 200  # reads are not limited
    time.sleep(retry_after)
    assert upload(mf, "r5.png", png(64), headers=client).status == 201
    assert stored_keys(mf) == ["other.png", "r0.png", "r1.png", "r2.png", "r5.png"]


SITE = "https://staging.blazesportsintel.com"
ORIGINS = f"{SITE},https://preview.blazesportsintel.com"


def preflight(mf: Instance, origin: str, method: str = "PUT", path: str = "/api/media/objects/uploads/fan.png") -> Reply:
    return mf.fetch(
        WORKER, path, "OPTIONS",
        headers={"origin": origin, "access-control-request-method": method, "access-control-request-headers": "content-type"},
    )


def test_preflights_from_the_stacks_origins_are_allowed_and_no_others(start: Start) -> None:
    mf = start([WORKER], secrets={"UPLOAD_TOKEN": TOKEN}, vars={"ALLOWED_ORIGINS": ORIGINS})
    for origin in ORIGINS.split(","):
        allowed = preflight(mf, origin)
        assert allowed.status == 204, allowed.text
        assert allowed.headers["access-control-allow-origin"] == origin
        assert "PUT" in allowed.headers["access-control-allow-methods"].split(", ")
        assert "content-type" in allowed.headers["access-control-allow-headers"].lower().split(", ")
        assert int(allowed.headers["access-control-max-age"]) > 0
        assert "origin" in allowed.headers["vary"].lower()
    for stranger in ("https://evil.example", "https://blazesportsintel.com.evil.example", "null", SITE + ":8443"):
        refused = preflight(mf, stranger)
        assert not any(name.startswith("access-control-allow") for name in refused.headers), (stranger, refused.headers)
    # A method the browser may not use from another site (DELETE needs the token) is not offered.
    assert "DELETE" not in preflight(mf, SITE, "DELETE").headers.get("access-control-allow-methods", "")


def test_responses_to_the_stacks_origins_carry_cors_headers(start: Start) -> None:
    mf = start([WORKER], secrets={"UPLOAD_TOKEN": TOKEN}, vars={"ALLOWED_ORIGINS": ORIGINS})
    url = _signed_url(mf, "uploads/fan.png")
    parts = urlsplit(url)
    created = mf.fetch(
        WORKER, f"{parts.path}?{parts.query}", "PUT", headers={"content-type": "image/png", "origin": SITE}, body=png(200)
    )
    assert created.status == 201, created.text
    assert created.headers["access-control-allow-origin"] == SITE
    assert "etag" in created.headers["access-control-expose-headers"].lower().split(", ")
    assert "origin" in created.headers["vary"].lower()
    download = mf.fetch(WORKER, "/api/media/objects/uploads/fan.png", headers={"origin": SITE})
    assert download.headers["access-control-allow-origin"] == SITE and "origin" in download.headers["vary"].lower()
    # Errors too, so the page can read why its upload failed.
    used = mf.fetch(WORKER, f"{parts.path}?{parts.query}", "PUT", headers={"content-type": "image/png", "origin": SITE}, body=png(200))
    assert used.status == 401 and used.headers["access-control-allow-origin"] == SITE
    # Another site's page gets the object (it is public) but no permission to read it in script;
    # caches still learn that the answer depends on the origin.
    foreign = mf.fetch(WORKER, "/api/media/objects/uploads/fan.png", headers={"origin": "https://evil.example"})
    assert foreign.status == 200 and "access-control-allow-origin" not in foreign.headers
    assert "origin" in foreign.headers["vary"].lower()


def test_preflights_do_not_count_against_the_write_limit(start: Start) -> None:
    mf = start(
        [WORKER], secrets={"UPLOAD_TOKEN": TOKEN},
        vars={"ALLOWED_ORIGINS": ORIGINS, "RATE_LIMIT_REQUESTS": "3", "RATE_LIMIT_WINDOW_SECONDS": "60"},
    )
    client = {"cf-connecting-ip": "203.0.113.9"}
    for _ in range(10):
        reply = mf.fetch(
            WORKER, "/api/media/objects/uploads/fan.png", "OPTIONS",
            headers={**client, "origin": SITE, "access-control-request-method": "PUT"},
        )
        assert reply.status == 204 and reply.headers["access-control-allow-origin"] == SITE, reply.text
    # The writes the preflights were for still have the whole limit.
    statuses = [upload(mf, f"p{i}.png", png(64), headers={**AUTH, **client}).status for i in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_unknown_routes_and_methods_answer_in_the_error_shape(storage: Instance) -> None:
    assert_error(storage.fetch(WORKER, "/api/media/nothing-here"), 404, "not_found")
    assert_error(storage.fetch(WORKER, "/api/media/signed-urls"), 405, "method_not_allowed")
    broken = storage.fetch(WORKER, "/api/media/uploads", "POST", headers={**AUTH, "content-type": "application/json"}, body=b"{not json")
    assert_error(broken, 400, "bad_request")
