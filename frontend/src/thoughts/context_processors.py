from django.conf import settings

from thoughts.session import current_user
from thoughts_common import contract


def user_and_features(request):
    user = current_user(request)
    return {
        "username": user.username if user else None,
        "signup_enabled": settings.FEATURE_SIGNUP,
        "thought_max_length": contract.THOUGHT_MAX_LENGTH,
        "username_max_length": contract.USERNAME_MAX_LENGTH,
    }
