from django.conf import settings

from thoughts.session import current_user


def user_and_features(request):
    user = current_user(request)
    return {
        "username": user.username if user else None,
        "signup_enabled": settings.FEATURE_SIGNUP,
        "thought_max_length": settings.THOUGHT_MAX_LENGTH,
    }
