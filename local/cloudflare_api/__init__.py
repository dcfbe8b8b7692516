"""A loopback Cloudflare v4 API for the tests and the benchmarks, written from the API reference
(developers.cloudflare.com/api and the OpenAPI document it is generated from) and from what
terraform-provider-cloudflare v5.24.0 sends and reads back, not from this project's code
nor from what a client happens to accept.

It serves the reads a tool needs to take stock of an account and the writes the provider
makes for the fleet's resource types, keeping what they store so that every read answers
it back as the API would: scripts uploaded as multipart/form-data, their versions and
deployments, cron schedules, routes, custom domains, KV namespaces, D1 databases (real
SQLite, with the query and Time Travel endpoints), R2 buckets with CORS and lifecycle rules,
notification policies and webhook destinations (workers.py, storage.py, alerting.py).
Answers come in the `{success, errors, messages, result, result_info}` envelope with each
list's documented pagination; ids and instants are made deterministically (core.Ids,
CREATED), so a run is reproducible. A path the API does not have gets the answer the API
gives a route it does not have; every request is recorded first, so a test can assert what
was sent, and `fail` injects errors, writes included.

    with CloudflareApi(Account(ACCOUNT_ID, scripts=[Script("api", ["*/5 * * * *"])])) as api:
        api.fail("PUT", r"/workers/scripts/api$", 429, headers={"Retry-After": "1"})
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=api.base_url)
"""

from __future__ import annotations

from local.cloudflare_api.alerting import AlertingApi
from local.cloudflare_api.core import CREATED, PAGING, TOKEN, ApiError, Paging, Request
from local.cloudflare_api.seed import Account, Bucket, CustomDomain, Database, Namespace, Policy, Route, Script, Webhook, Zone
from local.cloudflare_api.storage import BOOKMARK, DEFAULT_LIFECYCLE
from local.cloudflare_api.workers import AUTHOR_EMAIL, WorkersApi

__all__ = [
    "AUTHOR_EMAIL", "BOOKMARK", "CREATED", "DEFAULT_LIFECYCLE", "PAGING", "TOKEN", "Account", "ApiError", "Bucket",
    "CloudflareApi", "CustomDomain", "Database", "Namespace", "Paging", "Policy", "Request", "Route", "Script", "Webhook", "Zone",
]


class CloudflareApi(WorkersApi, AlertingApi):
    """The account's API on a loopback port, started at construction, stopped by close()."""
