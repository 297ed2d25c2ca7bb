"""gunicorn settings shared by every project and replica (local, compose and Kubernetes alike).

Chosen by measurement on the 2-core bench machine; the figures are in docs/benchmark.md, "Settings
chosen by measurement":
- gthread, not sync: sync workers close every connection, so HAProxy would open one per request;
  gthread keeps client and HAProxy connections alive, and its threads let a worker wait on upstream
  calls (a cache miss) without blocking the whole worker.
- 4 threads: one thread idles through each Redis round trip, so 1 served fewer cache hits than 2 or 4,
  which served as many; of 2 and 4, 4 because a cache miss spends most of its time waiting on the
  services, and a waiting thread costs no CPU.
- One worker per replica: replicas are the unit of scaling, so a replica should cost one core at most.
- asgi for the gateway, on uvicorn's worker (gateway_project/worker.py): its access step, cache hits and
  aggregate fetches run on the event loop, where they cost far less CPU than on a thread; Django runs on
  GUNICORN_THREADS threads behind it (a2wsgi).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# "asgi" for the gateway (gateway_project/asgi.py): the uvicorn worker runs its access step on the event loop,
# and Django on GUNICORN_THREADS threads of the application's own, so gunicorn's threads setting stays 1 there.
interface = os.environ.get("GUNICORN_INTERFACE", "wsgi")
worker_class = "gateway_project.worker.GatewayWorker" if interface == "asgi" else "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))
threads = 1 if interface == "asgi" else int(os.environ.get("GUNICORN_THREADS", "4"))
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
