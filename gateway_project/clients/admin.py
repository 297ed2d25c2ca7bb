"""Gateway admin: API clients with their limits, and tokens to list and revoke."""

from django.contrib import admin, messages

from .models import ApiClient, ApiToken
from .services import api_client_update, token_revoke


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    fields = ["name", "prefix", "created_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["user", "rate_limit", "unlimited", "created_at"]
    search_fields = ["user__username"]
    fields = ["user", "rate_limit", "unlimited"]
    inlines = [ApiTokenInline]

    def save_model(self, request, obj, form, change):
        obj.save()
        # The service drops cached token records, so a new limit applies on the next request.
        api_client_update(client=obj, rate_limit=obj.rate_limit, unlimited=obj.unlimited)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "client", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["prefix", "name", "client__user__username"]
    readonly_fields = ["client", "name", "prefix", "key_hash", "created_at", "expires_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)
