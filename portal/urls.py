from django.urls import path

from .views import access, pages, service

app_name = "portal"

# Every URL here is either public (PUBLIC_URL_NAMES: signing in) or a borrower's page; tests/portal/test_isolation.py
# builds its matrix from this list, so a new page cannot be left out of it.
PUBLIC_URL_NAMES = frozenset({"login", "logout", "accept_invitation", "reset_request", "reset_confirm"})

urlpatterns = [
    path("sign-in/", access.sign_in, name="login"),
    path("sign-out/", access.SignOutView.as_view(), name="logout"),
    path("welcome/<str:token>/", access.accept_invitation, name="accept_invitation"),
    path("password/reset/", access.reset_request, name="reset_request"),
    path("password/reset/code/", access.reset_confirm, name="reset_confirm"),
    path("", pages.overview, name="home"),
    path("applications/<str:number>/", pages.application_detail, name="application"),
    path("applications/<str:number>/materials/<int:pk>/", pages.material_upload, name="material_upload"),
    path("applications/<str:number>/disclosure/", pages.disclosure, name="disclosure"),
    path("loans/<str:number>/", pages.loan_detail, name="loan"),
    path("loans/<str:number>/schedule/", pages.schedule_print, name="schedule_print"),
    path("messages/", pages.message_list, name="messages"),
    path("questions/", service.inquiry_list, name="inquiries"),
    path("questions/<int:pk>/", service.inquiry_detail, name="inquiry"),
    path("questions/<int:pk>/rate/", service.inquiry_rate, name="inquiry_rate"),
    path("follow-ups/<int:pk>/rate/", service.followup_rate, name="followup_rate"),
    path("questionnaires/<int:pk>/", service.questionnaire, name="questionnaire"),
    path("settings/", service.preferences, name="preferences"),
    path("settings/password/", service.password_change, name="password_change"),
]
