"""blaze-data-unused: data some Worker binds passes; unbound data is reported."""

from __future__ import annotations

from policies import resource_types as types
from policies.rules.unused_data import RULE
from tests.policies.sdk import resource, validate_stack


def test_passing_when_every_data_resource_is_a_dependency_of_a_worker() -> None:
    data = [
        resource(types.D1_DATABASE, "blaze-odds-database", {"name": "blaze-odds"}),
        resource(types.KV_NAMESPACE, "blaze-cache-namespace", {"title": "blaze-cache"}),
        resource(types.R2_BUCKET, "blaze-media-bucket", {"name": "blaze-media"}),
    ]
    worker = resource(types.WORKERS_SCRIPT, "blaze-odds-script", {"scriptName": "blaze-odds"}, dependencies=data)
    assert validate_stack(RULE, [*data, worker]) == []


def test_violating_a_bucket_only_its_cors_depends_on() -> None:
    bucket = resource(types.R2_BUCKET, "blaze-spare-bucket", {"name": "blaze-spare"})
    cors = resource(types.R2_BUCKET_CORS, "blaze-spare-cors", {"bucketName": "blaze-spare"}, dependencies=[bucket])
    worker = resource(types.WORKERS_SCRIPT, "blaze-odds-script", {"scriptName": "blaze-odds"})
    found = validate_stack(RULE, [bucket, cors, worker])
    assert found == [("R2 bucket blaze-spare is bound by no Worker: it costs and holds data that nothing serves", bucket.urn)]
