"""Routes of the user API; the trailing slash is optional so no client is redirected."""

from rest_framework.routers import DefaultRouter

from .apis import UserViewSet

router = DefaultRouter()
# DRF takes trailing_slash as a boolean; the pattern fragment makes the slash optional.
router.trailing_slash = "/?"
router.register("users", UserViewSet, basename="user")

urlpatterns = router.urls
