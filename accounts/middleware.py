from django.utils import translation


class UserLanguageMiddleware:
    """A signed-in user's stored language wins over the cookie and the browser's Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.preferred_language:
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
