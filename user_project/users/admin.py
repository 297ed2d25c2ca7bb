"""Django admin for user profiles."""

from django.contrib import admin

from svc_common.pagination import EstimatedCountPaginator

from .models import UserProfile


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["id", "username", "email", "full_name", "created_at", "updated_at"]
    search_fields = ["username", "email", "full_name"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["id"]
    # No COUNT(*) of a large table on every page (svc_common.pagination).
    paginator = EstimatedCountPaginator
    show_full_result_count = False
