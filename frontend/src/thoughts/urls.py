from django.urls import path

from thoughts import views

urlpatterns = [
    path("", views.list_thoughts, name="index"),
    path("thoughts/", views.list_thoughts, name="list-thoughts"),
    path("thoughts/new", views.new_thought, name="new-thought"),
    path("search", views.search, name="search"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("signup/", views.signup, name="signup"),
    path("healthz", views.healthz, name="healthz"),
]
