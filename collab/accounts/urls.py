from django.urls import path

from collab.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("verify/", views.verify, name="verify"),
    path("role/", views.choose_role, name="choose_role"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("cis2/", views.cis2_start, name="cis2_start"),
    path("cis2/callback/", views.cis2_callback, name="cis2_callback"),
    path("cis2/identities/", views.cis2_links, name="cis2_links"),
    path("cis2/identities.csv", views.cis2_links_csv, name="cis2_links_csv"),
    path("cis2/identities/<int:user_id>/link/", views.cis2_link, name="cis2_link"),
    path("cis2/identities/<int:user_id>/unlink/", views.cis2_unlink, name="cis2_unlink"),
]
