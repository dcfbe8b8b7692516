"""The loopback Cloudflare API (local/cloudflare_api/) as its clients meet it: the official
SDK, exactly as make adopt uses it; plain HTTP, which sees the envelope, the pagination
fields and the error answers the reference documents; and the requests
terraform-provider-cloudflare v5.24.0 makes to create, read, update and delete the fleet's
resource types, each written as its resource.go builds it where the SDK builds another."""

from __future__ import annotations

import base64
import hashlib
import re
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Iterator

import cloudflare
import pytest

from local.cloudflare_api import (
    CREATED, DEFAULT_LIFECYCLE, TOKEN, Account, Bucket, CloudflareApi, CustomDomain, Database, Namespace, Policy, Route, Script, Webhook, Zone,
)


def hex_id(seed: str) -> str:
    """A 32-hex identifier (accounts, zones, namespaces, routes) named after what it is."""
    return hashlib.md5(seed.encode()).hexdigest()


def uuid_id(seed: str) -> str:
    """A UUID identifier (D1 databases, notification policies, webhook destinations)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, seed))


ACCOUNT_ID = hex_id("account")
ZONE_ID = hex_id("zone:blaze.example")
ODDS_DB = uuid_id("d1:blaze-odds")
WEBHOOK_ID = uuid_id("webhook:ops")
ODDS_SCHEMA = """
    CREATE TABLE odds_events (id INTEGER PRIMARY KEY, game TEXT NOT NULL, price REAL);
    INSERT INTO odds_events (game, price) VALUES ('NYJ-BUF', 1.91), ('KC-DEN', 2.05);
    CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TEXT);
    INSERT INTO d1_migrations (name, applied_at) VALUES ('0001_odds_events.sql', '2025-01-01 00:00:00');
"""


def the_account(**lists: Any) -> Account:
    """A small live account like the fleet's, with any list replaced."""
    everything: dict[str, Any] = {
        "scripts": [Script("blaze-api"), Script("blaze-odds-sync", ["*/5 * * * *", "0 6 * * mon-fri"])],
        "databases": [Database(ODDS_DB, "blaze-odds", ODDS_SCHEMA), Database(uuid_id("d1:blaze-users"), "blaze-users")],
        "namespaces": [Namespace(hex_id("kv:cache"), "blaze-cache"), Namespace(hex_id("kv:flags"), "blaze-flags")],
        "buckets": [Bucket("blaze-assets"), Bucket("blaze-exports"), Bucket("blaze-archive", jurisdiction="eu")],
        "zones": [Zone(ZONE_ID, "blaze.example", [Route(hex_id("route:api"), "blaze.example/api/*", "blaze-api")])],
        "domains": [CustomDomain(hex_id("domain:odds"), "odds.blaze.example", "blaze-odds-sync", ZONE_ID, "blaze.example")],
        "policies": [Policy(uuid_id("policy:usage"), "Workers usage", "billing_usage_alert", mechanisms={"webhooks": [{"id": WEBHOOK_ID}]})],
        "webhooks": [Webhook(WEBHOOK_ID, "ops", "https://hooks.example/ops")],
    }
    return Account(ACCOUNT_ID, **(everything | lists))


@pytest.fixture(autouse=True)
def no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK prefers CLOUDFLARE_EMAIL/CLOUDFLARE_API_KEY to the token when they are set.
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY", "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api() -> Iterator[CloudflareApi]:
    with CloudflareApi(the_account()) as server:
        yield server


def sdk(api: CloudflareApi, **options: Any) -> cloudflare.Cloudflare:
    return cloudflare.Cloudflare(api_token=TOKEN, base_url=api.base_url, **options)


def http(api: CloudflareApi, method: str, path: str, body: Any = None, token: str | None = TOKEN,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api.base_url + path, data=data, method=method, headers=headers or {})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def codes(envelope: dict[str, Any]) -> list[int]:
    return [error["code"] for error in envelope["errors"]]


# Through the SDK.

def test_the_sdk_reads_every_list_of_the_account(api: CloudflareApi) -> None:
    client = sdk(api)
    assert [s.id for s in client.workers.scripts.list(account_id=ACCOUNT_ID)] == ["blaze-api", "blaze-odds-sync"]
    assert [d.name for d in client.d1.database.list(account_id=ACCOUNT_ID)] == ["blaze-odds", "blaze-users"]
    assert [n.title for n in client.kv.namespaces.list(account_id=ACCOUNT_ID)] == ["blaze-cache", "blaze-flags"]
    assert [b.name for b in client.r2.buckets.list(account_id=ACCOUNT_ID).buckets or []] == ["blaze-assets", "blaze-exports"]
    eu = client.r2.buckets.list(account_id=ACCOUNT_ID, cf_r2_jurisdiction="eu").buckets or []
    assert [(b.name, b.jurisdiction) for b in eu] == [("blaze-archive", "eu")]
    assert [(z.id, z.name) for z in client.zones.list(account={"id": ACCOUNT_ID})] == [(ZONE_ID, "blaze.example")]
    assert [(r.pattern, r.script) for r in client.workers.routes.list(zone_id=ZONE_ID)] == [("blaze.example/api/*", "blaze-api")]
    domains = client.workers.domains.list(account_id=ACCOUNT_ID)
    assert [(d.hostname, d.service, d.zone_id, d.environment) for d in domains] == [("odds.blaze.example", "blaze-odds-sync", ZONE_ID, "production")]
    [policy] = client.alerting.policies.list(account_id=ACCOUNT_ID)
    assert (policy.name, policy.alert_type, policy.enabled) == ("Workers usage", "billing_usage_alert", True)
    assert [(w.id, w.name, w.type) for w in client.alerting.destinations.webhooks.list(account_id=ACCOUNT_ID)] == [(WEBHOOK_ID, "ops", "generic")]
    assert {r.method for r in api.requests} == {"GET"}


def test_the_sdk_reads_each_resource_by_its_id(api: CloudflareApi) -> None:
    client = sdk(api)
    database = client.d1.database.get(ODDS_DB, account_id=ACCOUNT_ID)
    # Three tables: odds_events, d1_migrations and the sqlite_sequence its AUTOINCREMENT makes.
    assert (database.uuid, database.name, database.num_tables, database.jurisdiction) == (ODDS_DB, "blaze-odds", 3, None)
    assert database.read_replication is not None and database.read_replication.mode == "disabled"
    namespace = client.kv.namespaces.get(hex_id("kv:flags"), account_id=ACCOUNT_ID)
    assert namespace is not None and namespace.title == "blaze-flags"
    bucket = client.r2.buckets.get("blaze-archive", account_id=ACCOUNT_ID, cf_r2_jurisdiction="eu")
    # The API answers a location in capitals, whatever the case of the hint the bucket was made with.
    assert (bucket.name, bucket.jurisdiction, bucket.location) == ("blaze-archive", "eu", "ENAM")
    route = client.workers.routes.get(hex_id("route:api"), zone_id=ZONE_ID)
    assert (route.pattern, route.script) == ("blaze.example/api/*", "blaze-api")
    domain = client.workers.domains.get(hex_id("domain:odds"), account_id=ACCOUNT_ID)
    assert (domain.hostname, domain.service, domain.zone_id) == ("odds.blaze.example", "blaze-odds-sync", ZONE_ID)
    assert domain.cert_id is not None and uuid.UUID(domain.cert_id)
    policy = client.alerting.policies.get(uuid_id("policy:usage"), account_id=ACCOUNT_ID)
    assert policy is not None and (policy.name, policy.alert_type) == ("Workers usage", "billing_usage_alert")
    webhook = client.alerting.destinations.webhooks.get(WEBHOOK_ID, account_id=ACCOUNT_ID)
    assert webhook is not None and (webhook.name, webhook.url) == ("ops", "https://hooks.example/ops")
    # Download Worker: the script's own text, not JSON.
    assert client.workers.scripts.get("blaze-api", account_id=ACCOUNT_ID).startswith("export default {")


def test_a_resource_is_read_only_under_the_id_and_jurisdiction_it_has(api: CloudflareApi) -> None:
    client = sdk(api)
    with pytest.raises(cloudflare.NotFoundError) as elsewhere:
        client.r2.buckets.get("blaze-archive", account_id=ACCOUNT_ID)  # an eu bucket asked for in the default jurisdiction
    assert codes(elsewhere.value.body) == [10006]  # type: ignore[arg-type]
    assert api.requests[-1].headers.get("cf-r2-jurisdiction") is None
    client.r2.buckets.get("blaze-archive", account_id=ACCOUNT_ID, cf_r2_jurisdiction="eu")
    assert api.requests[-1].headers["cf-r2-jurisdiction"] == "eu"
    with pytest.raises(cloudflare.NotFoundError):
        client.workers.scripts.get("blaze-gone", account_id=ACCOUNT_ID)
    # An id of the right form that the account does not hold is a 404 with the service's
    # code (what a provider's Read takes for "deleted outside"); one of another form is not
    # an identifier at all.
    unknown = {f"/accounts/{ACCOUNT_ID}/d1/database/{uuid_id('d1:gone')}": 7404,
               f"/accounts/{ACCOUNT_ID}/storage/kv/namespaces/{ACCOUNT_ID}": 10013,
               f"/zones/{ZONE_ID}/workers/routes/{ZONE_ID}": 10009,
               f"/accounts/{ACCOUNT_ID}/workers/domains/{ZONE_ID}": 100015,
               f"/accounts/{ACCOUNT_ID}/alerting/v3/policies/{WEBHOOK_ID}": 17001,
               f"/accounts/{ACCOUNT_ID}/alerting/v3/destinations/webhooks/{uuid_id('policy:usage')}": 17001}
    for path, code in unknown.items():
        status, envelope = http(api, "GET", path)
        assert (status, codes(envelope)) == (404, [code]), path
    malformed = {f"/accounts/{ACCOUNT_ID}/d1/database/blaze-odds": (400, [7400]),
                 f"/accounts/{ACCOUNT_ID}/storage/kv/namespaces/blaze-cache": (400, [10011]),
                 f"/accounts/{ACCOUNT_ID}/r2/buckets/Blaze_Assets": (400, [10005]),
                 f"/zones/{ZONE_ID}/workers/routes/api": (400, [7003, 7000]),
                 f"/accounts/{ACCOUNT_ID}/workers/domains/odds.blaze.example": (400, [7003, 7000]),
                 f"/accounts/{ACCOUNT_ID}/alerting/v3/policies/usage": (400, [7003, 7000])}
    for path, answer in malformed.items():
        status, envelope = http(api, "GET", path)
        assert (status, codes(envelope)) == answer, path


def test_the_cron_triggers_of_a_script_and_the_404_of_an_unknown_script(api: CloudflareApi) -> None:
    client = sdk(api)
    schedules = client.workers.scripts.schedules.get("blaze-odds-sync", account_id=ACCOUNT_ID).schedules
    assert [s.cron for s in schedules] == ["*/5 * * * *", "0 6 * * mon-fri"]
    assert client.workers.scripts.schedules.get("blaze-api", account_id=ACCOUNT_ID).schedules == []
    with pytest.raises(cloudflare.NotFoundError) as missing:
        client.workers.scripts.schedules.get("blaze-gone", account_id=ACCOUNT_ID)
    assert codes(missing.value.body) == [10007]  # type: ignore[arg-type]


def test_page_number_lists_are_read_by_the_sdk_to_their_last_page() -> None:
    namespaces = [Namespace(hex_id(f"kv:{i}"), f"ns-{i:02}") for i in range(25)]  # two pages at the default 20
    databases = [Database(uuid_id(f"d1:{i}"), f"db-{i:02}") for i in range(7)]
    zones = [Zone(hex_id(f"zone:{i}"), f"z{i}.example") for i in range(6)]
    with CloudflareApi(the_account(namespaces=namespaces, databases=databases, zones=zones), page_size={"databases": 3, "zones": 5}) as api:
        client = sdk(api)
        assert [n.title for n in client.kv.namespaces.list(account_id=ACCOUNT_ID)] == [n.title for n in namespaces]
        assert [d.name for d in client.d1.database.list(account_id=ACCOUNT_ID)] == [d.name for d in databases]
        assert [z.name for z in client.zones.list(account={"id": ACCOUNT_ID})] == [z.name for z in zones]
        pages = {}
        for r in api.requests:
            pages.setdefault(r.path.rsplit("/", 1)[-1], []).append(r.query.get("page", ["1"])[0])
        # The SDK stops at the first empty page, one past the last full one.
        assert pages == {"namespaces": ["1", "2", "3"], "database": ["1", "2", "3", "4"], "zones": ["1", "2", "3"]}


def test_r2_buckets_are_paged_by_cursor() -> None:
    buckets = [Bucket(f"bucket-{i}") for i in (4, 0, 3, 1, 2)]
    with CloudflareApi(the_account(buckets=buckets)) as api:
        client, names, cursor, answers = sdk(api), [], None, 0
        while True:
            raw = client.r2.buckets.with_raw_response.list(account_id=ACCOUNT_ID, per_page=2, **({"cursor": cursor} if cursor else {}))
            envelope = raw.http_response.json()
            names += [b["name"] for b in envelope["result"]["buckets"]]
            answers += 1
            assert envelope["result_info"]["per_page"] == 2
            cursor = envelope["result_info"]["cursor"]
            if not cursor:
                break
        assert names == [f"bucket-{i}" for i in range(5)] and answers == 3  # ordered by name


def test_a_429_is_retried_by_the_sdk_after_its_retry_after() -> None:
    with CloudflareApi(the_account()) as api:
        api.fail("GET", r"/workers/scripts$", 429, headers={"Retry-After": "1"})
        assert [s.id for s in sdk(api).workers.scripts.list(account_id=ACCOUNT_ID)] == ["blaze-api", "blaze-odds-sync"]
        assert [r.path.rsplit("/", 1)[-1] for r in api.requests] == ["scripts", "scripts"]


def test_a_403_is_a_permission_denied_error_in_the_sdk(api: CloudflareApi) -> None:
    api.fail("GET", r"/storage/kv/namespaces$", 403)
    with pytest.raises(cloudflare.PermissionDeniedError) as denied:
        list(sdk(api).kv.namespaces.list(account_id=ACCOUNT_ID))
    assert denied.value.body["errors"] == [{"code": 10000, "message": "Authentication error"}]  # type: ignore[index]
    with pytest.raises(cloudflare.PermissionDeniedError):
        cloudflare.Cloudflare(api_token="x" * 40, base_url=api.base_url).workers.scripts.list(account_id=ACCOUNT_ID)
    assert len(api.requests) == 2  # the SDK retries neither


def test_a_500_in_the_middle_of_a_listing_stops_it() -> None:
    namespaces = [Namespace(hex_id(f"kv:{i}"), f"ns-{i}") for i in range(6)]
    with CloudflareApi(the_account(namespaces=namespaces), page_size={"namespaces": 2}) as api:
        api.fail("GET", r"/storage/kv/namespaces$", 500, skip=1)  # the second page
        seen = []
        with pytest.raises(cloudflare.InternalServerError):
            for namespace in sdk(api, max_retries=0).kv.namespaces.list(account_id=ACCOUNT_ID):
                seen.append(namespace.title)
        assert seen == ["ns-0", "ns-1"]
        assert [r.query.get("page") for r in api.requests] == [None, ["2"]]


def test_the_d1_query_endpoint_answers_each_statement_from_sqlite(api: CloudflareApi) -> None:
    [answer] = sdk(api).d1.database.query(ODDS_DB, account_id=ACCOUNT_ID, sql="SELECT game FROM odds_events WHERE price > ?", params=["2"])
    assert answer.success and answer.results == [{"game": "KC-DEN"}]
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/d1/database/{ODDS_DB}/query",
                            {"sql": "SELECT name FROM d1_migrations; SELECT type, name FROM sqlite_master WHERE name = 'odds_events';"})
    assert status == 200 and [r["results"] for r in envelope["result"]] == [
        [{"name": "0001_odds_events.sql"}], [{"type": "table", "name": "odds_events"}]]
    # A batch is all or nothing: the failing second statement takes the first one back.
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/d1/database/{ODDS_DB}/query",
                            {"sql": "DELETE FROM odds_events; SELECT * FROM no_such_table"})
    assert status == 400 and codes(envelope) == [7500] and "no such table" in envelope["errors"][0]["message"]
    assert api.database(ODDS_DB).execute("SELECT count(*) FROM odds_events").fetchone() == (2,)


# Through plain HTTP: the envelope and the answers the SDK turns into exceptions.

PAGINATED = ["/accounts/{a}/d1/database", "/accounts/{a}/storage/kv/namespaces", "/zones"]
SINGLE_LISTS = ["/accounts/{a}/workers/scripts", "/accounts/{a}/workers/scripts/blaze-api/schedules", "/accounts/{a}/workers/domains",
                "/zones/{z}/workers/routes", "/accounts/{a}/alerting/v3/policies", "/accounts/{a}/alerting/v3/destinations/webhooks"]


@pytest.mark.parametrize("path", PAGINATED + SINGLE_LISTS + ["/accounts/{a}/r2/buckets"])
def test_every_endpoint_answers_in_the_documented_envelope(api: CloudflareApi, path: str) -> None:
    status, envelope = http(api, "GET", path.format(a=ACCOUNT_ID, z=ZONE_ID))
    assert status == 200, envelope
    assert envelope["success"] is True and envelope["errors"] == [] and envelope["messages"] == [] and envelope["result"] is not None
    if path in PAGINATED:
        assert set(envelope["result_info"]) == {"page", "per_page", "count", "total_count"}


def test_page_numbers_and_the_documented_per_page_bounds(api: CloudflareApi) -> None:
    status, envelope = http(api, "GET", "/zones")
    assert envelope["result_info"] == {"page": 1, "per_page": 20, "count": 1, "total_count": 1}  # zones: default 20
    status, envelope = http(api, "GET", f"/accounts/{ACCOUNT_ID}/storage/kv/namespaces?page=2")
    assert status == 200 and envelope["result"] == [] and envelope["result_info"]["count"] == 0
    for path, per_page in (("/zones", 51), ("/zones", 4), (f"/accounts/{ACCOUNT_ID}/d1/database", 9),
                           (f"/accounts/{ACCOUNT_ID}/storage/kv/namespaces", 1001), (f"/accounts/{ACCOUNT_ID}/r2/buckets", 0)):
        status, _ = http(api, "GET", f"{path}?per_page={per_page}")
        assert status == 400, (path, per_page)


def test_zone_and_custom_domain_filters(api: CloudflareApi) -> None:
    def zone_names(query: dict[str, str]) -> list[str]:
        return [z["name"] for z in http(api, "GET", "/zones?" + urllib.parse.urlencode(query))[1]["result"]]

    assert zone_names({"name": "blaze.example"}) == zone_names({"name": "contains:blaze"}) == ["blaze.example"]
    assert zone_names({"name": "other.example"}) == zone_names({"account.id": hex_id("another account")}) == []

    def hostnames(query: dict[str, str]) -> list[str]:
        path = f"/accounts/{ACCOUNT_ID}/workers/domains?" + urllib.parse.urlencode(query)
        return [d["hostname"] for d in http(api, "GET", path)[1]["result"]]

    assert hostnames({"zone_id": ZONE_ID, "service": "blaze-odds-sync"}) == ["odds.blaze.example"]
    assert hostnames({"hostname": "api.blaze.example"}) == hostnames({"environment": "staging"}) == []


def test_credentials_are_checked_as_the_api_checks_them(api: CloudflareApi) -> None:
    scripts = f"/accounts/{ACCOUNT_ID}/workers/scripts"
    assert codes(http(api, "GET", scripts, token=None)[1]) == [9106]
    status, envelope = http(api, "GET", scripts, token=None, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 400 and codes(envelope) == [6003]
    assert http(api, "GET", scripts, token="y" * 40) == (403, {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}],
                                                           "messages": [], "result": None})
    assert http(api, "GET", f"/accounts/{hex_id('another account')}/workers/scripts")[0] == 403


def test_unknown_routes_and_methods_are_refused_and_recorded(api: CloudflareApi) -> None:
    status, envelope = http(api, "PUT", f"/accounts/{ACCOUNT_ID}/workers/scripts/blaze-api/tails", {"filters": []})
    assert status == 400 and codes(envelope) == [7003, 7000]
    assert "Could not route to /client/v4/accounts/" in envelope["errors"][0]["message"]
    assert http(api, "GET", f"/zones/{hex_id('zone:unknown')}/workers/routes")[0] == 400
    # A path the API has, with a method it does not take there.
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/d1/database/{ODDS_DB}", {"name": "blaze-odds"})
    assert (status, codes(envelope)) == (405, [7001])
    sent = [(r.method, r.path.removeprefix(f"/client/v4/accounts/{ACCOUNT_ID}"), r.body) for r in api.requests]
    assert sent == [("PUT", "/workers/scripts/blaze-api/tails", {"filters": []}),
                    ("GET", f"/client/v4/zones/{hex_id('zone:unknown')}/workers/routes", None),
                    ("POST", f"/d1/database/{ODDS_DB}", {"name": "blaze-odds"})]
    assert [d.name for d in sdk(api).d1.database.list(account_id=ACCOUNT_ID)] == ["blaze-odds", "blaze-users"]


def test_an_account_with_ids_of_another_form_than_the_documented_one_is_refused() -> None:
    with pytest.raises(ValueError, match="Zone.id 'blaze.example'"):
        Zone("blaze.example", "blaze.example")  # a zone's name where its 32-hex id belongs
    with pytest.raises(ValueError, match="Database.uuid"):
        Database(hex_id("d1:blaze-odds"), "blaze-odds")  # D1 ids are UUIDs


# Writes: each resource type's create, read, update, read, delete and the 404 after, as
# terraform-provider-cloudflare v5.24.0 sends them (through the official SDK, which speaks
# the same wire format as the provider's cloudflare-go, or as raw HTTP where the SDK cannot).

def not_found_code(call: Any) -> int:
    with pytest.raises(cloudflare.NotFoundError) as missing:
        call()
    [code] = codes(missing.value.body)  # type: ignore[arg-type]
    return code


def refused(call: Any, status: type[cloudflare.APIStatusError] = cloudflare.BadRequestError) -> list[int]:
    with pytest.raises(status) as refusal:
        call()
    return codes(refusal.value.body)  # type: ignore[arg-type]


def writes(api: CloudflareApi) -> list[tuple[str, str]]:
    return [(r.method, r.path.removeprefix("/client/v4").removeprefix(f"/accounts/{ACCOUNT_ID}")) for r in api.requests if r.method != "GET"]


def test_a_kv_namespace_is_created_renamed_and_deleted(api: CloudflareApi) -> None:
    client = sdk(api)
    created = client.kv.namespaces.create(account_id=ACCOUNT_ID, title="blaze-sessions")
    assert created.title == "blaze-sessions" and re.fullmatch(r"[0-9a-f]{32}", created.id) and created.supports_url_encoding
    assert client.kv.namespaces.get(created.id, account_id=ACCOUNT_ID) == created
    renamed = client.kv.namespaces.update(created.id, account_id=ACCOUNT_ID, title="blaze-sessions-v2")
    assert renamed is not None and (renamed.id, renamed.title) == (created.id, "blaze-sessions-v2")
    assert [n.title for n in client.kv.namespaces.list(account_id=ACCOUNT_ID)] == ["blaze-cache", "blaze-flags", "blaze-sessions-v2"]
    client.kv.namespaces.delete(created.id, account_id=ACCOUNT_ID)
    assert not_found_code(lambda: client.kv.namespaces.get(created.id, account_id=ACCOUNT_ID)) == 10013
    assert not_found_code(lambda: client.kv.namespaces.delete(created.id, account_id=ACCOUNT_ID)) == 10013
    assert writes(api) == [("POST", "/storage/kv/namespaces"), ("PUT", f"/storage/kv/namespaces/{created.id}"),
                           ("DELETE", f"/storage/kv/namespaces/{created.id}"), ("DELETE", f"/storage/kv/namespaces/{created.id}")]


def test_kv_refuses_a_title_taken_or_missing(api: CloudflareApi) -> None:
    client = sdk(api)
    assert refused(lambda: client.kv.namespaces.create(account_id=ACCOUNT_ID, title="blaze-cache")) == [10014]
    assert refused(lambda: client.kv.namespaces.update(hex_id("kv:flags"), account_id=ACCOUNT_ID, title="blaze-cache")) == [10014]
    assert refused(lambda: client.kv.namespaces.create(account_id=ACCOUNT_ID, title="")) == [10019]
    assert [n.title for n in client.kv.namespaces.list(account_id=ACCOUNT_ID)] == ["blaze-cache", "blaze-flags"]


def test_a_d1_database_is_created_queried_changed_and_deleted(api: CloudflareApi) -> None:
    client = sdk(api)
    created = client.d1.database.create(account_id=ACCOUNT_ID, name="blaze-scores", jurisdiction="eu")
    assert (created.name, created.jurisdiction, created.num_tables, created.version) == ("blaze-scores", "eu", 0, "production")
    assert created.uuid is not None and uuid.UUID(created.uuid)
    client.d1.database.query(created.uuid, account_id=ACCOUNT_ID, sql="CREATE TABLE scores (game TEXT); INSERT INTO scores VALUES ('KC-DEN')")
    read = client.d1.database.get(created.uuid, account_id=ACCOUNT_ID)
    assert (read.name, read.num_tables, read.jurisdiction, read.created_at) == ("blaze-scores", 1, "eu", created.created_at)
    changed = client.d1.database.update(created.uuid, account_id=ACCOUNT_ID, read_replication={"mode": "auto"})
    assert changed.read_replication is not None and changed.read_replication.mode == "auto"
    assert client.d1.database.get(created.uuid, account_id=ACCOUNT_ID).read_replication.mode == "auto"  # type: ignore[union-attr]
    assert created.uuid in [d.uuid for d in client.d1.database.list(account_id=ACCOUNT_ID)]
    client.d1.database.delete(created.uuid, account_id=ACCOUNT_ID)
    assert not_found_code(lambda: client.d1.database.get(created.uuid, account_id=ACCOUNT_ID)) == 7404  # type: ignore[arg-type]
    assert not_found_code(lambda: client.d1.database.query(created.uuid, account_id=ACCOUNT_ID, sql="SELECT 1")) == 7404  # type: ignore[arg-type]


def test_d1_refuses_a_name_taken_and_a_replication_mode_it_does_not_have(api: CloudflareApi) -> None:
    client = sdk(api)
    assert refused(lambda: client.d1.database.create(account_id=ACCOUNT_ID, name="blaze-odds")) == [7502]
    status, envelope = http(api, "PUT", f"/accounts/{ACCOUNT_ID}/d1/database/{ODDS_DB}", {"read_replication": {"mode": "sometimes"}})
    assert (status, codes(envelope)) == (400, [7400])
    assert [d.name for d in client.d1.database.list(account_id=ACCOUNT_ID)] == ["blaze-odds", "blaze-users"]


def test_an_r2_bucket_is_created_in_its_jurisdiction_changed_and_deleted(api: CloudflareApi) -> None:
    client = sdk(api)
    # As the provider sends it: camelCase body, the jurisdiction as a header.
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/r2/buckets", {"name": "blaze-media", "locationHint": "weur", "storageClass": "Standard"},
                            headers={"cf-r2-jurisdiction": "eu"})
    assert status == 200 and envelope["result"] == {"name": "blaze-media", "creation_date": CREATED, "jurisdiction": "eu",
                                                    "location": "WEUR", "storage_class": "Standard"}
    assert not_found_code(lambda: client.r2.buckets.get("blaze-media", account_id=ACCOUNT_ID)) == 10006
    edited = client.r2.buckets.edit("blaze-media", account_id=ACCOUNT_ID, storage_class="InfrequentAccess", cf_r2_jurisdiction="eu")
    assert edited.storage_class == "InfrequentAccess"
    assert api.requests[-1].headers["cf-r2-storage-class"] == "InfrequentAccess"
    read = client.r2.buckets.get("blaze-media", account_id=ACCOUNT_ID, cf_r2_jurisdiction="eu")
    assert (read.storage_class, read.location, read.jurisdiction) == ("InfrequentAccess", "WEUR", "eu")
    client.r2.buckets.delete("blaze-media", account_id=ACCOUNT_ID, cf_r2_jurisdiction="eu")
    assert not_found_code(lambda: client.r2.buckets.get("blaze-media", account_id=ACCOUNT_ID, cf_r2_jurisdiction="eu")) == 10006


def test_r2_refuses_a_bucket_it_has_and_a_name_it_cannot_have(api: CloudflareApi) -> None:
    client = sdk(api, max_retries=0)  # the SDK retries a 409, which is final here
    assert refused(lambda: client.r2.buckets.create(account_id=ACCOUNT_ID, name="blaze-assets"), cloudflare.ConflictError) == [10004]
    assert refused(lambda: client.r2.buckets.create(account_id=ACCOUNT_ID, name="Blaze_Assets")) == [10005]
    # The same name in another jurisdiction is another bucket.
    assert client.r2.buckets.create(account_id=ACCOUNT_ID, name="blaze-assets", cf_r2_jurisdiction="eu").location == "ENAM"


def test_cors_rules_are_kept_as_sent_and_deleted(api: CloudflareApi) -> None:
    client = sdk(api)
    assert not_found_code(lambda: client.r2.buckets.cors.get("blaze-assets", account_id=ACCOUNT_ID)) == 10059
    rules = [{"allowed": {"methods": ["GET", "HEAD"], "origins": ["https://blaze.example"], "headers": ["range"]},
              "id": "read", "exposeHeaders": ["etag"], "maxAgeSeconds": 3600}]
    status, _ = http(api, "PUT", f"/accounts/{ACCOUNT_ID}/r2/buckets/blaze-assets/cors", {"rules": rules}, headers={"cf-r2-jurisdiction": "default"})
    assert status == 200
    assert http(api, "GET", f"/accounts/{ACCOUNT_ID}/r2/buckets/blaze-assets/cors")[1]["result"] == {"rules": rules}
    client.r2.buckets.cors.update("blaze-assets", account_id=ACCOUNT_ID, rules=[{"allowed": {"methods": ["GET"], "origins": ["*"]}}])
    answered = client.r2.buckets.cors.get("blaze-assets", account_id=ACCOUNT_ID).rules or []
    assert [(r.allowed.methods, r.allowed.origins) for r in answered] == [(["GET"], ["*"])]
    client.r2.buckets.cors.delete("blaze-assets", account_id=ACCOUNT_ID)
    assert not_found_code(lambda: client.r2.buckets.cors.get("blaze-assets", account_id=ACCOUNT_ID)) == 10059
    assert not_found_code(lambda: client.r2.buckets.cors.delete("blaze-assets", account_id=ACCOUNT_ID)) == 10059
    assert not_found_code(lambda: client.r2.buckets.cors.get("blaze-archive", account_id=ACCOUNT_ID)) == 10006  # an eu bucket
    assert refused(lambda: client.r2.buckets.cors.update("blaze-assets", account_id=ACCOUNT_ID,
                                                         rules=[{"allowed": {"methods": ["PATCH"], "origins": ["*"]}}])) == [10021]  # type: ignore[list-item]


def test_a_bucket_starts_with_the_default_lifecycle_rule_until_one_is_put(api: CloudflareApi) -> None:
    client = sdk(api)
    assert http(api, "GET", f"/accounts/{ACCOUNT_ID}/r2/buckets/blaze-exports/lifecycle")[1]["result"] == {"rules": DEFAULT_LIFECYCLE}
    rules = [{"id": "expire-exports", "enabled": True, "conditions": {"prefix": "daily/"},
              "deleteObjectsTransition": {"condition": {"maxAge": 2592000, "type": "Age"}}}]
    client.r2.buckets.lifecycle.update("blaze-exports", account_id=ACCOUNT_ID, rules=rules)  # type: ignore[arg-type]
    assert http(api, "GET", f"/accounts/{ACCOUNT_ID}/r2/buckets/blaze-exports/lifecycle")[1]["result"] == {"rules": rules}
    client.r2.buckets.lifecycle.update("blaze-exports", account_id=ACCOUNT_ID, rules=[])
    assert client.r2.buckets.lifecycle.get("blaze-exports", account_id=ACCOUNT_ID).rules == []
    status, envelope = http(api, "PUT", f"/accounts/{ACCOUNT_ID}/r2/buckets/blaze-exports/lifecycle",
                            {"rules": [{"id": "x", "enabled": True, "conditions": {"prefix": ""},
                                        "deleteObjectsTransition": {"condition": {"maxAge": 1, "type": "Weekly"}}}]})
    assert (status, codes(envelope)) == (400, [10021])


def test_a_route_is_created_moved_and_deleted_and_a_pattern_is_taken_once(api: CloudflareApi) -> None:
    client = sdk(api, max_retries=0)  # the SDK retries a 409, which is final here
    created = client.workers.routes.create(zone_id=ZONE_ID, pattern="blaze.example/odds/*", script="blaze-odds-sync")
    assert (created.pattern, created.script) == ("blaze.example/odds/*", "blaze-odds-sync") and re.fullmatch(r"[0-9a-f]{32}", created.id)
    assert client.workers.routes.get(created.id, zone_id=ZONE_ID).pattern == "blaze.example/odds/*"
    moved = client.workers.routes.update(created.id, zone_id=ZONE_ID, pattern="blaze.example/v2/odds/*", script="blaze-api")
    assert (moved.id, moved.pattern, moved.script) == (created.id, "blaze.example/v2/odds/*", "blaze-api")
    read = client.workers.routes.get(created.id, zone_id=ZONE_ID)
    assert (read.pattern, read.script) == ("blaze.example/v2/odds/*", "blaze-api")
    assert refused(lambda: client.workers.routes.create(zone_id=ZONE_ID, pattern="blaze.example/api/*", script="blaze-odds-sync"),
                   cloudflare.ConflictError) == [10020]
    assert refused(lambda: client.workers.routes.update(created.id, zone_id=ZONE_ID, pattern="blaze.example/api/*"), cloudflare.ConflictError) == [10020]
    client.workers.routes.delete(created.id, zone_id=ZONE_ID)
    assert not_found_code(lambda: client.workers.routes.get(created.id, zone_id=ZONE_ID)) == 10009
    assert [r.pattern for r in client.workers.routes.list(zone_id=ZONE_ID)] == ["blaze.example/api/*"]


def test_a_custom_domain_is_attached_moved_and_detached(api: CloudflareApi) -> None:
    client = sdk(api)
    attached = client.workers.domains.update(account_id=ACCOUNT_ID, hostname="api.blaze.example", service="blaze-api", zone_id=ZONE_ID)
    assert (attached.hostname, attached.service, attached.zone_id, attached.zone_name, attached.environment) == (
        "api.blaze.example", "blaze-api", ZONE_ID, "blaze.example", "production")
    assert attached.id is not None and attached.cert_id is not None
    read = client.workers.domains.get(attached.id, account_id=ACCOUNT_ID)
    assert (read.hostname, read.cert_id) == ("api.blaze.example", attached.cert_id)
    # Attaching a hostname again points it at the new service; it keeps its id.
    moved = client.workers.domains.update(account_id=ACCOUNT_ID, hostname="api.blaze.example", service="blaze-odds-sync")
    assert (moved.id, moved.service) == (attached.id, "blaze-odds-sync")
    assert client.workers.domains.get(attached.id, account_id=ACCOUNT_ID).service == "blaze-odds-sync"
    client.workers.domains.delete(attached.id, account_id=ACCOUNT_ID)
    assert not_found_code(lambda: client.workers.domains.get(attached.id, account_id=ACCOUNT_ID)) == 100015  # type: ignore[arg-type]
    assert not_found_code(lambda: client.workers.domains.update(account_id=ACCOUNT_ID, hostname="x.blaze.example", service="blaze-gone")) == 10007
    assert refused(lambda: client.workers.domains.update(account_id=ACCOUNT_ID, hostname="api.other.example", service="blaze-api")) == [10021]
    assert [d.hostname for d in client.workers.domains.list(account_id=ACCOUNT_ID)] == ["odds.blaze.example"]


def test_a_notification_policy_answers_only_its_id_to_writes_and_everything_to_reads(api: CloudflareApi) -> None:
    client = sdk(api)
    body = {"name": "Error rate", "alert_type": "workers_alert", "enabled": True, "mechanisms": {"webhooks": [{"id": WEBHOOK_ID}]},
            "filters": {"services": ["blaze-api"]}}
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/alerting/v3/policies", body)
    assert status == 200 and set(envelope["result"]) == {"id"}
    policy_id = envelope["result"]["id"]
    read = http(api, "GET", f"/accounts/{ACCOUNT_ID}/alerting/v3/policies/{policy_id}")[1]["result"]
    assert read == body | {"id": policy_id, "description": "", "created": CREATED, "modified": CREATED}
    status, envelope = http(api, "PUT", f"/accounts/{ACCOUNT_ID}/alerting/v3/policies/{policy_id}",
                            # As the provider's MarshalForUpdate sends it: null for what the state had and the plan drops.
                            body | {"enabled": False, "description": "paused",
                                    "mechanisms": {"email": [{"id": "ops@blaze.example"}], "webhooks": None}})
    assert (status, envelope["result"]) == (200, {"id": policy_id})
    changed = client.alerting.policies.get(policy_id, account_id=ACCOUNT_ID)
    assert changed is not None and (changed.enabled, changed.description) == (False, "paused")
    assert changed.mechanisms is not None and [e.id for e in changed.mechanisms.email or []] == ["ops@blaze.example"]
    assert changed.mechanisms.webhooks is None
    client.alerting.policies.delete(policy_id, account_id=ACCOUNT_ID)
    assert not_found_code(lambda: client.alerting.policies.get(policy_id, account_id=ACCOUNT_ID)) == 17001
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/alerting/v3/policies", {"name": "no mechanisms", "alert_type": "workers_alert"})
    assert (status, codes(envelope)) == (400, [10021])


def test_a_webhook_destination_keeps_its_secret_and_never_answers_it(api: CloudflareApi) -> None:
    client = sdk(api)
    created = client.alerting.destinations.webhooks.create(account_id=ACCOUNT_ID, name="pager", url="https://hooks.slack.com/services/T0/B0/x",
                                                           secret="not-a-real-secret")
    assert created is not None and created.id is not None
    read = http(api, "GET", f"/accounts/{ACCOUNT_ID}/alerting/v3/destinations/webhooks/{created.id}")[1]["result"]
    assert read == {"id": created.id, "name": "pager", "url": "https://hooks.slack.com/services/T0/B0/x", "type": "slack",
                    "created_at": CREATED, "last_success": None, "last_failure": None}
    client.alerting.destinations.webhooks.update(created.id, account_id=ACCOUNT_ID, name="pager-v2", url="https://hooks.example/pager",
                                                 secret="another-fake-secret")
    changed = client.alerting.destinations.webhooks.get(created.id, account_id=ACCOUNT_ID)
    assert changed is not None and (changed.name, changed.type) == ("pager-v2", "generic")
    answers = b"".join(json.dumps(http(api, "GET", path)[1]).encode() for path in (
        f"/accounts/{ACCOUNT_ID}/alerting/v3/destinations/webhooks", f"/accounts/{ACCOUNT_ID}/alerting/v3/destinations/webhooks/{created.id}"))
    assert b"secret" not in answers
    client.alerting.destinations.webhooks.delete(created.id, account_id=ACCOUNT_ID)
    assert not_found_code(lambda: client.alerting.destinations.webhooks.get(created.id, account_id=ACCOUNT_ID)) == 17001


# Workers: the script upload as the provider builds it (workers_script/model.go MarshalMultipart,
# Go's mime/multipart writer), what its Read then asks for, versions and deployments.

MODULE = b"export default {\n  async fetch(request, env) { return new Response(env.GREETING); },\n  async scheduled(event, env) {},\n};\n"


def provider_upload(api: CloudflareApi, name: str, metadata: dict[str, Any], module: bytes = MODULE,
                    module_name: str = "index.js") -> tuple[int, dict[str, Any]]:
    """PUT the script as workers_script's Create does: the main module's part (named and filed
    under its name), then the metadata part (named only), in Go's multipart framing."""
    boundary = hashlib.sha256(name.encode()).hexdigest()[:60]
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="{module_name}"; filename="{module_name}"\r\n'
            f"Content-Type: application/javascript+module\r\n\r\n").encode() + module
    body += (f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n'
             + json.dumps(metadata, separators=(",", ":")) + f"\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(f"{api.base_url}/accounts/{ACCOUNT_ID}/workers/scripts/{name}", data=body, method="PUT", headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def fleet_metadata(**changes: Any) -> dict[str, Any]:
    """Metadata as the provider marshals the program's WorkersScript (apijson: field order, nulls left out)."""
    return {"bindings": [
        {"name": "CACHE", "type": "kv_namespace", "namespace_id": hex_id("kv:cache")},
        {"name": "DB", "type": "d1", "id": ODDS_DB},
        {"name": "GREETING", "type": "plain_text", "text": "hello"},
        {"name": "MEDIA", "type": "r2_bucket", "bucket_name": "blaze-assets"},
        {"name": "ODDS", "type": "service", "service": "blaze-odds-sync"},
        {"name": "UPSTREAM_KEY", "type": "secret_text", "text": "not-a-real-key"},
    ], "compatibility_date": "2025-06-01", "compatibility_flags": ["nodejs_compat"], "main_module": "index.js",
        "observability": {"enabled": True, "head_sampling_rate": 0.5, "logs": {"enabled": True, "invocation_logs": True, "head_sampling_rate": 0.5}},
    } | changes


def test_a_script_upload_is_answered_back_by_every_read_the_provider_makes(api: CloudflareApi) -> None:
    status, uploaded = provider_upload(api, "blaze-gateway", fleet_metadata())
    assert status == 200, uploaded
    script = uploaded["result"]
    assert (script["id"], script["has_modules"], script["handlers"], script["compatibility_date"], script["compatibility_flags"]) == (
        "blaze-gateway", True, ["fetch", "scheduled"], "2025-06-01", ["nodejs_compat"])
    assert script["observability"]["logs"] == {"persist": True, "enabled": True, "invocation_logs": True, "head_sampling_rate": 0.5}
    assert "bindings" not in script and "placement" not in script
    # workers_script's Read: the service's default environment, the settings, the content.
    service = http(api, "GET", f"/accounts/{ACCOUNT_ID}/workers/services/blaze-gateway")[1]["result"]
    assert service["default_environment"]["script"] == script | {"placement": {}}
    settings = http(api, "GET", f"/accounts/{ACCOUNT_ID}/workers/scripts/blaze-gateway/settings")[1]["result"]
    sent = fleet_metadata()["bindings"]
    assert settings["bindings"] == [sent[0], sent[1] | {"database_id": ODDS_DB}, sent[2], sent[3], sent[4],
                                    {"name": "UPSTREAM_KEY", "type": "secret_text"}]
    assert (settings["compatibility_date"], settings["usage_model"], settings["observability"], settings["placement"]) == (
        "2025-06-01", "standard", script["observability"], {})
    assert "limits" not in settings and "not-a-real-key" not in json.dumps(settings)
    content = sdk(api).workers.scripts.content.get("blaze-gateway", account_id=ACCOUNT_ID)
    assert content.read() == MODULE and hashlib.sha256(content.read()).hexdigest() == hashlib.sha256(MODULE).hexdigest()
    assert (content.headers["content-type"], content.headers["cf-entrypoint"]) == ("application/javascript+module", "index.js")
    assert "blaze-gateway" in [s.id for s in sdk(api).workers.scripts.list(account_id=ACCOUNT_ID)]


def test_a_second_upload_changes_the_script_and_a_delete_takes_it_all(api: CloudflareApi) -> None:
    client = sdk(api)
    first = provider_upload(api, "blaze-gateway", fleet_metadata())[1]["result"]
    client.workers.scripts.schedules.update("blaze-gateway", account_id=ACCOUNT_ID, body=[{"cron": "*/5 * * * *"}])
    changed = MODULE.replace(b"GREETING", b"WELCOME")
    second = provider_upload(api, "blaze-gateway", fleet_metadata(compatibility_date="2025-07-01"), changed)[1]["result"]
    assert second["etag"] != first["etag"] and second["compatibility_date"] == "2025-07-01"
    assert client.workers.scripts.content.get("blaze-gateway", account_id=ACCOUNT_ID).read() == changed
    # Cron triggers are the script's, not a version's: an upload leaves them.
    assert [s.cron for s in client.workers.scripts.schedules.get("blaze-gateway", account_id=ACCOUNT_ID).schedules] == ["*/5 * * * *"]
    worker = client.workers.beta.workers.get("blaze-gateway", account_id=ACCOUNT_ID)
    versions = client.workers.beta.workers.versions.list(worker.id, account_id=ACCOUNT_ID)
    assert [v.number for v in versions] == [2, 1]
    assert [d["versions"][0]["version_id"] for d in deployments(api, "blaze-gateway")] == [v.id for v in versions]
    client.workers.scripts.delete("blaze-gateway", account_id=ACCOUNT_ID)
    for path, code in (("/workers/services/blaze-gateway", 10090), ("/workers/scripts/blaze-gateway/settings", 10007),
                       ("/workers/scripts/blaze-gateway/content/v2", 10007), ("/workers/scripts/blaze-gateway/schedules", 10007),
                       (f"/workers/workers/{worker.id}", 10007)):
        status, envelope = http(api, "GET", f"/accounts/{ACCOUNT_ID}{path}")
        assert (status, codes(envelope)) == (404, [code]), path


def test_an_upload_is_refused_where_the_api_refuses_it_and_nothing_is_kept(api: CloudflareApi) -> None:
    cases = {
        "a kv namespace it does not hold": (fleet_metadata(bindings=[{"name": "C", "type": "kv_namespace", "namespace_id": hex_id("kv:gone")}]), [10041]),
        "a bucket it does not hold": (fleet_metadata(bindings=[{"name": "M", "type": "r2_bucket", "bucket_name": "blaze-archive"}]), [10085]),
        "a d1 binding without its id": (fleet_metadata(bindings=[{"name": "DB", "type": "d1"}]), [10021]),
        "a binding name twice": (fleet_metadata(bindings=[{"name": "A", "type": "plain_text", "text": "1"}] * 2), [10021]),
        "a main module it was not sent": (fleet_metadata(main_module="worker.js"), [10021]),
        "a compatibility date that is not one": (fleet_metadata(compatibility_date="June 2025"), [10021]),
    }
    for what, (metadata, expected) in cases.items():
        status, envelope = provider_upload(api, "blaze-gateway", metadata)
        assert (status, codes(envelope)) == (400, expected), what
    status, envelope = provider_upload(api, "Blaze_Gateway", fleet_metadata())
    assert (status, codes(envelope)) == (400, [10016])
    status, envelope = http(api, "PUT", f"/accounts/{ACCOUNT_ID}/workers/scripts/blaze-gateway", fleet_metadata())
    assert (status, codes(envelope)) == (400, [10021]), "JSON, not multipart"
    assert "blaze-gateway" not in [s.id for s in sdk(api).workers.scripts.list(account_id=ACCOUNT_ID)]


def test_the_sdk_upload_names_its_parts_files_and_is_read_by_their_filenames(api: CloudflareApi) -> None:
    client = sdk(api)
    client.workers.scripts.update("blaze-odds-sync", account_id=ACCOUNT_ID, metadata={"main_module": "odds.mjs"},
                                  files=[("odds.mjs", MODULE, "application/javascript+module")])
    assert b'name="files"; filename="odds.mjs"' in api.requests[-1].raw
    assert client.workers.scripts.content.get("blaze-odds-sync", account_id=ACCOUNT_ID).headers["cf-entrypoint"] == "odds.mjs"
    # The seeded cron triggers outlive the upload.
    assert [s.cron for s in client.workers.scripts.schedules.get("blaze-odds-sync", account_id=ACCOUNT_ID).schedules] == [
        "*/5 * * * *", "0 6 * * mon-fri"]


def test_cron_schedules_are_replaced_whole_and_refused_unless_five_fields(api: CloudflareApi) -> None:
    client = sdk(api)
    answered = client.workers.scripts.schedules.update("blaze-api", account_id=ACCOUNT_ID, body=[{"cron": "0 11 * * TUE"}, {"cron": "*/15 * * * *"}])
    assert [s.cron for s in answered.schedules] == ["0 11 * * TUE", "*/15 * * * *"]
    assert [s.cron for s in client.workers.scripts.schedules.get("blaze-api", account_id=ACCOUNT_ID).schedules] == ["0 11 * * TUE", "*/15 * * * *"]
    assert refused(lambda: client.workers.scripts.schedules.update("blaze-api", account_id=ACCOUNT_ID, body=[{"cron": "0 0 11 * * TUE"}])) == [10021]
    assert not_found_code(lambda: client.workers.scripts.schedules.update("blaze-gone", account_id=ACCOUNT_ID, body=[])) == 10007
    client.workers.scripts.schedules.update("blaze-api", account_id=ACCOUNT_ID, body=[])
    assert client.workers.scripts.schedules.get("blaze-api", account_id=ACCOUNT_ID).schedules == []


def test_a_worker_is_created_changed_and_deleted_with_its_settings(api: CloudflareApi) -> None:
    client = sdk(api, max_retries=0)  # the SDK retries a 409, which is final here
    created = client.workers.beta.workers.create(account_id=ACCOUNT_ID, name="blaze-edge", subdomain={"enabled": False}, tags=["team:platform"])
    assert re.fullmatch(r"[0-9a-f]{32}", created.id) and created.deployed_on is None
    assert (created.subdomain.enabled, created.subdomain.previews_enabled, created.tags, created.logpush) == (False, False, ["team:platform"], False)
    assert created.observability.logs is not None and created.observability.logs.persist is True
    assert refused(lambda: client.workers.beta.workers.create(account_id=ACCOUNT_ID, name="blaze-edge"), cloudflare.ConflictError) == [10021]
    replaced = client.workers.beta.workers.update(created.id, account_id=ACCOUNT_ID, name="blaze-edge", logpush=True)
    assert (replaced.logpush, replaced.tags) == (True, []), "PUT puts back what it leaves out"
    edited = client.workers.beta.workers.edit(created.id, account_id=ACCOUNT_ID, name="blaze-edge", logpush=True, tags=["x"],
                                              observability={"enabled": True}, subdomain={"enabled": True}, tail_consumers=[])
    assert (edited.observability.enabled, edited.observability.head_sampling_rate, edited.subdomain.enabled) == (True, 1, True)
    assert client.workers.beta.workers.get("blaze-edge", account_id=ACCOUNT_ID) == edited  # by name or id
    client.workers.beta.workers.delete(created.id, account_id=ACCOUNT_ID)
    assert not_found_code(lambda: client.workers.beta.workers.get(created.id, account_id=ACCOUNT_ID)) == 10007


def version_body(module: bytes = MODULE, bindings: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """A version as worker_version's Create marshals it (modules inline, base64)."""
    return {"compatibility_date": "2025-06-01", "main_module": "index.js", "bindings": bindings or [],
            "modules": [{"content_base64": base64.b64encode(module).decode(), "content_type": "application/javascript+module", "name": "index.js"}]} | extra


def new_version(api: CloudflareApi, worker_id: str, body: dict[str, Any]) -> dict[str, Any]:
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/workers/workers/{worker_id}/versions", body)
    assert status == 200, envelope
    return envelope["result"]


def test_a_version_keeps_its_modules_and_answers_them_only_when_asked(api: CloudflareApi) -> None:
    worker = sdk(api).workers.beta.workers.create(account_id=ACCOUNT_ID, name="blaze-edge")
    version = new_version(api, worker.id, version_body(annotations={"workers/message": "first"}))
    assert (version["number"], version["main_module"], version["annotations"]) == (
        1, "index.js", {"workers/message": "first", "workers/triggered_by": "version_upload"})
    assert "modules" not in version and uuid.UUID(version["id"])
    path = f"/accounts/{ACCOUNT_ID}/workers/workers/{worker.id}/versions/{version['id']}"
    assert http(api, "GET", path)[1]["result"] == version
    [module] = http(api, "GET", path + "?include=modules")[1]["result"]["modules"]
    assert base64.b64decode(module["content_base64"]) == MODULE and module["name"] == "index.js"
    # Not deployed yet: the script endpoints have nothing to answer.
    assert http(api, "GET", f"/accounts/{ACCOUNT_ID}/workers/scripts/blaze-edge/content/v2")[0] == 404
    assert http(api, "GET", path.rsplit("/", 1)[0] + "/" + uuid_id("no such version"))[0] == 404
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/workers/workers/{worker.id}/versions", version_body(main_module="other.js"))
    assert (status, codes(envelope)) == (400, [10021])


def deployments(api: CloudflareApi, script: str) -> list[dict[str, Any]]:
    """The list as cloudflare-go v7.9.0 (the provider's client) reads it, {"deployments": [...]}
    newest first; the Python SDK 5.9.0 models this answer as pages of items."""
    status, envelope = http(api, "GET", f"/accounts/{ACCOUNT_ID}/workers/scripts/{script}/deployments")
    assert status == 200, envelope
    return envelope["result"]["deployments"]


def deploy(api: CloudflareApi, script: str, shares: list[tuple[str, float]], force: bool = False) -> tuple[int, dict[str, Any]]:
    body = {"strategy": "percentage", "versions": [{"percentage": p, "version_id": v} for v, p in shares]}
    return http(api, "POST", f"/accounts/{ACCOUNT_ID}/workers/scripts/{script}/deployments" + ("?force=true" if force else ""), body)


def test_a_deployment_holds_one_or_two_of_the_workers_versions_summing_to_100(api: CloudflareApi) -> None:
    client = sdk(api)
    worker = client.workers.beta.workers.create(account_id=ACCOUNT_ID, name="blaze-edge")
    one = new_version(api, worker.id, version_body())["id"]
    two = new_version(api, worker.id, version_body(MODULE.replace(b"GREETING", b"WELCOME")))["id"]
    three = new_version(api, worker.id, version_body(b"export default { fetch() {} };"))["id"]
    other = sdk(api).workers.beta.workers.versions.list(client.workers.beta.workers.get("blaze-api", account_id=ACCOUNT_ID).id,
                                                        account_id=ACCOUNT_ID).result[0].id
    refusals = {
        "three versions": [(one, 50.0), (two, 25.0), (three, 25.0)],
        "not summing to 100": [(one, 50.0), (two, 40.0)],
        "no version": [],
        "a version twice": [(one, 50.0), (one, 50.0)],
        "another Worker's version": [(other, 100.0)],
        "a version it does not have": [(uuid_id("no such version"), 100.0)],
        "a share over 100": [(one, 150.0), (two, -50.0)],
    }
    for what, shares in refusals.items():
        status, envelope = deploy(api, "blaze-edge", shares)
        assert (status, codes(envelope)) == (400, [10021]), what
    status, envelope = deploy(api, "blaze-edge", [(one, 90.0), (two, 10.0)])
    assert status == 200, envelope
    split = envelope["result"]
    assert split["versions"] == [{"version_id": one, "percentage": 90.0}, {"version_id": two, "percentage": 10.0}]
    assert (split["strategy"], split["annotations"]["workers/triggered_by"]) == ("percentage", "deployment")
    # The script endpoints answer the version with the larger share.
    assert client.workers.scripts.content.get("blaze-edge", account_id=ACCOUNT_ID).read() == MODULE
    assert client.workers.scripts.deployments.get(split["id"], account_id=ACCOUNT_ID, script_name="blaze-edge").id == split["id"]
    assert not_found_code(lambda: client.workers.scripts.deployments.get(uuid_id("gone"), account_id=ACCOUNT_ID, script_name="blaze-edge")) == 10007
    for answer in (deploy(api, "blaze-gone", [(one, 100.0)]), http(api, "GET", f"/accounts/{ACCOUNT_ID}/workers/scripts/blaze-gone/deployments")):
        assert (answer[0], codes(answer[1])) == (404, [10007])


def test_a_rollback_is_a_new_deployment_refused_across_a_secret_change_unless_forced(api: CloudflareApi) -> None:
    client = sdk(api)
    worker = client.workers.beta.workers.create(account_id=ACCOUNT_ID, name="blaze-edge")
    old = new_version(api, worker.id, version_body(bindings=[{"name": "KEY", "type": "secret_text", "text": "old-fake"}]))["id"]
    assert deploy(api, "blaze-edge", [(old, 100.0)])[0] == 200
    new = new_version(api, worker.id, version_body(bindings=[{"name": "KEY", "type": "secret_text", "text": "new-fake"}]))["id"]
    assert deploy(api, "blaze-edge", [(new, 100.0)])[0] == 200
    status, envelope = deploy(api, "blaze-edge", [(old, 100.0)])
    assert (status, codes(envelope)) == (400, [10220])
    status, envelope = deploy(api, "blaze-edge", [(old, 100.0)], force=True)
    assert status == 200 and envelope["result"]["versions"] == [{"version_id": old, "percentage": 100.0}]
    listed = deployments(api, "blaze-edge")
    assert [d["versions"][0]["version_id"] for d in listed] == [old, new, old]  # newest first
    # The one serving traffic cannot be deleted; an older one can.
    assert refused(lambda: client.workers.scripts.deployments.delete(listed[0]["id"], account_id=ACCOUNT_ID, script_name="blaze-edge")) == [10021]
    client.workers.scripts.deployments.delete(listed[1]["id"], account_id=ACCOUNT_ID, script_name="blaze-edge")
    assert [d["id"] for d in deployments(api, "blaze-edge")] == [listed[0]["id"], listed[2]["id"]]


def test_a_rollback_to_a_version_binding_a_deleted_namespace_is_refused(api: CloudflareApi) -> None:
    client = sdk(api)
    scratch = client.kv.namespaces.create(account_id=ACCOUNT_ID, title="blaze-scratch")
    worker = client.workers.beta.workers.create(account_id=ACCOUNT_ID, name="blaze-edge")
    old = new_version(api, worker.id, version_body(bindings=[{"name": "S", "type": "kv_namespace", "namespace_id": scratch.id}]))["id"]
    new = new_version(api, worker.id, version_body())["id"]
    assert deploy(api, "blaze-edge", [(new, 100.0)])[0] == 200
    client.kv.namespaces.delete(scratch.id, account_id=ACCOUNT_ID)
    status, envelope = deploy(api, "blaze-edge", [(old, 100.0)], force=True)
    assert (status, codes(envelope)) == (400, [10041])


def test_a_version_created_with_deploy_is_deployed_at_once(api: CloudflareApi) -> None:
    worker = sdk(api).workers.beta.workers.create(account_id=ACCOUNT_ID, name="blaze-edge")
    status, envelope = http(api, "POST", f"/accounts/{ACCOUNT_ID}/workers/workers/{worker.id}/versions?deploy=true", version_body())
    assert status == 200
    [deployment] = deployments(api, "blaze-edge")
    assert deployment["versions"] == [{"version_id": envelope["result"]["id"], "percentage": 100}]


# Faults on writes, and an account seeded like the live fleet that is written afterwards.

def test_a_500_on_a_write_writes_nothing_and_a_429_is_retried_after_its_retry_after(api: CloudflareApi) -> None:
    api.fail("POST", r"/storage/kv/namespaces$", 500)
    with pytest.raises(cloudflare.InternalServerError):
        sdk(api, max_retries=0).kv.namespaces.create(account_id=ACCOUNT_ID, title="blaze-sessions")
    assert [n.title for n in sdk(api).kv.namespaces.list(account_id=ACCOUNT_ID)] == ["blaze-cache", "blaze-flags"]
    api.fail("PUT", r"/workers/scripts/blaze-gateway$", 429, headers={"Retry-After": "1"})
    status, envelope = provider_upload(api, "blaze-gateway", fleet_metadata())
    assert (status, codes(envelope)) == (429, [971])
    assert provider_upload(api, "blaze-gateway", fleet_metadata())[0] == 200
    api.fail("POST", r"/d1/database$", 429, headers={"Retry-After": "1"})
    assert sdk(api).d1.database.create(account_id=ACCOUNT_ID, name="blaze-scores").name == "blaze-scores"
    assert [r.method for r in api.requests if r.path.endswith("/d1/database")] == ["POST", "POST"]
    workers = [s.id for s in sdk(api).workers.scripts.list(account_id=ACCOUNT_ID)]
    assert workers.count("blaze-gateway") == 1


def test_an_answer_lost_after_the_write_makes_a_retry_meet_what_it_wrote(api: CloudflareApi) -> None:
    # The API created the namespace, then the connection failed: the SDK's retry is refused
    # as a duplicate, and exactly one namespace exists, as against the real API.
    api.fail("POST", r"/storage/kv/namespaces$", 502, applied=True)
    assert refused(lambda: sdk(api).kv.namespaces.create(account_id=ACCOUNT_ID, title="blaze-sessions")) == [10014]
    assert [n.title for n in sdk(api).kv.namespaces.list(account_id=ACCOUNT_ID)].count("blaze-sessions") == 1
    assert [r.method for r in api.requests if r.path.endswith("/kv/namespaces")][:2] == ["POST", "POST"]


def test_ids_are_made_from_what_is_created_so_a_run_is_reproducible() -> None:
    def run() -> list[str]:
        with CloudflareApi(the_account()) as api:
            client = sdk(api)
            first = client.kv.namespaces.create(account_id=ACCOUNT_ID, title="blaze-sessions").id
            client.kv.namespaces.delete(first, account_id=ACCOUNT_ID)
            again = client.kv.namespaces.create(account_id=ACCOUNT_ID, title="blaze-sessions").id
            database = client.d1.database.create(account_id=ACCOUNT_ID, name="blaze-scores").uuid
            route = client.workers.routes.create(zone_id=ZONE_ID, pattern="blaze.example/odds/*", script="blaze-api").id
            return [first, again, str(database), route]

    ids = run()
    assert run() == ids
    assert ids[0] != ids[1], "a name made again gets a new id"


def test_an_account_seeded_like_the_live_fleet_takes_writes(api: CloudflareApi) -> None:
    client = sdk(api)
    client.kv.namespaces.update(hex_id("kv:cache"), account_id=ACCOUNT_ID, title="blaze-cache-v2")
    client.d1.database.delete(uuid_id("d1:blaze-users"), account_id=ACCOUNT_ID)
    client.r2.buckets.delete("blaze-exports", account_id=ACCOUNT_ID)
    client.workers.routes.update(hex_id("route:api"), zone_id=ZONE_ID, pattern="blaze.example/api/v2/*", script="blaze-api")
    client.workers.domains.delete(hex_id("domain:odds"), account_id=ACCOUNT_ID)
    client.alerting.policies.delete(uuid_id("policy:usage"), account_id=ACCOUNT_ID)
    client.alerting.destinations.webhooks.update(WEBHOOK_ID, account_id=ACCOUNT_ID, name="ops", url="https://hooks.example/ops-v2")
    assert provider_upload(api, "blaze-api", fleet_metadata())[0] == 200
    client.workers.scripts.delete("blaze-odds-sync", account_id=ACCOUNT_ID)
    # The seeded database keeps its rows through it all.
    [answer] = client.d1.database.query(ODDS_DB, account_id=ACCOUNT_ID, sql="SELECT count(*) AS n FROM odds_events")
    assert answer.results == [{"n": 2}]
    assert [n.title for n in client.kv.namespaces.list(account_id=ACCOUNT_ID)] == ["blaze-cache-v2", "blaze-flags"]
    assert [d.name for d in client.d1.database.list(account_id=ACCOUNT_ID)] == ["blaze-odds"]
    assert [b.name for b in client.r2.buckets.list(account_id=ACCOUNT_ID).buckets or []] == ["blaze-assets"]
    assert [r.pattern for r in client.workers.routes.list(zone_id=ZONE_ID)] == ["blaze.example/api/v2/*"]
    assert list(client.workers.domains.list(account_id=ACCOUNT_ID)) == list(client.alerting.policies.list(account_id=ACCOUNT_ID)) == []
    assert [s.id for s in client.workers.scripts.list(account_id=ACCOUNT_ID)] == ["blaze-api"]
    assert client.workers.scripts.content.get("blaze-api", account_id=ACCOUNT_ID).read() == MODULE
    assert api.account == the_account(), "the seed itself is left as it was"
