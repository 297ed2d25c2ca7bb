"""gunicorn settings shared by every project and replica (local, compose and Kubernetes alike).

Chosen by measurement on the 2-core bench machine (wrk through HAProxy, cache hits of the aggregate):
- gthread, not sync: sync workers close every connection, so HAProxy would open one per request;
  gthread keeps client and HAProxy connections alive, and its threads let a gateway worker wait on
  upstream calls (a cache miss) without blocking the whole worker.
- 4 threads: 1, 2 and 4 threads per gateway worker gave 1,432, 1,827 and 1,824 2xx/s on hits (one
  thread idles through each Redis round trip); of 2 and 4, 4 because a cache miss spends most of its
  time waiting on the services, and a waiting thread costs no CPU.
- One worker per replica: replicas are the unit of scaling, so a replica should cost one core at most.
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
