"""gunicorn settings shared by every project and replica (local, compose and Kubernetes alike).

gthread workers keep client and HAProxy connections alive (sync workers close every one), and
threads let a gateway worker wait on upstream calls without blocking the whole worker.
One worker per replica: replicas are the unit of scaling, so a replica should cost one core at most.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than HAProxy's idle keep-alive so the proxy closes idle connections first, never us.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, finish in-flight requests (the load balancer has already drained us) before exiting.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "1024"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# The request log is one JSON line from the Django middleware; gunicorn's own access log is off.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = os.environ.get("GUNICORN_PROC_NAME")
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1")


def child_exit(server, worker):
    """prometheus-client multiprocess mode: a dead worker's live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
