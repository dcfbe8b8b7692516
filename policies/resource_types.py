"""The Pulumi type tokens of what the fleet deploys (pulumi-cloudflare 6.x), and the fleet's components."""

WORKERS_SCRIPT = "cloudflare:index/workersScript:WorkersScript"
WORKERS_CRON_TRIGGER = "cloudflare:index/workersCronTrigger:WorkersCronTrigger"
D1_DATABASE = "cloudflare:index/d1Database:D1Database"
KV_NAMESPACE = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
R2_BUCKET = "cloudflare:index/r2Bucket:R2Bucket"
R2_BUCKET_CORS = "cloudflare:index/r2BucketCors:R2BucketCors"
QUEUE = "cloudflare:index/queue:Queue"
NOTIFICATION_POLICY = "cloudflare:index/notificationPolicy:NotificationPolicy"
NOTIFICATION_WEBHOOKS = "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks"

DATA = (D1_DATABASE, KV_NAMESPACE, R2_BUCKET)

# The input that holds the name Cloudflare shows for each kind of resource.
NAME_INPUTS = {
    WORKERS_SCRIPT: "scriptName",
    D1_DATABASE: "name",
    KV_NAMESPACE: "title",
    R2_BUCKET: "name",
    QUEUE: "queueName",
    NOTIFICATION_POLICY: "name",
    NOTIFICATION_WEBHOOKS: "name",
}

# The component that builds each kind of catalog entry (components/), and the entry's list
# in stacks/catalog/*.yaml: a waiver on an entry covers the resources under its component.
CATALOG_COMPONENTS = {
    "workers": "blaze:worker:WorkerService",
    "databases": "blaze:d1:Database",
    "namespaces": "blaze:kv:Namespace",
    "buckets": "blaze:r2:Bucket",
}

# The dynamic resource that applies each database's migrations (d1/migration_step.py).
D1_MIGRATIONS = "pulumi-python:dynamic/blaze:D1Migrations"
