"""The gateway's gunicorn worker: uvicorn-worker's, with uvicorn set up for running behind HAProxy.

uvloop and httptools (uvicorn's fast loop and parser); the application's lifespan on (it closes its
connections at shutdown); no Server or Date header of its own; and X-Forwarded-For left to the application,
which believes it only from TRUSTED_PROXIES, as every project does. On SIGTERM uvicorn closes idle
keep-alive connections at once and lets running requests finish (what gthread does, after a 2 s linger).
"""

from uvicorn_worker import UvicornWorker


class GatewayWorker(UvicornWorker):
    CONFIG_KWARGS = {
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "proxy_headers": False,
        "server_header": False,
        "date_header": False,
        "access_log": False,
    }
