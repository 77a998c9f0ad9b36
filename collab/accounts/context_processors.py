from django.conf import settings


def acting(request):
    return {
        "acting": getattr(request, "acting", None),
        "csp_nonce": getattr(request, "csp_nonce", ""),
        "is_production": settings.PRODUCTION,
    }
