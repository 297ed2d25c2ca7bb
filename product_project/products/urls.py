"""Routes of the product API; the trailing slash is optional so no client is redirected."""

from rest_framework.routers import DefaultRouter

from .apis import ProductViewSet

router = DefaultRouter(trailing_slash="/?")
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
