"""GET /status/: the system at a glance for staff, refreshing itself."""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from .selectors import system_status


@staff_member_required
def status_page(request):
    """Every replica with its HAProxy state, requests and errors; cache hit ratio; rate-limit rejections."""
    context = {"status": system_status(), "refresh_seconds": settings.STATUS_REFRESH_SECONDS}
    return render(request, "status/status.html", context)
