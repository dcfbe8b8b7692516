"""The loopback Cloudflare API (tests/cloudflare_api.py) as its two kinds of client meet it:
the official SDK, exactly as make adopt uses it, and plain HTTP, which sees the envelope,
the pagination fields and the error answers the reference documents."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Iterator

import cloudflare
import pytest

from tests.cloudflare_api import (
    TOKEN, Account, Bucket, CloudflareApi, CustomDomain, Database, Namespace, Policy, Route, Script, Webhook, Zone,
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
